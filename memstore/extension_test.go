package memstore_test

import (
	"errors"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/storetest"
)

// TestStoreExtensions runs the kit with declared extensions, so that its
// extension checks are strict: memstore must answer every filter and sort
// on their attributes.
func TestStoreExtensions(t *testing.T) {
	contoso := scim.Extension{
		Schema: "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User", Resource: "User",
		Attributes: []scim.Attribute{{Name: "costCenter"}, {Name: "badgeNumber", Type: scim.TypeInteger},
			{Name: "code", CaseExact: true}, {Name: "since", Type: scim.TypeDateTime}},
	}
	fabrikam := scim.Extension{
		Schema: "urn:ietf:params:scim:schemas:extension:Fabrikam:2.0:User", Resource: "User",
		Attributes: []scim.Attribute{{Name: "rate", Type: scim.TypeDecimal}, {Name: "tags", MultiValued: true}},
	}
	storetest.Run(t, func(*testing.T) scim.Store { return memstore.New() }, storetest.Extensions(contoso, fabrikam))
}

// TestDeclareExtensionsIndexesStoredUsers checks that values stored
// before DeclareExtensions are indexed by it.
func TestDeclareExtensionsIndexesStoredUsers(t *testing.T) {
	ext := scim.Extension{
		Schema: "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User", Resource: "User",
		Attributes: []scim.Attribute{{Name: "badge", Uniqueness: scim.UniquenessServer}},
	}
	s := memstore.New()
	u := &scim.User{UserName: "a@example.com"}
	if err := ext.Set(&u.Extra, "badge", "B-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := s.DeclareExtensions([]scim.Extension{ext}); err != nil {
		t.Fatal(err)
	}
	u.UserName = "b@example.com"
	_, err := s.CreateUser(t.Context(), u)
	var ce *scim.ConflictError
	if !errors.As(err, &ce) || ce.Attribute != ext.Schema+":badge" {
		t.Errorf("CreateUser with a value stored before DeclareExtensions: %v, want a conflict on badge", err)
	}
	if err := s.DeclareExtensions(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(t.Context(), u); err != nil {
		t.Errorf("CreateUser once the declarations are gone: %v", err)
	}
}
