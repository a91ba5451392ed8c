package oauthsql

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// The tests run on both dialects. PostgreSQL comes from
// SCIMHOST_POSTGRES_URL (default below), in the schema scimhost_oauth_test;
// when it is unreachable the PostgreSQL half is skipped, unless CI=true,
// where it fails. Tests isolate themselves with random client and tenant
// ids. SQLite gets a fresh file per test.

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

const testSchema = "scimhost_oauth_test"

var dialects = []struct {
	name string
	open func(t testing.TB) *Storage
}{
	{"postgres", openPostgres},
	{"sqlite", openSQLite},
}

func postgresURL() string {
	if u := os.Getenv("SCIMHOST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultPostgresURL
}

var pg struct {
	once sync.Once
	db   *sql.DB
	err  error
	skip string
}

// postgresDB returns a pool whose search_path is the test schema.
func postgresDB(t testing.TB) *sql.DB {
	t.Helper()
	pg.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := sql.Open("pgx", postgresURL())
		if err != nil {
			pg.err = err
			return
		}
		defer admin.Close()
		if err := admin.PingContext(ctx); err != nil {
			pg.skip = "PostgreSQL unreachable at " + postgresURL() + " (set SCIMHOST_POSTGRES_URL): " + err.Error()
			return
		}
		tx, err := admin.BeginTx(ctx, nil)
		if err != nil {
			pg.err = err
			return
		}
		defer func() { _ = tx.Rollback() }()
		// Concurrent CREATE SCHEMA IF NOT EXISTS can collide in the catalog.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			pg.err = err
			return
		}
		if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+testSchema+`"`); err != nil {
			pg.err = err
			return
		}
		if pg.err = tx.Commit(); pg.err != nil {
			return
		}
		u, err := url.Parse(postgresURL())
		if err != nil {
			pg.err = err
			return
		}
		q := u.Query()
		q.Set("search_path", testSchema)
		u.RawQuery = q.Encode()
		pg.db, pg.err = sql.Open("pgx", u.String())
		if pg.db != nil {
			pg.db.SetMaxOpenConns(8)
		}
	})
	switch {
	case pg.err != nil:
		t.Fatalf("PostgreSQL setup: %v", pg.err)
	case pg.skip != "" && os.Getenv("CI") == "true":
		t.Fatal(pg.skip)
	case pg.skip != "":
		t.Skip(pg.skip)
	}
	return pg.db
}

func openPostgres(t testing.TB) *Storage {
	t.Helper()
	s, err := Open(context.Background(), postgresDB(t), PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sqliteDSN is sqlstore.SQLiteDSN's: a busy timeout, so that writers of
// other connections are waited for.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
}

func openSQLite(t testing.TB) *Storage {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "oauth.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := Open(context.Background(), db, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
