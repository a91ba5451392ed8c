package scim_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

const contosoURN = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"

var contoso = scim.Extension{
	Schema: contosoURN, Resource: "User", Description: "Contoso's badge data",
	Attributes: []scim.Attribute{
		{Name: "costCenter", Type: scim.TypeString},
		{Name: "badgeNumber", Type: scim.TypeInteger, Uniqueness: scim.UniquenessServer},
		{Name: "hired", Type: scim.TypeDateTime},
		{Name: "badge", Type: scim.TypeComplex, SubAttributes: []scim.Attribute{
			{Name: "color", Type: scim.TypeString, CanonicalValues: []string{"red", "blue"}},
			{Name: "floor", Type: scim.TypeInteger},
		}},
		{Name: "skills", Type: scim.TypeString, MultiValued: true},
		{Name: "securityKey", Type: scim.TypeString, Mutability: scim.MutabilityImmutable},
		{Name: "enrolledBy", Type: scim.TypeString, Mutability: scim.MutabilityReadOnly},
	},
}

func contosoHandler(t *testing.T) (*scim.Handler, *memstore.Store) {
	t.Helper()
	s := memstore.New()
	return newHandler(t, s, scim.Options{Extensions: []scim.Extension{contoso}}), s
}

func TestExtensionDiscovery(t *testing.T) {
	h, _ := contosoHandler(t)
	rec := serve(t, h, request{method: "GET", path: "/Schemas/" + contosoURN})
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /Schemas/%s: %d %s", contosoURN, rec.Code, rec.Body)
	}
	m := decode(t, rec)
	attrs, _ := m["attributes"].([]any)
	byName := map[string]map[string]any{}
	for _, a := range attrs {
		a := a.(map[string]any)
		byName[a["name"].(string)] = a
	}
	for name, want := range map[string]map[string]any{
		"costCenter":  {"type": "string", "multiValued": false, "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none"},
		"badgeNumber": {"type": "integer", "uniqueness": "server"},
		"skills":      {"type": "string", "multiValued": true},
		"securityKey": {"mutability": "immutable"},
		"badge":       {"type": "complex"},
	} {
		for k, v := range want {
			if got := byName[name][k]; got != v {
				t.Errorf("%s.%s = %#v, want %#v", name, k, got, v)
			}
		}
	}
	if subs, _ := byName["badge"]["subAttributes"].([]any); len(subs) != 2 {
		t.Errorf("badge.subAttributes = %v", byName["badge"]["subAttributes"])
	}
	if m["id"] != contosoURN || m["meta"].(map[string]any)["location"] != base+"/Schemas/"+contosoURN {
		t.Errorf("id, meta = %v, %v", m["id"], m["meta"])
	}

	list := decode(t, serve(t, h, request{method: "GET", path: "/Schemas"}))
	var ids []string
	for _, r := range list["Resources"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	if !strings.Contains(strings.Join(ids, " "), contosoURN) {
		t.Errorf("/Schemas ids = %v, want %s among them", ids, contosoURN)
	}

	rt := decode(t, serve(t, h, request{method: "GET", path: "/ResourceTypes/User"}))
	want := []any{
		map[string]any{"schema": scim.EnterpriseUserSchema, "required": false},
		map[string]any{"schema": contosoURN, "required": false},
	}
	if diff := cmp.Diff(want, rt["schemaExtensions"]); diff != "" {
		t.Errorf("schemaExtensions (-want +got):\n%s", diff)
	}
}

