package oauthsql

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/scimhost/scim/oauth"
	"github.com/scimhost/scim/oauth/oauthtest"
)

func TestStorage(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			oauthtest.Run(t, func(t *testing.T) oauth.Storage { return d.open(t) })
		})
	}
}

// TestOpenConcurrently: processes starting at once all migrate, once.
func TestOpenConcurrently(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		db := postgresDB(t)
		openMany(t, func() (*sql.DB, Dialect) { return db, PostgreSQL })
	})
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "oauth.db")
		openMany(t, func() (*sql.DB, Dialect) {
			// A pool per "process".
			db, err := sql.Open("sqlite", sqliteDSN(path))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, SQLite
		})
	})
}

func openMany(t *testing.T, open func() (*sql.DB, Dialect)) {
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		db, d := open()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Open(context.Background(), db, d)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	db, d := open()
	var count int
	if err := db.QueryRow("SELECT count(*) FROM scim_oauth_schema_migrations").Scan(&count); err != nil || count != 1 {
		t.Errorf("%v: %d migrations recorded, %v", d, count, err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), nil, SQLite); err == nil {
		t.Error("Open(nil) = nil error")
	}
	db, _ := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "x.db")))
	defer db.Close()
	if _, err := Open(context.Background(), db, Dialect(9)); err == nil {
		t.Error("an unknown dialect opened")
	}
	s, err := Open(context.Background(), db, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO scim_oauth_schema_migrations VALUES (99, 'future', 'x')"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), db, SQLite); err == nil {
		t.Error("a newer schema opened")
	}
	_ = s
}

// TestUnstorableIDs: ids PostgreSQL cannot store are simply not found.
func TestUnstorableIDs(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t)
			ctx := t.Context()
			for _, id := range []string{"a\x00b", "\xff"} {
				if _, err := s.Client(ctx, id); !errors.Is(err, oauth.ErrNotFound) {
					t.Errorf("Client(%q) = %v", id, err)
				}
				if got, err := s.Secrets(ctx, id); err != nil || got != nil {
					t.Errorf("Secrets(%q) = %v, %v", id, got, err)
				}
			}
		})
	}
}
