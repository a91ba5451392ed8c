package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/internal/sqldialect"
)

// Dialect is the SQL database behind a [DB]. It decides the placeholders,
// column types, locking and error codes the store uses. It is the same type
// as oauthsql.Dialect. Its String method returns "postgres" or "sqlite".
type Dialect = sqldialect.Dialect

// The supported dialects. The zero Dialect is invalid.
const (
	// PostgreSQL 12 or later, through a database/sql driver whose errors
	// have a SQLState() string method: github.com/jackc/pgx/v5/stdlib
	// (driver name "pgx") is the one tested; lib/pq works too.
	PostgreSQL = sqldialect.PostgreSQL
	// SQLite 3.44 or later (RETURNING, and ORDER BY inside
	// json_group_array) through modernc.org/sqlite (pure Go, driver name
	// "sqlite", v1.62 or later, which bundles 3.54; see the budgets in the
	// package doc for why that version). See [SQLiteDSN] for the connection
	// string to use.
	SQLite = sqldialect.SQLite
)

// ErrNoTenant is returned by every method of a [Store] made with
// [DB.ByContext] when the context carries no tenant: a request that reached
// the store without passing the authentication middleware is a bug in the
// host, and serving it from some default tenant would leak data.
var ErrNoTenant = errors.New("sqlstore: no tenant in the request context")

// DB is a database holding the SCIM resources of any number of tenants.
// Make one with [Open]; [DB.Tenant] and [DB.ByContext] hand out the
// scim.Store values the handler uses. A DB is safe for concurrent use and
// does not own the *sql.DB it was given: closing that is the caller's job.
// On SQLite it keeps up to 256 of its statements prepared on the pool's
// connections, which modernc.org/sqlite would otherwise parse on every
// call; a pool that keeps its connections idle (SetMaxIdleConns) keeps
// them prepared.
type DB struct {
	db      *sql.DB
	dialect Dialect
	// wsem lets one SQLite write transaction run at a time in this process,
	// so that writers queue in Go instead of spinning on SQLITE_BUSY; other
	// processes are kept out by the write lock each write takes at once.
	wsem chan struct{}
	// wal says that the SQLite database is in WAL mode, where readers
	// never wait for the writer (Store.ReentrantReads).
	wal bool
	// now is the clock; tests replace it.
	now func() time.Time
	// onQuery, when set, sees the text of every statement the store runs;
	// the tests use it to prove which tables a method touches.
	onQuery func(query string)
	// budget and maxCost are WithBudget's and WithMaxFilterCost's.
	budget  time.Duration
	maxCost int
	// asciiLower is set when the database's lower() changes ASCII letters
	// only (see compareDoc).
	asciiLower bool
	// mirror is WithMirror's function, or nil.
	mirror Mirror
	// costly holds a token for each costly list running (WithCostlyQueries).
	costly chan struct{}
	// declared holds the extensions with unique attributes a Store was
	// told of (Store.DeclareExtensions); a pointer, so that copies of a DB
	// share it.
	declared *atomic.Pointer[declaredExtensions]
	// stmts, on SQLite, holds the prepared statements; shared by copies.
	stmts *stmtCache
	// users is WithUserCache's, or nil; shared by copies.
	users *userCache
	// rebound, on PostgreSQL, holds statements' texts with their $n
	// placeholders; shared by copies.
	rebound *reboundCache
}

