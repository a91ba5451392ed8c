package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// The benchmarks run on PostgreSQL only (they are skipped when it is
// unreachable), in their own schema, scimhost_bench, so that their data
// never meets the tests'. Each size is a fixed tenant seeded in SQL with
// generate_series the first time and kept for later runs: seeding a million
// users takes tens of seconds once, then nothing. See doc.go for the
// command and the figures.

const benchSchema = "scimhost_bench"

type benchSize struct {
	name  string
	users int
	// bigGroup is the size of the large group, or 0 for none.
	bigGroup int
}

var (
	bench1k = benchSize{name: "1k", users: 1_000}
	bench1M = benchSize{name: "1M", users: 1_000_000, bigGroup: 100_000}
)

// benchTenant is a seeded tenant: users user1@bench.example ... userN, the
// group "g10" with the first 10 users, and, if asked, "g100k" with the
// first bigGroup users.
type benchTenant struct {
	store    *Store
	db       *DB
	users    int
	g10      string
	gBig     string
	memberOf string // a user in g10
	// names are userNames to look up, in a random order.
	names []string
}

var (
	benchMu      sync.Mutex
	benchTenants = map[string]*benchTenant{}
)

func benchFixture(b *testing.B, size benchSize) *benchTenant {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if t := benchTenants[size.name]; t != nil {
		return t
	}
	ctx := context.Background()
	db, err := Open(ctx, postgresDB(b, benchSchema), PostgreSQL)
	if err != nil {
		b.Fatal(err)
	}
	tenant := "bench-" + size.name
	t := &benchTenant{store: db.Tenant(tenant), db: db, users: size.users}
	seeded, err := t.load(ctx, size)
	if err != nil {
		b.Fatal(err)
	}
	if !seeded {
		start := time.Now()
		if err := seedBench(ctx, db, tenant, size); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded tenant %s (%d users) in %v", tenant, size.users, time.Since(start).Round(time.Millisecond))
		if seeded, err = t.load(ctx, size); err != nil || !seeded {
			b.Fatalf("fixture incomplete after seeding: %v", err)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 4096 {
		t.names = append(t.names, fmt.Sprintf("USER%d@bench.example", 1+r.IntN(size.users)))
	}
	benchTenants[size.name] = t
	return t
}

// load finds the fixture's groups; seeded is false when the tenant is not
// (completely) seeded.
func (t *benchTenant) load(ctx context.Context, size benchSize) (seeded bool, err error) {
	db, tenant := t.db, t.store.tenant
	var n int
	if err := db.queryRow(ctx, db.db, "SELECT count(*) FROM scim_users WHERE tenant = ?", []any{tenant}, &n); err != nil {
		return false, err
	}
	if n != size.users {
		return false, nil
	}
	groupID := func(name string) (string, error) {
		var id string
		err := db.queryRow(ctx, db.db, "SELECT id FROM scim_groups WHERE tenant = ? AND display_name_fold = ?", []any{tenant, name}, &id)
		return id, err
	}
	if t.g10, err = groupID("g10"); err != nil {
		return false, nil
	}
	if size.bigGroup > 0 {
		if t.gBig, err = groupID(fmt.Sprintf("g%dk", size.bigGroup/1000)); err != nil {
			return false, nil
		}
	}
	err = db.queryRow(ctx, db.db, "SELECT member_id FROM scim_group_members WHERE tenant = ? AND group_id = ? ORDER BY seq DESC LIMIT 1",
		[]any{tenant, t.g10}, &t.memberOf)
	return err == nil, nil
}

// seedBench fills tenant in a few statements: users from generate_series,
// groups through the store, memberships with INSERT ... SELECT.
func seedBench(ctx context.Context, db *DB, tenant string, size benchSize) error {
	if err := db.DeleteTenant(ctx, tenant); err != nil {
		return err
	}
	q := db.db
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.exec(ctx, q, `INSERT INTO scim_users
	(tenant, id, user_name, user_name_fold, external_id, manager_fold, active, created, last_modified, version, doc)
	SELECT ?, md5(?::text || i)::uuid::text, 'user' || i || '@bench.example', 'user' || i || '@bench.example',
		'ext-' || i, '', true, ?::timestamptz + i * interval '1 millisecond', ?::timestamptz + i * interval '1 millisecond',
		1, '{"name":{"givenName":"Bench","familyName":"User"},"emails":[{"value":"user@bench.example","type":"work"}]}'
	FROM generate_series(1, ?) AS i`, tenant, tenant, base, base, size.users); err != nil {
		return err
	}
	s := db.Tenant(tenant)
	addMembers := func(name string, n int) error {
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: name})
		if err != nil {
			return err
		}
		_, err = db.exec(ctx, q, `INSERT INTO scim_group_members (tenant, group_id, member_id, member_fold, member_type, display, ref, seq)
	SELECT tenant, ?, id, id, 'User', '', '', row_number() OVER (ORDER BY created, id)
	FROM (SELECT tenant, id, created FROM scim_users WHERE tenant = ? ORDER BY created, id LIMIT ?) AS u`, g.ID, tenant, n)
		if err != nil {
			return err
		}
		_, err = db.exec(ctx, q, "UPDATE scim_groups SET member_seq = ? WHERE tenant = ? AND id = ?", n+1, tenant, g.ID)
		return err
	}
	if err := addMembers("g10", 10); err != nil {
		return err
	}
	if size.bigGroup > 0 {
		if err := addMembers(fmt.Sprintf("g%dk", size.bigGroup/1000), size.bigGroup); err != nil {
			return err
		}
	}
	_, err := db.exec(ctx, q, "ANALYZE scim_users, scim_groups, scim_group_members, scim_user_emails")
	return err
}

