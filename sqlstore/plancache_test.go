package sqlstore

import (
	"context"
	"database/sql"
	"testing"

	"github.com/scimhost/scim"
)

// TestPagesReuseTheirPlan: on PostgreSQL, a page whose rows carry their
// children's aggregate (users with their groups, groups with their
// members) runs on the plan PostgreSQL keeps for the prepared statement
// after its first runs, instead of being planned anew each time (see
// pageStatement), and so does the bare lookup of a filter that matches
// at most one row (listSingle), which has no LIMIT. The store runs on a
// pool of one connection, so that pg_prepared_statements, which is the
// session's, shows every run.
func TestPagesReuseTheirPlan(t *testing.T) {
	postgresDB(t, testSchema) // skips, or fails in CI, without PostgreSQL
	pool, err := sql.Open("pgx", withSearchPath(t, postgresURL(), testSchema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	pool.SetMaxOpenConns(1)
	db, err := Open(t.Context(), pool, PostgreSQL, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, &scim.User{UserName: "plan@example.com", ExternalID: "plan-ext"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "plans", ExternalID: "plans-ext", Members: []scim.Member{{Value: u.ID}}}); err != nil {
		t.Fatal(err)
	}
	listUsers := func(q scim.Query) (int, error) {
		p, err := s.ListUsers(ctx, q)
		return p.TotalResults, err
	}
	listGroups := func(q scim.Query) (int, error) {
		p, err := s.ListGroups(ctx, q)
		return p.TotalResults, err
	}
	// paged is whether the statement is a page (LIMIT and OFFSET) or the
	// bare lookup; externalId is indexed but not unique.
	lists := []struct {
		name, table, filter string
		paged               bool
		list                func(scim.Query) (int, error)
	}{
		{"users by userName", "scim_users", `userName eq "plan@example.com"`, false, listUsers},
		{"users by externalId", "scim_users", `externalId eq "plan-ext"`, true, listUsers},
		{"groups by displayName, with members", "scim_groups", `displayName eq "plans"`, false, listGroups},
		{"groups by externalId, with members", "scim_groups", `externalId eq "plans-ext"`, true, listGroups},
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			f, err := scim.ParseFilter(l.filter)
			if err != nil {
				t.Fatal(err)
			}
			const runs = 12
			for range runs {
				n, err := l.list(scim.Query{Filter: f, StartIndex: 1, Count: 100})
				if err != nil || n != 1 {
					t.Fatalf("list: %d results, %v", n, err)
				}
			}
			var stmt string
			var generic, custom int
			err = pool.QueryRowContext(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
				WHERE (statement LIKE '%LIMIT%') = $2 AND statement LIKE '%json_agg%' AND statement LIKE '%FROM ' || $1 || '%'
				ORDER BY generic_plans + custom_plans DESC LIMIT 1`,
				l.table, l.paged).Scan(&stmt, &generic, &custom)
			if err != nil {
				t.Fatalf("the prepared statement: %v", err)
			}
			// PostgreSQL plans the first five runs for their values, then
			// compares its generic plan with them.
			if generic+custom != runs || custom > 5 {
				t.Errorf("%d runs: %d planned for their values, %d on the generic plan; want at most 5 planned\n%s",
					generic+custom, custom, generic, stmt)
			}
		})
	}
}