// Open prepares db to store SCIM resources in dialect: it creates or
// upgrades the store's tables (all named scim_*, in the connection's current
// schema) by running the migrations it embeds that the database has not run
// yet, recorded in scim_schema_migrations. Open is idempotent and safe to
// run from many processes at once: on PostgreSQL the migrations run in one
// transaction under an advisory lock, on SQLite in one BEGIN IMMEDIATE
// transaction. On SQLite, Open also switches the database file to WAL mode
// (a persistent setting) so that readers never wait for the writer.
//
// It returns an error when dialect is not one of the constants, when the
// database cannot be reached, or when its schema is newer than this package.
func Open(ctx context.Context, db *sql.DB, dialect Dialect, opts ...Option) (*DB, error) {
	if db == nil {
		return nil, errors.New("sqlstore: Open: nil *sql.DB")
	}
	d := &DB{db: db, dialect: dialect, now: time.Now, budget: DefaultBudget, maxCost: DefaultMaxFilterCost,
		declared: new(atomic.Pointer[declaredExtensions])}
	switch dialect {
	case PostgreSQL:
		d.rebound = new(reboundCache)
	case SQLite:
		d.wsem = make(chan struct{}, 1)
		d.stmts = new(stmtCache)
		d.asciiLower = true // SQLite's lower() folds ASCII only
	default:
		return nil, fmt.Errorf("sqlstore: Open: unknown dialect %v", dialect)
	}
	for _, o := range opts {
		if o != nil {
			o(d)
		}
	}
	if d.costly == nil {
		d.costly = make(chan struct{}, DefaultCostlyQueries)
	}
	if err := d.migrate(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: migrating the %v schema: %w", dialect, err)
	}
	if dialect == PostgreSQL {
		// Under the "C" collation PostgreSQL's lower() is meant to change
		// ASCII letters only; check rather than trust it.
		if err := d.queryRow(ctx, db, `SELECT lower('ÀİKZ' COLLATE "C") = 'Àİkz'`, nil, &d.asciiLower); err != nil {
			return nil, fmt.Errorf("sqlstore: Open: %w", err)
		}
	}
	return d, nil
}

// Dialect returns the dialect db was opened with.
func (db *DB) Dialect() Dialect { return db.dialect }

// Store returns the Store most hosts want: each call belongs to the tenant
// scim.TenantFrom finds in its context (the one scim.BearerAuth or
// scim.WithTenant put there), so that one Store behind BearerAuth serves
// every workspace, each seeing only its own resources; a call whose
// context carries no tenant belongs to the tenant "", so that a
// single-tenant host needs nothing more than db.Store(). Use [DB.ByContext]
// to fail such calls instead, or [DB.Tenant] to pin one tenant.
func (db *DB) Store() *Store {
	return &Store{db: db, byContext: true, fromContext: tenantFromScim, orEmpty: true}
}

func tenantFromScim(ctx context.Context) string {
	t, _ := scim.TenantFrom(ctx)
	return t.ID
}

// Tenant returns the Store of one tenant: every method reads and writes
// only the rows of tenant, so another tenant's ids are ErrNotFound and
// userNames are unique per tenant only. Any string is a valid tenant id,
// the empty string included (a single-tenant host may use it), except
// that PostgreSQL cannot store NUL bytes.
func (db *DB) Tenant(tenant string) *Store {
	return &Store{db: db, tenant: tenant}
}

// ByContext returns a Store that takes the tenant of each call from its
// context with tenant (for example the value an authentication middleware
// stored there); a nil tenant reads scim.TenantFrom. When tenant returns
// "", the call fails with [ErrNoTenant].
func (db *DB) ByContext(tenant func(context.Context) string) *Store {
	if tenant == nil {
		tenant = tenantFromScim
	}
	return &Store{db: db, byContext: true, fromContext: tenant}
}

// DeleteTenant deletes every resource of tenant, for offboarding a
// workspace. Deleting a tenant that has nothing stored is not an error.
func (db *DB) DeleteTenant(ctx context.Context, tenant string) error {
	defer db.users.clear()
	return db.write(ctx, func(q querier) error {
		for _, table := range []string{"scim_group_members", "scim_groups", "scim_user_emails", "scim_users"} {
			if _, err := db.exec(ctx, q, "DELETE FROM "+table+" WHERE tenant = ?", tenant); err != nil {
				return err
			}
		}
		return nil
	})
}

// SQLiteDSN returns the modernc.org/sqlite connection string for the
// database file at path, with what the store expects of each connection:
// a busy timeout, so that another process's write transaction is waited for
// rather than failed, and synchronous=NORMAL, the usual companion of WAL:
// the file stays consistent through a power cut, which may however lose the
// last transactions (build the DSN with synchronous(FULL) if it must not),
// and foreign_keys(1), so that a host's own tables beside the store's (see
// [WithMirror]) have their foreign keys enforced, which SQLite otherwise
// does not do; the store's tables have none. A host that builds its own DSN
// should keep _pragma=busy_timeout when more than one process opens the
// file; within one process the store queues its writers itself.
func SQLiteDSN(path string) string {
	u := url.URL{Scheme: "file", OmitHost: true, Path: path}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	u.RawQuery = q.Encode()
	return u.String()
}

