package memstore_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// The shared reads return what GetUser and ListUsers return, and a user
// handed out stays as it was when the store is written afterwards.
func TestSharedReads(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	u, err := s.CreateUser(ctx, &scim.User{UserName: "ada", Emails: []scim.MultiValue{{Value: "ada@contoso.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "eng", Members: []scim.Member{{Value: u.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want scim.Projection
	}{
		{"with groups", scim.Projection{}},
		{"without groups", scim.Projection{Excluded: []scim.AttrPath{{Name: "groups"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copied, err := s.GetUser(ctx, u.ID, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			shared, err := s.GetUserShared(ctx, u.ID, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(copied, shared); diff != "" {
				t.Errorf("GetUserShared differs from GetUser (-copy +shared):\n%s", diff)
			}
			q := scim.Query{StartIndex: 1, Count: 10, Want: tc.want}
			lc, err := s.ListUsers(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := s.ListUsersShared(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(lc, ls); diff != "" {
				t.Errorf("ListUsersShared differs from ListUsers (-copy +shared):\n%s", diff)
			}
		})
	}
	shared, _ := s.GetUserShared(ctx, u.ID, scim.Projection{})
	before := shared.Clone()
	if _, err := s.UpdateUser(ctx, u.ID, func(c *scim.User) error {
		c.Emails[0].Value = "lovelace@contoso.com"
		c.UserName = "lovelace"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, shared); diff != "" {
		t.Errorf("a user handed out changed when the store was written (-before +after):\n%s", diff)
	}
	if _, err := s.GetUserShared(ctx, "nope", scim.Projection{}); err == nil {
		t.Error("GetUserShared of an unknown id: no error")
	}
}
