package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

const userCols = "u.id, u.user_name, u.external_id, u.active, u.created, u.last_modified, u.version, u.doc"

// userRow is one scim_users row being scanned: userCols, and when
// withGroups the userGroupsCol after them.
type userRow struct {
	u          scim.User
	version    int64
	doc        []byte
	withGroups bool
	groups     []byte
}

func (r *userRow) dest() []any {
	d := []any{&r.u.ID, &r.u.UserName, &r.u.ExternalID, &r.u.Active,
		timeCol{&r.u.Meta.Created}, timeCol{&r.u.Meta.LastModified}, &r.version, &r.doc}
	if r.withGroups {
		d = append(d, &r.groups)
	}
	return d
}

func (r *userRow) user() (*scim.User, error) {
	if err := decodeUser(r.doc, &r.u); err != nil {
		return nil, err
	}
	r.u.Meta.Version = strconv.FormatInt(r.version, 10)
	if r.withGroups {
		var err error
		if r.u.Groups, err = decodeGroupRefs(r.groups); err != nil {
			return nil, err
		}
	}
	return &r.u, nil
}

// managerFold is the manager_fold column of u.
func managerFold(u *scim.User) string {
	if u.Enterprise != nil && u.Enterprise.Manager != nil {
		return fold(u.Enterprise.Manager.Value)
	}
	return ""
}

// CreateUser stores a copy of u under a new random id (a UUID) with
// version "1", and returns it. It returns scim.ErrConflict when the tenant
// has a user whose userName equals u.UserName case-insensitively.
func (s *Store) CreateUser(ctx context.Context, u *scim.User) (_ *scim.User, err error) {
	if u == nil {
		return nil, errors.New("sqlstore: CreateUser: nil user")
	}
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkUserLengths(u); err != nil {
		return nil, err
	}
	nu := u.Clone()
	nu.ID = scim.NewID()
	nu.Password = ""
	nu.Groups = nil
	now := s.db.timestamp()
	nu.Meta = scim.Meta{Created: now, LastModified: now, Version: "1"}
	doc, err := encodeUser(nu)
	if err != nil {
		return nil, err
	}
	const insertUser = `INSERT INTO scim_users
	(tenant, id, user_name, user_name_fold, external_id, manager_fold, active, created, last_modified, version, doc)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`
	args := []any{tenant, nu.ID, nu.UserName, fold(nu.UserName), nu.ExternalID, managerFold(nu), nu.Active,
		s.db.timeArg(now), s.db.timeArg(now), string(doc)}
	if emails := emailRows(tenant, nu); s.db.dialect == PostgreSQL && s.db.mirror == nil && !s.db.declaresUserUnique() && len(emails) <= rowsPerInsert {
		// One statement is atomic by itself, so it needs no BEGIN and
		// COMMIT, each a round trip: the user's INSERT, and its emails'
		// in a data-modifying WITH, which PostgreSQL runs to completion.
		query := insertUser
		if len(emails) > 0 {
			var b strings.Builder
			b.WriteString("WITH u AS (" + insertUser + ") " + insertEmailsHead)
			args = appendValues(&b, emails, emailWidth, args)
			query = b.String()
		}
		if _, err := s.db.exec(ctx, s.db.db, query, args...); err != nil {
			return nil, err
		}
		s.db.users.put(tenant, writtenUser(nu, 1, doc, noGroups))
		return nu, nil
	}
	err = s.db.write(ctx, func(q querier) error {
		if _, err := s.db.exec(ctx, q, insertUser, args...); err != nil {
			return err
		}
		if err := s.insertEmails(ctx, q, tenant, nu); err != nil {
			return err
		}
		if err := s.checkUserUnique(ctx, q, tenant, nu.ID, nu.Extra); err != nil {
			return err
		}
		return s.db.mirrorChange(ctx, q, userChange(tenant, nil, nu))
	})
	if err != nil {
		return nil, err
	}
	s.db.users.put(tenant, writtenUser(nu, 1, doc, noGroups))
	return nu, nil
}

// noGroups is the groups column of a user in no group, as both dialects
// write it.
var noGroups = []byte("[]")

