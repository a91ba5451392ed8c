package sqlstore

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestSQLiteWriteLock: on SQLite a write transaction holds the database's
// write lock from its start, before any statement of its own, as BEGIN
// IMMEDIATE would: another connection cannot begin writing meanwhile.
func TestSQLiteWriteLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scim.db")
	pool, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db, err := Open(t.Context(), pool, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = db.write(t.Context(), func(querier) error {
		_, err := other.ExecContext(t.Context(), "BEGIN IMMEDIATE")
		if err == nil {
			_, _ = other.ExecContext(t.Context(), "ROLLBACK")
			t.Error("another connection began writing inside the store's write transaction")
		} else if !isBusy(err) {
			t.Errorf("BEGIN IMMEDIATE from another connection: %v, want SQLITE_BUSY", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
