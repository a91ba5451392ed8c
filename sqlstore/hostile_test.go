package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// incompressible returns n bytes of random base64 text, which PostgreSQL
// cannot compress into a B-tree entry.
func incompressible(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)[:n]
}

// TestLongValues: an indexed value up to MaxIndexedBytes is stored and
// found on both dialects; a longer one is a 400 naming the attribute and
// the limit, never a 500.
func TestLongValues(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		long := incompressible(MaxIndexedBytes)
		u, err := s.CreateUser(ctx, &scim.User{UserName: long, ExternalID: long,
			Emails: []scim.MultiValue{{Value: long, Type: "work"}}})
		if err != nil {
			t.Fatalf("CreateUser with %d-byte values: %v", len(long), err)
		}
		for _, f := range []string{"userName", "externalId", "emails.value"} {
			page, err := s.listUsers(ctx, scim.Query{Count: 2}, eq(f, long))
			if err != nil || page.TotalResults != 1 {
				t.Errorf("%s eq the long value: %+v, %v", f, page, err)
			}
		}
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: long, ExternalID: long, Members: []scim.Member{{Value: u.ID}}})
		if err != nil {
			t.Fatalf("CreateGroup with %d-byte values: %v", len(long), err)
		}
		if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: long}}}); err != nil {
			t.Fatalf("PatchMembers with a %d-byte member: %v", len(long), err)
		}
		page, err := s.listGroups(ctx, scim.Query{Count: 2}, eq("members", long))
		if err != nil || page.TotalResults != 1 {
			t.Errorf("members eq the long value: %+v, %v", page, err)
		}

		tooLong := incompressible(3000)
		refused := func(name, attr string, err error) {
			t.Helper()
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || se.Type != scim.InvalidValue ||
				!strings.Contains(se.Detail, attr) || !strings.Contains(se.Detail, fmt.Sprint(MaxIndexedBytes)) {
				t.Errorf("%s: %v; want a 400 invalidValue naming %s and the limit", name, err, attr)
			}
		}
		_, err = s.CreateUser(ctx, &scim.User{UserName: tooLong})
		refused("userName", "userName", err)
		_, err = s.CreateUser(ctx, &scim.User{UserName: "x", ExternalID: tooLong})
		refused("externalId", "externalId", err)
		_, err = s.CreateUser(ctx, &scim.User{UserName: "y", Emails: []scim.MultiValue{{Value: tooLong}}})
		refused("email", "emails.value", err)
		_, err = s.UpdateUser(ctx, u.ID, func(u *scim.User) error { u.UserName = tooLong; return nil })
		refused("UpdateUser userName", "userName", err)
		_, err = s.CreateGroup(ctx, &scim.Group{DisplayName: tooLong})
		refused("displayName", "displayName", err)
		_, err = s.CreateGroup(ctx, &scim.Group{DisplayName: "z", Members: []scim.Member{{Value: tooLong}}})
		refused("member", "members.value", err)
		_, err = s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: tooLong}}})
		refused("PatchMembers", "members.value", err)
		// Filters and removals with such a value are harmless.
		if page, err := s.listUsers(ctx, scim.Query{Count: 1}, eq("userName", tooLong)); err != nil || page.TotalResults != 0 {
			t.Errorf("userName eq a 3,000-byte value: %+v, %v", page, err)
		}
		if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Remove: []string{tooLong}}); err != nil {
			t.Errorf("removing a 3,000-byte member: %v", err)
		}
	})
}

