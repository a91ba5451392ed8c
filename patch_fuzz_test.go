package scim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// The PATCH fuzz targets send arbitrary bodies through the Handler to a
// seeded user or group, in default and in strict mode, and check that the
// handler never panics and never answers 500, that a refused PATCH leaves
// the resource byte for byte as it was, and that an accepted one leaves a
// valid resource. They are seeded with every PATCH body of the golden
// transcripts and of docs/clients.md; crashers found by `go test -fuzz` are
// kept in testdata/fuzz/FuzzPatchUser and testdata/fuzz/FuzzPatchGroup.

// fuzzUser is the user the fuzz targets patch: every kind of attribute the
// model has, an extension in Extra, and a manager.
const fuzzUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"externalId":"ada","userName":"ada@contoso.com","displayName":"Ada","nickName":"Babs","title":"Countess","active":true,
	"name":{"formatted":"Ada Lovelace","givenName":"Ada","familyName":"Lovelace"},
	"emails":[{"value":"ada@contoso.com","type":"work","primary":true},{"value":"ada@home.example","type":"home"}],
	"phoneNumbers":[{"value":"555-0100","type":"work"}],
	"addresses":[{"streetAddress":"12 St James's Square","locality":"London","type":"work","primary":true}],
	"roles":[{"value":"Admin","primary":true}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1815","department":"Engines","manager":{"value":"m1"}},
	"urn:ietf:params:scim:schemas:extension:Acme:2.0:User":{"costCode":"X1","floors":[1,2]}}`

const fuzzGroup = `{"displayName":"Engineering","externalId":"8aa1a0c0","members":[{"value":"u1","display":"One"},{"value":"u2","type":"User"},{"value":"g3","type":"Group"}]}`

// placeholder matches a transcript's {{name}}.
var placeholder = regexp.MustCompile(`\{\{[A-Za-z0-9_.-]+\}\}`)

// transcriptPatchBodies returns the PATCH bodies of the golden transcripts
// sent to resource ("Users" or "Groups"), names replaced by ids.
func transcriptPatchBodies(t testing.TB, resource string) [][]byte {
	var out [][]byte
	for _, file := range transcriptFiles(t) {
		for _, ex := range loadTranscript(t, file).exchanges {
			if ex.method == "PATCH" && pathOf(ex.target) == resource {
				out = append(out, []byte(placeholder.ReplaceAllString(ex.body, "u1")))
			}
		}
	}
	return out
}

func FuzzPatchUser(f *testing.F) {
	users, _ := scim.ClientsPatchBodiesForTest()
	for _, b := range append(transcriptPatchBodies(f, "Users"), users...) {
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, strict bool) {
		fuzzPatch(t, memstore.New(), "/Users", fuzzUser, body, strict)
	})
}

func FuzzPatchGroup(f *testing.F) {
	_, groups := scim.ClientsPatchBodiesForTest()
	for _, b := range append(transcriptPatchBodies(f, "Groups"), groups...) {
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, strict bool) {
		fast, fastGroup := fuzzPatch(t, memstore.New(), "/Groups", fuzzGroup, body, strict)
		// The same PATCH through the read-modify-write path must have the
		// same outcome: MemberPatcher is an optimisation, not a semantics.
		store := memstore.New()
		slow, slowGroup := fuzzPatch(t, struct {
			scim.UserStore
			scim.GroupStore
		}{store, store}, "/Groups", fuzzGroup, body, strict)
		if fast != slow {
			t.Fatalf("status %d through MemberPatcher, %d without\nbody: %s", fast, slow, body)
		}
		if diff := cmp.Diff(comparableGroup(t, fastGroup), comparableGroup(t, slowGroup)); diff != "" {
			t.Fatalf("the group differs (-MemberPatcher +without):\n%s\nbody: %s", diff, body)
		}
	})
}

// comparableGroup is a group as JSON without its meta, members sorted:
// the two paths may order members differently.
func comparableGroup(t *testing.T, b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	delete(m, "meta")
	delete(m, "id")
	if ms, ok := m["members"].([]any); ok {
		slices.SortFunc(ms, func(a, b any) int {
			return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
		})
	}
	return m
}

// fuzzPatch sends body to a resource created from seed in store and checks
// the outcome; it returns the PATCH's status and the resource after it.
func fuzzPatch(t *testing.T, store scim.Store, endpoint, seed string, body []byte, strict bool) (int, []byte) {
	h := newHandler(t, store, scim.Options{Strict: strict, MaxPatchOperations: 50})
	path := endpoint + "/" + mustCreate(t, h, endpoint, seed)["id"].(string)
	before := serve(t, h, request{method: "GET", path: path})
	rec := serve(t, h, request{method: "PATCH", path: path, body: string(body)})
	after := serve(t, h, request{method: "GET", path: path})
	switch {
	case rec.Code >= 500:
		t.Fatalf("PATCH answered %d: %s\nbody: %s", rec.Code, rec.Body, body)
	case rec.Code >= 400:
		var e struct {
			Schemas []string
			Status  string
			Detail  string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status == "" || e.Detail == "" {
			t.Fatalf("a %d without a SCIM error body: %s", rec.Code, rec.Body)
		}
		if !bytes.Equal(before.Body.Bytes(), after.Body.Bytes()) || before.Header().Get("ETag") != after.Header().Get("ETag") {
			t.Fatalf("a refused PATCH (%d %s) changed the resource:\nbefore %s\nafter  %s\nbody: %s", rec.Code, rec.Body, before.Body, after.Body, body)
		}
	case rec.Code == http.StatusOK, rec.Code == http.StatusNoContent:
		if after.Code != http.StatusOK {
			t.Fatalf("GET after an accepted PATCH: %d %s", after.Code, after.Body)
		}
		if rec.Header().Get("ETag") != after.Header().Get("ETag") {
			t.Fatalf("PATCH ETag %q, GET ETag %q", rec.Header().Get("ETag"), after.Header().Get("ETag"))
		}
		if rec.Code == http.StatusOK && !bytes.Equal(rec.Body.Bytes(), after.Body.Bytes()) {
			t.Fatalf("the PATCH response differs from the resource:\npatch %s\nget   %s", rec.Body, after.Body)
		}
		checkPatched(t, endpoint, after.Body.Bytes(), body)
	default:
		t.Fatalf("PATCH answered %d: %s", rec.Code, rec.Body)
	}
	return rec.Code, after.Body.Bytes()
}

// checkPatched checks what every accepted PATCH must leave: a resource
// with its required attribute, at most one primary value per attribute,
// and members with values.
func checkPatched(t *testing.T, endpoint string, resource, body []byte) {
	var m map[string]any
	if err := json.Unmarshal(resource, &m); err != nil {
		t.Fatalf("the resource is not JSON: %v: %s", err, resource)
	}
	required := "userName"
	if strings.HasPrefix(endpoint, "/Groups") {
		required = "displayName"
	}
	if s, _ := m[required].(string); s == "" {
		t.Fatalf("an accepted PATCH left no %s: %s\nbody: %s", required, resource, body)
	}
	for k, v := range m {
		vs, ok := v.([]any)
		if !ok {
			continue
		}
		primaries := 0
		for _, e := range vs {
			o, _ := e.(map[string]any)
			if o["primary"] == true {
				primaries++
			}
			if k == "members" {
				if s, _ := o["value"].(string); s == "" {
					t.Fatalf("a member without value: %s\nbody: %s", resource, body)
				}
			}
		}
		if primaries > 1 {
			t.Fatalf("%s has %d primary values: %s\nbody: %s", k, primaries, resource, body)
		}
	}
}
