package sqlstore

import (
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/storetest"
)

// TestStoreExtensions runs the kit's checks of declared extension
// attributes strictly (storetest.Extensions): every filter and sort on them
// must be answered, on both dialects. The values live in the document
// column; SQL narrows and scim.MatchUser finishes, as for any attribute
// without a column. The store runs without its keyset listing
// (storeWithoutKeyset), so that the kit skips its keyset walk, which
// creates 22,000 users and has nothing of extensions: TestStoretest runs it.
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
	if _, ok := any(storeWithoutKeyset{}).(scim.UserKeysetLister); ok {
		t.Fatal("storeWithoutKeyset still lists by keyset")
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			storetest.Run(t, func(t *testing.T) scim.Store { return storeWithoutKeyset{Store: newStore(t, db)} },
				storetest.Extensions(contoso, fabrikam))
		})
	}
}

// storeWithoutKeyset is a Store whose keyset methods are not in its method
// set: the field names of noKeyset collide with the promoted methods at
// the same depth, so neither is promoted and the value implements neither
// scim.UserKeysetLister nor scim.GroupKeysetLister.
type storeWithoutKeyset struct {
	*Store
	noKeyset
}

type noKeyset struct {
	ListUsersKeyset, ListGroupsKeyset struct{}
}
