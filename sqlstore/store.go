package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/scimhost/scim"
)

// Store is the scim.Store of one tenant (see [DB.Tenant]) or of the tenant
// in each call's context (see [DB.ByContext]). Besides scim.Store it
// implements scim.GroupStore, scim.UserUpdater, scim.GroupUpdater,
// scim.MemberPatcher, scim.ReentrantReader and scim.ExtensionDeclarer. A
// Store is safe for concurrent use; it holds no state but its tenant, so
// making one per request is cheap.
//
// Its methods return the scim sentinel errors the contract names, wrapped
// with the id concerned; errors.Is finds them. Passwords are not kept:
// User.Password is ignored. The zero Store is not usable.
type Store struct {
	db          *DB
	tenant      string
	byContext   bool
	fromContext func(context.Context) string
	// orEmpty serves a call whose context names no tenant from the tenant
	// "" instead of failing it (see DB.Store).
	orEmpty bool
}

var (
	_ scim.Store         = (*Store)(nil)
	_ scim.GroupStore    = (*Store)(nil)
	_ scim.UserUpdater   = (*Store)(nil)
	_ scim.GroupUpdater  = (*Store)(nil)
	_ scim.MemberPatcher = (*Store)(nil)

	_ scim.ReentrantReader = (*Store)(nil)
)

// ReentrantReads implements [scim.ReentrantReader]: the update functions
// of UpdateUser and UpdateGroup may read through the store, because a read
// takes a connection of its own from the pool and waits for no writer
// (PostgreSQL's MVCC; SQLite's WAL, where a reader never waits for the
// write lock). It is false when the pool allows one connection only
// (sql.DB.SetMaxOpenConns(1)), which the update holds, so that a read would
// wait for it until the request's context ended; and on an SQLite database
// not in WAL mode (in memory), whose readers fail while a write is under
// way.
func (s *Store) ReentrantReads() bool {
	if s.db.dialect == SQLite && !s.db.wal {
		return false
	}
	return s.db.db.Stats().MaxOpenConnections != 1
}

func (s *Store) tenantOf(ctx context.Context) (string, error) {
	if !s.byContext {
		return s.tenant, nil
	}
	if s.fromContext != nil {
		if t := s.fromContext(ctx); t != "" {
			return t, nil
		}
	}
	if s.orEmpty {
		return "", nil
	}
	return "", ErrNoTenant
}

// scope is tenantOf for a call about the resource id of kind: an id that
// no row can hold is ErrNotFound without a query.
func (s *Store) scope(ctx context.Context, kind, id string) (string, error) {
	tenant, err := s.tenantOf(ctx)
	if err == nil && !s.db.storable(id) {
		err = notFound(kind, id)
	}
	return tenant, err
}

func notFound(kind, id string) error {
	return fmt.Errorf("sqlstore: %s %q: %w", kind, id, scim.ErrNotFound)
}

// parseVersion reads a Meta.Version this store issued. ok is false for a
// version the store cannot have issued, which can only mismatch.
func parseVersion(v string) (n int64, ok bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0
}

// missingOrStale explains an UPDATE ... WHERE version = ? that changed no
// row: the resource is gone (ErrNotFound) or has another version.
func (s *Store) missingOrStale(ctx context.Context, q querier, table, kind, tenant, id string) error {
	var one int
	err := s.db.queryRow(ctx, q, "SELECT 1 FROM "+table+" WHERE tenant = ? AND id = ?", []any{tenant, id}, &one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound(kind, id)
	case err != nil:
		return err
	}
	return fmt.Errorf("sqlstore: %s %q: %w", kind, id, scim.ErrVersionMismatch)
}

// insertRows inserts rows of width columns each with as few statements as
// the drivers' parameter limits allow. head is "INSERT INTO t (cols)", tail
// what follows the VALUES list. When returned is not nil, tail ends with a
// RETURNING clause of one text column, and returned is called with the
// value of every row returned.
// rowsPerInsert caps the rows of one INSERT: 500 rows × 8 columns stays
// far below both databases' limits on a statement's parameters.
const rowsPerInsert = 500