// insertEmails indexes u's emails for filters; the doc column keeps them.
// An email with no sub-attribute set is no value for the evaluator, so it
// has no row.
func (s *Store) insertEmails(ctx context.Context, q querier, tenant string, u *scim.User) error {
	rows := emailRows(tenant, u)
	if len(rows) == 0 {
		return nil
	}
	return s.insertRows(ctx, q, insertEmailsHead, "", emailWidth, rows, nil)
}

// insertEmailsHead and emailWidth are the INSERT of emailRows.
const (
	insertEmailsHead = "INSERT INTO scim_user_emails (tenant, user_id, seq, type_fold, value_fold)"
	emailWidth       = 5
)

// storedUser is what an update read of the row it overwrites, before the
// update ran: its email rows, and the key columns userUpdate sets only
// when they change. A nil *storedUser is a row not read.
type storedUser struct {
	emails [][]any // emailRows
	keys   userKeys
}

// userKeys are the values of the columns an UPDATE of scim_users leaves
// out when they are unchanged: the indexed user_name_fold and external_id
// (with user_name, which user_name_fold follows) and manager_fold. SQLite
// rewrites the entry of every index on a column the SET names, changed or
// not; an UPDATE that names none of them, as a PATCH of title or active
// (Entra ID's most frequent) does, writes the table's page alone, which
// on the demo over loopback cut the 99th percentile latency by about a
// third (docs/performance.md).
type userKeys struct{ userName, externalID, manager string }

func keysOf(u *scim.User) userKeys {
	return userKeys{u.UserName, u.ExternalID, managerFold(u)}
}

// storedOf is u as storedUser, read before an update of it.
func storedOf(tenant string, u *scim.User) *storedUser {
	return &storedUser{emails: emailRows(tenant, u), keys: keysOf(u)}
}

// emailRows are the scim_user_emails rows of u, as insertEmails writes
// them; never nil.
func emailRows(tenant string, u *scim.User) [][]any {
	rows := make([][]any, 0, len(u.Emails))
	for i, e := range u.Emails {
		if e != (scim.MultiValue{}) {
			rows = append(rows, []any{tenant, u.ID, i, fold(e.Type), fold(e.Value)})
		}
	}
	return rows
}

// GetUser returns the user with this id in the tenant, or scim.ErrNotFound,
// in one statement. Its Groups are read (in the same statement) only when
// want.Wants("groups").
func (s *Store) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	return s.getUserSharing(ctx, id, want, false)
}

// getUserSharing is GetUser, or GetUserShared when share: then, with a user cache
// and the groups wanted, the read hands out the cache's shared user.
func (s *Store) getUserSharing(ctx context.Context, id string, want scim.Projection, share bool) (_ *scim.User, err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "user", id)
	if err != nil {
		return nil, err
	}
	if share && s.db.users != nil && want.Wants("groups") {
		return s.readUserWith(ctx, s.db.db, tenant, id, s.db.sharingReader(tenant, s.db.users.epoch(tenant)), "")
	}
	return s.readUser(ctx, s.db.db, tenant, id, want.Wants("groups"), "")
}

// readUser reads the user id in one statement, with its groups when
// withGroups; lock is "" or " FOR UPDATE". A read on the pool (lock "")
// keeps what it read in the user cache; a locked one, inside a write
// transaction, does not.
func (s *Store) readUser(ctx context.Context, q querier, tenant, id string, withGroups bool, lock string) (*scim.User, error) {
	rd := s.db.userReader(withGroups)
	if lock == "" {
		rd = s.db.userReaderKeeping(withGroups, tenant)
	}
	return s.readUserWith(ctx, q, tenant, id, rd, lock)
}

