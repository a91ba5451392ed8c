package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// indexOnly hides memstore's keyset capability, so that the handler's
// fallback serves cursors over ListUsers.
type indexOnly struct{ scim.Store }

func tenantStore() *memstore.Store {
	return memstore.New(memstore.WithTenant(func(ctx context.Context) string {
		t, _ := scim.TenantFrom(ctx)
		return t.ID
	}))
}

// asTenant serves r in tenant id, as BearerAuth would.
func asTenant(t *testing.T, h http.Handler, id string, r request) map[string]any {
	t.Helper()
	return decode(t, serve(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.ServeHTTP(w, req.WithContext(scim.WithTenant(req.Context(), scim.Tenant{ID: id})))
	}), r))
}

func createUsers(t *testing.T, h http.Handler, tenant string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		body := asTenant(t, h, tenant, request{method: "POST", path: "/Users", body: fmt.Sprintf(`{"userName":"u%03d@%s.example"}`, i, tenant)})
		ids = append(ids, body["id"].(string))
	}
	return ids
}

func pageIDs(body map[string]any) []string {
	var ids []string
	rs, _ := body["Resources"].([]any)
	for _, r := range rs {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	return ids
}

// TestCursorWalk walks users by RFC 9865 cursor forward and back, over a
// store with the keyset capability and over one without.
func TestCursorWalk(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func() scim.Store
	}{
		{"keyset", func() scim.Store { return tenantStore() }},
		{"index fallback", func() scim.Store { return indexOnly{tenantStore()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, tc.store(), scim.Options{})
			want := createUsers(t, h, "acme", 7)
			var got []string
			var pages []map[string]any
			body := asTenant(t, h, "acme", request{method: "GET", path: "/Users?cursor&count=3"})
			for {
				if body["status"] != nil {
					t.Fatalf("error %v", body)
				}
				if _, ok := body["startIndex"]; ok {
					t.Errorf("a cursor page carries startIndex: %v", body)
				}
				if body["totalResults"] != 7.0 {
					t.Errorf("totalResults %v", body["totalResults"])
				}
				pages = append(pages, body)
				got = append(got, pageIDs(body)...)
				next, ok := body["nextCursor"].(string)
				if !ok {
					break
				}
				body = asTenant(t, h, "acme", request{method: "GET", path: "/Users?count=3&cursor=" + url.QueryEscape(next)})
			}
			if !slices.Equal(got, want) || len(pages) != 3 {
				t.Fatalf("walked %v in %d pages, want %v in 3", got, len(pages), want)
			}
			if _, ok := pages[0]["previousCursor"]; ok {
				t.Error("the first page has a previousCursor")
			}
			// previousCursor of the last page leads to the middle one.
			prev := pages[2]["previousCursor"].(string)
			back := asTenant(t, h, "acme", request{method: "GET", path: "/Users?count=3&cursor=" + url.QueryEscape(prev)})
			if !slices.Equal(pageIDs(back), pageIDs(pages[1])) {
				t.Errorf("previous page %v, want %v", pageIDs(back), pageIDs(pages[1]))
			}
			// POST .search takes the cursor in its body.
			search := asTenant(t, h, "acme", request{method: "POST", path: "/Users/.search", body: `{"cursor":"","count":5,"filter":"userName sw \"u00\""}`})
			if ids := pageIDs(search); !slices.Equal(ids, want[:5]) || search["nextCursor"] == nil {
				t.Errorf(".search: %v", search)
			}
		})
	}
}

