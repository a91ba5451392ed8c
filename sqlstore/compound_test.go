// Compound filters (and, or, not, value paths) built by hand and parsed
// with scim.ParseFilter from what real clients send: the store and the
// parser must agree on the shape of the tree.

package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

func and(l, r scim.Filter) *scim.LogicalExpr {
	return &scim.LogicalExpr{Op: scim.OpAnd, Left: l, Right: r}
}

func or(l, r scim.Filter) *scim.LogicalExpr {
	return &scim.LogicalExpr{Op: scim.OpOr, Left: l, Right: r}
}

func not(f scim.Filter) *scim.NotExpr { return &scim.NotExpr{Filter: f} }

func valuePath(attr string, f scim.Filter) *scim.ValuePathExpr {
	return &scim.ValuePathExpr{Path: attrPath(attr), Filter: f}
}

func TestCompoundUserFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		fakeClock(db)
		s := newStore(t, db)
		users := seedUsers(t, s)
		tests := []struct {
			name   string
			filter scim.Filter
			want   []string
		}{
			// Entra ID's match by work email, as the parser reads
			// emails[type eq "work"].value eq "...".
			{"work email", valuePath("emails", and(eq("type", "work"), eq("value", "ALICE@example.com"))), []string{"alice"}},
			{"second work email", valuePath("emails", and(eq("type", "work"), eq("value", "zoe2@example.com"))), []string{"Zoë"}},
			{"work email: the value is a home email", valuePath("emails", and(eq("type", "work"), eq("value", "alice@home.example"))), []string{}},
			{"work email, type in another case", valuePath("emails", and(eq("type", "WORK"), cmpx("value", scim.OpCo, "example.org"))), []string{"axb"}},
			{"one email must match both", valuePath("emails", and(eq("type", "home"), cmpx("value", scim.OpSw, "alice@example"))), []string{}},
			{"value path with or", valuePath("emails", or(eq("value", "bob@example.com"), eq("value", "zoe@example.com"))), []string{"Bob", "Zoë"}},
			{"value path with not", valuePath("emails", not(eq("type", "work"))), []string{"alice", "Bob"}},
			{"value path with pr", valuePath("emails", pr("value")), []string{"alice", "Bob", "axb", "Zoë"}},
			{"and", and(cmpx("userName", scim.OpSw, "a"), not(eq("userName", "alice"))), []string{"a%b", "a_b", "axb", `a\b`}},
			{"or", or(eq("userName", "alice"), eq("userName", "BOB")), []string{"alice", "Bob"}},
			{"and binds tighter", or(eq("userName", "alice"), and(eq("userName", "bob"), eq("active", "true"))), []string{"alice"}},
			{"not pr on '' columns", not(pr("externalId")), []string{"axb"}},
			{"not eq on '' columns", not(eq("externalId", "z")), []string{"alice", "Bob", "a%b", "a_b", "axb", `a\b`, "ÉCOLE"}},
			{"not of an EXISTS", not(eq("emails.type", "work")), []string{"Bob", "a%b", "a_b", `a\b`, "ÉCOLE"}},
			{"id and manager (Entra's reference check)", and(eq("id", users[0].ID), eq("manager", "mgr-1")), []string{"alice"}},
			{"id and manager, other user", and(eq("id", users[1].ID), eq("manager", "mgr-1")), []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 1, Count: 100, Filter: tt.filter})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tt.want, userNames(page.Resources)); d != "" {
					t.Errorf("matches (-want +got):\n%s", d)
				}
				if page.TotalResults != len(tt.want) {
					t.Errorf("TotalResults %d, want %d", page.TotalResults, len(tt.want))
				}
			})
		}
	})
}

// TestCompoundFiltersSQLCannotAnswer: shapes once refused with
// ErrUnsupported give memstore's answer.
func TestCompoundFiltersSQLCannotAnswer(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ref, got := diffPair(t, db)
		for _, tt := range []struct {
			name   string
			filter scim.Filter
		}{
			{"doc attribute on the right of and", and(eq("userName", "alice"), eq("title", "x"))},
			{"doc attribute under not", not(eq("nickName", "ace"))},
			{"sub-attribute without a column in a value path", valuePath("emails", eq("display", "home"))},
			{"qualified name in a value path", valuePath("emails", eq("emails.value", "x"))},
			{"nested value path", valuePath("emails", valuePath("emails", eq("value", "x")))},
			{"nil operand", and(eq("userName", "a"), nil)},
			{"members display", valuePath("members", eq("display", "Alice"))},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkSame(t, ref, got, scim.Query{StartIndex: 1, Count: 100, Filter: tt.filter}, tt.name == "members display")
			})
		}
	})
}

func TestCompoundGroupFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		alice, bob := "2819c223-7f76-453a-919d-413861904646", "902c246b-6245-4190-8e05-00816be7344a"
		var groups []*scim.Group
		for _, g := range []*scim.Group{
			{DisplayName: "Admins", Members: []scim.Member{{Value: alice}, {Value: bob}}},
			{DisplayName: "Readers", Members: []scim.Member{{Value: alice}}},
			{DisplayName: "Empty"},
		} {
			c, err := s.CreateGroup(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			groups = append(groups, c)
		}
		onlyID := scim.Projection{Attributes: []scim.AttrPath{{Name: "id"}}}
		tests := []struct {
			name   string
			filter scim.Filter
			want   []string
		}{
			// Entra ID's membership check, with attributes=id.
			{"id and members, a member", and(eq("id", groups[1].ID), eq("members", alice)), []string{groups[1].ID}},
			{"id and members, not a member", and(eq("id", groups[1].ID), eq("members", bob)), []string{}},
			{"id and members, other case", and(eq("id", groups[0].ID), eq("members", strings.ToUpper(bob))), []string{groups[0].ID}},
			{"members value path", valuePath("members", eq("value", bob)), []string{groups[0].ID}},
			{"not members", not(eq("members", alice)), []string{groups[2].ID}},
			{"members or members", or(eq("members", bob), eq("members.value", alice)), []string{groups[0].ID, groups[1].ID}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.ListGroups(ctx, scim.Query{StartIndex: 1, Count: 100, Filter: tt.filter, Want: onlyID})
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, g := range page.Resources {
					got = append(got, g.ID)
					if g.Members != nil {
						t.Errorf("members loaded for attributes=id")
					}
				}
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("matches (-want +got):\n%s", d)
				}
			})
		}
	})
}

// TestParsedClientFilters runs the filters real clients send, as the
// parser reads them, against the store: the store and the parser must agree
// on the shape of the tree (Entra ID's work-email match is a value path
// whose filter is an and).
func TestParsedClientFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		users := seedUsers(t, s)
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "Sales", ExternalID: "5ad7d4f0",
			Members: []scim.Member{{Value: users[0].ID}}})
		if err != nil {
			t.Fatal(err)
		}
		userTests := []struct {
			filter string
			want   []string
		}{
			{`userName eq "ALICE"`, []string{"alice"}},
			{`userName eq "` + randomHex() + `"`, []string{}}, // Test Connection
			{`externalId eq "ext-1"`, []string{"Bob"}},
			{`externalId eq ext-1`, []string{"Bob"}},
			{`emails[type eq "work"].value eq "alice@example.com"`, []string{"alice"}},
			{`emails[type eq "work"].value eq "alice@home.example"`, []string{}},
			{`emails[type eq "work" and value co "example.org"]`, []string{"axb"}},
			{`id eq "` + users[0].ID + `" and manager eq "MGR-1"`, []string{"alice"}},
			{`userName co "%"`, []string{"a%b"}},
			{`not (externalId pr) or userName eq "bob"`, []string{"Bob", "axb"}},
			{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "a_"`, []string{"a_b"}},
			{`active eq false`, []string{"Bob"}},
		}
		for _, tt := range userTests {
			t.Run(tt.filter, func(t *testing.T) {
				f, err := scim.ParseFilter(tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				page, err := s.ListUsers(ctx, scim.Query{StartIndex: 1, Count: 100, Filter: f})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tt.want, userNames(page.Resources)); d != "" {
					t.Errorf("matches (-want +got):\n%s", d)
				}
			})
		}
		groupTests := []struct {
			filter string
			want   int
		}{
			{`displayName eq "sales"`, 1},
			{`id eq "` + g.ID + `" and members eq "` + users[0].ID + `"`, 1},
			{`id eq "` + g.ID + `" and members eq "` + users[1].ID + `"`, 0},
			{`externalId eq "5ad7d4f0"`, 1},
			{`members[value eq "` + users[0].ID + `"]`, 1},
		}
		for _, tt := range groupTests {
			t.Run(tt.filter, func(t *testing.T) {
				f, err := scim.ParseFilter(tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				page, err := s.ListGroups(ctx, scim.Query{StartIndex: 1, Count: 100, Filter: f,
					Want: scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}}})
				if err != nil {
					t.Fatal(err)
				}
				if page.TotalResults != tt.want || len(page.Resources) != tt.want {
					t.Errorf("%d matches (%d on the page), want %d", page.TotalResults, len(page.Resources), tt.want)
				}
			})
		}
	})
}

// BenchmarkMemberCheck is Entra ID's membership check, `id eq G and members
// eq U` with attributes=id, on tenants of 1,000 and 1,000,000 users.
func BenchmarkMemberCheck(b *testing.B) {
	for _, size := range []benchSize{bench1k, bench1M} {
		b.Run(size.name, func(b *testing.B) {
			t := benchFixture(b, size)
			ctx := context.Background()
			q := scim.Query{StartIndex: 1, Count: 100, Want: scim.Projection{Attributes: []scim.AttrPath{{Name: "id"}}},
				Filter: and(eq("id", t.g10), eq("members", t.memberOf))}
			b.ReportAllocs()
			for b.Loop() {
				page, err := t.store.ListGroups(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if page.TotalResults != 1 {
					b.Fatalf("%d matches", page.TotalResults)
				}
			}
		})
	}
}