func (s *Store) insertRows(ctx context.Context, q querier, head, tail string, width int, rows [][]any, returned func(string)) error {
	for len(rows) > 0 {
		n := min(len(rows), rowsPerInsert)
		var b strings.Builder
		b.Grow(len(head) + len(tail) + n*(2*width+3) + 8)
		b.WriteString(head)
		args := appendValues(&b, rows[:n], width, make([]any, 0, n*width))
		b.WriteString(tail)
		if err := s.execReturning(ctx, q, b.String(), args, returned); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// appendValues writes " VALUES (?,...),..." for rows of width columns to
// b, and returns args with the rows' values appended.
func appendValues(b *strings.Builder, rows [][]any, width int, args []any) []any {
	b.WriteString(" VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range width {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
		args = append(args, r...)
	}
	return args
}

// execReturning runs query, and when returned is not nil calls it with the
// one text column of each row the query returns.
func (s *Store) execReturning(ctx context.Context, q querier, query string, args []any, returned func(string)) error {
	if returned == nil {
		_, err := s.db.exec(ctx, q, query, args...)
		return err
	}
	rows, err := s.db.query(ctx, q, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		returned(v)
	}
	return s.db.mapErr(rows.Err())
}

// maxInList bounds the values of one IN (...) list, far below both
// databases' limits on bound parameters.
const maxInList = 1000

// inChunks calls f with successive parts of vals, each at most maxInList
// long.
func inChunks[T any](vals []T, f func(part []T) error) error {
	for len(vals) > 0 {
		n := min(len(vals), maxInList)
		if err := f(vals[:n]); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// removeMemberEverywhere removes id from every group of tenant it is a
// direct member of, and bumps those groups' versions, as DeleteUser and
// DeleteGroup require. The groups are locked in id order before any
// membership row is touched, the order PatchMembers and UpdateGroup also
// follow (group row first), so that concurrent deletes and patches queue
// instead of deadlocking. Only the memberships of the groups locked are
// deleted: a membership of another group, added by a writer whose
// transaction was uncommitted when the SELECT took its snapshot, would be
// seen by a DELETE of every membership of id (a later statement, a later
// snapshot) once that writer has committed, and the group would lose a
// member without a new version. Left alone, it is what the add would have
// made after the delete, which the store accepts as it accepts any member
// id (member ids are not checked).
func (s *Store) removeMemberEverywhere(ctx context.Context, q querier, tenant, id string) error {
	lock := ""
	if s.db.dialect == PostgreSQL {
		lock = " FOR UPDATE"
	}
	rows, err := s.db.query(ctx, q, `SELECT g.id FROM scim_groups g WHERE g.tenant = ? AND g.id IN (
	SELECT m.group_id FROM scim_group_members m WHERE m.tenant = ? AND m.member_fold = ?
) ORDER BY g.id`+lock, tenant, tenant, fold(id))
	if err != nil {
		return err
	}
	var groups []any
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			rows.Close()
			return err
		}
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(groups) == 0 {
		return nil
	}
	now := s.db.timeArg(s.db.timestamp())
	err = inChunks(groups, func(part []any) error {
		_, err := s.db.exec(ctx, q, "UPDATE scim_groups SET version = version + 1, last_modified = ? WHERE tenant = ? AND id IN ("+
			placeholders(len(part))+")", append([]any{now, tenant}, part...)...)
		return err
	})
	if err != nil {
		return err
	}
	return inChunks(groups, func(part []any) error {
		_, err := s.db.exec(ctx, q, "DELETE FROM scim_group_members WHERE tenant = ? AND member_fold = ? AND group_id IN ("+
			placeholders(len(part))+")", append([]any{tenant, fold(id)}, part...)...)
		return err
	})
}