// warm looks every name up once, so that the timed loop measures the
// lookup rather than PostgreSQL's first reads of cold pages: the working set
// (4096 users) is the same for every tenant size, and on a table larger
// than shared_buffers an unwarmed run adds the cost of reading two pages
// from the OS cache to each lookup.
func (t *benchTenant) warm(b *testing.B) {
	b.Helper()
	for _, name := range t.names {
		f := &scim.AttrExpr{Path: scim.AttrPath{Name: "userName"}, Op: scim.OpEq, Value: str(name)}
		if _, err := t.store.listUsers(context.Background(), scim.Query{StartIndex: 1, Count: 100}, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUserNameEq is Entra ID's most frequent request, a lookup by
// userName, through the whole store (translation, query, decoding).
func BenchmarkUserNameEq(b *testing.B) {
	for _, size := range []benchSize{bench1k, bench1M} {
		b.Run(size.name, func(b *testing.B) {
			t := benchFixture(b, size)
			ctx := context.Background()
			t.warm(b)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				f := &scim.AttrExpr{Path: scim.AttrPath{Name: "userName"}, Op: scim.OpEq, Value: str(t.names[i%len(t.names)])}
				i++
				page, err := t.store.listUsers(ctx, scim.Query{StartIndex: 1, Count: 100}, f)
				if err != nil {
					b.Fatal(err)
				}
				if page.TotalResults != 1 {
					b.Fatalf("%d matches for %s", page.TotalResults, f.Value.Text)
				}
			}
		})
	}
}

// BenchmarkAddMember adds one member per iteration with PatchMembers, to a
// group of 10 and to one of 100,000: the cost must not depend on the size.
// The members added are removed afterwards.
func BenchmarkAddMember(b *testing.B) {
	t := benchFixture(b, bench1M)
	for _, g := range []struct{ name, id string }{{"10", t.g10}, {"100k", t.gBig}} {
		b.Run(g.name, func(b *testing.B) {
			ctx := context.Background()
			b.Cleanup(func() {
				if _, err := t.db.exec(ctx, t.db.db, "DELETE FROM scim_group_members WHERE tenant = ? AND group_id = ? AND member_id LIKE 'bench-add-%'",
					t.store.tenant, g.id); err != nil {
					b.Error(err)
				}
			})
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				if _, err := t.store.PatchMembers(ctx, g.id, scim.MemberPatch{Add: []scim.Member{{Value: fmt.Sprintf("bench-add-%d", i)}}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetGroupNoMembers is Entra ID's read of a group
// (excludedAttributes=members): a group of 100,000 members must cost what a
// group of 10 does.
func BenchmarkGetGroupNoMembers(b *testing.B) {
	t := benchFixture(b, bench1M)
	want := scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}}
	for _, g := range []struct{ name, id string }{{"10", t.g10}, {"100k", t.gBig}} {
		b.Run(g.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.store.GetGroup(ctx, g.id, want); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
