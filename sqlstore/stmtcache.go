package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// stmtCache keeps the pool's prepared statements by text, on SQLite:
// modernc.org/sqlite parses and plans a statement run without preparing
// it on every call, which was a fifth of the demo's CPU time over
// loopback. A *sql.Stmt is prepared once per pooled connection it runs
// on, and serves a transaction on a connection it knows (Tx.StmtContext).
// PostgreSQL needs none: pgx keeps its own cache of prepared statements
// per connection.
type stmtCache struct {
	m sync.Map     // query → *sql.Stmt
	n atomic.Int64 // entries in m
	// wanted holds the statements a transaction ran unprepared, to
	// prepare on the pool once it has ended (see prepareWanted).
	mu     sync.Mutex
	wanted []string
}

// maxCachedStmts bounds the cache: the store's statements are a few dozen
// shapes, but a filter's or a batch's text depends on the request, and
// statements past the bound run unprepared rather than evict one another
// (closing a statement another request has just taken would fail it).
const maxCachedStmts = 256

// stmt returns the prepared statement for query on the pool, or nil when
// it is not cached and cannot be: the caller then runs query as it is.
func (c *stmtCache) stmt(ctx context.Context, pool *sql.DB, query string) *sql.Stmt {
	if st, ok := c.m.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if c.n.Load() >= maxCachedStmts {
		return nil
	}
	// Not tied to this request: the statement outlives it.
	st, err := pool.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		// Run unprepared, and report the error the statement itself gives.
		return nil
	}
	if prev, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	c.n.Add(1)
	return st
}

// prepared returns q's way to run query: a cached prepared statement when
// q is the pool, or a transaction and the statement is cached, on SQLite;
// else q itself.
func (db *DB) prepared(ctx context.Context, q querier, query string) querier {
	if db.stmts == nil {
		return q
	}
	switch q := q.(type) {
	case *sql.DB:
		if q == db.db {
			if st := db.stmts.stmt(ctx, q, query); st != nil {
				return stmtQuerier{st}
			}
		}
	case *sql.Tx:
		// Only a statement prepared already: preparing one would wait for
		// a second connection while the transaction holds its own, forever
		// when the pool has one. The transaction's caller prepares it once
		// the transaction has ended (prepareWanted), so that the next one
		// finds it.
		if st, ok := db.stmts.m.Load(query); ok {
			return stmtQuerier{q.StmtContext(ctx, st.(*sql.Stmt))}
		}
		db.stmts.want(query)
	}
	return q
}

// want notes that a transaction ran query unprepared. Transactions fill
// at most half the cache: the texts of their multi-row INSERTs depend on
// the number of rows (a provisioning log batch, a group's members), and
// must not take the places of the pool's statements.
func (c *stmtCache) want(query string) {
	if c.n.Load() >= maxCachedStmts/2 {
		return
	}
	c.mu.Lock()
	if len(c.wanted) < maxCachedStmts/2 {
		c.wanted = append(c.wanted, query)
	}
	c.mu.Unlock()
}

// prepareWanted prepares on the pool the statements transactions ran
// unprepared; it runs after a transaction, whose connection is back in
// the pool, so preparing never waits for itself.
func (c *stmtCache) prepareWanted(ctx context.Context, pool *sql.DB) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = nil
	c.mu.Unlock()
	for _, query := range wanted {
		c.stmt(ctx, pool, query)
	}
}

// stmtQuerier runs its statement whatever query text it is given: the
// text it was prepared from.
type stmtQuerier struct{ st *sql.Stmt }

func (s stmtQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, args...)
}

func (s stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, args...)
}

func (s stmtQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return s.st.QueryRowContext(ctx, args...)
}
