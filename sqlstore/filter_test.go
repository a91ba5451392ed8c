package sqlstore

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

func str(s string) scim.Value { return scim.Value{Kind: scim.KindString, Text: s} }

// path parses "name", "name.sub" or "urn:...:name.sub".
func attrPath(s string) scim.AttrPath {
	var p scim.AttrPath
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URN, s = s[:i], s[i+1:]
	}
	p.Name, p.Sub, _ = strings.Cut(s, ".")
	return p
}

func cmpx(attr string, op scim.Operator, v string) *scim.AttrExpr {
	return &scim.AttrExpr{Path: attrPath(attr), Op: op, Value: str(v)}
}

func eq(attr, v string) *scim.AttrExpr { return cmpx(attr, scim.OpEq, v) }

func pr(attr string) *scim.AttrExpr { return &scim.AttrExpr{Path: attrPath(attr), Op: scim.OpPr} }

// filterUsers are the users the filter tests search, in creation order.
var filterUsers = []*scim.User{
	{UserName: "alice", ExternalID: "EXT-1", Active: true, Title: "Engineer", Name: scim.Name{FamilyName: "Liddell"},
		Emails:     []scim.MultiValue{{Value: "alice@Example.com", Type: "work"}, {Value: "alice@home.example", Type: "home"}},
		Enterprise: &scim.EnterpriseUser{Manager: &scim.Manager{Value: "MGR-1"}}},
	{UserName: "Bob", ExternalID: "ext-1", Emails: []scim.MultiValue{{Value: "bob@example.com", Type: "home"}},
		Enterprise: &scim.EnterpriseUser{Department: "Sales"}},
	{UserName: "a%b", ExternalID: "x*y", Active: true},
	{UserName: "a_b", ExternalID: "x?y", Active: true},
	{UserName: "axb", Active: true, Emails: []scim.MultiValue{{Value: "axb@Example.ORG", Type: "Work"}}},
	{UserName: `a\b`, ExternalID: "[z]", Active: true},
	{UserName: "Zoë", ExternalID: "z", Active: true, DisplayName: "Zoë", Name: scim.Name{GivenName: "Zoë"},
		Emails: []scim.MultiValue{{Value: "zoe@example.com", Type: "work"}, {Value: "zoe2@example.com", Type: "work"}}},
	{UserName: "ÉCOLE", ExternalID: "ÉCOLE", Active: true},
}

