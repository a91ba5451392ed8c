package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimhost/scim"
)

// Option configures a [DB]; pass options to [Open].
type Option func(*DB)

// DefaultBudget is the longest a call of the store holds the database
// unless [WithBudget] says otherwise.
const DefaultBudget = 5 * time.Second

// DefaultMaxFilterCost is the cost estimate above which a list is refused
// unless [WithMaxFilterCost] says otherwise: the number of comparisons the
// database (or the evaluator) would make on rows no index narrows, about
// what either database does in a few seconds on the development machine.
const DefaultMaxFilterCost = 5_000_000

// WithBudget bounds the time every call of the store may hold the database
// (statements, lock waits, the evaluator's work on a list). A call that
// runs out is abandoned (on PostgreSQL its statement is cancelled with
// pg_cancel_backend, on SQLite interrupted) and answers a 503 *scim.Error.
// Zero or less keeps [DefaultBudget].
func WithBudget(d time.Duration) Option {
	return func(db *DB) {
		if d > 0 {
			db.budget = d
		}
	}
}

// WithMaxFilterCost sets the cost estimate above which ListUsers and
// ListGroups refuse a filter with a 400 invalidFilter *scim.Error naming
// the limit, before running it: the number of rows of the tenant times the
// comparisons no index serves. Filters an index narrows (userName eq, id eq
// and members eq, externalId eq, emails eq, a group's displayName eq, and
// any of these joined by and to something else) always pass. Zero or less
// keeps [DefaultMaxFilterCost].
func WithMaxFilterCost(n int) Option {
	return func(db *DB) {
		if n > 0 {
			db.maxCost = n
		}
	}
}

// DefaultCostlyQueries is how many lists that no index narrows run at
// once on one DB unless [WithCostlyQueries] says otherwise.
const DefaultCostlyQueries = 2

// WithCostlyQueries bounds how many lists that no index narrows (those the
// cost estimate looks at) run at once on the DB; more wait for a turn
// within their budget, and answer 503 when it runs out first. The other
// calls never wait for them, so that lookups (Entra ID's userName eq, the
// membership check) of every tenant keep their connections while one
// tenant sends costly filters. Keep it below the pool's size
// (sql.DB.SetMaxOpenConns). Zero or less keeps [DefaultCostlyQueries].
func WithCostlyQueries(n int) Option {
	return func(db *DB) {
		if n > 0 {
			db.costly = make(chan struct{}, n)
		}
	}
}

// errBudget is the cause of a budget's deadline.
var errBudget = errors.New("sqlstore: the call's database budget ran out")

// budgetRetryAfter is the Retry-After of a 503 for a spent budget: long
// enough for the costly lists that took the connections to finish, short
// beside the 60 s a provisioning client waits for an answer.
const budgetRetryAfter = 5 * time.Second

// begin gives a call its budget. end turns an error caused by the budget
// running out into a 503 *scim.Error; the client's own cancellation stays
// as it is.
func (db *DB) begin(ctx context.Context) (context.Context, func(*error)) {
	bctx, cancel := context.WithTimeoutCause(ctx, db.budget, errBudget)
	return bctx, func(err *error) {
		if *err != nil && ctx.Err() != nil && !errors.Is(*err, ctx.Err()) {
			// The caller went away first: whatever the driver made of
			// the cancellation (pgx may report a closed connection as
			// driver.ErrBadConn), the error is the caller's.
			*err = fmt.Errorf("%w (%w)", ctx.Err(), *err)
		}
		if *err != nil && ctx.Err() == nil && budgetSpent(ctx, bctx) {
			*err = &scim.Error{Status: 503,
				Detail:     fmt.Sprintf("the request needed the database for longer than this server's budget of %v; try again later", db.budget),
				Err:        fmt.Errorf("%w: %w", errBudget, *err),
				RetryAfter: budgetRetryAfter}
		}
		cancel()
	}
}