// TestCursorRefused: a cursor that is malformed, tampered with, issued for
// another query, resource type or tenant, or by another server is 400
// invalidCursor; an old one is 400 expiredCursor; and a cursor never shows
// another tenant's users.
func TestCursorRefused(t *testing.T) {
	store := tenantStore()
	h := newHandler(t, store, scim.Options{CursorKey: []byte("0123456789abcdef0123456789abcdef")})
	createUsers(t, h, "acme", 4)
	createUsers(t, h, "globex", 4)
	first := asTenant(t, h, "acme", request{method: "GET", path: "/Users?cursor=&count=2&filter=" + url.QueryEscape(`userName sw "u"`)})
	next := first["nextCursor"].(string)
	tampered := []byte(next)
	tampered[3] ^= 1
	other := newHandler(t, store, scim.Options{})
	for _, tc := range []struct {
		name, tenant, path string
		h                  http.Handler
		scimType           string
	}{
		{"malformed", "acme", "/Users?cursor=%21%21not-base64", h, "invalidCursor"},
		{"unknown", "acme", "/Users?cursor=AAAAAAAAAAAAAAAAAAAAAAAA", h, "invalidCursor"},
		{"tampered", "acme", "/Users?filter=userName+sw+%22u%22&cursor=" + url.QueryEscape(string(tampered)), h, "invalidCursor"},
		{"another query", "acme", "/Users?filter=userName+sw+%22u0%22&cursor=" + url.QueryEscape(next), h, "invalidCursor"},
		{"another tenant", "globex", "/Users?filter=userName+sw+%22u%22&cursor=" + url.QueryEscape(next), h, "invalidCursor"},
		{"another resource type", "acme", "/Groups?filter=displayName+sw+%22u%22&cursor=" + url.QueryEscape(next), h, "invalidCursor"},
		{"another server's key", "acme", "/Users?filter=userName+sw+%22u%22&cursor=" + url.QueryEscape(next), other, "invalidCursor"},
		{"with startIndex", "acme", "/Users?startIndex=1&cursor=", h, "invalidValue"},
		{"another order", "acme", "/Users?filter=userName+sw+%22u%22&sortBy=userName&cursor=" + url.QueryEscape(next), h, "invalidCursor"},
		{"count not an integer", "acme", "/Users?cursor&count=ten", h, "invalidCount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := asTenant(t, tc.h, tc.tenant, request{method: "GET", path: tc.path})
			if body["status"] != "400" || body["scimType"] != tc.scimType {
				t.Errorf("%v, want 400 %s", body, tc.scimType)
			}
		})
	}
	// A replica whose store cannot seek does not read a key as an index.
	indexReplica := newHandler(t, indexOnly{store}, scim.Options{CursorKey: []byte("0123456789abcdef0123456789abcdef")})
	if body := asTenant(t, indexReplica, "acme", request{method: "GET", path: "/Users?filter=userName+sw+%22u%22&cursor=" + url.QueryEscape(next)}); body["scimType"] != "invalidCursor" {
		t.Errorf("a keyset cursor over an index-only store: %v", body)
	}
	// A replica with the same key reads the cursor.
	replica := newHandler(t, store, scim.Options{CursorKey: []byte("0123456789abcdef0123456789abcdef")})
	body := asTenant(t, replica, "acme", request{method: "GET", path: "/Users?count=2&filter=userName+sw+%22u%22&cursor=" + url.QueryEscape(next)})
	if ids := pageIDs(body); len(ids) != 2 || body["status"] != nil {
		t.Errorf("replica: %v", body)
	}
	for _, r := range body["Resources"].([]any) {
		if u := r.(map[string]any)["userName"].(string); !strings.HasSuffix(u, "@acme.example") {
			t.Errorf("acme's walk returned %s", u)
		}
	}

	short := newHandler(t, store, scim.Options{CursorTimeout: time.Millisecond})
	c := asTenant(t, short, "acme", request{method: "GET", path: "/Users?cursor&count=1"})["nextCursor"].(string)
	time.Sleep(5 * time.Millisecond)
	body = asTenant(t, short, "acme", request{method: "GET", path: "/Users?count=1&cursor=" + url.QueryEscape(c)})
	if body["status"] != "400" || body["scimType"] != "expiredCursor" {
		t.Errorf("expired: %v", body)
	}
}