// querier is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rebind turns the ? placeholders the store's SQL is written with into
// PostgreSQL's $1, $2, ... The store's SQL has no ? anywhere else.
func (db *DB) rebind(query string) string {
	if db.rebound == nil {
		return db.dialect.Rebind(query)
	}
	return db.rebound.rebind(db.dialect, query)
}

// reboundCache keeps PostgreSQL's texts of the store's statements:
// rewriting the placeholders of every statement run, a copy of its text
// each time, was 1.5 % of the demo's CPU over loopback on PostgreSQL.
// Bounded as stmtCache is, for the same reason: a filter's or a batch's
// text depends on the request, and the texts past the bound are rewritten
// on each run.
type reboundCache struct {
	m sync.Map     // text with ? → text with $n
	n atomic.Int64 // entries in m
}

func (c *reboundCache) rebind(d Dialect, query string) string {
	if q, ok := c.m.Load(query); ok {
		return q.(string)
	}
	q := d.Rebind(query)
	if c.n.Load() < maxCachedStmts {
		if _, loaded := c.m.LoadOrStore(query, q); !loaded {
			c.n.Add(1)
		}
	}
	return q
}

func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	query = db.rebind(query)
	if db.onQuery != nil {
		db.onQuery(query)
	}
	r, err := db.prepared(ctx, q, query).ExecContext(ctx, query, args...)
	return r, db.mapErr(err)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	query = db.rebind(query)
	if db.onQuery != nil {
		db.onQuery(query)
	}
	rows, err := db.prepared(ctx, q, query).QueryContext(ctx, query, args...)
	return rows, db.mapErr(err)
}

// queryRow runs a query expected to return at most one row and scans it;
// it returns sql.ErrNoRows when there is none.
func (db *DB) queryRow(ctx context.Context, q querier, query string, args []any, dest ...any) error {
	return db.mapErr(db.row(ctx, q, query, args...).Scan(dest...))
}

// row runs a query expected to return at most one row, for a caller that
// scans it itself (rowReader.scan); Scan returns sql.ErrNoRows when there
// is none, and the driver's errors unmapped.
func (db *DB) row(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	query = db.rebind(query)
	if db.onQuery != nil {
		db.onQuery(query)
	}
	return db.prepared(ctx, q, query).QueryRowContext(ctx, query, args...)
}

// limitParam is the placeholder of a LIMIT or OFFSET value. On SQLite
// (3.46 and later) a bare ? there lets the planner read the bound value,
// which makes SQLite prepare the statement anew on every run and undoes
// the statement cache (6 % of the demo's CPU over loopback, in its
// lookups by userName); ?+0 is the same number, bound as before.
func (db *DB) limitParam() string {
	if db.dialect == SQLite {
		return "?+0"
	}
	return "?"
}

// mapErr turns the drivers' uniqueness violations into scim.ErrConflict,
// keeping the driver's error in the chain for logs. It inspects errors by
// method rather than by type so that the package needs no driver:
// pgconn.PgError and pq.Error have SQLState(), modernc's sqlite.Error has
// Code().
func (db *DB) mapErr(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	switch db.dialect {
	case PostgreSQL:
		var e interface{ SQLState() string }
		if errors.As(err, &e) {
			switch e.SQLState() {
			case "23505": // unique_violation
				return &scim.ConflictError{Attribute: conflictAttribute(err), Err: err}
			case "22021", "22P05": // a NUL byte or invalid UTF-8 in a value
				return &scim.Error{Status: 400, Type: scim.InvalidValue,
					Detail: "a value contains a character that cannot be stored (NUL or invalid UTF-8)", Err: err}
			}
		}
	case SQLite:
		var e interface{ Code() int }
		if errors.As(err, &e) {
			switch e.Code() {
			case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
				return &scim.ConflictError{Attribute: conflictAttribute(err), Err: err}
			}
		}
	}
	return err
}

// conflictAttribute names the attribute a uniqueness violation is on, from
// the index (PostgreSQL: "scim_users_user_name") or the column (SQLite:
// "scim_users.user_name_fold") the driver's message names; "" when it names
// neither.
func conflictAttribute(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "user_name"):
		return "userName"
	case strings.Contains(msg, "display_name"):
		return "displayName"
	}
	return ""
}