// readUserWith is readUser with the reader rd.
func (s *Store) readUserWith(ctx context.Context, q querier, tenant, id string, rd rowReader[*scim.User], lock string) (*scim.User, error) {
	u, err := rd.scan(s.db.row(ctx, q, s.db.byID(userTable, rd.cols, lock), tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	return u, s.db.mapErr(err)
}

// loadUserGroups fills the Groups of users from the memberships index.
func (s *Store) loadUserGroups(ctx context.Context, q querier, tenant string, users []*scim.User) error {
	byID := make(map[string]*scim.User, len(users))
	var folded []any
	for _, u := range users {
		u.Groups = nil
		if k := fold(u.ID); byID[k] == nil {
			byID[k] = u
			folded = append(folded, k)
		}
	}
	return inChunks(folded, func(part []any) error {
		rows, err := s.db.query(ctx, q, `SELECT m.member_fold, g.id, g.display_name
	FROM scim_group_members m JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id
	WHERE m.tenant = ? AND m.member_fold IN (`+placeholders(len(part))+`)
	ORDER BY g.created, g.id`, append([]any{tenant}, part...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var member string
			var ref scim.GroupRef
			if err := rows.Scan(&member, &ref.Value, &ref.Display); err != nil {
				return err
			}
			if u := byID[member]; u != nil {
				ref.Type = "direct"
				u.Groups = append(u.Groups, ref)
			}
		}
		return rows.Err()
	})
}

// ReplaceUser replaces the stored user u.ID with u, keeping its id and
// created time, and returns it with its new version. It returns
// scim.ErrNotFound, scim.ErrConflict (userName taken) or
// scim.ErrVersionMismatch when u.Meta.Version is set and stale.
func (s *Store) ReplaceUser(ctx context.Context, u *scim.User) (_ *scim.User, err error) {
	if u == nil {
		return nil, errors.New("sqlstore: ReplaceUser: nil user")
	}
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "user", u.ID)
	if err != nil {
		return nil, err
	}
	if err := checkUserLengths(u); err != nil {
		return nil, err
	}
	nu := u.Clone()
	var kept *cachedUser
	epoch := s.db.users.epoch(tenant)
	err = s.db.write(ctx, func(q querier) error {
		var old *scim.User
		if s.db.mirror != nil {
			var err error
			if old, err = s.lockUser(ctx, q, tenant, nu.ID); err != nil {
				return err
			}
		}
		var was *storedUser
		if old != nil {
			was = storedOf(tenant, old)
		}
		var err error
		if kept, err = s.writeUser(ctx, q, tenant, nu, nu.Meta.Version, was, nil); err != nil {
			return err
		}
		if err := s.checkUserUnique(ctx, q, tenant, nu.ID, nu.Extra); err != nil {
			return err
		}
		if old == nil {
			return nil
		}
		return s.db.mirrorChange(ctx, q, userChange(tenant, old, nu))
	})
	if err != nil {
		return nil, err
	}
	s.db.users.putWritten(tenant, kept, nu, epoch)
	return nu, nil
}

// writeUser stores u over the row u.ID, checking the stored version against
// version when it is not empty, and fills u's Meta and Groups from the
// database, in one UPDATE ... RETURNING. was is the row as the caller
// read it or found it in the user cache (nil when it has neither): the
// email index is then rewritten only
// when u's rows differ, which a PATCH of another attribute leaves alone,
// and the key columns are set only when they changed (userUpdate).
// seenGroups, when not nil, is the groups column the caller's copy of u
// was read with (from the user cache): the UPDATE then also requires the
// user's groups to be those still. It returns the row written, for the
// user cache once the write has committed.
func (s *Store) writeUser(ctx context.Context, q querier, tenant string, u *scim.User, version string, was *storedUser, seenGroups []byte) (*cachedUser, error) {
	query, args, doc, now, err := s.userUpdate(tenant, u, was)
	if err != nil {
		return nil, err
	}
	if version != "" {
		n, ok := parseVersion(version)
		if !ok {
			return nil, s.missingOrStale(ctx, q, "scim_users", "user", tenant, u.ID)
		}
		query += " AND version = ?"
		args = append(args, n)
	}
	var v int64
	var groups []byte
	if seenGroups != nil {
		// The row matched only with these groups, which the statement's
		// RETURNING would read again.
		query, args = s.db.groupsStill(query, args, seenGroups)
		groups = seenGroups
		err = s.db.queryRow(ctx, q, query+" RETURNING created, version", args, timeCol{&u.Meta.Created}, &v)
	} else {
		err = s.db.queryRow(ctx, q, query+" RETURNING created, version, "+s.db.userGroupsCol("scim_users"), args,
			timeCol{&u.Meta.Created}, &v, &groups)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.missingOrStale(ctx, q, "scim_users", "user", tenant, u.ID)
	}
	if err != nil {
		return nil, err
	}
	if err := userWritten(u, now, v, groups); err != nil {
		return nil, err
	}
	kept := writtenUser(u, v, doc, groups)
	if was != nil && slices.EqualFunc(was.emails, emailRows(tenant, u), slices.Equal) {
		return kept, nil
	}
	if _, err := s.db.exec(ctx, q, "DELETE FROM scim_user_emails WHERE tenant = ? AND user_id = ?", tenant, u.ID); err != nil {
		return nil, err
	}
	return kept, s.insertEmails(ctx, q, tenant, u)
}

// groupsStill adds to an UPDATE of scim_users ... WHERE the condition that
// the user's groups column is still seen (a user cache's copy).
func (db *DB) groupsStill(query string, args []any, seen []byte) (string, []any) {
	return query + " AND " + db.userGroupsText("scim_users") + " = ?", append(args, string(seen))
}

// userUpdate is the UPDATE that stores u over its row (no version check,
// no RETURNING), its arguments, the document it writes and the
// lastModified it sets. The key columns (userKeys) are left out when was,
// the row read before the update, has them as u does.
func (s *Store) userUpdate(tenant string, u *scim.User, was *storedUser) (query string, args []any, doc []byte, now time.Time, err error) {
	u.Password = ""
	doc, err = encodeUser(u)
	if err != nil {
		return "", nil, nil, now, err
	}
	now = s.db.timestamp()
	if was != nil && was.keys == keysOf(u) {
		return `UPDATE scim_users SET active = ?, last_modified = ?, version = version + 1, doc = ?
	WHERE tenant = ? AND id = ?`, []any{u.Active, s.db.timeArg(now), string(doc), tenant, u.ID}, doc, now, nil
	}
	query = `UPDATE scim_users SET user_name = ?, user_name_fold = ?, external_id = ?, manager_fold = ?, active = ?,
	last_modified = ?, version = version + 1, doc = ?
	WHERE tenant = ? AND id = ?`
	args = []any{u.UserName, fold(u.UserName), u.ExternalID, managerFold(u), u.Active,
		s.db.timeArg(now), string(doc), tenant, u.ID}
	return query, args, doc, now, nil
}

// userWritten sets u's Meta and Groups from what its UPDATE returned.
func userWritten(u *scim.User, now time.Time, version int64, groups []byte) (err error) {
	u.Meta.LastModified = now
	u.Meta.Version = strconv.FormatInt(version, 10)
	u.Groups, err = decodeGroupRefs(groups)
	return err
}

// updateUserOptimistic is UpdateUser's first step, without a lock: the
// read on the pool (or the user cache's copy), update, and the write
// conditional on the version read. It returns errRaced when the write
// matched no row (another writer changed or deleted the user since the
// read), having stored nothing.
//
// With the user cache's copy (WithUserCache) there is no read: update runs
// on the copy, and the write is conditional on its version and groups
// too, which holds only when the row is the copy still. When the write
// matches no row, or update or the length check fails, the copy may have
// been stale: a failure is confirmed by one statement that the copy is
// current (and stands, as it would have on a fresh read), and otherwise,
// as a write that matched no row, ends in errRaced.
func (s *Store) updateUserOptimistic(ctx context.Context, tenant, id string, update func(*scim.User) error) (*scim.User, error) {
	var u *scim.User
	var err error
	epoch := s.db.users.epoch(tenant)
	c := s.db.users.get(tenant, id)
	if c != nil {
		if u, err = c.fresh(); err != nil {
			c = nil
		}
	}
	if c == nil {
		if u, err = s.readUser(ctx, s.db.db, tenant, id, true, ""); err != nil {
			return nil, err
		}
	}
	version, was := u.Meta.Version, storedOf(tenant, u)
	err = update(u)
	if err == nil {
		u.ID = id
		err = checkUserLengths(u)
	}
	if err != nil {
		if c != nil && !s.userStill(ctx, tenant, c) {
			return nil, errRaced
		}
		return nil, err
	}
	var seen []byte
	if c != nil {
		seen = c.groups
	}
	emails := emailRows(tenant, u)
	var kept *cachedUser
	switch {
	case slices.EqualFunc(was.emails, emails, slices.Equal):
		// One statement: the UPDATE alone.
		err = s.db.writeStmt(ctx, func(q querier) (err error) {
			kept, err = s.writeUser(ctx, q, tenant, u, version, was, seen)
			return err
		})
	case s.db.dialect == PostgreSQL && len(emails) <= rowsPerInsert:
		kept, err = s.writeUserEmails(ctx, tenant, u, version, was, emails, seen)
	default:
		err = s.db.write(ctx, func(q querier) (err error) {
			kept, err = s.writeUser(ctx, q, tenant, u, version, was, seen)
			return err
		})
	}
	if errors.Is(err, scim.ErrNotFound) || errors.Is(err, scim.ErrVersionMismatch) {
		return nil, errRaced
	}
	if err != nil {
		return nil, err
	}
	s.db.users.putWritten(tenant, kept, u, epoch)
	return u, nil
}

// userStill reports whether the user's row still holds the user cache's
// copy c: its version and its groups, in one statement. An error reading
// is a no.
func (s *Store) userStill(ctx context.Context, tenant string, c *cachedUser) bool {
	var n int
	err := s.db.queryRow(ctx, s.db.db, "SELECT count(*) FROM scim_users u WHERE u.tenant = ? AND u.id = ? AND u.version = ? AND "+s.db.userGroupsText("u")+" = ?",
		[]any{tenant, c.id, c.version, string(c.groups)}, &n)
	return err == nil && n == 1
}

// writeUserEmails is writeUser for a user whose emails changed, in one
// PostgreSQL statement, atomic without a transaction: the conditional
// UPDATE, and in data-modifying WITHs, run only when it matched, the
// email rows no longer there deleted and the others upserted by their
// position. The two touch different rows (a DELETE and an INSERT of one
// key in one statement would race, as PostgreSQL runs its WITHs in no set
// order). A write that matched no row is scim.ErrVersionMismatch.
func (s *Store) writeUserEmails(ctx context.Context, tenant string, u *scim.User, version string, was *storedUser, emails [][]any, seenGroups []byte) (*cachedUser, error) {
	update, args, doc, now, err := s.userUpdate(tenant, u, was)
	if err != nil {
		return nil, err
	}
	n, ok := parseVersion(version)
	if !ok {
		return nil, scim.ErrVersionMismatch
	}
	update += " AND version = ?"
	args = append(args, n)
	var v int64
	// The groups the row matched with (the user cache's copy), or those
	// the RETURNING reads, as in writeUser.
	groups, returned, selected := seenGroups, "", ""
	dest := []any{timeCol{&u.Meta.Created}, &v}
	if seenGroups != nil {
		update, args = s.db.groupsStill(update, args, seenGroups)
	} else {
		returned, selected = ", "+s.db.userGroupsCol("scim_users")+" AS groups", ", groups"
		dest = append(dest, &groups)
	}
	var b strings.Builder
	b.WriteString("WITH u AS (" + update + " RETURNING tenant, id, created, version" + returned +
		"), d AS (DELETE FROM scim_user_emails e USING u WHERE e.tenant = u.tenant AND e.user_id = u.id")
	if len(emails) > 0 {
		b.WriteString(" AND e.seq NOT IN (" + placeholders(len(emails)) + ")")
		for _, r := range emails {
			args = append(args, r[2])
		}
	}
	b.WriteString(")")
	if len(emails) > 0 {
		b.WriteString(", i AS (INSERT INTO scim_user_emails (tenant, user_id, seq, type_fold, value_fold) SELECT v.* FROM (VALUES ")
		for i, r := range emails {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?::text, ?::text, ?::int, ?::text, ?::text)")
			args = append(args, r...)
		}
		b.WriteString(") v WHERE EXISTS (SELECT FROM u) ON CONFLICT (tenant, user_id, seq) DO UPDATE SET type_fold = excluded.type_fold, value_fold = excluded.value_fold)")
	}
	b.WriteString(" SELECT created, version" + selected + " FROM u")
	err = s.db.queryRow(ctx, s.db.db, b.String(), args, dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scim.ErrVersionMismatch
	}
	if err != nil {
		return nil, err
	}
	if err := userWritten(u, now, v, groups); err != nil {
		return nil, err
	}
	return writtenUser(u, v, doc, groups), nil
}

// DeleteUser deletes the user and, in the same transaction, its
// memberships (bumping the version of each group it leaves). It returns
// scim.ErrNotFound for an unknown id.
func (s *Store) DeleteUser(ctx context.Context, id string) (err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "user", id)
	if err != nil {
		return err
	}
	defer s.db.users.drop(tenant, id)
	return s.db.write(ctx, func(q querier) error {
		var old *scim.User
		if s.db.mirror != nil {
			var err error
			if old, err = s.lockUser(ctx, q, tenant, id); err != nil {
				return err
			}
		}
		res, err := s.db.exec(ctx, q, "DELETE FROM scim_users WHERE tenant = ? AND id = ?", tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("user", id)
		}
		if _, err := s.db.exec(ctx, q, "DELETE FROM scim_user_emails WHERE tenant = ? AND user_id = ?", tenant, id); err != nil {
			return err
		}
		if err := s.removeMemberEverywhere(ctx, q, tenant, id); err != nil {
			return err
		}
		if old == nil {
			return nil
		}
		return s.db.mirrorChange(ctx, q, userChange(tenant, old, nil))
	})
}

