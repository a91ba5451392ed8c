// Package sqlstore is a scim.Store for PostgreSQL and SQLite over
// database/sql: users, groups and memberships of any number of tenants in
// one database (the host's own, beside its tables), every filter answered
// as the library's evaluator answers it, the filters Entra ID sends in SQL
// on indexed columns, and a mirror that keeps the host's own tables in step
// inside the same transaction.
//
// It is a module of its own, github.com/scimhost/scim/sqlstore, released with
// its own tags, so that the library's go.mod needs no database code. At run
// time it needs only the root module and database/sql: the host registers the
// driver (the drivers in its go.mod serve its tests only).
//
// # Opening
//
// Register a driver, open a *sql.DB, and hand it to [Open] with its
// dialect. Open creates or upgrades the tables (see Schema below):
//
//	import _ "github.com/jackc/pgx/v5/stdlib"
//
//	sqlDB, err := sql.Open("pgx", "postgres://app@db/app")
//	db, err := sqlstore.Open(ctx, sqlDB, sqlstore.PostgreSQL)
//	store := db.Store() // every workspace, by scim.TenantFrom
//
// or, for SQLite, with the pure-Go modernc.org/sqlite (no cgo):
//
//	import _ "modernc.org/sqlite"
//
//	sqlDB, err := sql.Open("sqlite", sqlstore.SQLiteDSN("/var/lib/app/scim.db"))
//	db, err := sqlstore.Open(ctx, sqlDB, sqlstore.SQLite)
//
// Any PostgreSQL driver whose errors have a SQLState() string method works
// (pgx's stdlib, lib/pq); pgx is the one tested. Bound the pool
// (sql.DB.SetMaxOpenConns) below the server's max_connections: Entra ID
// sends requests in parallel. For SQLite use a file, not ":memory:" (every
// pooled connection would get its own empty database).
//
// Options of Open: [WithBudget] (how long one call may hold the database),
// [WithMaxFilterCost] (which filters are too costly to run),
// [WithCostlyQueries] (how many lists no index narrows run at once),
// [WithMirror] (the host's own tables in the same transaction) and
// [WithUserCache] (users kept so that a PATCH skips its read and a read of
// an unchanged user reuses its decoding and encoding).
//
// # Tenants
//
// Every row carries a tenant id. [DB.Store], the default, reads the tenant
// of each call with scim.TenantFrom, so that a Store behind scim.BearerAuth
// is multi-tenant without more code, and serves a context without a tenant
// from the tenant "" (a single-tenant host). [DB.Tenant] returns the Store
// of one tenant; [DB.ByContext] reads the tenant with a function the host
// supplies and fails with [ErrNoTenant] when there is none, for a host
// that wants a missing tenant to be an error.
//
// Ids of another tenant are scim.ErrNotFound, and
// userName and displayName are unique per tenant. [DB.DeleteTenant] removes
// a tenant's data.
//
// # Schema
//
// Open runs the migrations embedded in the package (migrations/<dialect>/)
// that the database has not run yet, and records them in
// scim_schema_migrations. It is safe to call from several processes at
// once: PostgreSQL migrates in one transaction under an advisory lock,
// SQLite in one BEGIN IMMEDIATE transaction: the second process waits for
// the first and then finds nothing left to do. A database migrated by a
// newer release of this package is refused rather than used.
//
// Versioning and upgrades: the schema's version is the number of the last
// migration run, and a release of this module only ever adds migrations
// (0001_init, 0002_member_fold_identity, ...), never edits one that
// shipped. Upgrading is deploying the new release: the first Open runs
// what is new, inside one transaction, so a failed upgrade leaves the old
// schema. Old code refuses a newer schema, so roll processes forward, not
// back; a migration that rewrites a large table (so far 0002's rebuild of
// the membership table on SQLite, and 0051's move of the provisioning log,
// scim_log, into the rows of scim_log_batches) says so in its release
// notes.
// Migration numbers 0002-0049 belong to the store's tables and 0050 on to
// the admin tables. The tables, all in the connection's current schema:
//
//   - scim_users: tenant, id, user_name, user_name_fold, external_id,
//     manager_fold, active, created, last_modified, version, and doc, a JSON
//     document holding every other attribute (jsonb on PostgreSQL since
//     migration 0003, TEXT on SQLite). Unique on (tenant,
//     user_name_fold); indexed on (tenant, external_id) and (tenant,
//     created, id).
//   - scim_user_emails: (tenant, user_id, seq, type_fold, value_fold), an
//     index of the emails kept in doc, indexed on (tenant, value_fold). It
//     takes the place of a single email column, which could not answer
//     emails[type eq "work"].value exactly for a user with two emails.
//   - scim_groups: tenant, id, display_name, display_name_fold (unique per
//     tenant), external_id, created, last_modified, version, member_seq, doc
//     (the group's unknown attributes).
//   - scim_group_members: (tenant, group_id, member_fold) primary key,
//     member_id (the value as sent), member_type, display, ref and seq (the
//     order members were added in), indexed on (tenant, member_fold,
//     group_id) for `members eq` and for a user's groups. A member is
//     identified by its folded value on every path (create, replace,
//     PatchMembers, deletes), as the Group schema's members.value is
//     case-insensitive and as memstore identifies members.
//
// The *_fold columns hold values folded in Go so that two strings are equal
// exactly when strings.EqualFold says so, on both databases (PostgreSQL's
// lower() depends on the locale, SQLite's folds ASCII only). On PostgreSQL
// the compared columns use the "C" collation, so sorting is byte order, as
// on SQLite.
//
// Ids are random UUIDs (version 4). Versions are integers counted up on
// every write, exposed as their decimal string. Times are UTC with
// microsecond precision (timestamptz on PostgreSQL, integer microseconds on
// SQLite), so what a write returns is exactly what a read returns.
// User.Password is never stored. The doc column keeps Extra values byte for
// byte.
//
// Indexed values (userName, externalId, email values, a group's
// displayName, member values) longer than [MaxIndexedBytes] are refused
// with a 400 naming the attribute and the limit, on both dialects alike.
//
// # Filters and sorting
//
// ListUsers and ListGroups answer every filter and sort the library's
// evaluator (scim.MatchUser, scim.SortUsers, and memstore, which uses
// them) answers, with the same resources in the same order: a test runs
// thousands of generated filters and sorts through both and compares. The
// filter becomes SQL with bound parameters. Where SQL answers exactly, the
// database filters, sorts and pages alone:
//
//   - Users: id, userName (case-insensitive), externalId (case-exact) with
//     eq, ne, co, sw, ew, gt, ge, lt, le and pr; active eq (also the
//     strings "True"/"False" Entra ID sends); emails, emails.value and
//     emails.type, also in value paths (emails[type eq "work"].value eq
//     "x", Entra ID's match by work email); the Enterprise manager and
//     manager.value; meta.created and meta.lastModified (gt, ge, lt, le
//     with an RFC 3339 dateTime; a value finer than the stored
//     microseconds compares exactly); and the case-insensitive singular
//     strings kept in the doc column (displayName, nickName, title,
//     userType, profileUrl, preferredLanguage, locale, timezone, the
//     sub-attributes of name, the Enterprise employeeNumber, costCenter,
//     organization, division and department): pr always, and eq, ne, co,
//     sw and ew with a value of ASCII characters other than k and s,
//     whose case-folding orbits hold non-ASCII runes (KELVIN SIGN, long
//     s). Those compare ASCII-lowered text read from the JSON document
//     (PostgreSQL's json operators, SQLite's json_extract), exact for such
//     values because both databases' lower() changes ASCII letters only
//     there (Open checks it on PostgreSQL).
//   - Groups: id, displayName (case-insensitive), externalId as for users;
//     members and members.value (case-insensitive, as the schema says),
//     also in value paths; meta.created and meta.lastModified. `id eq "G"
//     and members eq "U"`, Entra ID's membership check, is two index
//     lookups.
//   - and, or, not over any of these.
//
// For everything else (a phone number, an address, a custom extension
// attribute in User.Extra, emails.display, members.display, meta.version,
// a value outside the rule above, an attribute only the other resource
// type has, as POST /.search sends to both) the SQL is a necessary
// condition — the attribute is present, or the parts of an and that SQL
// can answer — and the evaluator decides on the rows it selects, loading
// a user's groups or a group's members when the filter reads them. Each
// filter node is translated to a condition true of every row it may
// match and one true only of rows it surely matches, so that not() swaps
// them and the superset stays a superset. A store answer is never a
// superset of the matches and never a 400 for a valid filter.
//
// Attributes of declared extensions (scim.Options.Extensions) are such
// attributes: SQL narrows them at most to the rows that have Extra
// values, and the evaluator compares by the declaration the handler's query carries
// (scim.AttrPath.Declared): a caseExact string case-sensitively, a
// dateTime as an instant. No SQL compares their values, so no collation or
// lower() can make it select too few rows. Their uniqueness is enforced
// in the write's transaction: see [Store.DeclareExtensions].
//
// co, sw and ew use LIKE with %, _ and \ escaped (GLOB on SQLite for the
// case-exact columns, as SQLite's LIKE ignores ASCII case). An absent
// attribute is an empty string in a column, never NULL, so it matches no
// comparison and not() is plain negation. A value that is not an RFC 3339
// dateTime compared with meta.created matches nothing, as in the
// evaluator.
//
// sortBy id, externalId, meta.created, meta.lastModified, and userName
// for users or displayName for groups sort in SQL; any other attribute
// the evaluator sorts (scim.SortUsers, over every match, stably from the
// creation order). Strings sort case-insensitively where the schema says
// so, in byte order of the folded value; resources without the attribute
// sort last when ascending and first when descending, RFC 7644 §3.4.2.3's
// reading ("ordered last if ascending and first if descending"), which is
// also the evaluator's, so descending is the exact reverse of ascending.
// Equal values keep the creation order (created, id) in both directions,
// so pages are stable. Paging is LIMIT/OFFSET; TotalResults comes from
// the page itself when the page is not full (one query for Entra ID's
// lookups), else from a COUNT(*) with the same WHERE. A filter that
// matches at most one row (an equality on userName, a group's displayName
// or id, alone or under and) is the bare lookup, with no ORDER BY, LIMIT
// or OFFSET, its row paged in Go. When the evaluator
// finishes or sorts, the store reads every row the SQL selects and pages
// in Go; the cost estimate below bounds that work. A user's Groups are in
// the order the groups were created, as in memstore.
//
// Reading a group without its members (Projection.Wants("members") false,
// which is how Entra ID reads groups) reads the scim_groups row only and
// never touches scim_group_members. User.Groups is filled from the
// membership index when Wants("groups").
//
// # Round trips
//
// A read is one statement: a user's groups and a group's members come in
// the same SELECT as the row, aggregated into a JSON column by a
// correlated subquery (json_agg on PostgreSQL, json_group_array on
// SQLite). So, through the handler, a GET by id is one round trip, and so
// is a list page that is not full (Entra ID's userName eq lookup); a full
// page adds the COUNT of TotalResults (see list in filter.go), and a list
// that no index narrows the capped COUNT of the cost estimate. A page the
// evaluator finishes, or that SQLite sorts by another attribute than the
// creation order, reads the children of the page it keeps in one more
// statement. A PATCH of one attribute is two: the read (the user with its
// groups, no lock, no transaction) and the UPDATE ... WHERE version =
// <read> RETURNING (its groups again, as stored), which commits by itself;
// when the emails changed, the email index is rewritten in that same
// statement on PostgreSQL (data-modifying WITHs), and on SQLite in a
// transaction with it (BEGIN, UPDATE, DELETE, INSERT, COMMIT). A PATCH
// that changes nothing, or whose If-Match fails, is the read alone. One
// that loses a race to another process's write then takes the locked path
// of Writes and concurrency (BEGIN, the locked read, which is two
// statements on PostgreSQL, the UPDATE, COMMIT).
// With WithUserCache, a PATCH of a user this process created, read or
// wrote last (and that no other process wrote since) is the UPDATE alone,
// and one that changes nothing is a SELECT count(*) that confirms the
// kept copy (see The user cache).
// A member add through PatchMembers is one statement on PostgreSQL
// without a Mirror; a remove there, and an add or remove on SQLite, is
// BEGIN, the read, the INSERT or DELETE, the UPDATE of the version (when
// something changed) and COMMIT. A create is one statement on
// PostgreSQL, the INSERT of the row with the INSERT of its email rows in a
// WITH (unless a Mirror or an extension's unique attributes need a
// transaction), and on SQLite BEGIN, the INSERT of the row, the INSERT of
// its email rows (when it has emails) and COMMIT. On SQLite a write
// transaction also runs, after BEGIN, the statement that takes the write lock (see
// Writes and concurrency). TestRoundTrips counts them through the real
// drivers. On SQLite, which compiles every statement it is given, the
// statements run as prepared statements, kept by their text (at most 256,
// half of them at most from write transactions).
//
// # Costs and budgets
//
// No call holds the database longer than its budget ([WithBudget], default
// [DefaultBudget], 5 s): every method runs under a context deadline, which
// both databases honour (modernc.org/sqlite interrupts the statement,
// database/sql gives up waiting for a connection or a lock). Use
// modernc.org/sqlite v1.62 or later: earlier versions lose an interrupt
// that arrives before the statement's first step, and the statement then
// runs to its end (TestBudgetEndsAnywhere fails on v1.46). A list whose
// filter no index narrows runs on a pinned connection whose backend the
// store cancels with pg_cancel_backend the moment the context ends, the
// client hanging up included, whatever the driver does itself (pgx v5
// sends a cancel request too; other drivers may only close the socket,
// which PostgreSQL does not notice while it computes). A call that runs out
// of budget answers a 503 *scim.Error with Retry-After: 5.
//
// Before such a list runs, the store estimates its cost: the tenant's rows
// (counted, no further than needed) times the comparisons no index serves,
// plus one when the evaluator must look at each row. Above
// [WithMaxFilterCost] (default [DefaultMaxFilterCost]) the list is refused
// with a 400 invalidFilter naming the limit. A list the evaluator finishes
// or sorts reads at most a fiftieth of that limit in rows (100,000 by
// default: decoding a document costs about fifty comparisons), which also
// bounds the memory a sort in Go holds; past it the list is refused the
// same way. Lists that pass but that no
// index narrows take turns ([WithCostlyQueries], default 2 at once), so
// that one tenant's costly filters never hold every connection of the
// pool: other tenants' lookups do not wait for them. Filters an index narrows (an
// equality on userName, externalId, id, emails or members, a group's
// displayName, also under and) are never refused. The costliest filter the
// handler's limits let through, a balanced tree of about 190 `emails co`
// clauses, is refused in milliseconds above about 26,000 users, and below
// that finishes within the budget or answers 503.
//
// # The transactional mirror
//
// A host that keeps its own tables (accounts, teams, team_members with a
// foreign key to accounts) passes [WithMirror]: its function runs inside
// the store's write transaction for every change, after the store's own
// statements, with that transaction and a [Change] carrying the old and
// new state (and, for groups, the member ids added and removed). Its
// statements commit with SCIM's or roll back with them: an error rolls the
// SCIM write back, a *scim.Error reaches the client as written, any other
// error a generic 500 (the handler logs the cause). A member the host's
// foreign key does not know thus fails the write instead of leaving two
// copies that disagree. DeleteUser reports UserDeleted only (the store
// removed the user from its groups in the same transaction); the mirror
// deletes the host's membership rows of that account itself.
//
// # Writes and concurrency
//
// Uniqueness is the database's: the unique indexes raise the driver's
// unique-violation error (SQLSTATE 23505; SQLite extended codes 2067 and
// 1555), which the store wraps so that errors.Is(err, scim.ErrConflict).
// A replace carrying a version updates with WHERE version = n; no row
// updated means scim.ErrNotFound or scim.ErrVersionMismatch, told apart by
// a second look.
//
// UpdateUser and UpdateGroup (the scim.UserUpdater and scim.GroupUpdater
// capabilities) are optimistic first and locked when that loses. The first
// step takes no lock: it reads the row in one statement, calls the update
// function, and writes with one UPDATE ... WHERE tenant = ? AND id = ? AND
// version = <the version read> RETURNING, outside a transaction (in one
// when child rows change on SQLite, and for a group's membership rows; on
// SQLite the statement queues for the write lock as a transaction does).
// Every write of a row, its child rows included, moves its version, so
// that UPDATE matches only if nothing was written since the read, and is
// atomic by itself: nothing is lost. When it matches no row, the second
// step does what the store did before the first existed: it locks the row
// (SELECT ... FOR UPDATE on PostgreSQL; the write lock on SQLite), calls
// the update function again on what it reads, and writes, in one
// transaction. On PostgreSQL a group's members, and a user's groups, are
// read there by a statement after the locking one: a FOR UPDATE that
// waited returns the row as the other writer committed it, but anything
// else in that statement reads the snapshot taken before the wait (a
// user's groups so read would miss a group joined during the wait, and
// the user update was called on, a Mirror's OldUser, would seem to change
// groups). A call that loses the race therefore queues behind the
// writer that won instead of trying again, and no call loses more than
// once, however many contend; the update function runs once or twice.
// This saves the BEGIN, the COMMIT and the lock's wait on every write
// that meets no other (every PATCH of a resource that one process writes
// at a time: the handler serialises its own writers of one resource), and
// makes a PATCH that changes nothing or fails If-Match a single read. With
// a Mirror (whose hook runs in the write's transaction) or declared unique
// extension attributes (checked in the write's transaction under an
// advisory lock), only the locked step runs.
//
// Transactions on SQLite: SQLite has no row locks, and database/sql
// starts its transactions with a deferred BEGIN, whose upgrade from
// reader to writer fails with
// SQLITE_BUSY when another connection wrote in between (busy_timeout does
// not help there). So every SQLite write transaction here takes the
// database's write lock with its first statement, an UPDATE that changes
// nothing (what BEGIN IMMEDIATE does, waiting busy_timeout for the lock),
// retrying while another process holds it, and writers of one process
// queue in Go first; its statements run prepared, as the pool's do. This
// works with any DSN: no _txlock parameter and no single-connection pool
// are needed. Open switches the file to WAL mode so
// that reads never wait for the writer.
//
// A PATCH that costs little (the handler's bound; every PATCH Entra ID
// sends) on a host without user or group policies (AllowDomain aside,
// unless the PATCH adds an email address) runs inside UpdateUser or
// UpdateGroup: the handler applies it to the row UpdateUser read, so
// concurrent PATCHes of one resource from other processes lose at most
// one race each, then queue on the lock, and none starts again. With
// policies, which run outside any lock, and for a PUT, the handler reads a
// resource, runs them, and hands UpdateUser or UpdateGroup a change that
// fails when another process wrote the resource in between; it then starts
// again from a fresh read. Against another process whose PATCHes run
// inside the lock, such a retry can lose every time: on SQLite under load
// the read of a 500-member group and the wait for the write lock took
// 30-170 ms while the other process wrote the group every 20-40 ms, and
// one PATCH lost 100 races in a row over 9 s. So after 8 lost races the
// handler runs the change and the policies inside UpdateUser or
// UpdateGroup, where no other writer comes in between: the Store is a
// scim.ReentrantReader, since a policy's read takes another connection and
// waits for no writer. TestTwoProcesses lands 1,000 contended PATCHes over
// two handlers and pools without a 409 (loaded as above, the fallback ran
// after 0.1-1.9 s). Reads take no row lock: a read of a row lock waits and
// commits like a write on PostgreSQL (a GET of a group took 2.4 ms instead
// of 0.08 ms).
//
// # The user cache
//
// WithUserCache keeps, for a PATCH, the users this process read (with
// their groups, on the pool, never inside a write transaction) and wrote
// (once the write committed): each user's columns, its document and its
// groups column's text, keyed by tenant and id, a later version never
// replaced by an earlier one. UpdateUser's first step then runs the update
// function on a fresh decoding of the kept copy instead of reading, and
// its UPDATE requires, besides the version, the user's groups column to
// equal the copy's (the subquery of the RETURNING, compared as text, which
// the RETURNING then leaves out): a membership change moves the group's
// version, not the user's, and the update function and the handler's
// change event see the user's groups.
// Ids are random and versions only grow, so a row at that version and
// with those groups is the copy, and the write is what the update function
// would have made of a fresh read: nothing another process wrote is lost,
// whatever this process kept. A write that matches no row (the copy was
// stale) goes to the locked step, as a lost race does. An update function
// (or the length check) that fails on the copy may have failed on stale
// data: one statement then confirms the copy (the same version and
// groups); if it holds, the error stands, as it would have on a fresh
// read, and if not, the locked step runs. So the update function still
// runs once or twice, and a PATCH that changes nothing (whose error the
// handler answers with the user it saw) is one statement. PatchMembers
// drops the users whose memberships it changed, DeleteUser the user and
// DeleteTenant every user, so that this process's next PATCH of them
// reads rather than fails its condition; other processes' changes are
// found by the condition. The cache costs a user's document and a few
// strings, few pointers for the collector to follow: about 560 bytes for
// a user as Entra ID sends it (a 200-byte document). When full, it drops
// a user, any one. Reads (GetUser, ListUsers) always ask the database.
//
// With the cache, the store is a scim.SharedUserReader, a
// scim.UserEncodingCacher and a scim.CachedUserReader, as memstore is:
// the handler's GET and lists (those that read the page's groups in the
// same statement) run their one statement, and when the row comes back as
// the kept one — the same version, columns and groups column — they hand
// out the user decoded from it the first time, never modified, with the
// handler's encoding of it, so that a GET or Entra ID's match by userName
// of an unchanged user copies bytes instead of decoding the row's
// document and encoding the user. A row another process changed, or
// whose groups changed, comes back different and is decoded and kept
// anew, so the answer is always what the statement read. A PATCH of a
// kept user starts from a copy of that user rather than a decoding, and
// an update (UpdateUser, ReplaceUser) keeps a copy of the user it wrote as
// the new row's, which is what a read of the row decodes, so that the
// read after it does not decode either. A
// group write of this process other than PatchMembers (a create with
// members, a replace, an update, a delete) raises the tenant's group
// epoch, after which the users read before it have no encoding cache
// (UserEncodingCache's contract, asked without a read). Without the cache
// the shared reads are GetUser and ListUsers, and UserEncodingCache
// returns nil. A user read or updated costs about 2.4 KB instead of 560
// bytes (BenchmarkUserCacheMemory: go test -run '^$' -bench
// UserCacheMemory).
//
// PatchMembers (scim.MemberPatcher) costs what the change costs, whatever
// the group's size: it locks the group's row (SELECT ... FOR UPDATE on
// PostgreSQL), checks the version, inserts the added members with INSERT
// ... ON CONFLICT DO NOTHING RETURNING member_id and deletes the removed
// ones with DELETE ... IN (...) RETURNING member_id, so that the result
// names exactly the members that changed (a replayed add reports nothing,
// and raises no change event), and bumps the version and lastModified in
// the same transaction only when something changed. On PostgreSQL without
// a Mirror a patch that only adds is one statement, its steps in
// data-modifying WITHs (a round trip instead of five); one that removes
// keeps the transaction, because a DELETE in such a WITH reads the
// statement's snapshot, taken before the statement waited for the group's
// lock, and would miss a member added by the patch it waited for. Concurrent patches of
// one group queue on the row lock, none is lost, and none deadlocks;
// DeleteUser and DeleteGroup, which remove a member from every group it is
// in, lock those groups in id order before touching memberships, so they
// queue behind patches too, and delete the memberships of the groups they
// locked only, each of which gets a new version: a membership of another
// group, added by a transaction that was uncommitted when the locking read
// took its snapshot, stays, as if added just after the delete (member ids
// are not checked), rather than vanishing from a group whose version does
// not move. The group PatchMembers returns has no Members.
// Members are identified by their value compared case-insensitively, as
// filters on members compare.
//
// # Tests and benchmarks
//
// The tests run every check on both dialects. PostgreSQL comes from
// SCIMHOST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
// when it is unreachable those halves are skipped, or fail when CI=true.
// Tests use the schema scimhost_test and a fresh random tenant each.
// TestStoretest runs the contract checks of package storetest on both
// dialects. TestDifferential compares 3,000 seeded random filters and sorts
// with memstore's answers. TestTwoProcesses runs 1,000 contended PATCHes
// through two handlers over two pools and Stores sharing one database
// (no 409, nothing lost). TestOutsideModule writes a host module outside
// the repository that requires this one (replace directives to the
// checkout), brings its drivers, and runs storetest.Run with go test
// (but for the keyset walk, which TestStoretest runs).
// TestBudget and TestCostEstimate hold the bounds of Costs and budgets;
// TestMirror, the mirror's transaction with a host's foreign keys.
//
// BenchmarkCostliestFilter and BenchmarkNonIndexedEq run over a tenant
// of 100,000 users seeded on their first run:
//
//	go test ./sqlstore -run '^$' -bench 'CostliestFilter|NonIndexedEq' -benchtime 3x -cpu 1
//
// The 190-clause filter was refused in 32 ms (the estimate counts the
// tenant's rows first), or with the estimate off was cut off after 5.06 s
// by the default budget; displayName, name.familyName and employeeNumber
// eq took 111-140 ms each, read from the jsonb document in SQL (1.3 s on
// the json column before migration 0003).
//
// The benchmarks run on PostgreSQL only, in the schema scimhost_bench,
// whose tenants of 1,000 and 1,000,000 users (with groups of 10 and 100,000
// members) are seeded with generate_series on the first run (about 25 s)
// and reused afterwards:
//
//	go test ./sqlstore -run '^$' -bench . -count 10 | tee bench.txt
//	benchstat bench.txt
//
// Figures on the development machine (2 cores shared with other jobs,
// PostgreSQL 15 with its default 128 MB of shared_buffers, over loopback),
// medians of 20 runs, time per operation:
//
//	benchmark (small/large)          small     large    ratio
//	UserNameEq (1k/1M users)         192 µs    213 µs   1.11  measured as two statements
//	MemberCheck (1k/1M users)        124 µs    120 µs   0.96  id eq G and members eq U
//	GetGroupNoMembers (10/100k)       83 µs     79 µs   0.95
//	AddMember (10/100k members)     1.32 ms   0.93 ms   0.70  a commit's fsync; minima 758/739 µs
//
// The machine's load made single runs vary by up to ±40% (AddMember, bound
// by the disk, more), so compare medians of many runs. The two tenants
// share one set of B-trees, so a lookup walks the same depth in both; what
// remains of the 1k/1M gap in UserNameEq is memory locality (a working set
// of 4096 users spread over 270 MB of table instead of a few pages).
// AddMember was measured before PatchMembers reported what changed; with
// the statement that costs (SELECT ... FOR UPDATE before the INSERT), 8
// runs interleaved with the earlier code gave medians of 1.32/1.18 ms
// against 1.19/1.07 ms, a difference within the noise (p > 0.2).
//
// BenchmarkSQLFloor runs a GET by id, the userName eq lookup and a
// one-attribute PATCH through scim.Handler over this store and through a
// floor (one indexed SELECT or UPDATE of an equivalent table holding each
// user's response body), on both dialects; its doc comment has the
// command, and docs/performance.md the ratios.
//
// Throughput through HTTP: the demo server's stack (BearerAuth,
// scim.Handler, this store over a ByContext tenant) behind an
// httptest.Server, 8 concurrent clients creating 100,000 users as Entra ID
// sends them (userName, externalId, name, displayName, a work email, an
// Enterprise department), starting from an empty database:
//
//	cd examples
//	go test ./server -run '^$' -bench CreateUsersHTTP -benchtime 1x
//
// One run on the development machine, the clients, the server and the
// database sharing its 2 cores:
//
//	PostgreSQL 15 (synchronous_commit on)        1,496 users/s  (67 s)
//	SQLite, WAL, synchronous=NORMAL              2,342 users/s  (43 s)
//
// Each create is one transaction (the user row and its email rows). The
// cores were the limit, not the disk: during a second PostgreSQL run
// (1,081 users/s, with other jobs' builds and tests running beside it)
// vmstat showed under 5% idle and under 2% I/O wait. Read the figures as
// floors for a dedicated machine.
package sqlstore