func TestExtensionTypedValues(t *testing.T) {
	h, s := contosoHandler(t)
	nested := mustCreate(t, h, "/Users", `{"schemas":["`+scim.UserSchema+`","`+contosoURN+`"],"userName":"a@example.com",
		"`+contosoURN+`":{"COSTCENTER":"cc-1","badgeNumber":150,"hired":"2026-01-02T03:04:05Z","badge":{"Color":"red","floor":3},"skills":["go","sql"]}}`)
	flat := mustCreate(t, h, "/Users", `{"userName":"b@example.com","`+contosoURN+`:costCenter":"cc-2","`+contosoURN+`:badgeNumber":99}`)

	ext := nested[contosoURN].(map[string]any)
	if ext["costCenter"] != "cc-1" || ext["badgeNumber"] != 150.0 || ext["badge"].(map[string]any)["color"] != "red" {
		t.Errorf("returned extension = %v", ext)
	}
	if got := flat[contosoURN]; !cmp.Equal(got, map[string]any{"costCenter": "cc-2", "badgeNumber": 99.0}) {
		t.Errorf("flat POST returned %v", got)
	}

	u, err := s.GetUser(t.Context(), nested["id"].(string), scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{
		"costCenter":  "cc-1",
		"badgeNumber": int64(150),
		"hired":       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"badge":       map[string]any{"color": "red", "floor": int64(3)},
		"skills":      []any{"go", "sql"},
	} {
		got, ok := contoso.Lookup(u.Extra, name)
		if !ok || !cmp.Equal(got, want) {
			t.Errorf("Lookup(%s) = %#v, %v; want %#v", name, got, ok, want)
		}
	}
	if _, ok := contoso.Lookup(u.Extra, "securityKey"); ok {
		t.Error("Lookup of an unset attribute reports it set")
	}
}

func TestExtensionWrongType(t *testing.T) {
	h, _ := contosoHandler(t)
	id := mustCreate(t, h, "/Users", `{"userName":"a@example.com","`+contosoURN+`":{"securityKey":"k1","badgeNumber":1}}`)["id"].(string)
	for _, tc := range []struct {
		name, method, path, body, scimType, detail string
	}{
		{"string for integer", "POST", "/Users", `{"userName":"x@example.com","` + contosoURN + `":{"badgeNumber":"abc"}}`, "invalidValue", contosoURN + ":badgeNumber must be an integer"},
		{"decimal for integer", "POST", "/Users", `{"userName":"x@example.com","` + contosoURN + `:badgeNumber":1.5}`, "invalidValue", "badgeNumber must be an integer"},
		{"number for string", "POST", "/Users", `{"userName":"x@example.com","` + contosoURN + `":{"costCenter":7}}`, "invalidValue", "costCenter must be a string"},
		{"not a dateTime", "POST", "/Users", `{"userName":"x@example.com","` + contosoURN + `":{"hired":"yesterday"}}`, "invalidValue", "hired must be a dateTime"},
		{"undeclared attribute", "POST", "/Users", `{"userName":"x@example.com","` + contosoURN + `":{"shoeSize":44}}`, "invalidValue", "shoeSize is not an attribute"},
		{"undeclared sub-attribute", "POST", "/Users", `{"userName":"x@example.com","` + contosoURN + `":{"badge":{"shape":"round"}}}`, "invalidValue", "badge.shape"},
		{"single value for multi", "POST", "/Users", `{"userName":"x@example.com","` + contosoURN + `":{"skills":"go"}}`, "invalidValue", "skills is multi-valued"},
		{"PATCH path wrong type", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"` + contosoURN + `:badgeNumber","value":"12x"}]}`, "invalidValue", "badgeNumber must be an integer"},
		{"PATCH immutable", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"` + contosoURN + `:securityKey","value":"k2"}]}`, "mutability", "securityKey is immutable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, serve(t, h, request{method: tc.method, path: tc.path, body: tc.body}), http.StatusBadRequest, tc.scimType, tc.detail)
		})
	}
	got := decode(t, serve(t, h, request{method: "GET", path: "/Users/" + id}))
	if !cmp.Equal(got[contosoURN], map[string]any{"badgeNumber": 1.0, "securityKey": "k1"}) {
		t.Errorf("after refused writes the user's extension is %v", got[contosoURN])
	}
}