// UpdateUser is the atomic read-modify-write of scim.UserUpdater, in two
// steps. First without a lock: it reads the user (Groups included) in one
// statement, calls update on it, and stores the result with one UPDATE
// ... WHERE version = <the version read> RETURNING, outside a transaction
// (on PostgreSQL, the email index is rewritten in the same statement when
// the emails changed; on SQLite in a transaction then). When that write
// matches no row, another writer got in between: it then does what it did
// before that first step existed, which is to lock the user's row (SELECT
// ... FOR UPDATE on PostgreSQL; the database write lock on SQLite), call
// update on the loaded user again and store the result, in one
// transaction, so that a writer loses a race at most once and then queues.
// update is thus called once or twice, each time on a fresh copy of the
// stored user, and only the last call's result is stored. With a Mirror
// or declared unique extension attributes, whose checks run in the
// write's transaction, only the locked step runs. An error from update
// stores nothing and is returned as it is. It returns scim.ErrNotFound and
// scim.ErrConflict as ReplaceUser does.
func (s *Store) UpdateUser(ctx context.Context, id string, update func(*scim.User) error) (_ *scim.User, err error) {
	if update == nil {
		return nil, errors.New("sqlstore: UpdateUser: nil update func")
	}
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "user", id)
	if err != nil {
		return nil, err
	}
	if s.db.mirror == nil && !s.db.declaresUserUnique() {
		u, err := s.updateUserOptimistic(ctx, tenant, id, update)
		if !errors.Is(err, errRaced) {
			return u, err
		}
	}
	var out *scim.User
	var kept *cachedUser
	epoch := s.db.users.epoch(tenant)
	err = s.db.write(ctx, func(q querier) error {
		u, err := s.lockUser(ctx, q, tenant, id)
		if err != nil {
			return err
		}
		var old *scim.User
		if s.db.mirror != nil {
			old = u.Clone()
		}
		version, was := u.Meta.Version, storedOf(tenant, u)
		if err := update(u); err != nil {
			return err
		}
		u.ID = id
		if err := checkUserLengths(u); err != nil {
			return err
		}
		if kept, err = s.writeUser(ctx, q, tenant, u, version, was, nil); err != nil {
			return err
		}
		if err := s.checkUserUnique(ctx, q, tenant, id, u.Extra); err != nil {
			return err
		}
		out = u
		if old == nil {
			return nil
		}
		return s.db.mirrorChange(ctx, q, userChange(tenant, old, u))
	})
	if err != nil {
		return nil, err
	}
	s.db.users.putWritten(tenant, kept, out, epoch)
	return out, nil
}

