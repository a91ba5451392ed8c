package sqlstore

import (
	"testing"

	"github.com/scimhost/scim"
)

// TestEntraFiltersInSQL: the filters Entra ID and Microsoft's test
// collection send are answered by the database alone (no evaluator pass),
// and the lookups among them through an index.
func TestEntraFiltersInSQL(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		for _, tt := range []struct {
			filter  string
			groups  bool
			indexed bool
		}{
			{`userName eq "ada@contoso.com"`, false, true},
			{`externalId eq "5ad7d4f0"`, false, true},
			{`emails[type eq "work"].value eq "ada@contoso.com"`, false, true},
			{`id eq "x" and members eq "y"`, true, true},
			{`displayName eq "Engineering"`, true, true},
			{`DisplayName eq "Ada Lovelace"`, false, false},
			{`name.FamilyName eq "Lovelace" and (emails.Value co "ada" or emails.Value co "grace")`, false, false},
			{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1234"`, false, false},
			{`manager eq "x"`, false, false},
			{`active eq "False"`, false, false},
			{`meta.lastModified gt "2024-01-01T00:00:00Z"`, false, false},
			{`not (title pr)`, false, false},
		} {
			f, err := scim.ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			tab := userTable
			if tt.groups {
				tab = groupTable
			}
			sel := db.selectFor(tab, "t", scim.Query{Filter: f, Count: 1})
			if !sel.exact {
				t.Errorf("%s: the evaluator finishes it", tt.filter)
			}
			if sel.cost.indexed != tt.indexed {
				t.Errorf("%s: indexed %v, want %v", tt.filter, sel.cost.indexed, tt.indexed)
			}
		}
	})
}