func TestExtensionReadOnlyKeepsStoredValue(t *testing.T) {
	h, s := contosoHandler(t)
	u := mustCreate(t, h, "/Users", `{"userName":"a@example.com","`+contosoURN+`":{"enrolledBy":"client"}}`)
	if _, ok := u[contosoURN]; ok {
		t.Errorf("a readOnly value sent on create was kept: %v", u[contosoURN])
	}
	stored, err := s.GetUser(t.Context(), u["id"].(string), scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	if err := contoso.Set(&stored.Extra, "enrolledBy", "hr-system"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceUser(t.Context(), stored); err != nil {
		t.Fatal(err)
	}
	rec := serve(t, h, request{method: "PUT", path: "/Users/" + stored.ID, body: `{"userName":"a@example.com","` + contosoURN + `":{"enrolledBy":"client","costCenter":"c"}}`})
	got := decode(t, rec)
	if !cmp.Equal(got[contosoURN], map[string]any{"costCenter": "c", "enrolledBy": "hr-system"}) {
		t.Errorf("PUT: extension = %v, want the stored readOnly value kept", got[contosoURN])
	}
}

func TestExtensionPatch(t *testing.T) {
	h, s := contosoHandler(t)
	id := mustCreate(t, h, "/Users", `{"userName":"a@example.com"}`)["id"].(string)
	patch := func(t *testing.T, ops string) map[string]any {
		t.Helper()
		rec := serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`})
		if rec.Code != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", ops, rec.Code, rec.Body)
		}
		return decode(t, rec)
	}
	typed := func(t *testing.T, name string) any {
		t.Helper()
		u, err := s.GetUser(t.Context(), id, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := contoso.Lookup(u.Extra, name)
		return v
	}
	for _, tc := range []struct {
		name, ops, attr string
		want            any
	}{
		{"path", `[{"op":"add","path":"` + contosoURN + `:badgeNumber","value":120}]`, "badgeNumber", int64(120)},
		{"path any case", `[{"op":"replace","path":"` + strings.ToLower(contosoURN) + `:BADGENUMBER","value":121}]`, "badgeNumber", int64(121)},
		{"no path, nested", `[{"op":"replace","value":{"` + contosoURN + `":{"costCenter":"cc-9"}}}]`, "costCenter", "cc-9"},
		{"no path, flat", `[{"op":"replace","value":{"` + contosoURN + `:costCenter":"cc-10"}}]`, "costCenter", "cc-10"},
		{"sub-attribute path", `[{"op":"replace","path":"` + contosoURN + `:badge.floor","value":4}]`, "badge", map[string]any{"floor": int64(4)}},
		{"remove", `[{"op":"remove","path":"` + contosoURN + `:costCenter"}]`, "costCenter", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			patch(t, tc.ops)
			if got := typed(t, tc.attr); !cmp.Equal(got, tc.want) {
				t.Errorf("%s = %#v, want %#v", tc.attr, got, tc.want)
			}
		})
	}
	if got := typed(t, "badgeNumber"); got != int64(121) {
		t.Errorf("badgeNumber after the other operations = %#v", got)
	}
}

func TestExtensionFilterSortProjection(t *testing.T) {
	h, _ := contosoHandler(t)
	for _, u := range []struct {
		name  string
		badge int
		cc    string
	}{{"a", 99, "North"}, {"b", 101, "south"}, {"c", 1000, "NORTH"}, {"d", 100, "east"}} {
		mustCreate(t, h, "/Users", `{"userName":"`+u.name+`@example.com","`+contosoURN+`":{"badgeNumber":`+jsonInt(u.badge)+`,"costCenter":"`+u.cc+`"}}`)
	}
	mustCreate(t, h, "/Users", `{"userName":"none@example.com"}`)
	list := func(t *testing.T, q url.Values) []map[string]any {
		t.Helper()
		rec := serve(t, h, request{method: "GET", path: "/Users?" + q.Encode()})
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /Users?%s: %d %s", q.Encode(), rec.Code, rec.Body)
		}
		var out []map[string]any
		for _, r := range decode(t, rec)["Resources"].([]any) {
			out = append(out, r.(map[string]any))
		}
		return out
	}
	names := func(rs []map[string]any) string {
		var n []string
		for _, r := range rs {
			n = append(n, strings.TrimSuffix(r["userName"].(string), "@example.com"))
		}
		return strings.Join(n, ",")
	}
	for _, tc := range []struct{ filter, want string }{
		{contosoURN + `:badgeNumber gt 100`, "b,c"},
		{contosoURN + `:badgeNumber ge 100`, "b,c,d"},
		{contosoURN + `:badgeNumber lt 100`, "a"},
		{contosoURN + `:costCenter eq "north"`, "a,c"},
		{contosoURN + `:costCenter sw "NO"`, "a,c"},
		{contosoURN + `:badgeNumber pr`, "a,b,c,d"},
		{`not (` + contosoURN + `:badgeNumber pr)`, "none"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			q := url.Values{"filter": {tc.filter}, "sortBy": {"userName"}}
			if got := names(list(t, q)); got != tc.want {
				t.Errorf("filter %s: %s, want %s", tc.filter, got, tc.want)
			}
		})
	}
	if got := names(list(t, url.Values{"sortBy": {contosoURN + ":badgeNumber"}})); got != "a,d,b,c,none" {
		t.Errorf("sortBy badgeNumber: %s", got)
	}
	if got := names(list(t, url.Values{"sortBy": {contosoURN + ":badgeNumber"}, "sortOrder": {"descending"}})); got != "none,c,b,d,a" {
		t.Errorf("sortBy badgeNumber descending: %s", got)
	}
	rs := list(t, url.Values{"filter": {`userName eq "b@example.com"`}, "attributes": {contosoURN + ":badgeNumber"}})
	if len(rs) != 1 || !cmp.Equal(rs[0][contosoURN], map[string]any{"badgeNumber": 101.0}) {
		t.Errorf("attributes=badgeNumber: %v", rs)
	}
	rs = list(t, url.Values{"filter": {`userName eq "b@example.com"`}, "excludedAttributes": {contosoURN + ":badgeNumber"}})
	if len(rs) != 1 || !cmp.Equal(rs[0][contosoURN], map[string]any{"costCenter": "south"}) {
		t.Errorf("excludedAttributes=badgeNumber: %v", rs)
	}
}

func jsonInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestExtensionUndeclaredUnchanged(t *testing.T) {
	h, _ := contosoHandler(t)
	other := "urn:ietf:params:scim:schemas:extension:Other:2.0:User"
	u := mustCreate(t, h, "/Users", `{"userName":"a@example.com","`+other+`":{"anything":"12","n":"x"}}`)
	if !cmp.Equal(u[other], map[string]any{"anything": "12", "n": "x"}) {
		t.Errorf("undeclared extension = %v", u[other])
	}
}

func TestExtensionDeclarationsValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		ext  scim.Extension
		want string
	}{
		{"not a URN", scim.Extension{Schema: "Contoso", Resource: "User", Attributes: contoso.Attributes}, "not a URN"},
		{"core schema", scim.Extension{Schema: scim.EnterpriseUserSchema, Resource: "User", Attributes: contoso.Attributes}, "modelled"},
		{"bad resource", scim.Extension{Schema: contosoURN, Resource: "Device", Attributes: contoso.Attributes}, "Resource"},
		{"no attributes", scim.Extension{Schema: contosoURN, Resource: "User"}, "no attributes"},
		{"bad name", scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{{Name: "1x"}}}, "not a SCIM attribute name"},
		{"bad type", scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{{Name: "x", Type: "float"}}}, "unknown type"},
		{"duplicate", scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{{Name: "x"}, {Name: "X"}}}, "twice"},
		{"canonicalOnly without values", scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{{Name: "x", CanonicalOnly: true}}}, "CanonicalOnly needs CanonicalValues"},
		{"canonicalOnly on a number", scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{{Name: "x", Type: scim.TypeInteger, CanonicalValues: []string{"1"}, CanonicalOnly: true}}}, "CanonicalOnly needs CanonicalValues"},
		{"complex without subs", scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{{Name: "x", Type: scim.TypeComplex}}}, "needs sub-attributes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scim.NewHandler(memstore.New(), scim.Options{Extensions: []scim.Extension{tc.ext}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewHandler: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestExtensionRequired(t *testing.T) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Required: true, Attributes: []scim.Attribute{{Name: "costCenter", Required: true}, {Name: "badgeNumber", Type: scim.TypeInteger}}}
	h := newHandler(t, memstore.New(), scim.Options{Extensions: []scim.Extension{ext}})
	wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"a@example.com"}`}), http.StatusBadRequest, "invalidValue", "the extension "+contosoURN+" is required")
	wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"a@example.com","` + contosoURN + `":{"badgeNumber":3}}`}), http.StatusBadRequest, "invalidValue", "costCenter is required")
	mustCreate(t, h, "/Users", `{"userName":"a@example.com","`+contosoURN+`":{"costCenter":"x"}}`)
	rt := decode(t, serve(t, h, request{method: "GET", path: "/ResourceTypes/User"}))
	if got := rt["schemaExtensions"].([]any)[1]; !cmp.Equal(got, map[string]any{"schema": contosoURN, "required": true}) {
		t.Errorf("schemaExtensions[1] = %v", got)
	}
}

func TestExtensionFilterValidated(t *testing.T) {
	h, _ := contosoHandler(t)
	for _, tc := range []struct{ filter, detail string }{
		{contosoURN + `:badgeNumber gt "abc"`, "is a number"},
		{contosoURN + `:badgeNumber co 1`, "is a number"},
		{contosoURN + `:shoeSize eq 1`, "is not an attribute of the schema"},
		{contosoURN + `:badge.shape eq "x"`, "is not an attribute of the schema"},
		{contosoURN + `:hired gt "yesterday"`, `"yesterday" is not one`},
		{contosoURN + `:hired gt 2026`, "is a dateTime"},
		{contosoURN + `:hired sw "2026"`, "by eq, ne, gt, ge, lt or le"},
		{contosoURN + `:hired co "T"`, "is a dateTime"},
		{contosoURN + `:badge eq "x"`, "is complex"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			wantError(t, serve(t, h, request{method: "GET", path: "/Users?" + url.Values{"filter": {tc.filter}}.Encode()}), http.StatusBadRequest, "invalidFilter", tc.detail)
		})
	}
	wantError(t, serve(t, h, request{method: "GET", path: "/Users?sortBy=" + url.QueryEscape(contosoURN+":shoeSize")}), http.StatusBadRequest, "invalidValue", "is not an attribute of the schema")
	wantError(t, serve(t, h, request{method: "GET", path: "/Users?sortBy=" + url.QueryEscape(contosoURN+":badge")}), http.StatusBadRequest, "invalidValue", "name one of its sub-attributes")
	if rec := serve(t, h, request{method: "GET", path: "/Users?sortBy=" + url.QueryEscape(contosoURN+":badge.floor")}); rec.Code != http.StatusOK {
		t.Errorf("sortBy badge.floor: %d %s", rec.Code, rec.Body)
	}
	for _, ok := range []string{contosoURN + `:hired pr`, contosoURN + `:hired gt "2026-01-01T00:00:00Z"`, contosoURN + `:hired ne "2026-01-01T00:00:00+01:00"`, contosoURN + `:badge.floor gt 2`, contosoURN + `:badgeNumber eq null`, `urn:ietf:params:scim:schemas:extension:Other:2.0:User:x gt "a"`} {
		if rec := serve(t, h, request{method: "GET", path: "/Users?" + url.Values{"filter": {ok}}.Encode()}); rec.Code != http.StatusOK {
			t.Errorf("filter %s: %d %s", ok, rec.Code, rec.Body)
		}
	}
}

func TestExtensionOnGroups(t *testing.T) {
	const urn = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:Group"
	ext := scim.Extension{Schema: urn, Resource: "Group", Attributes: []scim.Attribute{{Name: "budget", Type: scim.TypeDecimal}, {Name: "open", Type: scim.TypeBoolean}}}
	s := memstore.New()
	h := newHandler(t, s, scim.Options{Extensions: []scim.Extension{ext}})
	g := mustCreate(t, h, "/Groups", `{"displayName":"Sales","`+urn+`:budget":12.5,"`+urn+`":{"OPEN":true}}`)
	if !cmp.Equal(g[urn], map[string]any{"budget": 12.5, "open": true}) {
		t.Errorf("group extension = %v", g[urn])
	}
	stored, err := s.GetGroup(t.Context(), g["id"].(string), scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ext.Lookup(stored.Extra, "budget"); !ok || v != 12.5 {
		t.Errorf("Lookup(budget) = %#v, %v", v, ok)
	}
	wantError(t, serve(t, h, request{method: "POST", path: "/Groups", body: `{"displayName":"Ops","` + urn + `":{"open":"yes"}}`}), http.StatusBadRequest, "invalidValue", urn+":open must be a boolean")
	rec := serve(t, h, request{method: "GET", path: "/Groups?" + url.Values{"filter": {urn + `:budget gt 10`}}.Encode()})
	if got := decode(t, rec)["totalResults"]; got != 1.0 {
		t.Errorf("budget gt 10: totalResults %v", got)
	}
	rt := decode(t, serve(t, h, request{method: "GET", path: "/ResourceTypes/Group"}))
	if !cmp.Equal(rt["schemaExtensions"], []any{map[string]any{"schema": urn, "required": false}}) {
		t.Errorf("Group schemaExtensions = %v", rt["schemaExtensions"])
	}
	if rec := serve(t, h, request{method: "GET", path: "/Schemas/" + urn}); rec.Code != http.StatusOK {
		t.Errorf("GET /Schemas/%s: %d", urn, rec.Code)
	}
}

func TestExtensionFlatThenNestedMerge(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"flat then nested", `{"userName":"a@example.com","` + contosoURN + `:badgeNumber":5,"` + contosoURN + `":{"costCenter":"c"}}`},
		{"nested then flat", `{"userName":"b@example.com","` + contosoURN + `":{"costCenter":"c"},"` + contosoURN + `:badgeNumber":5}`},
		{"nested wins over flat", `{"userName":"c@example.com","` + contosoURN + `:costCenter":"flat","` + contosoURN + `":{"costCenter":"c","badgeNumber":5}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := contosoHandler(t) // badgeNumber is unique
			u := mustCreate(t, h, "/Users", tc.body)
			if !cmp.Equal(u[contosoURN], map[string]any{"costCenter": "c", "badgeNumber": 5.0}) {
				t.Errorf("extension = %v", u[contosoURN])
			}
		})
	}
}