// seedUsers creates filterUsers with a strictly increasing clock and
// returns them as stored.
func seedUsers(t *testing.T, s *Store) []*scim.User {
	t.Helper()
	var out []*scim.User
	for _, u := range filterUsers {
		c, err := s.CreateUser(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func userNames(us []*scim.User) []string {
	names := []string{}
	for _, u := range us {
		names = append(names, u.UserName)
	}
	return names
}

func TestUserFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		fakeClock(db)
		s := newStore(t, db)
		users := seedUsers(t, s)
		t3 := users[2].Meta.Created
		stamp := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
		halfMicro := t3.Add(500 * time.Nanosecond)
		tests := []struct {
			name   string
			filter scim.Filter
			want   []string
		}{
			{"userName eq, other case", eq("userName", "ALICE"), []string{"alice"}},
			{"userName eq, lower case of stored", eq("userName", "bob"), []string{"Bob"}},
			{"userName eq, non-ASCII case", eq("userName", "école"), []string{"ÉCOLE"}},
			{"userName eq, URN-qualified", eq(scim.UserSchema+":userName", "alice"), []string{"alice"}},
			{"userName eq empty", eq("userName", ""), []string{}},
			{"userName eq no match", eq("userName", "carol"), []string{}},
			{"userName co % is literal", cmpx("userName", scim.OpCo, "%"), []string{"a%b"}},
			{"userName co _ is literal", cmpx("userName", scim.OpCo, "_"), []string{"a_b"}},
			{`userName co \ is literal`, cmpx("userName", scim.OpCo, `\`), []string{`a\b`}},
			{"userName sw", cmpx("userName", scim.OpSw, "A"), []string{"alice", "a%b", "a_b", "axb", `a\b`}},
			{"userName sw with _", cmpx("userName", scim.OpSw, "A_"), []string{"a_b"}},
			{"userName ew", cmpx("userName", scim.OpEw, "B"), []string{"Bob", "a%b", "a_b", "axb", `a\b`}},
			{"userName co non-ASCII", cmpx("userName", scim.OpCo, "ë"), []string{"Zoë"}},
			{"userName co empty is present", cmpx("userName", scim.OpCo, ""), userNames(users)},
			{"userName pr", pr("userName"), userNames(users)},
			{"externalId eq is case-exact", eq("externalId", "ext-1"), []string{"Bob"}},
			{"externalId eq upper", eq("externalId", "EXT-1"), []string{"alice"}},
			{"externalId co is case-exact", cmpx("externalId", scim.OpCo, "X"), []string{"alice"}},
			{"externalId co lower", cmpx("externalId", scim.OpCo, "x"), []string{"Bob", "a%b", "a_b"}},
			{"externalId co * is literal", cmpx("externalId", scim.OpCo, "*"), []string{"a%b"}},
			{"externalId co ? is literal", cmpx("externalId", scim.OpCo, "?"), []string{"a_b"}},
			{"externalId sw [ is literal", cmpx("externalId", scim.OpSw, "["), []string{`a\b`}},
			{"externalId ew ]", cmpx("externalId", scim.OpEw, "z]"), []string{`a\b`}},
			{"externalId sw non-ASCII case-exact", cmpx("externalId", scim.OpSw, "éc"), []string{}},
			{"externalId pr", pr("externalId"), []string{"alice", "Bob", "a%b", "a_b", `a\b`, "Zoë", "ÉCOLE"}},
			{"id eq", eq("id", users[3].ID), []string{"a_b"}},
			{"id eq is case-exact", eq("id", strings.ToUpper(users[3].ID)), []string{}},
			{"id pr", pr("id"), userNames(users)},
			{"active eq true", &scim.AttrExpr{Path: attrPath("active"), Op: scim.OpEq, Value: scim.Value{Kind: scim.KindBool, Text: "true"}},
				[]string{"alice", "a%b", "a_b", "axb", `a\b`, "Zoë", "ÉCOLE"}},
			{"active eq false", &scim.AttrExpr{Path: attrPath("active"), Op: scim.OpEq, Value: scim.Value{Kind: scim.KindBool, Text: "false"}},
				[]string{"Bob"}},
			{`active eq "False" (Entra's string boolean)`, eq("active", "False"), []string{"Bob"}},
			{"emails.value eq", eq("emails.value", "BOB@example.com"), []string{"Bob"}},
			{"emails eq means value", eq("emails", "bob@example.com"), []string{"Bob"}},
			{"emails co", cmpx("emails", scim.OpCo, "@EXAMPLE.com"), []string{"alice", "Bob", "Zoë"}},
			{"emails.value ew", cmpx("emails.value", scim.OpEw, ".example"), []string{"alice"}},
			{"emails.value pr", pr("emails.value"), []string{"alice", "Bob", "axb", "Zoë"}},
			{"emails.type eq", eq("emails.type", "HOME"), []string{"alice", "Bob"}},
			{"manager eq", eq("manager", "mgr-1"), []string{"alice"}},
			{"enterprise manager.value eq", eq(scim.EnterpriseUserSchema+":manager.value", "MGR-1"), []string{"alice"}},
			{"meta.created gt", cmpx("meta.created", scim.OpGt, stamp(t3)), userNames(users[3:])},
			{"meta.created ge", cmpx("meta.created", scim.OpGe, stamp(t3)), userNames(users[2:])},
			{"meta.created lt", cmpx("meta.created", scim.OpLt, stamp(t3)), userNames(users[:2])},
			{"meta.created le", cmpx("meta.created", scim.OpLe, stamp(t3)), userNames(users[:3])},
			{"meta.created gt, in another zone", cmpx("meta.created", scim.OpGt, t3.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)),
				userNames(users[3:])},
			{"meta.created gt, sub-microsecond", cmpx("meta.created", scim.OpGt, stamp(halfMicro)), userNames(users[3:])},
			{"meta.created ge, sub-microsecond", cmpx("meta.created", scim.OpGe, stamp(halfMicro)), userNames(users[3:])},
			{"meta.created lt, sub-microsecond", cmpx("meta.created", scim.OpLt, stamp(halfMicro)), userNames(users[:3])},
			{"meta.created le, sub-microsecond", cmpx("meta.created", scim.OpLe, stamp(halfMicro)), userNames(users[:3])},
			{"meta.lastModified ge", cmpx("meta.lastModified", scim.OpGe, stamp(users[7].Meta.LastModified)), []string{"ÉCOLE"}},
			{"title pr (kept in the document)", pr("title"), []string{"alice"}},
			{"not title pr", &scim.NotExpr{Filter: pr("TITLE")}, []string{"Bob", "a%b", "a_b", "axb", `a\b`, "Zoë", "ÉCOLE"}},
			{"displayName pr", pr(scim.UserSchema + ":displayName"), []string{"Zoë"}},
			{"name.familyName pr", pr("name.familyName"), []string{"alice"}},
			{"name.givenName pr", pr("name.givenName"), []string{"Zoë"}},
			{"department pr, unqualified", pr("department"), []string{"Bob"}},
			{"department pr, enterprise", pr(scim.EnterpriseUserSchema + ":department"), []string{"Bob"}},
			{"costCenter pr, no one", pr("costCenter"), []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.listUsers(t.Context(), scim.Query{StartIndex: 1, Count: 100}, tt.filter)
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

func TestGroupFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		fakeClock(db)
		s := newStore(t, db)
		ctx := t.Context()
		alice, bob := "2819c223-7f76-453a-919d-413861904646", "902c246b-6245-4190-8e05-00816be7344a"
		var groups []*scim.Group
		for _, g := range []*scim.Group{
			{DisplayName: "Admins", ExternalID: "E1", Members: []scim.Member{{Value: alice}, {Value: bob}}},
			{DisplayName: "admins-eu", ExternalID: "e1", Members: []scim.Member{{Value: bob}}},
			{DisplayName: "Readers", Members: []scim.Member{{Value: alice}}},
			{DisplayName: "Empty"},
		} {
			c, err := s.CreateGroup(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			groups = append(groups, c)
		}
		tests := []struct {
			name   string
			filter scim.Filter
			want   []string
		}{
			{"displayName eq, other case", eq("displayName", "ADMINS"), []string{"Admins"}},
			{"displayName sw", cmpx("displayName", scim.OpSw, "adm"), []string{"Admins", "admins-eu"}},
			{"displayName co - ", cmpx("displayName", scim.OpCo, "-"), []string{"admins-eu"}},
			{"displayName pr", pr("displayName"), []string{"Admins", "admins-eu", "Readers", "Empty"}},
			{"externalId eq is case-exact", eq("externalId", "e1"), []string{"admins-eu"}},
			{"id eq", eq("id", groups[2].ID), []string{"Readers"}},
			{"members eq", eq("members", alice), []string{"Admins", "Readers"}},
			{"members eq other case", eq("members", strings.ToUpper(bob)), []string{"Admins", "admins-eu"}},
			{"members.value eq", eq("members.value", bob), []string{"Admins", "admins-eu"}},
			{"members eq non-member", eq("members", "nobody"), []string{}},
			{"URN-qualified displayName", eq(scim.GroupSchema+":displayName", "readers"), []string{"Readers"}},
			{"meta.created gt", cmpx("meta.created", scim.OpGt, groups[1].Meta.Created.Format(time.RFC3339Nano)), []string{"Readers", "Empty"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.listGroups(ctx, scim.Query{StartIndex: 1, Count: 100}, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, g := range page.Resources {
					got = append(got, g.DisplayName)
				}
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("matches (-want +got):\n%s", d)
				}
				if page.TotalResults != len(tt.want) {
					t.Errorf("TotalResults %d, want %d", page.TotalResults, len(tt.want))
				}
			})
		}
	})
}

// TestFiltersSQLCannotAnswer checks the shapes SQL cannot answer exactly,
// which this store once refused with scim.ErrUnsupported: they now give
// memstore's answer (the evaluator finishes what SQL narrows).
func TestFiltersSQLCannotAnswer(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ref, got := diffPair(t, db)
		num := scim.Value{Kind: scim.KindNumber, Text: "5"}
		users := []struct {
			name   string
			filter scim.Filter
		}{
			{"attribute kept in the document", eq("title", "x")},
			{"user displayName", eq("displayName", "x")},
			{"complex sub-attribute", eq("name.givenName", "x")},
			{"unknown attribute", eq("shoeSize", "x")},
			{"enterprise attribute", eq(scim.EnterpriseUserSchema+":department", "x")},
			{"co on an attribute kept in the document", cmpx("title", scim.OpCo, "x")},
			{"pr on the complex name", pr("name")},
			{"pr on an enterprise attribute under the core URN", pr(scim.UserSchema + ":department")},
			{"pr on a core attribute under the enterprise URN", pr(scim.EnterpriseUserSchema + ":title")},
			{"pr on a multi-valued attribute kept in the document", pr("phoneNumbers")},
			{"core attribute under another URN", eq("urn:example:other:2.0:User:userName", "x")},
			{"manager under the core URN", eq(scim.UserSchema+":manager", "x")},
			{"sub-attribute of a simple attribute", eq("userName.value", "x")},
			{"userName gt", cmpx("userName", scim.OpGt, "a")},
			{"userName ne", cmpx("userName", scim.OpNe, "a")},
			{"userName eq a number", &scim.AttrExpr{Path: attrPath("userName"), Op: scim.OpEq, Value: num}},
			{"userName eq null", &scim.AttrExpr{Path: attrPath("userName"), Op: scim.OpEq, Value: scim.Value{Kind: scim.KindNull}}},
			{"invalid operator", cmpx("userName", scim.Operator(99), "a")},
			{"active pr", pr("active")},
			{"active co", cmpx("active", scim.OpCo, "t")},
			{"active eq a non-boolean", eq("active", "yes")},
			{"emails pr: an email may have no value", pr("emails")},
			{"emails.display", eq("emails.display", "x")},
			{"emails.primary", &scim.AttrExpr{Path: attrPath("emails.primary"), Op: scim.OpEq, Value: scim.Value{Kind: scim.KindBool, Text: "true"}}},
			{"value path on a simple attribute", &scim.ValuePathExpr{Path: attrPath("userName")}},
			{"value path with a sub-attribute", &scim.ValuePathExpr{Path: attrPath("emails.value")}},
			{"value path with no filter", &scim.ValuePathExpr{Path: attrPath("emails")}},
			{"groups", eq("groups", "x")},
			{"meta.created eq", eq("meta.created", "2024-01-01T00:00:00Z")},
			{"meta.created co", cmpx("meta.created", scim.OpCo, "2024")},
			{"meta.created gt a number", &scim.AttrExpr{Path: attrPath("meta.created"), Op: scim.OpGt, Value: num}},
			{"manager.displayName", eq("manager.displayName", "x")},
			{"manager pr: a manager may have no value", pr("manager")},
			{"typed nil AttrExpr", (*scim.AttrExpr)(nil)},
			{"typed nil LogicalExpr", (*scim.LogicalExpr)(nil)},
			{"typed nil NotExpr", (*scim.NotExpr)(nil)},
			{"typed nil ValuePathExpr", (*scim.ValuePathExpr)(nil)},
			{"empty LogicalExpr", &scim.LogicalExpr{}},
			{"empty NotExpr", &scim.NotExpr{}},
		}
		for _, tt := range users {
			t.Run("users/"+tt.name, func(t *testing.T) {
				checkSame(t, ref, got, scim.Query{StartIndex: 1, Count: 10, Filter: tt.filter}, false)
			})
		}
		groups := []struct {
			name   string
			filter scim.Filter
		}{
			{"members pr", pr("members")},
			{"members.display", eq("members.display", "x")},
			{"members.type", eq("members.type", "User")},
			{"members gt", cmpx("members", scim.OpGt, "x")},
			{"displayName ne", cmpx("displayName", scim.OpNe, "x")},
			{"userName on groups", eq("userName", "x")},
			{"emails on groups", eq("emails", "x")},
			{"group attribute under the User URN", eq(scim.UserSchema+":displayName", "x")},
		}
		for _, tt := range groups {
			t.Run("groups/"+tt.name, func(t *testing.T) {
				checkSame(t, ref, got, scim.Query{StartIndex: 1, Count: 10, Filter: tt.filter}, true)
			})
		}
	})
}

// TestInvalidDateTime: a value that is no dateTime matches nothing, as in
// the evaluator.
func TestInvalidDateTime(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		if _, err := s.CreateUser(t.Context(), &scim.User{UserName: "x"}); err != nil {
			t.Fatal(err)
		}
		page, err := s.listUsers(t.Context(), scim.Query{Count: 1}, cmpx("meta.lastModified", scim.OpGt, "yesterday"))
		if err != nil || page.TotalResults != 0 {
			t.Errorf("got %+v, %v; want no match", page, err)
		}
	})
}

// TestSortSQLCannotAnswer checks the sorts SQL does not do, which this
// store once refused: scim.SortUsers and scim.SortGroups sort them, as in
// memstore.
func TestSortSQLCannotAnswer(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ref, got := diffPair(t, db)
		for _, desc := range []bool{false, true} {
			for _, by := range []string{"title", "name.familyName", "emails", "emails.value", "displayName", "active",
				"urn:example:other:2.0:User:userName", "userName.x"} {
				t.Run(fmt.Sprintf("users/%s/%v", by, desc), func(t *testing.T) {
					checkSame(t, ref, got, scim.Query{StartIndex: 2, Count: 20, SortBy: attrPath(by), Descending: desc}, false)
				})
			}
			for _, by := range []string{"members.display", "userName", scim.UserSchema + ":displayName"} {
				t.Run(fmt.Sprintf("groups/%s/%v", by, desc), func(t *testing.T) {
					checkSame(t, ref, got, scim.Query{StartIndex: 1, Count: 20, SortBy: attrPath(by), Descending: desc}, true)
				})
			}
		}
	})
}

