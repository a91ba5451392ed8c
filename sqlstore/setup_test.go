package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/scimhost/scim"
	_ "modernc.org/sqlite"
)

// The tests run every contract check on both dialects. PostgreSQL comes
// from SCIMHOST_POSTGRES_URL (default: postgres://postgres@127.0.0.1:5432/test);
// when it is unreachable the PostgreSQL half is skipped, unless CI=true, where
// it fails. Tests share the schema scimhost_test and isolate themselves with
// a fresh random tenant each, removed at the end, so runs are repeatable and
// parallel-safe. SQLite gets a fresh file per test.

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testSchema holds the tables of the test runs; benchmarks use their own.
const testSchema = "scimhost_test"

type dialectSetup struct {
	name string
	// open returns a fresh *DB (its own hooks and clock) over a database
	// that may be shared with other tests.
	open func(t testing.TB) *DB
}

var dialects = []dialectSetup{
	{name: "postgres", open: openPostgres},
	{name: "sqlite", open: openSQLite},
}

// eachDialect runs f as a parallel subtest per dialect.
func eachDialect(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f(t, d.open(t))
		})
	}
}

// eachDialectCaching is eachDialect, and again with a user cache
// (WithUserCache) on each dialect, for the tests of UpdateUser's
// guarantees, which the cache must keep.
func eachDialectCaching(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Helper()
	eachDialect(t, f)
	for _, d := range cachingDialects() {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f(t, d.open(t))
		})
	}
}

// cachingDialects are the dialects with a user cache of 1,000 users.
func cachingDialects() []dialectSetup {
	var out []dialectSetup
	for _, d := range dialects {
		out = append(out, dialectSetup{name: d.name + "+cache", open: func(t testing.TB) *DB {
			db := d.open(t)
			WithUserCache(1000)(db)
			return db
		}})
	}
	return out
}

func postgresURL() string {
	if u := os.Getenv("SCIMHOST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultPostgresURL
}

// withSearchPath returns the connection URL with its search_path set, which
// pgx sends as a run-time parameter.
func withSearchPath(t testing.TB, raw, schema string) string {
	t.Helper()
	return withParam(raw, "search_path", schema)
}

// withParam returns the connection URL with the run-time parameter key set
// to value.
func withParam(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		// A keyword/value connection string.
		return raw + " " + key + "=" + value
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

var postgresPools sync.Map // schema → *postgresPool

type postgresPool struct {
	once sync.Once
	db   *sql.DB
	err  error
	skip string
}

// postgresDB returns a process-wide pool whose search_path is schema,
// creating the schema if needed; it skips or fails t when PostgreSQL is not
// reachable.
func postgresDB(t testing.TB, schema string) *sql.DB {
	t.Helper()
	v, _ := postgresPools.LoadOrStore(schema, &postgresPool{})
	p := v.(*postgresPool)
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := sql.Open("pgx", postgresURL())
		if err != nil {
			p.err = err
			return
		}
		defer admin.Close()
		if err := admin.PingContext(ctx); err != nil {
			p.skip = "PostgreSQL unreachable at " + postgresURL() + " (set SCIMHOST_POSTGRES_URL): " + err.Error()
			return
		}
		// Concurrent CREATE SCHEMA IF NOT EXISTS can still collide in
		// the catalog, so serialize it across processes.
		tx, err := admin.BeginTx(ctx, nil)
		if err != nil {
			p.err = err
			return
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			p.err = err
			return
		}
		if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+schema+`"`); err != nil {
			p.err = err
			return
		}
		if p.err = tx.Commit(); p.err != nil {
			return
		}
		dsn := withSearchPath(t, postgresURL(), schema)
		if schema != benchSchema {
			// The tests' commits do not wait for the disk (the kit's
			// keyset walk alone commits 22,000 creates); what they prove
			// does not depend on it. The benchmarks' do, as a host's.
			dsn = withParam(dsn, "synchronous_commit", "off")
		}
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			p.err = err
			return
		}
		// PostgreSQL allows 100 connections by default; the concurrency
		// tests start hundreds of goroutines.
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		p.db = db
	})
	switch {
	case p.err != nil:
		t.Fatalf("PostgreSQL setup: %v", p.err)
	case p.skip != "" && os.Getenv("CI") == "true":
		t.Fatal(p.skip)
	case p.skip != "":
		t.Skip(p.skip)
	}
	return p.db
}