func TestExtensionReturned(t *testing.T) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{
		{Name: "costCenter"},
		{Name: "pin", Mutability: scim.MutabilityWriteOnly, Returned: scim.ReturnedNever},
		{Name: "notes", Returned: scim.ReturnedRequest},
		{Name: "badgeNumber", Type: scim.TypeInteger, Returned: scim.ReturnedAlways},
	}}
	s := memstore.New()
	h := newHandler(t, s, scim.Options{Extensions: []scim.Extension{ext}})
	u := mustCreate(t, h, "/Users", `{"userName":"a@example.com","`+contosoURN+`":{"costCenter":"c","pin":"1234","notes":"n","badgeNumber":7}}`)
	if !cmp.Equal(u[contosoURN], map[string]any{"costCenter": "c", "badgeNumber": 7.0}) {
		t.Errorf("create returned %v, want no pin and no notes", u[contosoURN])
	}
	id := u["id"].(string)
	stored, err := s.GetUser(t.Context(), id, scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ext.Lookup(stored.Extra, "pin"); v != "1234" || !ok {
		t.Errorf("the store does not keep the writeOnly pin: %v %v", v, ok)
	}
	for _, tc := range []struct {
		query string
		want  map[string]any
	}{
		{"attributes=" + url.QueryEscape(contosoURN+":notes"), map[string]any{"notes": "n", "badgeNumber": 7.0}},
		{"attributes=" + url.QueryEscape(contosoURN+":pin"), map[string]any{"badgeNumber": 7.0}},
		{"excludedAttributes=" + url.QueryEscape(contosoURN+":badgeNumber"), map[string]any{"costCenter": "c", "badgeNumber": 7.0}},
	} {
		got := decode(t, serve(t, h, request{method: "GET", path: "/Users/" + id + "?" + tc.query}))
		if !cmp.Equal(got[contosoURN], tc.want) {
			t.Errorf("GET ?%s: %v, want %v", tc.query, got[contosoURN], tc.want)
		}
	}
}