// storable reports whether s can be stored in a text column. PostgreSQL
// rejects NUL bytes and invalid UTF-8, so no stored id or value equals such
// a string: lookups answer "not found" and comparisons "false" without
// asking the database, which would fail the statement.
func (db *DB) storable(s string) bool {
	return db.dialect != PostgreSQL || (strings.IndexByte(s, 0) < 0 && utf8.ValidString(s))
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its
// extended forms: another connection holds the write lock.
func isBusy(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code()&0xff == 5
}

// write runs fn as one write transaction and commits it when fn returns
// nil. On PostgreSQL it is an ordinary READ COMMITTED transaction; fn takes
// the row locks it needs (UPDATE, SELECT ... FOR UPDATE) before reading.
//
// On SQLite, database/sql starts transactions with a deferred BEGIN, whose
// read-then-write upgrade fails with SQLITE_BUSY when another writer got in
// between, and that busy_timeout does not help. So write queues on wsem
// (one writer per process), begins the transaction and takes the
// database's write lock at once with a write that changes nothing
// (sqliteLock), as BEGIN IMMEDIATE would, retrying while another process
// holds it. This works whatever DSN the host used (no _txlock needed), and
// the transaction, a *sql.Tx, runs the pool's prepared statements.
func (db *DB) write(ctx context.Context, fn func(q querier) error) error {
	if db.dialect == SQLite {
		return db.writeSQLite(ctx, fn)
	}
	return db.inTx(ctx, nil, fn)
}

// writeStmt runs fn, which runs one statement that is atomic by itself
// (an UPDATE ... WHERE version = n), outside a transaction: a BEGIN and a
// COMMIT fewer. On PostgreSQL on the pool; on SQLite after queueing on
// wsem as write does, so that writers of one process take turns rather
// than spin in busy_timeout, retrying while another process holds the
// write lock (a statement that could not take the lock wrote nothing).
func (db *DB) writeStmt(ctx context.Context, fn func(q querier) error) error {
	if db.dialect != SQLite {
		return fn(db.db)
	}
	select {
	case db.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-db.wsem }()
	return whileBusy(ctx, func() error { return fn(db.db) })
}

// errRaced ends an optimistic update (see UpdateUser) whose conditional
// write found the row changed or gone since its unlocked read: the caller
// then runs the locked update, which queues behind the other writer.
var errRaced = errors.New("sqlstore: the row changed since it was read")

// inTx runs fn in a transaction begun with opts and commits it when fn
// returns nil.
func (db *DB) inTx(ctx context.Context, opts *sql.TxOptions, fn func(q querier) error) error {
	tx, err := db.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	// Also when fn panics (an update callback may): after Commit it is a
	// no-op.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return db.mapErr(tx.Commit())
}

// sqliteLock takes SQLite's write lock inside a deferred transaction: an
// UPDATE takes it (waiting busy_timeout for it, as BEGIN IMMEDIATE does)
// before looking for rows, and this one finds none. Its table exists once
// Open has migrated.
const sqliteLock = "UPDATE scim_schema_migrations SET version = version WHERE 0"

func (db *DB) writeSQLite(ctx context.Context, fn func(q querier) error) error {
	select {
	case db.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() {
		<-db.wsem
		// The transaction's connection is back in the pool.
		db.stmts.prepareWanted(ctx, db.db)
	}()
	delay := time.Millisecond
	for {
		locked := false
		err := db.inTx(ctx, nil, func(q querier) error {
			if _, err := db.exec(ctx, q, sqliteLock); err != nil {
				return err
			}
			locked = true
			return fn(q)
		})
		if locked || !isBusy(err) {
			return err
		}
		if err := waitBusy(ctx, &delay); err != nil {
			return err
		}
	}
}

// migrateSQLite runs fn as write does, for the migrations, which run before
// sqliteLock's table may exist: BEGIN IMMEDIATE by hand on a dedicated
// connection, retrying while another process holds the lock.
func (db *DB) migrateSQLite(ctx context.Context, fn func(q querier) error) error {
	select {
	case db.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-db.wsem }()
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := db.beginImmediate(ctx, conn); err != nil {
		return err
	}
	done := false
	defer func() {
		// On an error, and when fn panics: the connection must not go
		// back to the pool inside the transaction.
		if !done {
			db.rollback(conn)
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	// COMMIT must not be interrupted by a cancelled context half-way.
	if _, err := db.exec(context.WithoutCancel(ctx), conn, "COMMIT"); err != nil {
		return err
	}
	done = true
	return nil
}

func (db *DB) beginImmediate(ctx context.Context, conn *sql.Conn) error {
	return whileBusy(ctx, func() error {
		_, err := db.exec(ctx, conn, "BEGIN IMMEDIATE")
		return err
	})
}

// whileBusy calls try until it returns an error other than SQLite's
// SQLITE_BUSY (or nil), waiting between calls as waitBusy does, and
// returns that error, or the context's when the call ends first.
func whileBusy(ctx context.Context, try func() error) error {
	delay := time.Millisecond
	for {
		err := try()
		if !isBusy(err) {
			return err
		}
		if err := waitBusy(ctx, &delay); err != nil {
			return err
		}
	}
}

// waitBusy waits *delay before another try at SQLite's write lock, which
// another process holds, and doubles *delay up to 100 ms; it returns the
// context's error when the call ends first.
func waitBusy(ctx context.Context, delay *time.Duration) error {
	t := time.NewTimer(*delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	*delay = min(2**delay, 100*time.Millisecond)
	return nil
}

// rollback ends the transaction on conn. If that fails, conn may still be
// inside it, so it is closed rather than returned to the pool.
func (db *DB) rollback(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// read runs fn on a consistent snapshot, for reads that take more than one
// statement (a group and its members).
func (db *DB) read(ctx context.Context, fn func(q querier) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == PostgreSQL {
		opts.Isolation = sql.LevelRepeatableRead
	}
	if db.stmts != nil {
		// Deferred first, so that it runs once the transaction has ended.
		defer db.stmts.prepareWanted(ctx, db.db)
	}
	tx, err := db.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// timeArg is a time as the dialect's column stores it: timestamptz on
// PostgreSQL, microseconds since the epoch on SQLite.
func (db *DB) timeArg(t time.Time) any {
	if db.dialect == SQLite {
		return t.UnixMicro()
	}
	return t
}

// timestamp returns the current time as the store keeps it: UTC, to the
// microsecond, which both column types hold exactly.
func (db *DB) timestamp() time.Time {
	return db.now().UTC().Truncate(time.Microsecond)
}

// timeCol scans either column type into a UTC time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*c.t = v.UTC()
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", v)
	}
	return nil
}

//go:embed migrations
var migrations embed.FS

// loadMigrations returns the dialect's migrations in version order.
func loadMigrations(d Dialect) ([]sqldialect.Migration, error) {
	return sqldialect.Load(migrations, path.Join("migrations", d.String()))
}

// journalModeWAL sets SQLite's journal mode to WAL and returns the mode
// the database is in, trying again while another connection holds the
// file, until ctx ends.
func (db *DB) journalModeWAL(ctx context.Context) (string, error) {
	var mode string
	err := whileBusy(ctx, func() error {
		return db.queryRow(ctx, db.db, "PRAGMA journal_mode=WAL", nil, &mode)
	})
	return mode, err
}

// migrationLock is the PostgreSQL advisory lock key that serializes
// migrations: "scimhost" in ASCII.
const migrationLock = 0x7363696d686f7374

func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations(db.dialect)
	if err != nil {
		return err
	}
	if db.dialect == SQLite {
		// journal_mode cannot change inside a transaction. An in-memory
		// database answers "memory" and stays so, which is fine. The
		// change to WAL needs the file to itself: when other processes
		// open a new database at the same moment, SQLite answers
		// SQLITE_BUSY at once rather than wait its busy timeout (2 runs
		// in 120 of TestMigrationsConcurrentAndIdempotent, where four
		// pools open one new file, failed so), so it is tried again.
		mode, err := db.journalModeWAL(ctx)
		if err != nil {
			return err
		}
		db.wal = strings.EqualFold(mode, "wal")
	}
	write := db.write
	if db.dialect == SQLite {
		write = db.migrateSQLite
	}
	return write(ctx, func(q querier) error {
		if db.dialect == PostgreSQL {
			if _, err := db.exec(ctx, q, "SELECT pg_advisory_xact_lock(?)", int64(migrationLock)); err != nil {
				return err
			}
		}
		return sqldialect.Apply(ctx, q, db.dialect, "scim_schema_migrations", ms, db.timestamp())
	})
}
