package sqlstore

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/scimhost/scim"
)

// A read of users with their groups, or of groups with their members, is
// one statement: the child rows come as one more column of each row, a
// correlated subquery that aggregates them into a JSON array (json_agg on
// PostgreSQL, json_group_array on SQLite), in the order the API returns
// them. A GET is then one round trip, and so is a page of a list, instead
// of the row query followed by one for the children.

// userGroupsCol is the column of the groups of the user whose scim_users
// row is ref ("u", or the table's name in an UPDATE's RETURNING): a JSON
// array of [id, displayName, created] triples (created in Unix
// microseconds), which decodeGroupRefs puts in the groups' creation order.
// PostgreSQL aggregates them in that order already (its ORDER BY was not
// measurably slower than none). SQLite aggregates them in the memberships
// index's order: it runs an aggregate's ORDER BY through a temporary
// b-tree it opens for each row, which was a fifth of a GET's statement
// and 7 % of the lookup by userName through the handler
// (BenchmarkSQLFloor, sqlite/userName/impl=cached, benchstat, n = 6). Its
// text, which the user cache compares with a kept copy's (userGroupsText,
// sameRow), is then in its plan's order: a plan that read the memberships
// in another order would only make the comparison fail, which sends the
// read or the write to its path for a changed row. A user's folded id is
// its id: the store issues ids (scim.NewID) as lower-case hexadecimal,
// which folding keeps as they are, so the memberships index (tenant,
// member_fold) serves the subquery.
func (db *DB) userGroupsCol(ref string) string { return db.userGroups(ref, false) }

func userGroupsCol(d Dialect, ref string) string {
	from := ` FROM scim_group_members m JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id
	WHERE m.tenant = ` + ref + `.tenant AND m.member_fold = ` + ref + `.id)`
	if d == PostgreSQL {
		return `(SELECT coalesce(json_agg(json_build_array(g.id, g.display_name, (extract(epoch FROM g.created) * 1000000)::bigint) ORDER BY g.created, g.id), '[]')` + from
	}
	return `(SELECT json_group_array(json_array(g.id, g.display_name, g.created))` + from
}

// userGroupsText is userGroupsCol as text, to compare with a user cache's
// copy of the column: PostgreSQL's is json, which has no equality.
func (db *DB) userGroupsText(ref string) string { return db.userGroups(ref, true) }

// userGroups is userGroupsText(ref) when asText, else userGroupsCol(ref):
// sqlText's for the refs the store uses, built for any other.
func (db *DB) userGroups(ref string, asText bool) string {
	i := 0
	if asText {
		i = 1
	}
	switch t := db.sqlText(); ref {
	case "u":
		return t.userGroupsU[i]
	case "scim_users":
		return t.userGroupsTable[i]
	}
	if asText {
		return userGroupsText(db.dialect, ref)
	}
	return userGroupsCol(db.dialect, ref)
}

func userGroupsText(d Dialect, ref string) string {
	if d == PostgreSQL {
		return userGroupsCol(d, ref) + "::text"
	}
	return userGroupsCol(d, ref)
}

// groupMembersCol is the column of the members of the group whose
// scim_groups row is g: a JSON array of [value, type, display, $ref] in the
// order they were added. It reads every member, as the separate query it
// replaces did; reads that do not want members do not select it (see
// GetGroup).
func groupMembersCol(d Dialect) string {
	const from = ` FROM scim_group_members m WHERE m.tenant = g.tenant AND m.group_id = g.id)`
	if d == PostgreSQL {
		return `(SELECT coalesce(json_agg(json_build_array(m.member_id, m.member_type, m.display, m.ref) ORDER BY m.seq), '[]')` + from
	}
	return `(SELECT json_group_array(json_array(m.member_id, m.member_type, m.display, m.ref) ORDER BY m.seq)` + from
}

// sqlText holds the texts of the aggregate columns and of the column lists
// that carry them, built once for each dialect: the reads build their
// statements from them at every request, where concatenating them anew
// was, on the demo over loopback on PostgreSQL, the largest source of
// allocated bytes after the request's own header parsing
// (docs/performance.md).
type sqlText struct {
	// userGroupsU and userGroupsTable are userGroupsCol and, at [1],
	// userGroupsText, of "u" and of "scim_users".
	userGroupsU, userGroupsTable       [2]string
	groupMembers                       string // groupMembersCol
	usersWithGroups, groupsWithMembers string // userCols and groupCols with them
	// userByID and groupByID are the unlocked reads of one user with its
	// groups, one group with its members (readUserWith, GetGroup).
	userByID, groupByID string
}

func newSQLText(d Dialect) *sqlText {
	t := &sqlText{
		userGroupsU:     [2]string{userGroupsCol(d, "u"), userGroupsText(d, "u")},
		userGroupsTable: [2]string{userGroupsCol(d, "scim_users"), userGroupsText(d, "scim_users")},
		groupMembers:    groupMembersCol(d),
	}
	t.usersWithGroups = userCols + ", " + t.userGroupsU[0]
	t.groupsWithMembers = groupCols + ", " + t.groupMembers
	t.userByID = byIDStatement(userTable, t.usersWithGroups, "")
	t.groupByID = byIDStatement(groupTable, t.groupsWithMembers, "")
	return t
}

var postgresText, sqliteText = newSQLText(PostgreSQL), newSQLText(SQLite)

