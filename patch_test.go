package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// patchOf builds a PatchOp body from operations written as JSON objects.
func patchOf(ops ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

// attrsOf is a resource without the attributes the server owns (id, meta,
// schemas), for comparing what a PATCH did.
func attrsOf(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch k {
		case "id", "meta", "schemas":
		default:
			out[k] = v
		}
	}
	return out
}

func jsonMap(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad JSON in the test: %v: %s", err, s)
	}
	return m
}

const patchTestUser = `{"userName":"ada@contoso.com","displayName":"Ada","name":{"givenName":"Ada","familyName":"Lovelace"},
	"emails":[{"value":"ada@contoso.com","type":"work","primary":true},{"value":"ada@home.example","type":"home"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1815","department":"Engines"}}`

func TestPatchUser(t *testing.T) {
	const (
		workEmail = `{"value":"ada@contoso.com","type":"work","primary":true}`
		homeEmail = `{"value":"ada@home.example","type":"home"}`
		name      = `"name":{"givenName":"Ada","familyName":"Lovelace"}`
		ent       = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1815","department":"Engines"}`
		base      = `"userName":"ada@contoso.com","displayName":"Ada","active":true,` + name + `,` + ent
	)
	tests := []struct {
		name string
		ops  []string
		want string // the user's attributes after the PATCH, id, meta and schemas aside
	}{
		{
			name: "add a simple attribute",
			ops:  []string{`{"op":"add","path":"nickName","value":"Babs"}`},
			want: `{` + base + `,"nickName":"Babs","emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "replace a simple attribute, path in another case",
			ops:  []string{`{"op":"replace","path":"DISPLAYNAME","value":"Ada King"}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada King","active":true,` + name + `,` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "remove a simple attribute",
			ops:  []string{`{"op":"remove","path":"displayName"}`},
			want: `{"userName":"ada@contoso.com","active":true,` + name + `,` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "add to a complex attribute keeps the sub-attributes not sent",
			ops:  []string{`{"op":"add","path":"name","value":{"middleName":"Augusta"}}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace","middleName":"Augusta"},` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "replace of a complex attribute also keeps the sub-attributes not sent",
			ops:  []string{`{"op":"replace","path":"name","value":{"familyName":"King"}}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","active":true,"name":{"givenName":"Ada","familyName":"King"},` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "a sub-attribute path",
			ops:  []string{`{"op":"replace","path":"name.familyName","value":"King"}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","active":true,"name":{"givenName":"Ada","familyName":"King"},` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "add without path merges into complex attributes",
			ops:  []string{`{"op":"add","value":{"name":{"honorificPrefix":"Lady"},"title":"Countess"}}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","title":"Countess","active":true,"name":{"givenName":"Ada","familyName":"Lovelace","honorificPrefix":"Lady"},` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "add a new email appends it",
			ops:  []string{`{"op":"add","path":"emails","value":[{"value":"ada@other.example","type":"other"}]}`},
			want: `{` + base + `,"emails":[` + workEmail + `,` + homeEmail + `,{"value":"ada@other.example","type":"other"}]}`,
		},
		{
			name: "add an email the user has merges into it, its spelling as sent",
			ops:  []string{`{"op":"add","path":"emails","value":[{"value":"ADA@home.example","type":"Home","display":"Home"}]}`},
			want: `{` + base + `,"emails":[` + workEmail + `,{"value":"ADA@home.example","type":"Home","display":"Home"}]}`,
		},
		{
			name: "a new primary value clears primary on the others",
			ops:  []string{`{"op":"add","path":"emails","value":[{"value":"ada@other.example","type":"other","primary":true}]}`},
			want: `{` + base + `,"emails":[{"value":"ada@contoso.com","type":"work"},` + homeEmail + `,{"value":"ada@other.example","type":"other","primary":true}]}`,
		},
		{
			name: "primary through a value path clears it on the others",
			ops:  []string{`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`},
			want: `{` + base + `,"emails":[{"value":"ada@contoso.com","type":"work"},{"value":"ada@home.example","type":"home","primary":true}]}`,
		},
		{
			name: "replace a multi-valued attribute replaces every value",
			ops:  []string{`{"op":"replace","path":"emails","value":[{"value":"a@contoso.com","type":"work"}]}`},
			want: `{` + base + `,"emails":[{"value":"a@contoso.com","type":"work"}]}`,
		},
		{
			name: "replace through a value path keeps the other values",
			ops:  []string{`{"op":"replace","path":"emails[type eq \"work\"].value","value":"ada.king@contoso.com"}`},
			want: `{` + base + `,"emails":[{"value":"ada.king@contoso.com","type":"work","primary":true},` + homeEmail + `]}`,
		},
		{
			name: "replace a filtered value keeps the filter's equalities",
			ops:  []string{`{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"ada@new.example"}}`},
			want: `{` + base + `,"emails":[` + workEmail + `,{"value":"ada@new.example","type":"home"}]}`,
		},
		{
			name: "add to a filtered value merges",
			ops:  []string{`{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home"}}`},
			want: `{` + base + `,"emails":[` + workEmail + `,{"value":"ada@home.example","type":"home","display":"Home"}]}`,
		},
		{
			name: "remove through a value filter removes the matching values",
			ops:  []string{`{"op":"remove","path":"emails[type eq \"home\"]"}`},
			want: `{` + base + `,"emails":[` + workEmail + `]}`,
		},
		{
			name: "remove a sub-attribute of the matching values",
			ops:  []string{`{"op":"remove","path":"emails[type eq \"work\"].primary"}`},
			want: `{` + base + `,"emails":[{"value":"ada@contoso.com","type":"work"},` + homeEmail + `]}`,
		},
		{
			name: "remove through a filter that matches nothing changes nothing",
			ops:  []string{`{"op":"remove","path":"emails[type eq \"other\"]"}`},
			want: `{` + base + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "remove a multi-valued attribute",
			ops:  []string{`{"op":"remove","path":"emails"}`},
			want: `{` + base + `}`,
		},
		{
			name: "a value path that matches nothing creates the value",
			ops:  []string{`{"op":"add","path":"phoneNumbers[type eq \"work\"].value","value":"+44 20 7946 0018"}`},
			want: `{` + base + `,"emails":[` + workEmail + `,` + homeEmail + `],"phoneNumbers":[{"value":"+44 20 7946 0018","type":"work"}]}`,
		},
		{
			name: "several adds on one value path build one value",
			ops: []string{
				`{"op":"add","path":"addresses[type eq \"work\"].streetAddress","value":"12 St James's Square"}`,
				`{"op":"add","path":"addresses[type eq \"work\"].locality","value":"London"}`,
				`{"op":"add","path":"addresses[type eq \"work\"].country","value":"GB"}`,
			},
			want: `{` + base + `,"emails":[` + workEmail + `,` + homeEmail + `],"addresses":[{"streetAddress":"12 St James's Square","locality":"London","country":"GB","type":"work"}]}`,
		},
		{
			name: "a created value takes a boolean from the filter",
			ops:  []string{`{"op":"Add","path":"roles[primary eq \"True\"].value","value":"Admin"}`},
			want: `{` + base + `,"emails":[` + workEmail + `,` + homeEmail + `],"roles":[{"value":"Admin","primary":true}]}`,
		},
		{
			name: "a sub-attribute without a filter is that of every value",
			ops:  []string{`{"op":"replace","path":"emails.display","value":"Ada"}`},
			want: `{` + base + `,"emails":[{"value":"ada@contoso.com","type":"work","primary":true,"display":"Ada"},{"value":"ada@home.example","type":"home","display":"Ada"}]}`,
		},
		{
			name: "add to the Enterprise extension keeps its other attributes",
			ops:  []string{`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"costCenter":"4130"}}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","active":true,` + name + `,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1815","costCenter":"4130","department":"Engines"},"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "remove an Enterprise attribute",
			ops:  []string{`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","active":true,` + name + `,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1815"},"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "a custom extension's attribute lands in its object",
			ops:  []string{`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:Acme:2.0:User:costCode","value":"X1"}`},
			want: `{` + base + `,"emails":[` + workEmail + `,` + homeEmail + `],"urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"X1"}}`,
		},
		{
			name: "a custom extension's object merges, and a null member is removed",
			ops: []string{
				`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"X1","badge":"7"}}}`,
				`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"badge":null,"floor":"3"}}}`,
			},
			want: `{` + base + `,"emails":[` + workEmail + `,` + homeEmail + `],"urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"X1","floor":"3"}}`,
		},
		{
			name: "the user's own id, schemas and meta in a value without path change nothing",
			ops:  []string{`{"op":"replace","value":{"id":"{{id}}","schemas":["x"],"meta":{"version":"1"},"title":"Countess"}}`},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","title":"Countess","active":true,` + name + `,` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "operations apply in order",
			ops: []string{
				`{"op":"add","path":"nickName","value":"Babs"}`,
				`{"op":"remove","path":"nickName"}`,
				`{"op":"add","path":"title","value":"Countess"}`,
			},
			want: `{"userName":"ada@contoso.com","displayName":"Ada","title":"Countess","active":true,` + name + `,` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "null adds nothing, and replaces with nothing",
			ops: []string{
				`{"op":"add","path":"title","value":null}`,
				`{"op":"replace","path":"displayName","value":null}`,
			},
			want: `{"userName":"ada@contoso.com","active":true,` + name + `,` + ent + `,"emails":[` + workEmail + `,` + homeEmail + `]}`,
		},
		{
			name: "replace with nothing through a value path removes the values",
			ops:  []string{`{"op":"replace","path":"emails[type eq \"home\"]","value":{}}`},
			want: `{` + base + `,"emails":[` + workEmail + `]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, memstore.New(), scim.Options{})
			id := mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
			body := strings.ReplaceAll(patchOf(tt.ops...), "{{id}}", id)
			rec := serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: body})
			got := decode(t, rec)
			if rec.Code != http.StatusOK {
				t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff(jsonMap(t, tt.want), attrsOf(got)); diff != "" {
				t.Errorf("PATCH response (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(got, decode(t, serve(t, h, request{method: "GET", path: "/Users/" + id}))); diff != "" {
				t.Errorf("GET after PATCH differs from the PATCH response (-patch +get):\n%s", diff)
			}
		})
	}
}

func TestPatchErrors(t *testing.T) {
	tests := []struct {
		name     string
		resource string // "Users" (default) or "Groups"
		body     string
		status   int
		scimType string
		detail   string
	}{
		{name: "empty body", body: " ", status: 400, scimType: "invalidSyntax", detail: "empty"},
		{name: "malformed JSON", body: `{"schemas":[`, status: 400, scimType: "invalidSyntax", detail: "offset 12"},
		{name: "not an object", body: `[]`, status: 400, scimType: "invalidSyntax", detail: "JSON object"},
		{name: "no schemas", body: `{"Operations":[{"op":"add","path":"title","value":"x"}]}`, status: 400, scimType: "invalidSyntax", detail: "urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		{name: "another schema", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"add","path":"title","value":"x"}]}`, status: 400, scimType: "invalidSyntax", detail: "PatchOp"},
		{name: "no operations", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, status: 400, scimType: "invalidSyntax", detail: `"Operations"`},
		{name: "empty operations", body: patchOf(), status: 400, scimType: "invalidSyntax", detail: "one or more"},
		{name: "operation not an object", body: patchOf(`"add"`), status: 400, scimType: "invalidSyntax", detail: "operation 1: expected an object"},
		{name: "no op", body: patchOf(`{"path":"title","value":"x"}`), status: 400, scimType: "invalidSyntax", detail: `operation 1: "op" is required`},
		{name: "unknown op", body: patchOf(`{"op":"merge","path":"title","value":"x"}`), status: 400, scimType: "invalidSyntax", detail: `op "merge" is not one of`},
		{name: "op not a string", body: patchOf(`{"op":1,"path":"title","value":"x"}`), status: 400, scimType: "invalidSyntax", detail: `"op" must be a string`},
		{name: "add without value", body: patchOf(`{"op":"add","path":"title"}`), status: 400, scimType: "invalidSyntax", detail: `operation 1 (add "title"): "value" is required`},
		{name: "path not a string", body: patchOf(`{"op":"add","path":7,"value":"x"}`), status: 400, scimType: "invalidPath", detail: `"path" must be a string`},
		{name: "malformed path", body: patchOf(`{"op":"add","path":"title","value":"x"}`, `{"op":"add","path":"emails[type eq","value":"x"}`), status: 400, scimType: "invalidPath", detail: `operation 2 (add "emails[type eq")`},
		{name: "remove without path", body: patchOf(`{"op":"remove"}`), status: 400, scimType: "noTarget", detail: `operation 1 (remove, no path): remove needs a "path"`},
		{name: "value without path is not an object", body: patchOf(`{"op":"replace","value":"x"}`), status: 400, scimType: "invalidValue", detail: "must be an object of attributes"},
		{name: "id", body: patchOf(`{"op":"replace","path":"id","value":"other"}`), status: 400, scimType: "mutability", detail: `attribute "id" is read-only`},
		{name: "id in a value without path", body: patchOf(`{"op":"replace","value":{"id":"other"}}`), status: 400, scimType: "mutability", detail: `"id" is read-only`},
		{name: "meta", body: patchOf(`{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}`), status: 400, scimType: "mutability", detail: `"meta" is read-only`},
		{name: "groups", body: patchOf(`{"op":"add","path":"groups","value":[{"value":"g1"}]}`), status: 400, scimType: "mutability", detail: `"groups" is read-only`},
		{name: "manager.displayName", body: patchOf(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}`), status: 400, scimType: "mutability", detail: "manager.displayName"},
		{name: "remove userName", body: patchOf(`{"op":"remove","path":"userName"}`), status: 400, scimType: "invalidValue", detail: `attribute "userName" is required`},
		{name: "replace userName with nothing", body: patchOf(`{"op":"replace","value":{"userName":""}}`), status: 400, scimType: "invalidValue", detail: `"userName" is required`},
		{name: "wrong type", body: patchOf(`{"op":"replace","path":"emails[type eq \"work\"].value","value":5}`), status: 400, scimType: "invalidValue", detail: `operation 1 (replace "emails[type eq \"work\"].value"): attribute "emails.value": expected a string, found a number`},
		{name: "a boolean that is not one", body: patchOf(`{"op":"replace","path":"active","value":"maybe"}`), status: 400, scimType: "invalidValue", detail: `"active"`},
		{name: "unknown sub-attribute", body: patchOf(`{"op":"replace","path":"emails[type eq \"work\"].colour","value":"red"}`), status: 400, scimType: "invalidPath", detail: `"emails" has no sub-attribute "colour"`},
		{name: "filter on an unknown sub-attribute", body: patchOf(`{"op":"replace","path":"emails[kind eq \"work\"].value","value":"x"}`), status: 400, scimType: "invalidPath", detail: `names "kind"`},
		{name: "filter on a single-valued simple attribute", body: patchOf(`{"op":"replace","path":"userName[value eq \"x\"]","value":"y"}`), status: 400, scimType: "invalidPath", detail: "not a multi-valued attribute"},
		{name: "filter that describes no value to create", body: patchOf(`{"op":"replace","path":"emails[value co \"@fabrikam\"].type","value":"work"}`), status: 400, scimType: "noTarget", detail: "does not describe one to create"},
		{name: "two primaries from one operation", body: patchOf(`{"op":"replace","path":"emails[type eq \"work\" or type eq \"home\"].primary","value":true}`), status: 400, scimType: "invalidValue", detail: "more than one value"},
		{name: "a value filter without sub-attribute takes an object", body: patchOf(`{"op":"replace","path":"emails[type eq \"work\"]","value":"x"}`), status: 400, scimType: "invalidValue", detail: "takes one value, an object"},
		{name: "group: remove displayName", resource: "Groups", body: patchOf(`{"op":"remove","path":"displayName"}`), status: 400, scimType: "invalidValue", detail: `"displayName" is required`},
		{name: "group: change a member's sub-attribute", resource: "Groups", body: patchOf(`{"op":"replace","path":"members[value eq \"u1\"].display","value":"x"}`), status: 400, scimType: "mutability", detail: "immutable"},
		{name: "group: add through a members filter", resource: "Groups", body: patchOf(`{"op":"add","path":"members[value eq \"u1\"]","value":{"display":"x"}}`), status: 400, scimType: "mutability", detail: "immutable"},
		{name: "group: a member without value", resource: "Groups", body: patchOf(`{"op":"add","path":"members","value":[{"display":"x"}]}`), status: 400, scimType: "invalidValue", detail: `"members.value" is required`},
		{name: "group: filter on displayName", resource: "Groups", body: patchOf(`{"op":"remove","path":"displayName[value eq \"x\"]"}`), status: 400, scimType: "invalidPath", detail: "not a multi-valued attribute"},
		{name: "unsupported media type", body: "title=x", status: 415, detail: "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, memstore.New(), scim.Options{})
			path := "/Users/" + mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
			if tt.resource == "Groups" {
				path = "/Groups/" + mustCreate(t, h, "/Groups", `{"displayName":"Engineering","members":[{"value":"u1"}]}`)["id"].(string)
			}
			before := serve(t, h, request{method: "GET", path: path}).Body.String()
			r := request{method: "PATCH", path: path, body: tt.body}
			if tt.status == 415 {
				r.header = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			}
			wantError(t, serve(t, h, r), tt.status, tt.scimType, tt.detail)
			if after := serve(t, h, request{method: "GET", path: path}).Body.String(); after != before {
				t.Errorf("a refused PATCH changed the resource:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestPatchAllOrNothing(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	id := mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
	before := serve(t, h, request{method: "GET", path: "/Users/" + id}).Body.String()
	body := patchOf(
		`{"op":"replace","path":"displayName","value":"Changed"}`,
		`{"op":"add","path":"emails","value":[{"value":"x@contoso.com","primary":true}]}`,
		`{"op":"remove","path":"userName"}`,
	)
	wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: body}), 400, "invalidValue", `operation 3 (remove "userName")`)
	if after := serve(t, h, request{method: "GET", path: "/Users/" + id}).Body.String(); after != before {
		t.Errorf("the first operations of a refused PATCH were kept:\nbefore %s\nafter  %s", before, after)
	}
}

func TestPatchTooManyOperations(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{MaxPatchOperations: 3})
	id := mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
	op := `{"op":"add","path":"title","value":"x"}`
	if rec := serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: patchOf(op, op, op)}); rec.Code != 200 {
		t.Fatalf("3 operations with a limit of 3: %d %s", rec.Code, rec.Body)
	}
	wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: patchOf(op, op, op, op)}), 413, "", "more than 3 operations")

	if _, err := scim.NewHandler(memstore.New(), scim.Options{MaxPatchOperations: -1}); err == nil {
		t.Error("a negative MaxPatchOperations must be refused")
	}
	// The default is DefaultMaxPatchOperations.
	h = newHandler(t, memstore.New(), scim.Options{})
	id = mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
	ops := slices.Repeat([]string{op}, scim.DefaultMaxPatchOperations+1)
	wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: patchOf(ops...)}), 413, "", fmt.Sprintf("more than %d operations", scim.DefaultMaxPatchOperations))
}

// countingStore counts the group reads and writes the handler makes.
type countingStore struct {
	*memstore.Store
	getGroup, updateGroup, replaceGroup, patchMembers atomic.Int64
}

func (s *countingStore) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	s.getGroup.Add(1)
	return s.Store.GetGroup(ctx, id, want)
}

func (s *countingStore) UpdateGroup(ctx context.Context, id string, update func(*scim.Group) error) (*scim.Group, error) {
	s.updateGroup.Add(1)
	return s.Store.UpdateGroup(ctx, id, update)
}

func (s *countingStore) ReplaceGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	s.replaceGroup.Add(1)
	return s.Store.ReplaceGroup(ctx, g)
}

func (s *countingStore) PatchMembers(ctx context.Context, id string, p scim.MemberPatch) (scim.MemberPatchResult, error) {
	s.patchMembers.Add(1)
	return s.Store.PatchMembers(ctx, id, p)
}

func TestPatchGroupMembershipFastPath(t *testing.T) {
	var seen []*scim.Group
	var events []scim.Event
	store := &countingStore{Store: memstore.New()}
	h := newHandler(t, store, scim.Options{
		GroupPolicies: []scim.GroupPolicy{func(_ context.Context, old, g *scim.Group) error {
			seen = append(seen, g.Clone())
			return nil
		}},
		OnChange: func(_ context.Context, e scim.Event) { events = append(events, e) },
	})
	gid := mustCreate(t, h, "/Groups", `{"displayName":"Engineering","members":[{"value":"u1"},{"value":"u2"}]}`)["id"].(string)
	events, seen = nil, nil

	tests := []struct {
		name        string
		body        string
		wantMembers []string
		wantEvents  []scim.Event
		slow        bool // the PATCH needs the whole group
	}{
		{
			name:        "add a list",
			body:        patchOf(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"u3"},{"value":"u4","display":"Dee"}]}`),
			wantMembers: []string{"u1", "u2", "u3", "u4"},
			wantEvents:  []scim.Event{{Kind: scim.MembersAdded, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u3", "u4"}}},
		},
		{
			name:        "a replayed add changes nothing and raises no event",
			body:        patchOf(`{"op":"add","path":"members","value":[{"value":"U3"}]}`),
			wantMembers: []string{"u1", "u2", "u3", "u4"},
		},
		{
			name:        "remove by value filter",
			body:        patchOf(`{"op":"remove","path":"members[value eq \"u1\"]"}`),
			wantMembers: []string{"u2", "u3", "u4"},
			wantEvents:  []scim.Event{{Kind: scim.MembersRemoved, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u1"}}},
		},
		{
			name:        "remove with a value list removes those members only",
			body:        patchOf(`{"op":"Remove","path":"members","value":[{"$ref":"https://app.example.com/scim/v2/Users/u2","value":"u2"},{"value":"nobody"}]}`),
			wantMembers: []string{"u3", "u4"},
			wantEvents:  []scim.Event{{Kind: scim.MembersRemoved, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u2"}}},
		},
		{
			name: "operations apply in order: the last one naming a member decides",
			body: patchOf(
				`{"op":"add","path":"members","value":[{"value":"u5"},{"value":"u6"}]}`,
				`{"op":"remove","path":"members[value eq \"u5\"]"}`,
				`{"op":"remove","path":"members[value eq \"u3\"]"}`,
			),
			wantMembers: []string{"u4", "u6"},
			wantEvents: []scim.Event{
				{Kind: scim.MembersAdded, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u6"}},
				{Kind: scim.MembersRemoved, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u3"}},
			},
		},
		{
			name: "a member removed and added again is a new member: the read-modify-write path",
			body: patchOf(
				`{"op":"remove","path":"members[value eq \"u4\"]"}`,
				`{"op":"add","path":"members","value":[{"value":"u4","display":"Dee Four"}]}`,
			),
			slow:        true,
			wantMembers: []string{"u6", "u4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events = nil
			gets, updates, replaces := store.getGroup.Load(), store.updateGroup.Load(), store.replaceGroup.Load()
			rec := serve(t, h, request{method: "PATCH", path: "/Groups/" + gid, body: tt.body})
			if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
				t.Fatalf("PATCH: %d %s, want 204 without body", rec.Code, rec.Body)
			}
			if whole := store.getGroup.Load() != gets || store.updateGroup.Load() != updates || store.replaceGroup.Load() != replaces; whole != tt.slow {
				t.Errorf("read or rewrote the whole group: %v, want %v", whole, tt.slow)
			}
			get := serve(t, h, request{method: "GET", path: "/Groups/" + gid})
			g := decode(t, get)
			var members []string
			for _, m := range g["members"].([]any) {
				mm := m.(map[string]any)
				members = append(members, mm["value"].(string))
				if tt.slow && mm["value"] == "u4" && mm["display"] != "Dee Four" {
					t.Errorf("the member added again is %v", mm)
				}
			}
			if diff := cmp.Diff(tt.wantMembers, members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if etag := rec.Header().Get("ETag"); etag == "" || etag != get.Header().Get("ETag") {
				t.Errorf("ETag %q, the group's is %q", etag, get.Header().Get("ETag"))
			}
			for i := range events {
				events[i].Group = nil // the group without members, checked below
			}
			if diff := cmp.Diff(tt.wantEvents, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	// The group policy saw groups holding only the members being added,
	// and on the read-modify-write path the whole group.
	var added [][]string
	for _, g := range seen {
		var ids []string
		for _, m := range g.Members {
			ids = append(ids, m.Value)
		}
		added = append(added, ids)
	}
	if diff := cmp.Diff([][]string{{"u3", "u4"}, {"U3"}, nil, nil, {"u6"}, {"u6", "u4"}}, added); diff != "" {
		t.Errorf("the group policy saw (-want +got):\n%s", diff)
	}
}

func TestPatchGroupSlowPath(t *testing.T) {
	// A remove of every member and a replace of the members are not
	// membership-only PATCHes: they go through the read-modify-write.
	store := &countingStore{Store: memstore.New()}
	h := newHandler(t, store, scim.Options{})
	gid := mustCreate(t, h, "/Groups", `{"displayName":"Engineering","members":[{"value":"u1"},{"value":"u2"}]}`)["id"].(string)
	members := func() any { return decode(t, serve(t, h, request{method: "GET", path: "/Groups/" + gid}))["members"] }

	rec := serve(t, h, request{method: "PATCH", path: "/Groups/" + gid, body: patchOf(`{"op":"replace","path":"members","value":[{"value":"u3"}]}`)})
	if rec.Code != 204 || store.patchMembers.Load() != 0 || store.updateGroup.Load() != 1 {
		t.Errorf("replace members: %d, PatchMembers %d, UpdateGroup %d", rec.Code, store.patchMembers.Load(), store.updateGroup.Load())
	}
	if got := members(); !cmp.Equal(got, []any{map[string]any{"value": "u3", "$ref": base + "/Users/u3"}}) {
		t.Errorf("after replace: %v", got)
	}
	rec = serve(t, h, request{method: "PATCH", path: "/Groups/" + gid, body: patchOf(`{"op":"remove","path":"members"}`)})
	if got := members(); rec.Code != 204 || !cmp.Equal(got, []any{}) {
		t.Errorf("remove every member: %d, members %v", rec.Code, got)
	}
}

func TestPatchResponse(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("MemberPatcher=%v", fast), func(t *testing.T) {
			var store scim.Store = memstore.New()
			if !fast {
				store = struct {
					scim.UserStore
					scim.GroupStore
				}{store.(scim.UserStore), store.(scim.GroupStore)}
			}
			h := newHandler(t, store, scim.Options{})
			uid := mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
			gid := mustCreate(t, h, "/Groups", `{"displayName":"Engineering"}`)["id"].(string)
			add := patchOf(`{"op":"add","path":"members","value":[{"value":"` + uid + `"}]}`)

			// A group: 204, unless the client asks for attributes (RFC 7644
			// §3.5.2: "MUST return a 200 OK if the attributes parameter is
			// specified").
			rec := serve(t, h, request{method: "PATCH", path: "/Groups/" + gid + "?attributes=displayName", body: add})
			got := decode(t, rec)
			if rec.Code != 200 || !cmp.Equal(keys(got), []string{"displayName", "id", "schemas"}) {
				t.Errorf("group PATCH with attributes: %d %v", rec.Code, got)
			}
			if rec.Header().Get("ETag") == "" {
				t.Error("no ETag on a 200")
			}
			rec = serve(t, h, request{method: "PATCH", path: "/Groups/" + gid + "?excludedAttributes=members", body: patchOf(`{"op":"replace","path":"displayName","value":"Eng"}`)})
			if got := decode(t, rec); rec.Code != 200 || got["displayName"] != "Eng" || got["members"] != nil {
				t.Errorf("group PATCH with excludedAttributes: %d %v", rec.Code, got)
			}
			// A user: 200 with the user, projected.
			rec = serve(t, h, request{method: "PATCH", path: "/Users/" + uid + "?excludedAttributes=emails,name", body: patchOf(`{"op":"add","path":"title","value":"Countess"}`)})
			got = decode(t, rec)
			if _, ok := got["emails"]; rec.Code != 200 || ok || got["title"] != "Countess" || got["groups"] == nil {
				t.Errorf("user PATCH with excludedAttributes: %d %v", rec.Code, got)
			}
			if etag := rec.Header().Get("ETag"); etag != got["meta"].(map[string]any)["version"] {
				t.Errorf("ETag %q, meta.version %v", etag, got["meta"])
			}
			wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/" + uid + "?attributes=[", body: add}), 400, "invalidValue", "attributes")
			wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/nobody", body: patchOf(`{"op":"add","path":"title","value":"x"}`)}), 404, "", "nobody")
			wantError(t, serve(t, h, request{method: "PATCH", path: "/Groups/nobody", body: add}), 404, "", "nobody")
		})
	}
}

func TestPatchIfMatch(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("MemberPatcher=%v", fast), func(t *testing.T) {
			var store scim.Store = memstore.New()
			if !fast {
				store = struct {
					scim.UserStore
					scim.GroupStore
				}{store.(scim.UserStore), store.(scim.GroupStore)}
			}
			h := newHandler(t, store, scim.Options{})
			for _, path := range []string{
				"/Users/" + mustCreate(t, h, "/Users", patchTestUser)["id"].(string),
				"/Groups/" + mustCreate(t, h, "/Groups", `{"displayName":"Engineering"}`)["id"].(string),
			} {
				body := patchOf(`{"op":"add","path":"members","value":[{"value":"u1"}]}`)
				if strings.HasPrefix(path, "/Users/") {
					body = patchOf(`{"op":"add","path":"title","value":"x"}`)
				}
				etag := serve(t, h, request{method: "GET", path: path}).Header().Get("ETag")
				wantError(t, serve(t, h, request{method: "PATCH", path: path, body: body, header: map[string]string{"If-Match": `W/"999"`}}), 412, "", "If-Match")
				rec := serve(t, h, request{method: "PATCH", path: path, body: body, header: map[string]string{"If-Match": etag}})
				if rec.Code != 200 && rec.Code != 204 {
					t.Fatalf("%s with the current ETag: %d %s", path, rec.Code, rec.Body)
				}
				next := rec.Header().Get("ETag")
				if next == "" || next == etag {
					t.Errorf("%s: ETag %q after a change from %q", path, next, etag)
				}
				wantError(t, serve(t, h, request{method: "PATCH", path: path, body: body, header: map[string]string{"If-Match": etag}}), 412, "", "If-Match")
				for _, im := range []string{"*", `W/"1", ` + next} {
					if rec := serve(t, h, request{method: "PATCH", path: path, body: body, header: map[string]string{"If-Match": im}}); rec.Code >= 300 {
						t.Errorf("%s with If-Match %s: %d %s", path, im, rec.Code, rec.Body)
					}
				}
			}
		})
	}
}

func TestPatchEvents(t *testing.T) {
	var events []scim.Event
	h := newHandler(t, memstore.New(), scim.Options{OnChange: func(_ context.Context, e scim.Event) { events = append(events, e) }})
	uid := mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
	gid := mustCreate(t, h, "/Groups", `{"displayName":"Engineering","members":[{"value":"u1"}]}`)["id"].(string)
	tests := []struct {
		name, path, body string
		want             []scim.Event
	}{
		{
			name: "an update names what changed",
			path: "/Users/" + uid,
			body: patchOf(`{"op":"replace","path":"displayName","value":"Ada King"}`, `{"op":"add","path":"nickName","value":"Babs"}`),
			want: []scim.Event{{Kind: scim.UserUpdated, ResourceType: "User", ID: uid, Changed: []string{"displayName", "nickName"}}},
		},
		{
			name: "a password change",
			path: "/Users/" + uid,
			body: patchOf(`{"op":"replace","value":{"password":"s3cret"}}`),
			want: []scim.Event{{Kind: scim.UserUpdated, ResourceType: "User", ID: uid, Changed: []string{"password"}}},
		},
		{
			name: "a deactivation",
			path: "/Users/" + uid,
			body: patchOf(`{"op":"Replace","path":"active","value":"False"}`),
			want: []scim.Event{{Kind: scim.UserDeactivated, ResourceType: "User", ID: uid, Changed: []string{"active"}}},
		},
		{
			name: "a replayed deactivation raises nothing",
			path: "/Users/" + uid,
			body: patchOf(`{"op":"Replace","path":"active","value":"False"}`),
		},
		{
			name: "a reactivation",
			path: "/Users/" + uid,
			body: patchOf(`{"op":"replace","value":{"active":true}}`),
			want: []scim.Event{{Kind: scim.UserReactivated, ResourceType: "User", ID: uid, Changed: []string{"active"}}},
		},
		{
			name: "a refused PATCH raises nothing",
			path: "/Users/" + uid,
			body: patchOf(`{"op":"add","path":"title","value":"x"}`, `{"op":"remove","path":"userName"}`),
		},
		{
			name: "a group rename and a membership change together",
			path: "/Groups/" + gid,
			body: patchOf(`{"op":"replace","path":"displayName","value":"Eng"}`, `{"op":"add","path":"members","value":[{"value":"u2"}]}`, `{"op":"remove","path":"members[value eq \"u1\"]"}`),
			want: []scim.Event{
				{Kind: scim.GroupRenamed, ResourceType: "Group", ID: gid, Changed: []string{"displayName"}},
				{Kind: scim.MembersAdded, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u2"}},
				{Kind: scim.MembersRemoved, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u1"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events = nil
			serve(t, h, request{method: "PATCH", path: tt.path, body: tt.body})
			for i := range events {
				if events[i].User == nil && events[i].Group == nil {
					t.Errorf("event %d carries no resource", i)
				}
				events[i].User, events[i].Group = nil, nil
			}
			if diff := cmp.Diff(tt.want, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPatchUsersOnlyStore(t *testing.T) {
	h := newHandler(t, usersOnly{memstore.New()}, scim.Options{})
	wantError(t, serve(t, h, request{method: "PATCH", path: "/Groups/g1", body: patchOf(`{"op":"add","path":"members","value":[{"value":"u1"}]}`)}), 501, "", "groups are not provisioned")
	if sp := decode(t, serve(t, h, request{method: "GET", path: "/ServiceProviderConfig"})); !cmp.Equal(sp["patch"], map[string]any{"supported": true}) {
		t.Errorf("ServiceProviderConfig patch = %v", sp["patch"])
	}
}

func TestPatchSoftDeleteKeepsMemberships(t *testing.T) {
	// docs/clients.md#users steps 4 to 7: a disabled user stays readable by id and
	// by filters and keeps its memberships, which Entra does not push again
	// when it re-enables the user.
	h := newHandler(t, memstore.New(), scim.Options{})
	uid := mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
	gid := mustCreate(t, h, "/Groups", `{"displayName":"Engineering"}`)["id"].(string)
	serve(t, h, request{method: "PATCH", path: "/Groups/" + gid, body: patchOf(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + uid + `"}]}`)})
	isMember := func() bool {
		got := decode(t, serve(t, h, request{method: "GET", path: `/Groups?filter=id+eq+%22` + gid + `%22+and+members+eq+%22` + uid + `%22&attributes=id`}))
		return got["totalResults"] == float64(1)
	}
	for _, active := range []string{`"False"`, `"True"`, `false`, `"false"`, `true`} {
		t.Run("active="+active, func(t *testing.T) {
			rec := serve(t, h, request{method: "PATCH", path: "/Users/" + uid, body: patchOf(`{"op":"Replace","path":"active","value":` + active + `}`)})
			want := strings.EqualFold(strings.Trim(active, `"`), "true")
			if got := decode(t, rec); rec.Code != 200 || got["active"] != want {
				t.Fatalf("PATCH active %s: %d %v", active, rec.Code, got)
			}
			u := decode(t, serve(t, h, request{method: "GET", path: "/Users/" + uid}))
			if u["active"] != want || len(u["groups"].([]any)) != 1 {
				t.Errorf("GET: active %v, groups %v", u["active"], u["groups"])
			}
			list := decode(t, serve(t, h, request{method: "GET", path: `/Users?filter=userName+eq+%22ada%40contoso.com%22`}))
			if list["totalResults"] != float64(1) || list["Resources"].([]any)[0].(map[string]any)["active"] != want {
				t.Errorf("filter: %v", list)
			}
			if !isMember() {
				t.Error("the user lost its membership")
			}
		})
	}
}

func TestPatchDomainAllowlist(t *testing.T) {
	verified := map[string]bool{"contoso.com": true}
	var mu sync.Mutex
	h := newHandler(t, memstore.New(), scim.Options{AllowDomain: func(_ context.Context, d string) error {
		mu.Lock()
		defer mu.Unlock()
		if verified[d] {
			return nil
		}
		return scim.ErrDomainNotAllowed
	}})
	created := mustCreate(t, h, "/Users", `{"userName":"ada@contoso.com","emails":[{"value":"ada@contoso.com","type":"work","primary":true}]}`)
	uid := created["id"].(string)
	gid := mustCreate(t, h, "/Groups", `{"displayName":"Engineering","members":[{"value":"`+uid+`"}]}`)["id"].(string)
	move := patchOf(
		`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"ada@fabrikam.com"}`,
		`{"op":"Replace","path":"userName","value":"ada@fabrikam.com"}`,
	)
	before := serve(t, h, request{method: "GET", path: "/Users/" + uid}).Body.String()
	wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/" + uid, body: move}), 400, "invalidValue", `the email domain "fabrikam.com" of`)
	if after := serve(t, h, request{method: "GET", path: "/Users/" + uid}).Body.String(); after != before {
		t.Errorf("a refused change changed the user:\nbefore %s\nafter  %s", before, after)
	}
	// Operations that do not introduce the domain are not refused: the
	// check is on the final state, against the stored user.
	rec := serve(t, h, request{method: "PATCH", path: "/Users/" + uid, body: patchOf(
		`{"op":"add","path":"emails","value":[{"value":"ada@fabrikam.com","type":"other"}]}`,
		`{"op":"remove","path":"emails[type eq \"other\"]"}`,
		`{"op":"add","path":"title","value":"Countess"}`,
	)})
	if rec.Code != 200 {
		t.Errorf("an email added and removed again in one PATCH was refused: %d %s", rec.Code, rec.Body)
	}

	mu.Lock()
	verified["fabrikam.com"] = true
	mu.Unlock()
	rec = serve(t, h, request{method: "PATCH", path: "/Users/" + uid, body: move})
	got := decode(t, rec)
	if rec.Code != 200 || got["id"] != uid || got["userName"] != "ada@fabrikam.com" {
		t.Fatalf("after verification: %d %v", rec.Code, got)
	}
	if got["meta"].(map[string]any)["created"] != created["meta"].(map[string]any)["created"] {
		t.Errorf("created changed: %v, was %v", got["meta"], created["meta"])
	}
	if groups, _ := got["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["value"] != gid {
		t.Errorf("groups after the move: %v", got["groups"])
	}
	// The host's own *scim.Error is sent as it is.
	h = newHandler(t, memstore.New(), scim.Options{AllowDomain: func(context.Context, string) error {
		return &scim.Error{Status: 403, Detail: "ask your admin to verify the domain"}
	}})
	uid = mustCreate(t, h, "/Users", `{"userName":"grace"}`)["id"].(string)
	wantError(t, serve(t, h, request{method: "PATCH", path: "/Users/" + uid, body: patchOf(`{"op":"add","path":"emails","value":[{"value":"grace@fabrikam.com"}]}`)}), 403, "", "ask your admin")
}

// TestPatchConcurrentMembers sends 1,000 membership PATCHes to one group at
// once: every one lands, the first time, with the store's MemberPatcher and
// with only the versioned read-modify-write (where the handler makes
// writers to one resource take turns instead of failing each other).
func TestPatchConcurrentMembers(t *testing.T) {
	const n = 1000
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("MemberPatcher=%v", fast), func(t *testing.T) {
			var store scim.Store = memstore.New()
			if !fast {
				// Only UserStore and GroupStore: every PATCH reads the group
				// and writes it back with the version it read.
				store = struct {
					scim.UserStore
					scim.GroupStore
				}{store.(scim.UserStore), store.(scim.GroupStore)}
			}
			h := newHandler(t, store, scim.Options{})
			gid := mustCreate(t, h, "/Groups", `{"displayName":"Everyone"}`)["id"].(string)
			var wg sync.WaitGroup
			codes := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := patchOf(fmt.Sprintf(`{"op":"Add","path":"members","value":[{"value":"user-%04d"}]}`, i))
					codes[i] = serve(t, h, request{method: "PATCH", path: "/Groups/" + gid, body: body}).Code
				}()
			}
			wg.Wait()
			for i, c := range codes {
				if c != http.StatusNoContent {
					t.Errorf("PATCH %d: %d", i, c)
				}
			}
			g := decode(t, serve(t, h, request{method: "GET", path: "/Groups/" + gid}))
			if got := len(g["members"].([]any)); got != n {
				t.Errorf("%d members, want %d", got, n)
			}
		})
	}
}

func TestPatchConcurrentIfMatch(t *testing.T) {
	// PATCH and PUT with the same If-Match on one user: exactly one wins.
	const n = 20
	for _, atomicStore := range []bool{true, false} {
		t.Run(fmt.Sprintf("UserUpdater=%v", atomicStore), func(t *testing.T) {
			var store scim.Store = memstore.New()
			if !atomicStore {
				store = struct{ scim.UserStore }{store.(scim.UserStore)}
			}
			h := newHandler(t, store, scim.Options{})
			uid := mustCreate(t, h, "/Users", patchTestUser)["id"].(string)
			etag := serve(t, h, request{method: "GET", path: "/Users/" + uid}).Header().Get("ETag")
			var wg sync.WaitGroup
			codes := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := request{method: "PATCH", path: "/Users/" + uid, body: patchOf(fmt.Sprintf(`{"op":"replace","path":"title","value":"t%d"}`, i)), header: map[string]string{"If-Match": etag}}
					if i%2 == 1 {
						r = request{method: "PUT", path: "/Users/" + uid, body: fmt.Sprintf(`{"userName":"ada@contoso.com","title":"t%d"}`, i), header: map[string]string{"If-Match": etag}}
					}
					codes[i] = serve(t, h, r).Code
				}()
			}
			wg.Wait()
			won := 0
			for i, c := range codes {
				switch c {
				case http.StatusOK:
					won++
				case http.StatusPreconditionFailed:
				default:
					t.Errorf("request %d: %d", i, c)
				}
			}
			if won != 1 {
				t.Errorf("%d requests won with the same If-Match, want exactly 1 (codes %v)", won, codes)
			}
		})
	}
}