// listNames lists /Users with the query and returns the userNames in order.
func listNames(t *testing.T, h http.Handler, query url.Values) []string {
	t.Helper()
	rec := serve(t, h, request{method: "GET", path: "/Users?" + query.Encode()})
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /Users?%s: %d %s", query.Encode(), rec.Code, rec.Body)
	}
	var names []string
	for _, r := range decode(t, rec)["Resources"].([]any) {
		names = append(names, r.(map[string]any)["userName"].(string))
	}
	return names
}

func TestExtensionCaseExact(t *testing.T) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{
		{Name: "code", CaseExact: true},
		{Name: "label"},
	}}
	h := newHandler(t, memstore.New(), scim.Options{Extensions: []scim.Extension{ext}})
	for _, u := range []struct{ name, code string }{{"a", "Abc"}, {"b", "abc"}, {"c", "ABD"}, {"d", "abd"}} {
		mustCreate(t, h, "/Users", `{"userName":"`+u.name+`","`+contosoURN+`":{"code":"`+u.code+`","label":"`+u.code+`"}}`)
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`code eq "abc"`, []string{"b"}},
		{`code ne "abc"`, []string{"a", "c", "d"}},
		{`code co "bc"`, []string{"a", "b"}},
		{`code co "B"`, []string{"c"}},
		{`code sw "A"`, []string{"a", "c"}},
		{`code ew "D"`, []string{"c"}},
		{`code gt "ABD"`, []string{"a", "b", "d"}}, // byte order: "ABD" < "Abc" < "abc" < "abd"
		{`code lt "abc"`, []string{"a", "c"}},
		{`code ge "abc"`, []string{"b", "d"}},
		{`code le "Abc"`, []string{"a", "c"}},
		{`label eq "abc"`, []string{"a", "b"}}, // not caseExact: ignores case
		{`label gt "abc"`, []string{"c", "d"}},
	} {
		q := url.Values{"filter": {contosoURN + ":" + tc.filter}}
		if got := listNames(t, h, q); !cmp.Equal(got, tc.want) {
			t.Errorf("filter %s: %q, want %q", tc.filter, got, tc.want)
		}
	}
	// POST /.search types the filter for each resource type too.
	rec := serve(t, h, request{method: "POST", path: "/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"` + contosoURN + `:code eq \"abc\""}`})
	if got := decode(t, rec)["totalResults"]; got != 1.0 {
		t.Errorf("POST /.search code eq \"abc\": totalResults %v, want 1: %s", got, rec.Body)
	}
	sorted := listNames(t, h, url.Values{"sortBy": {contosoURN + ":code"}})
	if want := []string{"c", "a", "b", "d"}; !cmp.Equal(sorted, want) {
		t.Errorf("sortBy code: %q, want %q (case-sensitive order)", sorted, want)
	}
	sorted = listNames(t, h, url.Values{"sortBy": {contosoURN + ":label"}, "sortOrder": {"descending"}})
	if sorted[0] != "c" && sorted[0] != "d" || sorted[2] != "a" && sorted[2] != "b" {
		t.Errorf("sortBy label descending: %q, want the abd pair first", sorted)
	}
	rec = serve(t, h, request{method: "GET", path: "/Schemas/" + contosoURN})
	for _, a := range decode(t, rec)["attributes"].([]any) {
		a := a.(map[string]any)
		if want := a["name"] == "code"; a["caseExact"] != want {
			t.Errorf("/Schemas: %s caseExact %v, want %v", a["name"], a["caseExact"], want)
		}
	}
}

func TestExtensionDateTime(t *testing.T) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{
		{Name: "hired", Type: scim.TypeDateTime},
		{Name: "reviews", Type: scim.TypeDateTime, MultiValued: true},
	}}
	h := newHandler(t, memstore.New(), scim.Options{Extensions: []scim.Extension{ext}})
	for _, u := range []struct{ name, hired string }{
		{"a", "2026-01-02T16:04:05+01:00"}, // 15:04:05Z
		{"b", "2026-01-02T15:04:05.5Z"},
		{"c", "2026-01-02T14:30:00-02:00"}, // 16:30:00Z: after b, though its text sorts first
		{"d", "2025-12-31T23:59:59Z"},
	} {
		mustCreate(t, h, "/Users", `{"userName":"`+u.name+`","`+contosoURN+`":{"hired":"`+u.hired+`","reviews":["`+u.hired+`"]}}`)
	}
	mustCreate(t, h, "/Users", `{"userName":"none"}`)
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`hired eq "2026-01-02T15:04:05Z"`, []string{"a"}},
		{`hired eq "2026-01-02T15:04:05.000Z"`, []string{"a"}},
		{`hired ne "2026-01-02T15:04:05Z"`, []string{"b", "c", "d", "none"}},
		{`hired gt "2026-01-02T15:04:05Z"`, []string{"b", "c"}},
		{`hired ge "2026-01-02T16:04:05+01:00"`, []string{"a", "b", "c"}},
		{`hired lt "2026-01-02T15:04:05.5Z"`, []string{"a", "d"}},
		{`hired le "2026-01-01T00:00:00-01:00"`, []string{"d"}}, // 01:00Z
		{`hired le "2026-01-01T00:00:00+01:00"`, nil},           // 2025-12-31T23:00Z
		{`hired pr`, []string{"a", "b", "c", "d"}},
		{`reviews gt "2026-01-02T16:00:00Z"`, []string{"c"}},
		{`reviews[value lt "2026-01-01T00:00:00Z"]`, []string{"d"}},
	} {
		q := url.Values{"filter": {contosoURN + ":" + tc.filter}}
		if got := listNames(t, h, q); !cmp.Equal(got, tc.want) {
			t.Errorf("filter %s: %q, want %q", tc.filter, got, tc.want)
		}
	}
	if got, want := listNames(t, h, url.Values{"sortBy": {contosoURN + ":hired"}}), []string{"d", "a", "b", "c", "none"}; !cmp.Equal(got, want) {
		t.Errorf("sortBy hired: %q, want %q (by instant)", got, want)
	}
	if got, want := listNames(t, h, url.Values{"sortBy": {contosoURN + ":hired"}, "sortOrder": {"descending"}}), []string{"none", "c", "b", "a", "d"}; !cmp.Equal(got, want) {
		t.Errorf("sortBy hired descending: %q, want %q", got, want)
	}
	// The value is kept as sent.
	u := listNamesRaw(t, h, contosoURN+`:hired eq "2026-01-02T15:04:05Z"`)
	if got := u[contosoURN].(map[string]any)["hired"]; got != "2026-01-02T16:04:05+01:00" {
		t.Errorf("hired = %v, want the value as sent", got)
	}
	wantError(t, serve(t, h, request{method: "GET", path: "/Users?" + url.Values{"filter": {contosoURN + `:reviews[value co "2026"]`}}.Encode()}), http.StatusBadRequest, "invalidFilter", "is a dateTime")
}

// listNamesRaw returns the one user the filter selects.
func listNamesRaw(t *testing.T, h http.Handler, filter string) map[string]any {
	t.Helper()
	rec := serve(t, h, request{method: "GET", path: "/Users?" + url.Values{"filter": {filter}}.Encode()})
	rs, _ := decode(t, rec)["Resources"].([]any)
	if len(rs) != 1 {
		t.Fatalf("filter %s: %d %s, want one user", filter, rec.Code, rec.Body)
	}
	return rs[0].(map[string]any)
}

func TestExtensionCanonicalOnly(t *testing.T) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{
		{Name: "tier", CanonicalValues: []string{"gold", "silver"}, CanonicalOnly: true},
		{Name: "region", CanonicalValues: []string{"EU", "US"}, CanonicalOnly: true, CaseExact: true},
		{Name: "shirt", CanonicalValues: []string{"S", "M"}}, // advertised only
	}}
	h := newHandler(t, memstore.New(), scim.Options{Extensions: []scim.Extension{ext}})
	u := mustCreate(t, h, "/Users", `{"userName":"a","`+contosoURN+`":{"tier":"GOLD","region":"EU","shirt":"XXL"}}`)
	if got := u[contosoURN].(map[string]any); got["tier"] != "GOLD" || got["shirt"] != "XXL" {
		t.Errorf("create: %v", got)
	}
	wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"b","` + contosoURN + `":{"tier":"bronze"}}`}),
		http.StatusBadRequest, "invalidValue", contosoURN+`:tier must be one of "gold" or "silver"`)
	wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"b","` + contosoURN + `":{"region":"eu"}}`}),
		http.StatusBadRequest, "invalidValue", contosoURN+`:region must be one of "EU" or "US"`)
	wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/" + u["id"].(string), body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"` + contosoURN + `:tier","value":"x"}]}`}),
		http.StatusBadRequest, "invalidValue", contosoURN+`:tier must be one of`)
	rec := serve(t, h, request{method: "GET", path: "/Schemas/" + contosoURN})
	for _, a := range decode(t, rec)["attributes"].([]any) {
		if a := a.(map[string]any); a["canonicalValues"] == nil {
			t.Errorf("/Schemas: %s has no canonicalValues", a["name"])
		}
	}
}