func TestSort(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		fakeClock(db)
		s := newStore(t, db)
		users := seedUsers(t, s)
		// Make the last modification order differ from the creation order.
		if _, err := s.UpdateUser(t.Context(), users[0].ID, func(u *scim.User) error { u.Title = "touched"; return nil }); err != nil {
			t.Fatal(err)
		}
		creation := userNames(users)
		reversed := append([]string(nil), creation...)
		for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
			reversed[i], reversed[j] = reversed[j], reversed[i]
		}
		byUserName := []string{"a%b", `a\b`, "a_b", "alice", "axb", "Bob", "Zoë", "ÉCOLE"}
		tests := []struct {
			by   string
			desc bool
			want []string
		}{
			{"", false, creation},
			{"userName", false, byUserName},
			{"userName", true, []string{"ÉCOLE", "Zoë", "Bob", "axb", "alice", "a_b", `a\b`, "a%b"}},
			{scim.UserSchema + ":USERNAME", false, byUserName},
			// Byte order of the stored values; unassigned ones come last
			// ascending and first descending (RFC 7644 §3.4.2.3).
			{"externalId", false, []string{"alice", `a\b`, "Bob", "a%b", "a_b", "Zoë", "ÉCOLE", "axb"}},
			{"externalId", true, []string{"axb", "ÉCOLE", "Zoë", "a_b", "a%b", "Bob", `a\b`, "alice"}},
			{"meta.created", false, creation},
			{"meta.created", true, reversed},
			{"meta.lastModified", false, append(creation[1:len(creation):len(creation)], "alice")},
		}
		for _, tt := range tests {
			name := tt.by
			if tt.desc {
				name += " descending"
			}
			t.Run(name, func(t *testing.T) {
				page, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 1, Count: 100, SortBy: attrPath(tt.by), Descending: tt.desc})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tt.want, userNames(page.Resources)); d != "" {
					t.Errorf("order (-want +got):\n%s", d)
				}
			})
		}

		byID, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 1, Count: 100, SortBy: attrPath("id")})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(byID.Resources); i++ {
			if byID.Resources[i-1].ID >= byID.Resources[i].ID {
				t.Errorf("sortBy id: %s before %s", byID.Resources[i-1].ID, byID.Resources[i].ID)
			}
		}
	})
}