// seedUsersSQL inserts n users (each with one email) into a fresh tenant
// with one statement, for the cost and cancellation tests.
func seedUsersSQL(t *testing.T, db *DB, n int) *Store {
	t.Helper()
	s := newStore(t, db)
	ctx := t.Context()
	var users, emails string
	if db.dialect == PostgreSQL {
		users = `INSERT INTO scim_users (tenant, id, user_name, user_name_fold, external_id, active, created, last_modified, version, doc)
	SELECT $1, 'u' || i, 'user' || i, 'user' || i, '', true, now(), now(), 1, '{}' FROM generate_series(1, $2) i`
		emails = `INSERT INTO scim_user_emails (tenant, user_id, seq, type_fold, value_fold)
	SELECT $1, 'u' || i, 0, 'work', 'user' || i || '@example.com' FROM generate_series(1, $2) i`
	} else {
		users = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
	INSERT INTO scim_users (tenant, id, user_name, user_name_fold, external_id, active, created, last_modified, version, doc)
	SELECT ?1, 'u' || i, 'user' || i, 'user' || i, '', 1, i, i, 1, '{}' FROM n`
		emails = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
	INSERT INTO scim_user_emails (tenant, user_id, seq, type_fold, value_fold)
	SELECT ?1, 'u' || i, 0, 'work', 'user' || i || '@example.com' FROM n`
	}
	for _, q := range []string{users, emails} {
		if _, err := db.db.ExecContext(ctx, q, s.tenant, n); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// seededUsers returns a *DB of the test's own (its budget and limits are
// the test's to change) and the Store of a tenant of n users as
// seedUsersSQL makes them, for a test that only reads them. On PostgreSQL
// the tenant is seeded for the test, which takes a fraction of a second.
// On SQLite, where seeding 30,000 users under the race detector took about
// eight seconds and deleting them four more, the tests share one seeded
// file per process (sharedSeed); dsn names it, for a test that wants a
// pool of its own, and is "" on PostgreSQL.
func seededUsers(t *testing.T, db *DB, n int) (_ *DB, _ *Store, dsn string) {
	t.Helper()
	if db.dialect == PostgreSQL {
		return db, seedUsersSQL(t, db, n), ""
	}
	f := sharedSeed(t, n)
	own, err := Open(t.Context(), f.pool, SQLite, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	return own, own.Tenant(f.tenant), f.dsn
}

// seededFile is a SQLite file holding one tenant of seeded users.
type seededFile struct {
	once   sync.Once
	dsn    string
	pool   *sql.DB
	tenant string
	err    error
}

var (
	seededMu    sync.Mutex
	seededFiles = map[int]*seededFile{} // by number of users
	seededDir   string                  // removed by TestMain
)

// sharedSeed returns the process's SQLite file of n seeded users, seeding
// it the first time.
func sharedSeed(t *testing.T, n int) *seededFile {
	t.Helper()
	seededMu.Lock()
	f := seededFiles[n]
	if f == nil {
		f = &seededFile{}
		seededFiles[n] = f
	}
	if seededDir == "" {
		var err error
		if seededDir, err = os.MkdirTemp("", "sqlstore-seeded-"); err != nil {
			seededMu.Unlock()
			t.Fatal(err)
		}
	}
	dir := seededDir
	seededMu.Unlock()
	f.once.Do(func() {
		f.dsn = SQLiteDSN(filepath.Join(dir, fmt.Sprintf("users%d.db", n)))
		if f.pool, f.err = sql.Open("sqlite", f.dsn); f.err != nil {
			return
		}
		var db *DB
		if db, f.err = Open(context.Background(), f.pool, SQLite); f.err != nil {
			return
		}
		// A disposable *DB, so that the seeded tenant outlives the test
		// that seeds it.
		disposable.Store(db, true)
		f.tenant = seedUsersSQL(t, db, n).tenant
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f
}

// removeSeeded closes and removes the shared seeded files.
func removeSeeded() {
	seededMu.Lock()
	defer seededMu.Unlock()
	for _, f := range seededFiles {
		if f.pool != nil {
			f.pool.Close()
		}
	}
	if seededDir != "" {
		os.RemoveAll(seededDir)
	}
}

// emailsCoTree is a balanced tree of n `emails co` clauses joined by or,
// none of which matches, so that the database evaluates every one on every
// row: the costliest filter the handler's limits let through (about 190
// clauses in 4 KB).
func emailsCoTree(n int) scim.Filter {
	if n == 1 {
		return cmpx("emails", scim.OpCo, "zz"+incompressible(6))
	}
	return &scim.LogicalExpr{Op: scim.OpOr, Left: emailsCoTree(n / 2), Right: emailsCoTree(n - n/2)}
}

// TestCostEstimate: a filter no index serves, over a tenant large enough,
// is refused before it runs with a 400 invalidFilter naming the limit;
// one an index narrows passes whatever else it holds.
func TestCostEstimate(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		db, s, _ := seededUsers(t, db, 30_000)
		db.budget = 5 * time.Minute // this test is about the estimate, not the budget
		ctx := t.Context()
		start := time.Now()
		_, err := s.ListUsers(ctx, scim.Query{Count: 10, Filter: emailsCoTree(190)})
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != 400 || se.Type != scim.InvalidFilter ||
			!strings.Contains(se.Detail, fmt.Sprint(DefaultMaxFilterCost)) {
			t.Fatalf("190 emails co over 30,000 users: %v; want a 400 invalidFilter naming the limit", err)
		}
		t.Logf("refused in %v", time.Since(start))
		f := and(eq("userName", "user7"), emailsCoTree(190))
		if _, err := s.ListUsers(ctx, scim.Query{Count: 10, Filter: f}); err != nil {
			t.Errorf("userName eq and 190 emails co: %v", err)
		}
		page, err := s.ListUsers(ctx, scim.Query{Count: 10, Filter: cmpx("emails", scim.OpCo, "user2999")})
		if err != nil || page.TotalResults != 11 {
			t.Errorf("one emails co over 30,000 users: %+v, %v; want 11 matches", page.TotalResults, err)
		}
	})
}

// TestBudget: a call that needs the database longer than the budget
// answers 503 soon after the budget, and leaves no statement running in
// PostgreSQL; a client that hangs up leaves none either.
func TestBudget(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		db, s, _ := seededUsers(t, db, 30_000)
		db.budget = 300 * time.Millisecond
		db.maxCost = 1 << 40
		costly := emailsCoTree(190)
		start := time.Now()
		_, err := s.ListUsers(t.Context(), scim.Query{Count: 10, Filter: costly})
		took := time.Since(start)
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != 503 {
			t.Fatalf("a list over its budget: %v after %v; want a 503", err, took)
		}
		rec := httptest.NewRecorder()
		scim.WriteError(rec, err)
		if got := rec.Header().Get("Retry-After"); got != "5" {
			t.Errorf("the 503's Retry-After is %q, want 5", got)
		}
		if took > 2*time.Second {
			t.Errorf("a 300 ms budget answered after %v", took)
		}
		checkNoStatementLeft(t, db, s.tenant)

		// The client hangs up.
		db.budget = time.Minute
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err = s.ListUsers(ctx, scim.Query{Count: 10, Filter: costly})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a list whose client hung up: %v", err)
		}
		checkNoStatementLeft(t, db, s.tenant)

		// A write that waits for a lock beyond the budget.
		db.budget = 300 * time.Millisecond
		err = db.write(t.Context(), func(q querier) error {
			if db.dialect == PostgreSQL {
				if _, err := db.exec(t.Context(), q, "SELECT 1 FROM scim_users WHERE tenant = ? AND id = 'u1' FOR UPDATE", s.tenant); err != nil {
					return err
				}
			}
			done := make(chan error, 1)
			go func() {
				_, err := s.UpdateUser(context.Background(), "u1", func(u *scim.User) error { u.Title = "x"; return nil })
				done <- err
			}()
			select {
			case err := <-done:
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 503 {
					t.Errorf("an update waiting for a lock: %v; want a 503", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("an update waiting for a lock outlived its budget by 5 s")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// checkNoStatementLeft fails when, a second after a call ended, PostgreSQL
// still runs the test's statement (the only one of this length: 190
// EXISTS clauses).
func checkNoStatementLeft(t *testing.T, db *DB, tenant string) {
	t.Helper()
	if db.dialect != PostgreSQL {
		return
	}
	time.Sleep(time.Second)
	var n int
	if err := db.db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
	WHERE datname = current_database() AND state = 'active' AND query LIKE '%scim_user_emails%'
		AND length(query) > 10000 AND query_start < now() - interval '900 milliseconds' AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("%d statements still running in PostgreSQL a second after the call ended", n)
	}
}

// TestCostlyQueriesLeaveRoom: with a pool of three connections, three
// costly lists at once take one turn each; the one running holds one
// connection, and a lookup by userName answers at once. Without the turns
// the three would hold the whole pool.
func TestCostlyQueriesLeaveRoom(t *testing.T) {
	eachDialect(t, func(t *testing.T, shared *DB) {
		shared, s, dsn := seededUsers(t, shared, 30_000)
		// A pool of its own: the shared one serves the other tests.
		driverName := "sqlite"
		if shared.dialect == PostgreSQL {
			driverName, dsn = "pgx", withSearchPath(t, postgresURL(), testSchema)
		}
		pool, err := sql.Open(driverName, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pool.Close() })
		pool.SetMaxOpenConns(3)
		db, err := Open(t.Context(), pool, shared.dialect, WithMaxFilterCost(1<<40), WithCostlyQueries(1), WithBudget(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		st := db.Tenant(s.tenant)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		costly := emailsCoTree(190)
		done := make(chan error, 3)
		for range 3 {
			go func() {
				_, err := st.ListUsers(ctx, scim.Query{Count: 10, Filter: costly})
				done <- err
			}()
		}
		for len(db.costly) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		page, err := st.listUsers(t.Context(), scim.Query{Count: 1}, eq("userName", "user5"))
		if err != nil || page.TotalResults != 1 {
			t.Errorf("a lookup beside costly lists: %+v, %v", page, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("a lookup beside three costly lists took %v", took)
		}
		cancel()
		for range 3 {
			<-done
		}
	})
}

// TestFinishBound: a list the evaluator must finish or sort reads at most
// maxCost/finishWeight rows into it, and refuses with 400 beyond.
func TestFinishBound(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := seedUsersSQL(t, db, 3_000)
		db.maxCost = 2_000 * finishWeight
		_, err := s.ListUsers(t.Context(), scim.Query{Count: 10, SortBy: attrPath("title")})
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != 400 || se.Type != scim.InvalidFilter || !strings.Contains(se.Detail, "2000") {
			t.Errorf("a sort in Go over 3,000 users with room for 2,000: %v; want a 400 naming the limit", err)
		}
		page, err := s.listUsers(t.Context(), scim.Query{Count: 10, SortBy: attrPath("title")}, cmpx("userName", scim.OpSw, "user1"))
		if err != nil || page.TotalResults != 1111 {
			t.Errorf("a sort in Go over 1,111 matches: %d, %v", page.TotalResults, err)
		}
	})
}