// byIDStatement is the read of one row of t by id, selecting cols; lock is
// "" or " FOR UPDATE".
func byIDStatement(t *table, cols, lock string) string {
	return "SELECT " + cols + " FROM " + t.from + " WHERE " + t.alias + ".tenant = ? AND " + t.alias + ".id = ?" + lock
}

// byID is byIDStatement, sqlText's when it was built already: the
// unlocked read of a user with its groups or of a group with its members.
func (db *DB) byID(t *table, cols, lock string) string {
	if st := db.sqlText(); lock == "" {
		switch cols {
		case st.usersWithGroups:
			return st.userByID
		case st.groupsWithMembers:
			return st.groupByID
		}
	}
	return byIDStatement(t, cols, lock)
}

func (db *DB) sqlText() *sqlText {
	if db.dialect == PostgreSQL {
		return postgresText
	}
	return sqliteText
}

// decodeGroupRefs reads a userGroupsCol value, in the groups' creation
// order (created, then id, as the other reads' ORDER BY g.created, g.id).
// No group is a nil slice, as a user without groups has always been
// returned.
func decodeGroupRefs(b []byte) ([]scim.GroupRef, error) {
	// created is in Unix microseconds, which a float64 holds exactly.
	var rows [][]any
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("sqlstore: reading a user's groups: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	type group struct {
		ref     scim.GroupRef
		created float64
	}
	groups := make([]group, len(rows))
	for i, r := range rows {
		g := &groups[i]
		ok := len(r) == 3
		if ok {
			var isID, isName bool
			g.ref.Value, isID = r[0].(string)
			g.ref.Display, isName = r[1].(string)
			g.created, ok = r[2].(float64)
			ok = ok && isID && isName
		}
		if !ok {
			return nil, fmt.Errorf("sqlstore: reading a user's groups: %v is not a group", r)
		}
		g.ref.Type = "direct"
	}
	slices.SortFunc(groups, func(a, b group) int {
		if c := cmp.Compare(a.created, b.created); c != 0 {
			return c
		}
		return strings.Compare(a.ref.Value, b.ref.Value)
	})
	refs := make([]scim.GroupRef, len(groups))
	for i, g := range groups {
		refs[i] = g.ref
	}
	return refs, nil
}

// decodeMembers reads a groupMembersCol value. No member is a nil slice.
func decodeMembers(b []byte) ([]scim.Member, error) {
	var rows [][4]string
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("sqlstore: reading a group's members: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ms := make([]scim.Member, len(rows))
	for i, r := range rows {
		ms[i] = scim.Member{Value: r[0], Type: r[1], Display: r[2], Ref: r[3]}
	}
	return ms, nil
}

// rowReader is what a list selects and how it scans each row: the
// resource's columns, and perhaps its children's aggregate.
type rowReader[T any] struct {
	cols string
	// children is set when cols has the children's aggregate, a
	// correlated subquery (see pageStatement).
	children bool
	scan     func(scanner) (T, error)
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// userReader reads users, with their groups when withGroups.
func (db *DB) userReader(withGroups bool) rowReader[*scim.User] {
	return db.userReaderKeeping(withGroups, "")
}

// userReaderKeeping is userReader that keeps the rows it reads with their
// groups in the user cache (WithUserCache), as the tenant's, when there is
// one: only for reads of committed rows, never inside a write transaction,
// whose rows may not commit.
func (db *DB) userReaderKeeping(withGroups bool, tenant string) rowReader[*scim.User] {
	cols := userCols
	if withGroups {
		cols = db.sqlText().usersWithGroups
	}
	keep := withGroups && db.users != nil
	return rowReader[*scim.User]{cols: cols, children: withGroups, scan: func(sc scanner) (*scim.User, error) {
		r := userRow{withGroups: withGroups}
		if err := sc.Scan(r.dest()...); err != nil {
			return nil, err
		}
		if keep {
			db.users.put(tenant, r.cached())
		}
		return r.user()
	}}
}

// sharingReader reads users with their groups for the shared reads
// (GetUserShared, ListUsersShared) of the tenant, which began at the
// tenant's group epoch epoch: each row's user is the one the user cache
// already decoded for that row (userCache.share), or decoded once now and
// kept. What it returns must not be modified.
func (db *DB) sharingReader(tenant string, epoch uint64) rowReader[*scim.User] {
	return rowReader[*scim.User]{cols: db.sqlText().usersWithGroups, children: true, scan: func(sc scanner) (*scim.User, error) {
		// Scanned into the row to keep, not a userRow: a row read
		// unchanged is handed out as the user already decoded.
		c := new(cachedUser)
		if err := sc.Scan(c.dest()...); err != nil {
			return nil, err
		}
		su, err := db.users.share(tenant, c, epoch)
		if err != nil {
			return nil, err
		}
		return su.u, nil
	}}
}

// groupReader reads groups, with their members when withMembers.
func (db *DB) groupReader(withMembers bool) rowReader[*scim.Group] {
	cols := groupCols
	if withMembers {
		cols = db.sqlText().groupsWithMembers
	}
	return rowReader[*scim.Group]{cols: cols, children: withMembers, scan: func(sc scanner) (*scim.Group, error) {
		r := groupRow{withMembers: withMembers}
		if err := sc.Scan(r.dest()...); err != nil {
			return nil, err
		}
		return r.group()
	}}
}