func TestPaging(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		// A frozen clock: every user has the same created time, so the
		// order rests on the id tie-breaker alone.
		frozen := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		db.now = func() time.Time { return frozen }
		s := newStore(t, db)
		const n = 11
		for i := range n {
			if _, err := s.CreateUser(t.Context(), &scim.User{UserName: "user" + strings.Repeat("x", i)}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 1, Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		if all.TotalResults != n || len(all.Resources) != n {
			t.Fatalf("all: %d of %d", len(all.Resources), all.TotalResults)
		}
		for _, sortBy := range []string{"", "meta.created", "userName"} {
			for _, size := range []int{1, 3, 4, n, n + 1} {
				var got []string
				for start := 1; start <= n; start += size {
					page, err := s.ListUsers(t.Context(), scim.Query{StartIndex: start, Count: size, SortBy: attrPath(sortBy)})
					if err != nil {
						t.Fatal(err)
					}
					if page.TotalResults != n {
						t.Errorf("sort %q, page at %d of size %d: TotalResults %d", sortBy, start, size, page.TotalResults)
					}
					if want := min(size, n-start+1); len(page.Resources) != want {
						t.Errorf("sort %q, page at %d of size %d: %d resources, want %d", sortBy, start, size, len(page.Resources), want)
					}
					for _, u := range page.Resources {
						got = append(got, u.ID)
					}
				}
				want, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 1, Count: 100, SortBy: attrPath(sortBy)})
				if err != nil {
					t.Fatal(err)
				}
				var wantIDs []string
				for _, u := range want.Resources {
					wantIDs = append(wantIDs, u.ID)
				}
				if d := cmp.Diff(wantIDs, got); d != "" {
					t.Errorf("sort %q, pages of %d do not tile the whole list (-want +got):\n%s", sortBy, size, d)
				}
			}
		}
		for _, tt := range []struct {
			name  string
			q     scim.Query
			count int
		}{
			{"count 0 asks for the total only", scim.Query{StartIndex: 1, Count: 0}, 0},
			{"start past the end", scim.Query{StartIndex: n + 5, Count: 10}, 0},
			{"start 0 is 1", scim.Query{StartIndex: 0, Count: 2}, 2},
			{"negative count is 0", scim.Query{StartIndex: 1, Count: -1}, 0},
			{"full last page", scim.Query{StartIndex: n - 1, Count: 2}, 2},
		} {
			page, err := s.ListUsers(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if page.TotalResults != n || len(page.Resources) != tt.count || page.Resources == nil {
				t.Errorf("%s: %d resources (nil: %v) of %d", tt.name, len(page.Resources), page.Resources == nil, page.TotalResults)
			}
		}
	})
}