// lockUser reads the user id with its groups inside a write transaction,
// locking its row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
// transaction holds the database's write lock, and the read is one
// statement). On PostgreSQL the groups are read by a statement of their
// own, after the lock is held, as lockGroup reads a group's members: a
// FOR UPDATE that waited returns the row as the writer it waited for
// committed it, but a subquery in its select list reads the snapshot
// taken before the wait, and would miss a group the user joined
// meanwhile, so that the user before the write (update's, the Mirror's
// OldUser) would be one that never was, and its groups would seem changed
// by the write.
func (s *Store) lockUser(ctx context.Context, q querier, tenant, id string) (*scim.User, error) {
	if s.db.dialect != PostgreSQL {
		return s.readUser(ctx, q, tenant, id, true, "")
	}
	u, err := s.readUser(ctx, q, tenant, id, false, " FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if err := s.loadUserGroups(ctx, q, tenant, []*scim.User{u}); err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers returns the tenant's users that match q.Filter, sorted and
// paged. See the package documentation for what the database answers and
// what scim.MatchUser and scim.SortUsers finish.
func (s *Store) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return s.listUsersSharing(ctx, q, false)
}

// listUsersSharing is ListUsers, or ListUsersShared when share: then, with a
// user cache, a page read with its groups in its statement, and nothing
// for a finisher to fill in on the users, hands out the cache's shared
// users.
func (s *Store) listUsersSharing(ctx context.Context, q scim.Query, share bool) (_ scim.Page[*scim.User], err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return scim.Page[*scim.User]{}, err
	}
	sel, fin := s.userSelection(tenant, q)
	// Otherwise the groups are read for the page it keeps.
	withGroups := q.Want.Wants("groups") && s.db.childrenInPage(sel)
	rd := s.db.userReaderKeeping(withGroups, tenant)
	if share && withGroups && s.db.users != nil && fin.prepare == nil {
		rd = s.db.sharingReader(tenant, s.db.users.epoch(tenant))
	}
	users, total, err := list(ctx, s.db, s.db.db, sel, rd, fin)
	if err != nil {
		return scim.Page[*scim.User]{}, err
	}
	if !withGroups {
		if err := s.userGroupsWanted(ctx, tenant, q, users); err != nil {
			return scim.Page[*scim.User]{}, err
		}
	}
	return scim.Page[*scim.User]{Resources: users, TotalResults: total}, nil
}

// userSelection translates a list of users: the SQL selection, and what
// the evaluator finishes when the selection is not exact.
func (s *Store) userSelection(tenant string, q scim.Query) (selection, finisher[*scim.User]) {
	sel := s.db.selectFor(userTable, tenant, q)
	fin := finisher[*scim.User]{
		match: func(u *scim.User) bool { return scim.MatchUser(q.Filter, u) },
		sort:  func(us []*scim.User) { scim.SortUsers(us, q.SortBy, q.Descending) },
	}
	if (!sel.exact && mentions(q.Filter, "groups")) || (!sel.sorted && strings.EqualFold(q.SortBy.Name, "groups")) {
		fin.prepare = func(ctx context.Context, us []*scim.User) error {
			return s.loadUserGroups(ctx, s.db.db, tenant, us)
		}
	}
	return sel, fin
}

// userGroupsWanted fills the listed users' groups when q wants them, and
// clears those the evaluator loaded when it does not.
func (s *Store) userGroupsWanted(ctx context.Context, tenant string, q scim.Query, users []*scim.User) error {
	if q.Want.Wants("groups") {
		return s.loadUserGroups(ctx, s.db.db, tenant, users)
	}
	for _, u := range users {
		u.Groups = nil
	}
	return nil
}
