package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// The benchmarks of costly filters, over a tenant of 100,000 users with a
// displayName, an Enterprise employeeNumber and an indexed work email each,
// seeded in SQL the first time (a few seconds) and kept in scimhost_bench.

var (
	bench100kOnce  sync.Once
	bench100kStore *Store
	bench100kErr   error
)

func bench100k(b *testing.B) *Store {
	b.Helper()
	pool := postgresDB(b, benchSchema)
	bench100kOnce.Do(func() {
		ctx := context.Background()
		db, err := Open(ctx, pool, PostgreSQL)
		if err != nil {
			bench100kErr = err
			return
		}
		const tenant, n = "bench-100k", 100_000
		s := db.Tenant(tenant)
		bench100kStore = s
		var have int
		if err := db.queryRow(ctx, db.db, "SELECT count(*) FROM scim_users WHERE tenant = ?", []any{tenant}, &have); err != nil {
			bench100kErr = err
			return
		}
		if have == n {
			return
		}
		if err := db.DeleteTenant(ctx, tenant); err != nil {
			bench100kErr = err
			return
		}
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, q := range []string{`INSERT INTO scim_users
	(tenant, id, user_name, user_name_fold, external_id, manager_fold, active, created, last_modified, version, doc)
	SELECT $1, md5($1 || i)::uuid::text, 'user' || i || '@bench.example', 'user' || i || '@bench.example', 'ext-' || i, '',
		true, $2::timestamptz + i * interval '1 millisecond', $2::timestamptz + i * interval '1 millisecond', 1,
		json_build_object('displayName', 'Bench User ' || i, 'name', json_build_object('givenName', 'Bench', 'familyName', 'User' || i),
			'emails', json_build_array(json_build_object('value', 'user' || i || '@bench.example', 'type', 'work')),
			'enterprise', json_build_object('employeeNumber', (100000 + i)::text))
	FROM generate_series(1, $3) AS i`,
			`INSERT INTO scim_user_emails (tenant, user_id, seq, type_fold, value_fold)
	SELECT $1, md5($1 || i)::uuid::text, 0, 'work', 'user' || i || '@bench.example' FROM generate_series(1, $3) AS i WHERE $2::timestamptz IS NOT NULL`,
			`ANALYZE scim_users, scim_user_emails`} {
			args := []any{tenant, base, n}
			if q == `ANALYZE scim_users, scim_user_emails` {
				args = nil
			}
			if _, err := db.db.ExecContext(ctx, q, args...); err != nil {
				bench100kErr = err
				return
			}
		}
	})
	if bench100kErr != nil {
		b.Fatal(bench100kErr)
	}
	return bench100kStore
}

// BenchmarkCostliestFilter is the costliest filter the handler's limits
// let through, a balanced tree of 190 `emails co` clauses (about 4 KB),
// over 100,000 users: refused by the cost estimate with the default limit,
// and, with the estimate switched off, cut off by the default budget of 5 s.
func BenchmarkCostliestFilter(b *testing.B) {
	s := bench100k(b)
	f := emailsCoTree(190)
	b.Run("refused", func(b *testing.B) {
		for b.Loop() {
			_, err := s.ListUsers(context.Background(), scim.Query{Count: 100, Filter: f})
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 {
				b.Fatalf("got %v, want a 400", err)
			}
		}
	})
	b.Run("budget", func(b *testing.B) {
		db := *s.db // the same pool, another limit
		db.maxCost = 1 << 40
		u := &Store{db: &db, tenant: s.tenant}
		for b.Loop() {
			_, err := u.ListUsers(context.Background(), scim.Query{Count: 100, Filter: f})
			var se *scim.Error
			if err != nil && (!errors.As(err, &se) || se.Status != 503) {
				b.Fatalf("got %v, want an answer or a 503", err)
			}
		}
	})
}

// BenchmarkNonIndexedEq is an equality on attributes without a column of
// their own, over 100,000 users: the JSON document answers it, in SQL.
func BenchmarkNonIndexedEq(b *testing.B) {
	s := bench100k(b)
	for _, attr := range []struct{ path, value string }{
		{"displayName", "Bench User 5000"},
		{"name.familyName", "user5000"},
		{"employeeNumber", "105000"},
	} {
		b.Run(attr.path, func(b *testing.B) {
			f := eq(attr.path, attr.value)
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListUsers(context.Background(), scim.Query{Count: 100, Filter: f})
				if err != nil || page.TotalResults != 1 {
					b.Fatalf("%s eq %q: %d matches, %v", attr.path, attr.value, page.TotalResults, err)
				}
			}
		})
	}
}
