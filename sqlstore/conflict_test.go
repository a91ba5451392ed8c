package sqlstore

import (
	"errors"
	"testing"

	"github.com/scimhost/scim"
)

// TestConflictNamesTheAttribute: a uniqueness violation comes back as a
// *scim.ConflictError naming the attribute of the index, so that the 409
// says which one.
func TestConflictNamesTheAttribute(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		if _, err := s.CreateUser(ctx, &scim.User{UserName: "taken@example.com", Active: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "Taken"}); err != nil {
			t.Fatal(err)
		}
		_, userErr := s.CreateUser(ctx, &scim.User{UserName: "TAKEN@example.com", Active: true})
		_, groupErr := s.CreateGroup(ctx, &scim.Group{DisplayName: "taken"})
		for _, tc := range []struct {
			name string
			err  error
			attr string
		}{{"userName", userErr, "userName"}, {"displayName", groupErr, "displayName"}} {
			var ce *scim.ConflictError
			if !errors.As(tc.err, &ce) || !errors.Is(tc.err, scim.ErrConflict) {
				t.Errorf("%s conflict: %v, want a *scim.ConflictError", tc.name, tc.err)
				continue
			}
			if ce.Attribute != tc.attr {
				t.Errorf("%s conflict: Attribute %q, want %q", tc.name, ce.Attribute, tc.attr)
			}
		}
	})
}