// TestSingleRowLookups: a filter that matches at most one row (an
// equality on userName, displayName or id, possibly under and) runs as
// the bare lookup, one statement with no ORDER BY or LIMIT (listSingle),
// and pages its row as any list does; any other filter runs as a page.
func TestSingleRowLookups(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		a, err := s.CreateUser(ctx, &scim.User{UserName: "Single@Example.com", ExternalID: "x", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, &scim.User{UserName: "other@example.com", ExternalID: "x"}); err != nil {
			t.Fatal(err)
		}
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "Singles", Members: []scim.Member{{Value: a.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		log := logQueries(db)
		for _, tt := range []struct {
			filter       string
			start, count int
			total, items int
			bare         bool
		}{
			{`userName eq "single@example.com"`, 1, 100, 1, 1, true},
			{`userName eq "SINGLE@example.com" and active eq true`, 1, 100, 1, 1, true},
			{`userName eq "single@example.com" and active eq false`, 1, 100, 0, 0, true},
			{`id eq "` + a.ID + `"`, 1, 1, 1, 1, true},
			{`userName eq "single@example.com"`, 2, 10, 1, 0, true},
			{`userName eq "nobody@example.com"`, 1, 100, 0, 0, true},
			{`userName eq "single@example.com"`, 1, 0, 1, 0, false}, // the total alone: a COUNT
			{`userName eq "single@example.com" or userName eq "other@example.com"`, 1, 100, 2, 2, false},
			{`externalId eq "x"`, 1, 100, 2, 2, false},
			{`not (userName eq "single@example.com")`, 1, 100, 1, 1, false},
		} {
			f, err := scim.ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			page, err := s.listUsers(ctx, scim.Query{StartIndex: tt.start, Count: tt.count}, f)
			if err != nil {
				t.Fatalf("%s: %v", tt.filter, err)
			}
			if page.TotalResults != tt.total || len(page.Resources) != tt.items || page.Resources == nil {
				t.Errorf("%s from %d, count %d: %d resources (nil: %v) of %d, want %d of %d",
					tt.filter, tt.start, tt.count, len(page.Resources), page.Resources == nil, page.TotalResults, tt.items, tt.total)
			}
			if tt.items == 1 && tt.bare {
				if u := page.Resources[0]; u.ID != a.ID || len(u.Groups) != 1 || u.Groups[0].Value != g.ID {
					t.Errorf("%s: got %+v, want %s in group %s", tt.filter, u, a.ID, g.ID)
				}
			}
			qs := touching(log.take(), "scim_users")
			bare := len(qs) == 1 && !strings.Contains(qs[0], "LIMIT") && !strings.Contains(qs[0], "ORDER BY u.") &&
				!strings.HasPrefix(qs[0], "SELECT count(*)")
			if bare != tt.bare {
				t.Errorf("%s from %d, count %d: bare lookup %v, want %v; statements:\n%s", tt.filter, tt.start, tt.count, bare, tt.bare, strings.Join(qs, "\n"))
			}
		}
		f, err := scim.ParseFilter(`displayName eq "singles"`)
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.listGroups(ctx, scim.Query{StartIndex: 1, Count: 100}, f)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalResults != 1 || len(page.Resources) != 1 || len(page.Resources[0].Members) != 1 || page.Resources[0].Members[0].Value != a.ID {
			t.Errorf("group by displayName: %+v", page)
		}
		if qs := touching(log.take(), "scim_groups g"); len(qs) != 1 || strings.Contains(qs[0], "LIMIT") {
			t.Errorf("group by displayName: want the bare lookup, got:\n%s", strings.Join(qs, "\n"))
		}
	})
}
