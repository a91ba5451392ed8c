package memstore_test

import (
	"errors"
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

// UpdateUserShared hands update the stored user, keeps what update returns
// without a copy, and returns the stored user; a user handed out before
// stays as it was, and an update that fails stores nothing.
func TestSharedUpdate(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	u, err := s.CreateUser(ctx, &scim.User{UserName: "ada", Emails: []scim.MultiValue{{Value: "ada@contoso.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, &scim.User{UserName: "grace"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "eng", Members: []scim.Member{{Value: u.ID}}}); err != nil {
		t.Fatal(err)
	}
	handedOut, _ := s.GetUserShared(ctx, u.ID, scim.Projection{})
	before := handedOut.Clone()
	var next *scim.User
	got, err := s.UpdateUserShared(ctx, u.ID, func(stored *scim.User) (*scim.User, error) {
		if diff := cmp.Diff(before, stored); diff != "" {
			t.Errorf("update is not given the stored user (-stored +given):\n%s", diff)
		}
		next = stored.Clone()
		next.Emails[0].Value = "lovelace@contoso.com"
		return next, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, handedOut); diff != "" {
		t.Errorf("a user handed out changed (-before +after):\n%s", diff)
	}
	want, _ := s.GetUser(ctx, u.ID, scim.Projection{})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateUserShared returned (-GetUser +returned):\n%s", diff)
	}
	if want.Emails[0].Value != "lovelace@contoso.com" || len(want.Groups) != 1 || want.Meta.Version == before.Meta.Version {
		t.Errorf("stored %+v", want)
	}
	if &got.Emails[0] != &next.Emails[0] {
		t.Error("the Store copied what update returned")
	}

	for _, tc := range []struct {
		name   string
		id     string
		update func(*scim.User) (*scim.User, error)
		is     error
	}{
		{"update fails", u.ID, func(*scim.User) (*scim.User, error) { return nil, scim.ErrUnsupported }, scim.ErrUnsupported},
		{"userName taken", u.ID, func(stored *scim.User) (*scim.User, error) {
			c := stored.Clone()
			c.UserName = "GRACE"
			return c, nil
		}, scim.ErrConflict},
		{"unknown id", "nope", func(stored *scim.User) (*scim.User, error) { return stored.Clone(), nil }, scim.ErrNotFound},
	} {
		if _, err := s.UpdateUserShared(ctx, tc.id, tc.update); !errors.Is(err, tc.is) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.is)
		}
	}
	if after, _ := s.GetUser(ctx, u.ID, scim.Projection{}); !cmp.Equal(want, after) {
		t.Errorf("a failed UpdateUserShared changed the user (-before +after):\n%s", cmp.Diff(want, after))
	}

	// UpdateUser still keeps a copy: the caller may keep changing what
	// update was given.
	var kept *scim.User
	if _, err := s.UpdateUser(ctx, u.ID, func(c *scim.User) error { kept = c; return nil }); err != nil {
		t.Fatal(err)
	}
	kept.Emails[0].Value = "changed@contoso.com"
	if after, _ := s.GetUser(ctx, u.ID, scim.Projection{}); after.Emails[0].Value != "lovelace@contoso.com" {
		t.Errorf("UpdateUser stored what update was given: %q", after.Emails[0].Value)
	}
}
