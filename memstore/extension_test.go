package memstore_test

import (
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
