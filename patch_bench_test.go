package scim_test

// Benchmarks of PATCH: parsing and applying Entra ID's bodies on the typed
// model, and membership changes through Handler + memstore, whose cost must
// not depend on the size of the group.
//
//	go test -run '^$' -bench 'Patch' -benchmem -count 10 . > patch.txt
//	benchstat patch.txt

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// The incremental-cycle PATCH of docs/clients.md#patch-bodies "Replace several
// attributes", in both of Entra ID's modes.
var (
	entraPatchDefault = patchOf(
		`{"op":"Replace","path":"displayName","value":"Bjfe"}`,
		`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"bjfe@contoso.com"}`,
		`{"op":"Replace","path":"name.givenName","value":"Kkom"}`,
		`{"op":"Replace","path":"name.familyName","value":"Unua"}`,
		`{"op":"Replace","path":"externalId","value":"bjfe"}`,
		`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Aklq"}`,
		`{"op":"Replace","path":"active","value":"False"}`,
	)
	entraPatchFlag = patchOf(
		`{"op":"replace","path":"emails[type eq \"work\"].value","value":"bjfe@contoso.com"}`,
		`{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua","externalId":"bjfe","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq","active":false}}`,
	)
)

// typicalUser is a user as Entra ID provisions it (docs/clients.md#create-bodies-and-responses,
// docs/clients.md#attribute-mappings).
func typicalUser() *scim.User {
	return &scim.User{
		ID: "2819c223-7f76-453a-919d-413861904646", ExternalID: "bjensen", UserName: "bjensen@contoso.com",
		Name:        scim.Name{Formatted: "Barbara Jensen", FamilyName: "Jensen", GivenName: "Barbara"},
		DisplayName: "Babs Jensen", Title: "Tour Guide", Active: true,
		Emails:       []scim.MultiValue{{Value: "bjensen@contoso.com", Type: "work", Primary: true}},
		PhoneNumbers: []scim.MultiValue{{Value: "555-555-5555", Type: "work"}, {Value: "555-555-4444", Type: "mobile"}},
		Addresses:    []scim.Address{{StreetAddress: "100 Universal City Plaza", Locality: "Hollywood", Region: "CA", PostalCode: "91608", Country: "USA", Type: "work"}},
		Enterprise:   &scim.EnterpriseUser{EmployeeNumber: "701984", Department: "Tour Operations", Manager: &scim.Manager{Value: "26118915-6090-4610-87e4-49d8ca9f808d"}},
	}
}

func BenchmarkApplyPatch(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"entra-default", entraPatchDefault},
		{"entra-aadOptscim062020", entraPatchFlag},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			u := typicalUser()
			b.ReportAllocs()
			for b.Loop() {
				if err := scim.ApplyPatchForTest(u, body, false); err != nil {
					b.Fatal(err)
				}
			}
			if u.DisplayName != "Bjfe" || u.Active {
				b.Fatalf("not applied: %+v", u)
			}
		})
	}
}

// BenchmarkRequestPatchUser is Entra's incremental-cycle PATCH through the
// Handler and memstore, the response included.
func BenchmarkRequestPatchUser(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"entra-default", entraPatchDefault},
		{"entra-aadOptscim062020", entraPatchFlag},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHandler(b, memstore.New(), scim.Options{})
			id := mustCreate(b, h, "/Users", entraUserBody("bjensen"))["id"].(string)
			// Alternate between the body and its undoing, so that every
			// request writes.
			undo := patchOf(`{"op":"replace","value":{"displayName":"Babs","active":true}}`)
			benchRequest(b, h, "PATCH", "/Users/"+id, func(i int) string {
				if i%2 == 0 {
					return bc.body
				}
				return undo
			}, 200)
		})
	}
}

// BenchmarkRequestPatchGroupAddMember adds a member to a group and removes
// it again, one PATCH each, as Entra sends them: through MemberPatcher the
// cost is the same for 10 members as for 100,000; without it every PATCH
// reads and writes the whole group.
func BenchmarkRequestPatchGroupAddMember(b *testing.B) {
	for _, bc := range []struct {
		members int
		fast    bool
	}{
		{10, true},
		{100_000, true},
		{10, false},
		{100_000, false},
	} {
		path := "MemberPatcher"
		if !bc.fast {
			path = "read-modify-write"
		}
		b.Run(fmt.Sprintf("members=%d/path=%s", bc.members, path), func(b *testing.B) {
			store := memstore.New()
			g := &scim.Group{DisplayName: "Everyone"}
			for i := range bc.members {
				g.Members = append(g.Members, scim.Member{Value: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)})
			}
			created, err := store.CreateGroup(context.Background(), g)
			if err != nil {
				b.Fatal(err)
			}
			var s scim.Store = store
			if !bc.fast {
				s = struct {
					scim.UserStore
					scim.GroupStore
				}{store, store}
			}
			h := newHandler(b, s, scim.Options{})
			const member = "7f4bc1a3-285e-48ae-8202-5accb43efb0e"
			add := patchOf(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + member + `"}]}`)
			remove := patchOf(`{"op":"Remove","path":"members","value":[{"value":"` + member + `"}]}`)
			benchRequest(b, h, "PATCH", "/Groups/"+created.ID, func(i int) string {
				if i%2 == 0 {
					return add
				}
				return remove
			}, 204)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/Groups/"+created.ID+"?attributes=id", strings.NewReader("")))
			if rec.Code != 200 {
				b.Fatalf("the group: %d", rec.Code)
			}
		})
	}
}