// budgetSpent reports whether bctx's budget, not ctx, ended the call.
// A driver that sets a socket's deadline from the context's (pgx dialling
// a connection does) can time out a moment before the context's own timer
// marks it done, so a budget whose deadline has passed counts as spent too.
func budgetSpent(ctx, bctx context.Context) bool {
	if errors.Is(context.Cause(bctx), errBudget) {
		return true
	}
	if bctx.Err() != nil {
		return false
	}
	deadline, _ := bctx.Deadline()
	if own, ok := ctx.Deadline(); ok && !own.After(deadline) {
		return false // the caller's own deadline, not the budget
	}
	return !time.Now().Before(deadline)
}

// checkCost refuses a selection whose estimated cost is over the limit.
func (db *DB) checkCost(ctx context.Context, s selection) error {
	perRow := s.cost.scans
	if !s.exact || !s.sorted {
		perRow++ // the evaluator's look at each row
	}
	if perRow == 0 || s.cost.indexed {
		return nil
	}
	// Count the tenant's rows, but no further than the limit needs.
	limit := db.maxCost/perRow + 1
	var rows int
	if err := db.queryRow(ctx, db.db, "SELECT count(*) FROM (SELECT 1 FROM "+s.from+" WHERE "+s.tenantWhere+" LIMIT "+db.limitParam()+") n",
		[]any{s.tenant, limit}, &rows); err != nil {
		return err
	}
	if cost := rows * perRow; cost > db.maxCost {
		return &scim.Error{Status: 400, Type: scim.InvalidFilter,
			Detail: fmt.Sprintf("the filter is too costly: %d comparisons no index serves over more than %d resources exceed this server's limit of %d; "+
				"narrow it with an equality on userName, externalId, id or emails", perRow, rows-1, db.maxCost),
			Err: scim.ErrUnsupported}
	}
	return nil
}

// finishWeight is what the evaluator's look at one row (decoding the
// document, scim.MatchUser, keeping it for a sort) costs, in comparisons
// of the database: it bounds the rows a list reads into the evaluator to
// maxCost/finishWeight (100,000 by default), which also bounds the memory
// a sort in Go holds.
const finishWeight = 50

func (db *DB) maxFinishRows() int { return max(db.maxCost/finishWeight, 1) }

// tooManyToExamine is the error of a list whose SQL narrowed it to more
// rows than the evaluator may examine.
func tooManyToExamine(limit int) error {
	return &scim.Error{Status: 400, Type: scim.InvalidFilter,
		Detail: fmt.Sprintf("the filter or sort is too costly: it needs more than %d resources examined one by one, this server's limit; "+
			"narrow it with an equality on userName, externalId, id or emails, or sort by userName, externalId, id or meta.created", limit),
		Err: scim.ErrUnsupported}
}

// guard pins the query that follows to one connection and, on PostgreSQL,
// cancels its statement when ctx ends (the client hung up or the budget
// ran out). What a driver does on cancellation is its own choice: one that
// only closes the socket leaves the server computing until the statement
// ends, as PostgreSQL does not watch the socket meanwhile (pgx v5 also
// sends a cancel request; the store does not rely on it). q is the pool or
// a transaction; release must be called once the rows are closed.
//
// guard also takes one of the DB's turns for costly queries, waiting for
// one within ctx.
func (db *DB) guard(ctx context.Context, q querier) (querier, func(), error) {
	select {
	case db.costly <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	q, release, err := db.cancelOnDone(ctx, q)
	if err != nil {
		<-db.costly
		return nil, nil, err
	}
	return q, func() {
		release()
		<-db.costly
	}, nil
}

func (db *DB) cancelOnDone(ctx context.Context, q querier) (querier, func(), error) {
	if db.dialect != PostgreSQL {
		return q, func() {}, nil // modernc.org/sqlite interrupts on cancellation itself
	}
	var conn *sql.Conn
	if pool, ok := q.(*sql.DB); ok {
		c, err := pool.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		conn, q = c, c
	}
	var pid int64
	if err := db.queryRow(ctx, q, "SELECT pg_backend_pid()", nil, &pid); err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, nil, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, _ = db.db.ExecContext(cctx, "SELECT pg_cancel_backend($1)", pid)
		case <-stop:
		}
	}()
	return q, func() {
		close(stop)
		<-done
		if conn != nil {
			conn.Close()
		}
	}, nil
}