// TestCursorSorted: a cursor walk with sortBy returns sorted pages (RFC
// 9865 §2.2), by index over a keyset store too.
func TestCursorSorted(t *testing.T) {
	h := newHandler(t, tenantStore(), scim.Options{})
	for _, n := range []string{"carol", "alice", "erin", "bob", "dave"} {
		asTenant(t, h, "acme", request{method: "POST", path: "/Users", body: `{"userName":"` + n + `@acme.example"}`})
	}
	var got []string
	target := "/Users?sortBy=userName&sortOrder=descending&cursor&count=2"
	for {
		body := asTenant(t, h, "acme", request{method: "GET", path: target})
		for _, r := range body["Resources"].([]any) {
			got = append(got, strings.TrimSuffix(r.(map[string]any)["userName"].(string), "@acme.example"))
		}
		next, ok := body["nextCursor"].(string)
		if !ok {
			break
		}
		target = "/Users?sortBy=userName&sortOrder=descending&count=2&cursor=" + url.QueryEscape(next)
	}
	if want := []string{"erin", "dave", "carol", "bob", "alice"}; !slices.Equal(got, want) {
		t.Errorf("sorted walk %v, want %v", got, want)
	}
}

// TestServiceProviderConfigPagination: RFC 9865 §5's pagination object.
func TestServiceProviderConfigPagination(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{MaxResults: 500, CursorTimeout: 5 * time.Minute})
	body := decode(t, serve(t, h, request{method: "GET", path: "/ServiceProviderConfig"}))
	want := map[string]any{"cursor": true, "index": true, "defaultPaginationMethod": "index", "defaultPageSize": 500.0, "maxPageSize": 500.0, "cursorTimeout": 300.0}
	if got := body["pagination"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pagination %v, want %v", got, want)
	}
}

func TestCursorOptions(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	if body := decode(t, serve(t, h, request{method: "POST", path: "/.search", body: `{"cursor":""}`})); body["scimType"] != "invalidValue" {
		t.Errorf("POST /.search with a cursor: %v", body)
	}
	for _, o := range []scim.Options{{CursorKey: []byte("short")}, {CursorTimeout: -time.Second}} {
		if _, err := scim.NewHandler(memstore.New(), o); err == nil {
			t.Errorf("NewHandler(%+v) accepted", o)
		}
	}
}

// TestCursorWalkThroughHandler: a walk by cursor through the Handler over
// memstore, while other requests delete users around its position, returns
// every user that lived through it exactly once.
func TestCursorWalkThroughHandler(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	var stable, doomed []string
	for i := range 600 {
		id := decode(t, serve(t, h, request{method: "POST", path: "/Users", body: fmt.Sprintf(`{"userName":"w%04d@contoso.com"}`, i)}))["id"].(string)
		if i%3 == 1 {
			doomed = append(doomed, id)
		} else {
			stable = append(stable, id)
		}
	}
	seen := map[string]int{}
	target := "/Users?cursor&count=50"
	for pages := 0; pages < 100; pages++ {
		body := decode(t, serve(t, h, request{method: "GET", path: target}))
		for _, id := range pageIDs(body) {
			seen[id]++
		}
		next, ok := body["nextCursor"].(string)
		if !ok {
			break
		}
		// Delete the next twenty doomed users: some behind the walk, some
		// ahead of it.
		for range min(20, len(doomed)) {
			if rec := serve(t, h, request{method: "DELETE", path: "/Users/" + doomed[0]}); rec.Code != http.StatusNoContent {
				t.Fatalf("DELETE: %d", rec.Code)
			}
			doomed = doomed[1:]
		}
		target = "/Users?count=50&cursor=" + url.QueryEscape(next)
	}
	for _, id := range stable {
		if seen[id] != 1 {
			t.Errorf("user %s seen %d times", id, seen[id])
		}
	}
}