func TestExtensionUniqueness(t *testing.T) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{
		{Name: "badgeNumber", Type: scim.TypeInteger, Uniqueness: scim.UniquenessServer},
		{Name: "login", Uniqueness: scim.UniquenessGlobal},
		{Name: "token", CaseExact: true, Uniqueness: scim.UniquenessServer},
		{Name: "since", Type: scim.TypeDateTime, Uniqueness: scim.UniquenessServer},
		{Name: "aliases", MultiValued: true, Uniqueness: scim.UniquenessServer},
		{Name: "note"},
	}}
	s := memstore.New()
	h := newHandler(t, s, scim.Options{Extensions: []scim.Extension{ext}})
	body := func(user, ext string) string { return `{"userName":"` + user + `","` + contosoURN + `":{` + ext + `}}` }
	a := mustCreate(t, h, "/Users", body("a", `"badgeNumber":7,"login":"Ann","token":"Tk","since":"2026-01-02T16:04:05+01:00","aliases":["x","y"],"note":"n"`))
	conflict := func(b, attr string) {
		t.Helper()
		wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: b}), http.StatusConflict, "uniqueness", contosoURN+":"+attr)
	}
	conflict(body("b", `"badgeNumber":7`), "badgeNumber")
	conflict(body("b", `"login":"ANN"`), "login") // not caseExact: ignores case
	conflict(body("b", `"token":"Tk"`), "token")
	conflict(body("b", `"since":"2026-01-02T15:04:05Z"`), "since") // the same instant
	conflict(body("b", `"aliases":["z","Y"]`), "aliases")
	b := mustCreate(t, h, "/Users", body("b", `"badgeNumber":8,"login":"Bob","token":"tk","since":"2026-01-02T15:04:06Z","aliases":["z"],"note":"n"`))

	// Replace and PATCH to a taken value conflict; keeping one's own value does not.
	bid := b["id"].(string)
	wantError(t, serve(t, h, request{method: "PUT", path: "/Users/" + bid, body: body("b", `"badgeNumber":7`)}), http.StatusConflict, "uniqueness", contosoURN+":badgeNumber")
	patch := func(path, value string) *httptest.ResponseRecorder {
		return serve(t, h, request{method: "PATCH", path: "/Users/" + bid, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"` + path + `","value":` + value + `}]}`})
	}
	wantError(t, patch(contosoURN+":login", `"ann"`), http.StatusConflict, "uniqueness", contosoURN+":login")
	if rec := patch(contosoURN+":note", `"m"`); rec.Code != http.StatusOK {
		t.Errorf("PATCH of another attribute: %d %s", rec.Code, rec.Body)
	}
	// A value freed by a change or a delete is free.
	if rec := serve(t, h, request{method: "PUT", path: "/Users/" + a["id"].(string), body: body("a", `"badgeNumber":70`)}); rec.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	if rec := patch(contosoURN+":badgeNumber", `7`); rec.Code != http.StatusOK {
		t.Errorf("PATCH to a freed value: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, h, request{method: "DELETE", path: "/Users/" + bid}); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	mustCreate(t, h, "/Users", body("c", `"badgeNumber":7,"login":"Bob"`))
}

func TestExtensionUniqueValues(t *testing.T) {
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{
		{Name: "rate", Type: scim.TypeDecimal, Uniqueness: scim.UniquenessServer},
		{Name: "active", Type: scim.TypeBoolean, Uniqueness: scim.UniquenessServer}, // never unique
		{Name: "cards", Type: scim.TypeComplex, MultiValued: true, SubAttributes: []scim.Attribute{
			{Name: "number", Uniqueness: scim.UniquenessServer},
			{Name: "kind"},
		}},
	}}
	extra := map[string]json.RawMessage{contosoURN: json.RawMessage(`{"rate":1.50,"active":true,"cards":[{"number":"AB","kind":"k"},{"number":"ab"},{"number":"Cd"}]}`)}
	got := ext.UniqueValues(extra)
	want := []scim.UniqueValue{
		{Attribute: contosoURN + ":rate", Key: "1.5"},
		{Attribute: contosoURN + ":cards.number", Key: "ab"},
		{Attribute: contosoURN + ":cards.number", Key: "cd"},
	}
	if !cmp.Equal(got, want) {
		t.Errorf("UniqueValues = %v, want %v", got, want)
	}
}

// TestExtensionUniquenessWithoutDeclarer checks that a store that is not
// a scim.ExtensionDeclarer is served, with a warning, and that uniqueness
// is then advertised only.
func TestExtensionUniquenessWithoutDeclarer(t *testing.T) {
	var logs strings.Builder
	ext := scim.Extension{Schema: contosoURN, Resource: "User", Attributes: []scim.Attribute{{Name: "badge", Uniqueness: scim.UniquenessServer}}}
	store := struct{ scim.Store }{memstore.New()} // the Store methods only
	h := newHandler(t, store, scim.Options{Extensions: []scim.Extension{ext}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "uniqueness of extension attributes is advertised, not enforced") || !strings.Contains(logs.String(), contosoURN+":badge") {
		t.Errorf("no warning naming the attribute in the log:\n%s", logs.String())
	}
	mustCreate(t, h, "/Users", `{"userName":"a","`+contosoURN+`":{"badge":"x"}}`)
	mustCreate(t, h, "/Users", `{"userName":"b","`+contosoURN+`":{"badge":"x"}}`)
}
