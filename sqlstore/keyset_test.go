package sqlstore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

// TestKeysetMatchesList walks by key, two a page, with filters the SQL
// answers exactly and filters the evaluator finishes (displayName and
// name.familyName live in the document only, and "not" of a value path),
// and requires the pages, joined, to be ListUsers' answer, with its total.
func TestKeysetMatchesList(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		fakeClock(db)
		s := newStore(t, db)
		seedUsers(t, s)
		filters := map[string]scim.Filter{
			"none":                nil,
			"userName sw (exact)": cmpx("userName", scim.OpSw, "a"),
			"displayName eq":      eq("displayName", "Zoë"),
			"name.givenName co":   cmpx("name.givenName", scim.OpCo, "o"),
			"not emails co":       &scim.NotExpr{Filter: cmpx("emails.value", scim.OpCo, "example.com")},
		}
		for name, f := range filters {
			t.Run(name, func(t *testing.T) {
				want, err := s.ListUsers(t.Context(), scim.Query{Filter: f, StartIndex: 1, Count: 1000})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				k := scim.Keyset{}
				for range 100 {
					page, err := s.ListUsersKeyset(t.Context(), scim.Query{Filter: f, Count: 2}, k)
					if err != nil {
						t.Fatal(err)
					}
					if page.TotalResults != want.TotalResults {
						t.Errorf("TotalResults %d, ListUsers says %d", page.TotalResults, want.TotalResults)
					}
					got = append(got, userNames(page.Resources)...)
					if !page.More {
						break
					}
					k = scim.Keyset{Key: page.Last}
				}
				if diff := cmp.Diff(userNames(want.Resources), append([]string{}, got...)); diff != "" {
					t.Errorf("walk by key differs from ListUsers (-list +walk):\n%s", diff)
				}
			})
		}
	})
}