// freshPostgresSchema returns a pool on a new, empty schema named prefix
// plus random hex, dropped when t ends, for tests that run the migrations
// themselves.
func freshPostgresSchema(t *testing.T, prefix string) *sql.DB {
	t.Helper()
	schema := prefix + randomHex()
	admin := postgresDB(t, testSchema)
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
	})
	db := postgresDB(t, schema)
	t.Cleanup(func() {
		postgresPools.Delete(schema)
		db.Close()
	})
	return db
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeSeeded()
	os.Exit(code)
}

// testOptions are the options of every test store: under the race
// detector, which slows every call several times over (modernc.org/sqlite
// tenfold), the budget grows with it, so that the concurrency tests count
// lost updates rather than 503s; TestBudget sets its own.
func testOptions() []Option {
	if raceEnabled {
		return []Option{WithBudget(60 * time.Second)}
	}
	return nil
}

func openPostgres(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), postgresDB(t, testSchema), PostgreSQL, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openSQLite(t testing.TB) *DB {
	t.Helper()
	sdb, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(t.TempDir(), "scim.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	db, err := Open(context.Background(), sdb, SQLite, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	disposable.Store(db, true)
	return db
}

// disposable holds the *DBs over a file of one test's own, which goes with
// its temporary directory: their tenants need no DeleteTenant at the end
// (on SQLite under the race detector, deleting the 22,000 users of the
// kit's keyset walk took seconds).
var disposable sync.Map // *DB → true

// randomTenant returns a tenant id no other test uses, and deletes the
// tenant's rows when t ends, unless db's file is disposable.
func randomTenant(t testing.TB, db *DB) string {
	t.Helper()
	tenant := "test-" + randomHex()
	if _, ok := disposable.Load(db); ok {
		return tenant
	}
	t.Cleanup(func() {
		if err := db.DeleteTenant(context.Background(), tenant); err != nil {
			t.Errorf("DeleteTenant: %v", err)
		}
	})
	return tenant
}

// randomHex returns 16 random hex digits.
func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newStore returns the Store of a fresh tenant.
func newStore(t testing.TB, db *DB) *Store {
	return db.Tenant(randomTenant(t, db))
}

// listUsers is ListUsers with the filter given apart from the rest of q.
func (s *Store) listUsers(ctx context.Context, q scim.Query, f scim.Filter) (scim.Page[*scim.User], error) {
	q.Filter = f
	return s.ListUsers(ctx, q)
}

// listGroups is ListGroups with the filter given apart from the rest of q.
func (s *Store) listGroups(ctx context.Context, q scim.Query, f scim.Filter) (scim.Page[*scim.Group], error) {
	q.Filter = f
	return s.ListGroups(ctx, q)
}

// fakeClock makes db's clock advance by one millisecond at every reading,
// so that creation order is strict and predictable.
func fakeClock(db *DB) {
	var n atomic.Int64
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	db.now = func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// queryLog records the statements db runs.
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func logQueries(db *DB) *queryLog {
	l := &queryLog{}
	db.onQuery = func(q string) {
		l.mu.Lock()
		l.queries = append(l.queries, q)
		l.mu.Unlock()
	}
	return l
}

// take returns and forgets the statements recorded so far.
func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// touching returns the statements of qs that mention table.
func touching(qs []string, table string) []string {
	var out []string
	for _, q := range qs {
		if strings.Contains(q, table) {
			out = append(out, q)
		}
	}
	return out
}
