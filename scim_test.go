package scim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

const base = "https://app.example.com/scim/v2"

func newHandler(t testing.TB, store scim.Store, opts scim.Options) *scim.Handler {
	t.Helper()
	if opts.BaseURL == "" {
		opts.BaseURL = base
	}
	h, err := scim.NewHandler(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// request is one HTTP exchange with the handler.
type request struct {
	method, path, body string
	header             map[string]string
}

func serve(t testing.TB, h http.Handler, r request) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decode parses a response body; every response but 204 and 304 is JSON.
func decode(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if rec.Code == http.StatusNoContent || rec.Code == http.StatusNotModified {
		if rec.Body.Len() != 0 {
			t.Errorf("status %d with a body: %s", rec.Code, rec.Body)
		}
		return nil
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	return m
}

// wantError checks a SCIM error response.
func wantError(t testing.TB, rec *httptest.ResponseRecorder, status int, scimType, detailPart string) {
	t.Helper()
	m := decode(t, rec)
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if got := m["schemas"]; !cmp.Equal(got, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}) {
		t.Errorf("schemas = %v", got)
	}
	if got, _ := m["status"].(string); got != strconv.Itoa(status) {
		t.Errorf("status member = %#v, want the string %q", m["status"], strconv.Itoa(status))
	}
	if got, _ := m["scimType"].(string); got != scimType {
		t.Errorf("scimType = %q, want %q", got, scimType)
	}
	if got, _ := m["detail"].(string); !strings.Contains(got, detailPart) {
		t.Errorf("detail = %q, want it to mention %q", got, detailPart)
	}
}

func mustCreate(t testing.TB, h http.Handler, path, body string) map[string]any {
	t.Helper()
	rec := serve(t, h, request{method: "POST", path: path, body: body})
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
	}
	return decode(t, rec)
}

func TestEntraTestConnection(t *testing.T) {
	// docs/clients.md#test-connection: a filter on a random GUID must answer 200 and an empty
	// ListResponse, never 404; Entra encodes spaces as '+'.
	h := newHandler(t, memstore.New(), scim.Options{})
	rec := serve(t, h, request{method: "GET", path: "/Users?filter=userName+eq+%228a0b1f0e-3a8d-4a4c-9a47-5f0f8b3a2f10%22"})
	got := decode(t, rec)
	want := map[string]any{
		"schemas":      []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": float64(0), "startIndex": float64(1), "itemsPerPage": float64(0),
		"Resources": []any{},
	}
	if rec.Code != 200 || !cmp.Equal(got, want) {
		t.Errorf("status %d, body diff (-got +want):\n%s", rec.Code, cmp.Diff(got, want))
	}
}

func TestUserLifecycle(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	rec := serve(t, h, request{method: "POST", path: "/Users", body: `{
		"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"ada","userName":"Ada@Contoso.com","active":true,
		"emails":[{"primary":true,"type":"work","value":"ada@contoso.com"}],
		"meta":{"resourceType":"User"},"name":{"formatted":"Ada Lovelace","familyName":"Lovelace","givenName":"Ada"},
		"id":"client-chosen-id-is-ignored"}`})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	u := decode(t, rec)
	id, _ := u["id"].(string)
	if id == "" || id == "client-chosen-id-is-ignored" {
		t.Fatalf("id = %q: the store must assign it", id)
	}
	if loc := rec.Header().Get("Location"); loc != base+"/Users/"+id {
		t.Errorf("Location = %q", loc)
	}
	meta, _ := u["meta"].(map[string]any)
	if meta["location"] != base+"/Users/"+id || meta["resourceType"] != "User" {
		t.Errorf("meta = %v", meta)
	}
	etag := rec.Header().Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || meta["version"] != etag {
		t.Errorf("ETag %q, meta.version %v", etag, meta["version"])
	}

	get := serve(t, h, request{method: "GET", path: "/Users/" + id})
	if got := decode(t, get); get.Code != 200 || got["userName"] != "Ada@Contoso.com" {
		t.Errorf("get: %d %v", get.Code, got)
	}
	// The GET above filled the user's encoding cache: these are answered
	// from it.
	if nm := serve(t, h, request{method: "GET", path: "/Users/" + id, header: map[string]string{"If-None-Match": etag}}); nm.Code != http.StatusNotModified || nm.Header().Get("ETag") != etag || nm.Body.Len() != 0 {
		t.Errorf("If-None-Match with the current ETag: %d, ETag %q, %q; want 304, %q, no body", nm.Code, nm.Header().Get("ETag"), nm.Body, etag)
	}
	if m := serve(t, h, request{method: "GET", path: "/Users/" + id, header: map[string]string{"If-None-Match": `W/"other"`}}); m.Code != 200 || m.Header().Get("ETag") != etag || m.Body.String() != get.Body.String() {
		t.Errorf("If-None-Match with another ETag: %d, ETag %q, %q; want 200, %q, %q", m.Code, m.Header().Get("ETag"), m.Body, etag, get.Body)
	}

	list := serve(t, h, request{method: "GET", path: `/Users?filter=userName%20eq%20%22ada@contoso.com%22`})
	if got := decode(t, list); got["totalResults"] != float64(1) {
		t.Errorf("userName filter is case-insensitive: %v", got)
	}

	put := serve(t, h, request{method: "PUT", path: "/Users/" + id, body: `{"userName":"ada@contoso.com","displayName":"Ada","active":false}`,
		header: map[string]string{"If-Match": etag}})
	replaced := decode(t, put)
	if put.Code != 200 || replaced["active"] != false || replaced["displayName"] != "Ada" || replaced["id"] != id {
		t.Fatalf("replace: %d %v", put.Code, replaced)
	}
	if _, ok := replaced["emails"]; ok {
		t.Errorf("PUT replaces: emails not sent must be gone, got %v", replaced["emails"])
	}
	stale := serve(t, h, request{method: "PUT", path: "/Users/" + id, body: `{"userName":"x"}`, header: map[string]string{"If-Match": etag}})
	wantError(t, stale, http.StatusPreconditionFailed, "", "If-Match")

	// An inactive user is still returned by GET and by filters (docs/clients.md#users step 7).
	if got := decode(t, serve(t, h, request{method: "GET", path: `/Users?filter=externalId+eq+%22ada%22`})); got["totalResults"] != float64(0) {
		t.Errorf("externalId was not in the PUT, so it is gone: %v", got)
	}
	if got := decode(t, serve(t, h, request{method: "GET", path: `/Users?filter=active+eq+false`})); got["totalResults"] != float64(1) {
		t.Errorf("inactive user filter: %v", got)
	}

	if del := serve(t, h, request{method: "DELETE", path: "/Users/" + id}); del.Code != http.StatusNoContent || del.Body.Len() != 0 {
		t.Errorf("delete: %d %s", del.Code, del.Body)
	}
	wantError(t, serve(t, h, request{method: "GET", path: "/Users/" + id}), 404, "", id)
	wantError(t, serve(t, h, request{method: "DELETE", path: "/Users/" + id}), 404, "", id)
}

func TestGroupLifecycle(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	u := mustCreate(t, h, "/Users", `{"userName":"grace"}`)
	uid := u["id"].(string)
	// Entra creates groups without members (docs/clients.md#groups).
	g := mustCreate(t, h, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"externalId":"g-1","displayName":"Admins","meta":{"resourceType":"Group"}}`)
	gid := g["id"].(string)
	if m, ok := g["members"]; ok && !cmp.Equal(m, []any{}) {
		t.Errorf("new group members = %v", m)
	}
	wantError(t, serve(t, h, request{method: "POST", path: "/Groups", body: `{"displayName":"admins"}`}), 409, "uniqueness", "displayName")

	put := serve(t, h, request{method: "PUT", path: "/Groups/" + gid, body: `{"displayName":"Admins","members":[{"value":"` + uid + `","display":"grace"}]}`})
	pg := decode(t, put)
	if put.Code != 200 {
		t.Fatalf("replace group: %d %v", put.Code, pg)
	}
	members, _ := pg["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["value"] != uid || members[0].(map[string]any)["$ref"] != base+"/Users/"+uid {
		t.Errorf("members = %v", pg["members"])
	}

	// Entra reads groups without their members (docs/clients.md#filters).
	noMembers := decode(t, serve(t, h, request{method: "GET", path: "/Groups/" + gid + "?excludedAttributes=members"}))
	if _, ok := noMembers["members"]; ok || noMembers["displayName"] != "Admins" {
		t.Errorf("excludedAttributes=members: %v", noMembers)
	}
	found := decode(t, serve(t, h, request{method: "GET", path: `/Groups?excludedAttributes=members&filter=displayName+eq+%22Admins%22`}))
	if found["totalResults"] != float64(1) {
		t.Errorf("displayName filter: %v", found)
	}
	res := found["Resources"].([]any)[0].(map[string]any)
	if _, ok := res["members"]; ok {
		t.Errorf("list with excludedAttributes=members returned members")
	}
	// The membership check Entra's documentation describes.
	check := decode(t, serve(t, h, request{method: "GET", path: `/Groups?filter=id+eq+%22` + gid + `%22+and+members+eq+%22` + uid + `%22&attributes=id`}))
	if check["totalResults"] != float64(1) {
		t.Fatalf("membership check: %v", check)
	}
	if got := check["Resources"].([]any)[0].(map[string]any); !cmp.Equal(keys(got), []string{"id", "schemas"}) {
		t.Errorf("attributes=id returned %v", keys(got))
	}
	// A user's groups reflect its memberships.
	ug := decode(t, serve(t, h, request{method: "GET", path: "/Users/" + uid}))
	if groups, _ := ug["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["value"] != gid {
		t.Errorf("user groups = %v", ug["groups"])
	}
	if del := serve(t, h, request{method: "DELETE", path: "/Groups/" + gid}); del.Code != 204 {
		t.Errorf("delete group: %d", del.Code)
	}
	wantError(t, serve(t, h, request{method: "GET", path: "/Groups/" + gid}), 404, "", gid)
}

func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// usersOnly hides memstore's group methods: a host that provisions users alone.
type usersOnly struct{ scim.UserStore }

func TestUsersOnlyStore(t *testing.T) {
	h := newHandler(t, usersOnly{memstore.New()}, scim.Options{})
	// Entra's Test connection also probes /Groups (docs/clients.md#test-connection).
	list := serve(t, h, request{method: "GET", path: `/Groups?excludedAttributes=members&filter=displayName+eq+%22x%22`})
	if got := decode(t, list); list.Code != 200 || got["totalResults"] != float64(0) || !cmp.Equal(got["Resources"], []any{}) {
		t.Errorf("GET /Groups: %d %v", list.Code, got)
	}
	wantError(t, serve(t, h, request{method: "POST", path: "/Groups", body: `{"displayName":"x"}`}), 501, "", "groups are not provisioned here")
	wantError(t, serve(t, h, request{method: "GET", path: "/Groups/abc"}), 404, "", "groups are not provisioned")
	rt := decode(t, serve(t, h, request{method: "GET", path: "/ResourceTypes"}))
	if rt["totalResults"] != float64(1) {
		t.Errorf("ResourceTypes must list User only: %v", rt)
	}
	sc := decode(t, serve(t, h, request{method: "GET", path: "/Schemas"}))
	for _, s := range sc["Resources"].([]any) {
		if s.(map[string]any)["id"] == scim.GroupSchema {
			t.Errorf("Schemas lists the Group schema on a users-only store")
		}
	}
}

func TestBadInput(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{MaxBodyBytes: 4096, MaxValues: 2, MaxJSONDepth: 4})
	mustCreate(t, h, "/Users", `{"userName":"taken"}`)
	tests := []struct {
		name     string
		req      request
		status   int
		scimType string
		detail   string
	}{
		{"malformed JSON", request{method: "POST", path: "/Users", body: `{"userName":`}, 400, "invalidSyntax", ""},
		{"not an object", request{method: "POST", path: "/Users", body: `["userName"]`}, 400, "invalidSyntax", ""},
		{"wrong type", request{method: "POST", path: "/Users", body: `{"userName":"a","emails":"a@b.c"}`}, 400, "invalidValue", "emails"},
		{"wrong boolean", request{method: "POST", path: "/Users", body: `{"userName":"a","active":"maybe"}`}, 400, "invalidValue", "active"},
		{"missing userName", request{method: "POST", path: "/Users", body: `{"displayName":"nobody"}`}, 400, "invalidValue", "userName"},
		{"duplicate userName", request{method: "POST", path: "/Users", body: `{"userName":"TAKEN"}`}, 409, "uniqueness", "userName"},
		{"group without displayName", request{method: "POST", path: "/Groups", body: `{"members":[]}`}, 400, "invalidValue", "displayName"},
		{"malformed filter", request{method: "GET", path: `/Users?filter=userName+equals+%22x%22`}, 400, "invalidFilter", "position"},
		{"filter too long", request{method: "GET", path: "/Users?filter=userName+eq+%22" + strings.Repeat("x", 5000) + "%22"}, 400, "invalidFilter", "4096"},
		{"count not a number", request{method: "GET", path: "/Users?count=ten"}, 400, "invalidValue", "count"},
		{"sortOrder", request{method: "GET", path: "/Users?sortBy=userName&sortOrder=up"}, 400, "invalidValue", "sortOrder"},
		{"unknown path", request{method: "GET", path: "/Widgets"}, 404, "", "/Widgets"},
		{"unknown nested path", request{method: "GET", path: "/Users/a/b"}, 404, "", ""},
		{"wrong method", request{method: "POST", path: "/ServiceProviderConfig", body: `{}`}, 405, "", "POST"},
		{"unsupported media type", request{method: "POST", path: "/Users", body: `{"userName":"m"}`, header: map[string]string{"Content-Type": "text/plain"}}, 415, "", "text/plain"},
		{"body too large", request{method: "POST", path: "/Users", body: `{"userName":"` + strings.Repeat("x", 5000) + `"}`}, 413, "", "4096"},
		{"search body malformed", request{method: "POST", path: "/Users/.search", body: `{"count":"x"}`}, 400, "invalidSyntax", ""},
		{"unknown user", request{method: "PUT", path: "/Users/nope", body: `{"userName":"n"}`}, 404, "", "nope"},
		{"too many values", request{method: "POST", path: "/Users", body: `{"userName":"v","emails":[{"value":"a@x.com"},{"value":"b@x.com"},{"value":"c@x.com"}]}`}, 400, "invalidValue", "the limit is 2"},
		{"filter nested too deeply", request{method: "GET", path: "/Users?filter=" + strings.Repeat("(", 40) + "title+pr" + strings.Repeat(")", 40)}, 400, "invalidFilter", "32"},
		{"too deep", request{method: "POST", path: "/Users", body: `{"userName":"d","urn:x:Ext":{"a":{"b":{"c":{"d":1}}}}}`}, 400, "invalidSyntax", "4"},
		{"ordering a boolean", request{method: "GET", path: `/Users?filter=active+gt+true`}, 400, "invalidFilter", "boolean"},
		{"ordering a boolean in a value path", request{method: "GET", path: `/Users?filter=emails[primary+le+false]`}, 400, "invalidFilter", "primary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, serve(t, h, tt.req), tt.status, tt.scimType, tt.detail)
		})
	}
	// Nothing was stored by any of them.
	all := decode(t, serve(t, h, request{method: "GET", path: "/Users"}))
	if all["totalResults"] != float64(1) {
		t.Errorf("bad requests stored something: %v", all)
	}
	allow := serve(t, h, request{method: "DELETE", path: "/Users"})
	if got := allow.Header().Get("Allow"); !strings.Contains(got, "GET") || !strings.Contains(got, "POST") {
		t.Errorf("405 Allow = %q", got)
	}
}

// unsupportingStore cannot evaluate any filter.
type unsupportingStore struct{ scim.UserStore }

func (unsupportingStore) ListUsers(context.Context, scim.Query) (scim.Page[*scim.User], error) {
	return scim.Page[*scim.User]{}, fmt.Errorf("sqlstore: cannot translate %w", scim.ErrUnsupported)
}

func TestUnsupportedFilterIsInvalidFilter(t *testing.T) {
	h := newHandler(t, unsupportingStore{memstore.New()}, scim.Options{})
	rec := serve(t, h, request{method: "GET", path: `/Users?filter=title+co+%22x%22`})
	wantError(t, rec, 400, "invalidFilter", "not supported")
	if strings.Contains(rec.Body.String(), "sqlstore") {
		t.Errorf("the store's error text reached the client: %s", rec.Body)
	}
	// A filter on an attribute no user has matches nothing; it is not an error.
	h = newHandler(t, memstore.New(), scim.Options{})
	if got := decode(t, serve(t, h, request{method: "GET", path: `/Users?filter=favoriteColor+eq+%22blue%22`})); got["totalResults"] != float64(0) {
		t.Errorf("unknown attribute: %v", got)
	}
}

func TestApplicationJSONAccepted(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	rec := serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"okta"}`, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
	if rec.Code != http.StatusCreated {
		t.Errorf("application/json: %d %s", rec.Code, rec.Body)
	}
}

func TestTrailingSlashRoutes(t *testing.T) {
	// A Tenant URL pasted with a trailing slash makes Entra send "//Users".
	h := newHandler(t, memstore.New(), scim.Options{})
	for _, p := range []string{"//Users", "/Users/", "/ServiceProviderConfig/"} {
		if rec := serve(t, h, request{method: "GET", path: p}); rec.Code != 200 {
			t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
	}
}

func TestPaging(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{MaxResults: 3})
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5"} {
		mustCreate(t, h, "/Users", `{"userName":"`+n+`"}`)
	}
	var seen []string
	for start := 1; start <= 5; start += 2 {
		page := decode(t, serve(t, h, request{method: "GET", path: "/Users?sortBy=userName&count=2&startIndex=" + strconv.Itoa(start)}))
		if page["totalResults"] != float64(5) || page["startIndex"] != float64(start) {
			t.Errorf("page at %d: %v", start, page)
		}
		for _, r := range page["Resources"].([]any) {
			seen = append(seen, r.(map[string]any)["userName"].(string))
		}
	}
	if want := []string{"u1", "u2", "u3", "u4", "u5"}; !cmp.Equal(seen, want) {
		t.Errorf("walked %v, want %v", seen, want)
	}
	capped := decode(t, serve(t, h, request{method: "GET", path: "/Users?count=100"}))
	if capped["itemsPerPage"] != float64(3) {
		t.Errorf("count is capped at MaxResults: %v", capped["itemsPerPage"])
	}
	zero := decode(t, serve(t, h, request{method: "GET", path: "/Users?count=0&startIndex=-4"}))
	if zero["totalResults"] != float64(5) || zero["itemsPerPage"] != float64(0) || zero["startIndex"] != float64(1) {
		t.Errorf("count=0, startIndex<1: %v", zero)
	}
	desc := decode(t, serve(t, h, request{method: "POST", path: "/Users/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortBy":"userName","sortOrder":"descending","count":1,"attributes":["userName"]}`}))
	if r := desc["Resources"].([]any); len(r) != 1 || r[0].(map[string]any)["userName"] != "u5" {
		t.Errorf(".search descending: %v", desc)
	}
}

// TestAuthenticationSchemes pins what /ServiceProviderConfig says about
// authentication: the bearer token always, OAuth 2.0 only when the host
// says it accepts OAuth access tokens.
func TestAuthenticationSchemes(t *testing.T) {
	for _, c := range []struct {
		name  string
		oauth bool
		types []any
	}{
		{"static tokens only", false, []any{"oauthbearertoken"}},
		{"with OAuth", true, []any{"oauthbearertoken", "oauth2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler(t, memstore.New(), scim.Options{OAuth: c.oauth})
			spc := decode(t, serve(t, h, request{method: "GET", path: "/ServiceProviderConfig"}))
			schemes, _ := spc["authenticationSchemes"].([]any)
			var types []any
			for _, s := range schemes {
				m, _ := s.(map[string]any)
				types = append(types, m["type"])
			}
			if !cmp.Equal(types, c.types) {
				t.Errorf("authenticationSchemes types = %v, want %v", types, c.types)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{MaxResults: 200})
	spc := decode(t, serve(t, h, request{method: "GET", path: "/ServiceProviderConfig"}))
	filter, _ := spc["filter"].(map[string]any)
	if filter["supported"] != true || filter["maxResults"] != float64(200) {
		t.Errorf("filter = %v", filter)
	}
	for _, k := range []string{"sort", "etag"} {
		if m, _ := spc[k].(map[string]any); m["supported"] != true {
			t.Errorf("%s = %v", k, spc[k])
		}
	}
	if b, _ := spc["bulk"].(map[string]any); b["supported"] != false {
		t.Errorf("bulk = %v", spc["bulk"])
	}
	rts := decode(t, serve(t, h, request{method: "GET", path: "/ResourceTypes"}))
	if rts["totalResults"] != float64(2) {
		t.Errorf("ResourceTypes: %v", rts)
	}
	user := decode(t, serve(t, h, request{method: "GET", path: "/ResourceTypes/User"}))
	if user["endpoint"] != "/Users" || user["schema"] != scim.UserSchema {
		t.Errorf("ResourceTypes/User: %v", user)
	}
	schemas := decode(t, serve(t, h, request{method: "GET", path: "/Schemas"}))
	if schemas["totalResults"] != float64(3) {
		t.Errorf("Schemas: %v", schemas["totalResults"])
	}
	us := decode(t, serve(t, h, request{method: "GET", path: "/Schemas/" + scim.UserSchema}))
	if us["id"] != scim.UserSchema || len(us["attributes"].([]any)) < 20 {
		t.Errorf("Schemas/User: %v", us["id"])
	}
	wantError(t, serve(t, h, request{method: "GET", path: "/Schemas/urn:nope"}), 404, "", "urn:nope")
}

func TestBaseURLFromRequest(t *testing.T) {
	h, err := scim.NewHandler(memstore.New(), scim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/tenant-a/scim/v2/", http.StripPrefix("/tenant-a/scim/v2", h))
	req := httptest.NewRequest("POST", "http://saas.example/tenant-a/scim/v2/Users", strings.NewReader(`{"userName":"x"}`))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, "http://saas.example/tenant-a/scim/v2/Users/") {
		t.Errorf("Location = %q", loc)
	}
}

func TestNewHandlerValidatesOptions(t *testing.T) {
	for _, opts := range []scim.Options{
		{BaseURL: "app.example.com/scim"},
		{BaseURL: "ftp://app.example.com/scim"},
		{MaxResults: -1},
		{MaxBodyBytes: -1},
	} {
		if _, err := scim.NewHandler(memstore.New(), opts); err == nil {
			t.Errorf("NewHandler(%+v) accepted invalid options", opts)
		}
	}
	if _, err := scim.NewHandler(nil, scim.Options{}); err == nil {
		t.Error("NewHandler(nil) succeeded")
	}
}

// failingStore fails every call with an internal error, or panics.
type failingStore struct {
	scim.UserStore
	panics bool
}

var errDatabase = errors.New("pq: connection refused to 10.0.0.5 password=hunter2")

func (s failingStore) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	if s.panics {
		panic("store bug")
	}
	return nil, errDatabase
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	for _, panics := range []bool{false, true} {
		h := newHandler(t, failingStore{UserStore: memstore.New(), panics: panics}, scim.Options{})
		rec := serve(t, h, request{method: "GET", path: "/Users/x"})
		wantError(t, rec, 500, "", "internal server error")
		if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "store bug") {
			t.Errorf("internal error text reached the client: %s", rec.Body)
		}
		// The handler keeps serving.
		if rec := serve(t, h, request{method: "GET", path: "/Users"}); rec.Code != 200 {
			t.Errorf("after a failure: %d", rec.Code)
		}
	}
}

func TestAllowDomain(t *testing.T) {
	verified := map[string]bool{"contoso.com": true}
	h := newHandler(t, memstore.New(), scim.Options{AllowDomain: func(_ context.Context, d string) error {
		if verified[d] {
			return nil
		}
		return scim.ErrDomainNotAllowed
	}})
	u := mustCreate(t, h, "/Users", `{"userName":"ada@contoso.com","emails":[{"value":"ada@contoso.com","type":"work"}]}`)
	id := u["id"].(string)
	move := `{"userName":"ada@fabrikam.com","emails":[{"value":"ada@fabrikam.com","type":"work"}]}`
	wantError(t, serve(t, h, request{method: "PUT", path: "/Users/" + id, body: move}), 400, "invalidValue", `"fabrikam.com"`)
	if got := decode(t, serve(t, h, request{method: "GET", path: "/Users/" + id})); got["userName"] != "ada@contoso.com" {
		t.Errorf("a refused change changed the user: %v", got)
	}
	verified["fabrikam.com"] = true
	rec := serve(t, h, request{method: "PUT", path: "/Users/" + id, body: move})
	if got := decode(t, rec); rec.Code != 200 || got["id"] != id || got["userName"] != "ada@fabrikam.com" {
		t.Errorf("after verification: %d %v", rec.Code, got)
	}
}
