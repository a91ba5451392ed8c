package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// TestStmtCache: on SQLite, a statement run on the pool is prepared once
// and kept; past the bound, statements run unprepared and still answer;
// a transaction uses a kept statement and never waits for a second
// connection to prepare one, so a pool of one connection does not
// deadlock; it is prepared once the transaction has ended, and
// transactions fill at most half the cache.
func TestStmtCache(t *testing.T) {
	db := openSQLite(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db.db.SetMaxOpenConns(1)
	one := func(q querier, query string, want int) {
		t.Helper()
		var got int
		if err := db.queryRow(ctx, q, query, []any{want}, &got); err != nil || got != want {
			t.Fatalf("%s = %d, %v; want %d", query, got, err, want)
		}
	}

	one(db.db, "SELECT ?", 1)
	kept, ok := db.stmts.m.Load("SELECT ?")
	if !ok {
		t.Fatal("a statement run on the pool was not kept")
	}
	one(db.db, "SELECT ?", 2)
	if again, _ := db.stmts.m.Load("SELECT ?"); again != kept {
		t.Error("a kept statement was prepared again")
	}

	err := db.read(ctx, func(q querier) error {
		one(q, "SELECT ?", 3)     // kept: runs prepared on the transaction's connection
		one(q, "SELECT ? + 0", 4) // not kept: runs as it is, and is kept once the transaction ends
		if _, ok := db.stmts.m.Load("SELECT ? + 0"); ok {
			t.Error("a transaction kept a statement it would have had to prepare on another connection")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := db.stmts.m.Load("SELECT ? + 0"); !ok {
		t.Error("a statement a transaction ran unprepared was not kept once it ended")
	}

	for i := range maxCachedStmts {
		if err := db.read(ctx, func(q querier) error { one(q, fmt.Sprintf("SELECT ? * 1 + %d - %d", i, i), i); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := db.stmts.n.Load(); n > maxCachedStmts/2 {
		t.Errorf("transactions filled %d places of the cache, more than half its %d", n, maxCachedStmts)
	}

	for i := range maxCachedStmts + 10 {
		one(db.db, fmt.Sprintf("SELECT ? + %d - %d", i, i), i)
		one(db.db, fmt.Sprintf("SELECT ? /* %d */", i), i)
	}
	if n := db.stmts.n.Load(); n > maxCachedStmts {
		t.Errorf("the cache holds %d statements, more than its bound of %d", n, maxCachedStmts)
	}
	var kind sql.NullString
	if err := db.queryRow(ctx, db.db, "SELECT typeof(?)", []any{"x"}, &kind); err != nil || kind.String != "text" {
		t.Errorf("a statement past the bound = %q, %v", kind.String, err)
	}
}

// TestReboundCache: on PostgreSQL the $n text of a statement is the
// dialect's rewriting, kept for the next run up to the bound, and still
// rewritten past it.
func TestReboundCache(t *testing.T) {
	var c reboundCache
	const q = "SELECT a FROM t WHERE x = ? AND y IN (?, ?)"
	want := PostgreSQL.Rebind(q)
	if got := c.rebind(PostgreSQL, q); got != want {
		t.Fatalf("rebind(%q) = %q; want %q", q, got, want)
	}
	if got, ok := c.m.Load(q); !ok || got != want {
		t.Fatalf("the rewritten text was not kept: %v, %v", got, ok)
	}
	if got := testing.AllocsPerRun(100, func() { c.rebind(PostgreSQL, q) }); got != 0 {
		t.Errorf("a kept text allocates %v times; want 0", got)
	}
	for i := range 2 * maxCachedStmts {
		q := fmt.Sprintf("SELECT %d WHERE x = ?", i)
		if got, want := c.rebind(PostgreSQL, q), fmt.Sprintf("SELECT %d WHERE x = $1", i); got != want {
			t.Fatalf("rebind(%q) = %q; want %q", q, got, want)
		}
	}
	if n := c.n.Load(); n != maxCachedStmts {
		t.Errorf("%d texts kept; want the bound, %d", n, maxCachedStmts)
	}
}
