package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

const groupCols = "g.id, g.display_name, g.external_id, g.created, g.last_modified, g.version, g.doc"

// groupRow is one scim_groups row being scanned: groupCols, and when
// withMembers the groupMembersCol after them.
type groupRow struct {
	g           scim.Group
	version     int64
	doc         []byte
	withMembers bool
	members     []byte
}

func (r *groupRow) dest() []any {
	d := []any{&r.g.ID, &r.g.DisplayName, &r.g.ExternalID,
		timeCol{&r.g.Meta.Created}, timeCol{&r.g.Meta.LastModified}, &r.version, &r.doc}
	if r.withMembers {
		d = append(d, &r.members)
	}
	return d
}

func (r *groupRow) group() (*scim.Group, error) {
	if err := decodeGroup(r.doc, &r.g); err != nil {
		return nil, err
	}
	r.g.Meta.Version = strconv.FormatInt(r.version, 10)
	if r.withMembers {
		var err error
		if r.g.Members, err = decodeMembers(r.members); err != nil {
			return nil, err
		}
	}
	return &r.g, nil
}

// uniqueMembers returns ms without repeated values, keeping the first of
// each: a member is identified by its value compared case-insensitively,
// as the Group schema's members.value is (and as memstore identifies
// members).
func uniqueMembers(ms []scim.Member) []scim.Member {
	if len(ms) < 2 {
		return ms
	}
	seen := make(map[string]bool, len(ms))
	out := ms[:0:0]
	for _, m := range ms {
		if k := fold(m.Value); !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out
}

// insertMembers inserts ms into the group with positions first, first+1,
// ...; members already in the group are left as they are. When returned
// is not nil it is called with the id of each member inserted, which were
// not members before, as the store folds it.
func (s *Store) insertMembers(ctx context.Context, q querier, tenant, groupID string, ms []scim.Member, first int64, returned func(string)) error {
	if len(ms) == 0 {
		return nil
	}
	rows := make([][]any, len(ms))
	for i, m := range ms {
		rows[i] = []any{tenant, groupID, m.Value, fold(m.Value), m.Type, m.Display, m.Ref, first + int64(i)}
	}
	tail := " ON CONFLICT (tenant, group_id, member_fold) DO NOTHING"
	if returned != nil {
		tail += " RETURNING member_fold"
	}
	return s.insertRows(ctx, q,
		"INSERT INTO scim_group_members (tenant, group_id, member_id, member_fold, member_type, display, ref, seq)",
		tail, 8, rows, returned)
}

// loadMembers fills the Members of groups, in the order they were added.
func (s *Store) loadMembers(ctx context.Context, q querier, tenant string, groups []*scim.Group) error {
	byID := make(map[string]*scim.Group, len(groups))
	var ids []any
	for _, g := range groups {
		g.Members = nil
		if _, dup := byID[g.ID]; !dup {
			byID[g.ID] = g
			ids = append(ids, g.ID)
		}
	}
	return inChunks(ids, func(part []any) error {
		rows, err := s.db.query(ctx, q, `SELECT group_id, member_id, member_type, display, ref FROM scim_group_members
	WHERE tenant = ? AND group_id IN (`+placeholders(len(part))+`) ORDER BY group_id, seq`, append([]any{tenant}, part...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var gid string
			var m scim.Member
			if err := rows.Scan(&gid, &m.Value, &m.Type, &m.Display, &m.Ref); err != nil {
				return err
			}
			if g := byID[gid]; g != nil {
				g.Members = append(g.Members, m)
			}
		}
		return rows.Err()
	})
}

// CreateGroup stores a copy of g, members included, under a new random id
// with version "1", and returns it. It returns scim.ErrConflict when the
// tenant has a group whose displayName equals g.DisplayName
// case-insensitively. Repeated member values are stored once.
func (s *Store) CreateGroup(ctx context.Context, g *scim.Group) (_ *scim.Group, err error) {
	if g == nil {
		return nil, errors.New("sqlstore: CreateGroup: nil group")
	}
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkGroupLengths(g); err != nil {
		return nil, err
	}
	ng := g.Clone()
	ng.ID = scim.NewID()
	ng.Members = uniqueMembers(ng.Members)
	if len(ng.Members) > 0 {
		defer s.db.users.groupsChanged(tenant)
	}
	now := s.db.timestamp()
	ng.Meta = scim.Meta{Created: now, LastModified: now, Version: "1"}
	doc, err := encodeGroup(ng)
	if err != nil {
		return nil, err
	}
	err = s.db.write(ctx, func(q querier) error {
		if _, err := s.db.exec(ctx, q, `INSERT INTO scim_groups
	(tenant, id, display_name, display_name_fold, external_id, created, last_modified, version, member_seq, doc)
	VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
			tenant, ng.ID, ng.DisplayName, fold(ng.DisplayName), ng.ExternalID,
			s.db.timeArg(now), s.db.timeArg(now), len(ng.Members), string(doc)); err != nil {
			return err
		}
		if err := s.insertMembers(ctx, q, tenant, ng.ID, ng.Members, 0, nil); err != nil {
			return err
		}
		if err := s.checkGroupUnique(ctx, q, tenant, ng.ID, ng.Extra); err != nil {
			return err
		}
		return s.db.mirrorChange(ctx, q, groupChange(tenant, nil, ng))
	})
	if err != nil {
		return nil, err
	}
	return ng, nil
}

// GetGroup returns the group with this id in the tenant, or
// scim.ErrNotFound, in one statement. When want.Wants("members") is false
// it reads the scim_groups row alone and never touches scim_group_members,
// so its cost does not depend on the group's size; otherwise the members
// are read in the same statement.
func (s *Store) GetGroup(ctx context.Context, id string, want scim.Projection) (_ *scim.Group, err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "group", id)
	if err != nil {
		return nil, err
	}
	return s.readGroup(ctx, s.db.db, tenant, id, want.Wants("members"), "")
}

// readGroup reads the group id in one statement, with its members when
// withMembers; lock is "" or " FOR UPDATE".
func (s *Store) readGroup(ctx context.Context, q querier, tenant, id string, withMembers bool, lock string) (*scim.Group, error) {
	rd := s.db.groupReader(withMembers)
	g, err := rd.scan(s.db.row(ctx, q, s.db.byID(groupTable, rd.cols, lock), tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("group", id)
	}
	return g, s.db.mapErr(err)
}

// ReplaceGroup replaces the stored group g.ID with g, members included,
// keeping its id and created time. It returns scim.ErrNotFound,
// scim.ErrConflict (displayName taken) or scim.ErrVersionMismatch when
// g.Meta.Version is set and stale. Its cost is proportional to the number
// of members; membership changes should go through PatchMembers.
func (s *Store) ReplaceGroup(ctx context.Context, g *scim.Group) (_ *scim.Group, err error) {
	if g == nil {
		return nil, errors.New("sqlstore: ReplaceGroup: nil group")
	}
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "group", g.ID)
	if err != nil {
		return nil, err
	}
	if err := checkGroupLengths(g); err != nil {
		return nil, err
	}
	ng := g.Clone()
	defer s.db.users.groupsChanged(tenant)
	err = s.db.write(ctx, func(q querier) error {
		if s.db.mirror == nil {
			if err := s.writeGroup(ctx, q, tenant, ng, ng.Meta.Version, nil); err != nil {
				return err
			}
			return s.checkGroupUnique(ctx, q, tenant, ng.ID, ng.Extra)
		}
		old, err := s.lockGroup(ctx, q, tenant, ng.ID)
		if err != nil {
			return err
		}
		if err := s.writeGroup(ctx, q, tenant, ng, ng.Meta.Version, old.Members); err != nil {
			return err
		}
		if err := s.checkGroupUnique(ctx, q, tenant, ng.ID, ng.Extra); err != nil {
			return err
		}
		return s.db.mirrorChange(ctx, q, groupChange(tenant, old, ng))
	})
	if err != nil {
		return nil, err
	}
	return ng, nil
}

// writeGroup stores g and its members over the row g.ID, checking the
// stored version against version when it is not empty, and fills g.Meta.
// old is the group's current membership when the caller has read it (nil
// when not): then only the difference is written, when the new list keeps
// the old members in their order and adds new ones at the end, which is
// what an update that adds or removes a few members produces. Otherwise
// every membership row is rewritten.
func (s *Store) writeGroup(ctx context.Context, q querier, tenant string, g *scim.Group, version string, old []scim.Member) error {
	g.Members = uniqueMembers(g.Members)
	diff, incremental := diffMembers(old, g.Members)
	doc, err := encodeGroup(g)
	if err != nil {
		return err
	}
	now := s.db.timestamp()
	seqExpr, seqArg := "member_seq = ?", len(g.Members)
	if incremental {
		seqExpr, seqArg = "member_seq = member_seq + ?", len(diff.added)
	}
	query := `UPDATE scim_groups SET display_name = ?, display_name_fold = ?, external_id = ?, last_modified = ?,
	version = version + 1, ` + seqExpr + `, doc = ?
	WHERE tenant = ? AND id = ?`
	args := []any{g.DisplayName, fold(g.DisplayName), g.ExternalID, s.db.timeArg(now), seqArg, string(doc), tenant, g.ID}
	if version != "" {
		n, ok := parseVersion(version)
		if !ok {
			return s.missingOrStale(ctx, q, "scim_groups", "group", tenant, g.ID)
		}
		query += " AND version = ?"
		args = append(args, n)
	}
	var v, seq int64
	err = s.db.queryRow(ctx, q, query+" RETURNING created, version, member_seq", args, timeCol{&g.Meta.Created}, &v, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return s.missingOrStale(ctx, q, "scim_groups", "group", tenant, g.ID)
	}
	if err != nil {
		return err
	}
	g.Meta.LastModified = now
	g.Meta.Version = strconv.FormatInt(v, 10)
	if !incremental {
		if _, err := s.db.exec(ctx, q, "DELETE FROM scim_group_members WHERE tenant = ? AND group_id = ?", tenant, g.ID); err != nil {
			return err
		}
		return s.insertMembers(ctx, q, tenant, g.ID, g.Members, 0, nil)
	}
	if err := s.deleteMembers(ctx, q, tenant, g.ID, diff.removed, nil); err != nil {
		return err
	}
	for _, m := range diff.changed {
		if _, err := s.db.exec(ctx, q, "UPDATE scim_group_members SET member_id = ?, member_type = ?, display = ?, ref = ? WHERE tenant = ? AND group_id = ? AND member_fold = ?",
			m.Value, m.Type, m.Display, m.Ref, tenant, g.ID, fold(m.Value)); err != nil {
			return err
		}
	}
	return s.insertMembers(ctx, q, tenant, g.ID, diff.added, seq-int64(len(diff.added)), nil)
}

// deleteMembers removes the members whose folded values are folded
// (strings, as query arguments) from the group. When returned is not nil
// it is called with the folded value of each member deleted.
func (s *Store) deleteMembers(ctx context.Context, q querier, tenant, groupID string, folded []any, returned func(string)) error {
	tail := ")"
	if returned != nil {
		tail += " RETURNING member_fold"
	}
	return inChunks(folded, func(part []any) error {
		return s.execReturning(ctx, q, "DELETE FROM scim_group_members WHERE tenant = ? AND group_id = ? AND member_fold IN ("+
			placeholders(len(part))+tail, append([]any{tenant, groupID}, part...), returned)
	})
}

// memberDiff is how a new member list differs from the stored one.
type memberDiff struct {
	removed []any         // folded member values, as query arguments
	changed []scim.Member // kept members whose type, display or $ref changed
	added   []scim.Member // new members, all after the kept ones
}

// diffMembers compares the stored members old (in order; nil when unknown)
// with the new list. ok is false when the new list cannot be written as a
// difference: old is unknown, or a kept member moved, or a new member
// comes before a kept one.
func diffMembers(old, members []scim.Member) (d memberDiff, ok bool) {
	if old == nil {
		return d, false
	}
	at := make(map[string]int, len(old))
	for i, m := range old {
		at[fold(m.Value)] = i
	}
	last := -1
	kept := make(map[string]bool, len(members))
	for _, m := range members {
		k := fold(m.Value)
		i, was := at[k]
		if !was {
			d.added = append(d.added, m)
			continue
		}
		if len(d.added) > 0 || i < last {
			return memberDiff{}, false
		}
		last = i
		kept[k] = true
		if old[i] != m {
			d.changed = append(d.changed, m)
		}
	}
	for _, m := range old {
		if k := fold(m.Value); !kept[k] {
			d.removed = append(d.removed, k)
		}
	}
	return d, true
}

// DeleteGroup deletes the group, its memberships, and its own membership
// in other groups (nested groups). It returns scim.ErrNotFound for an
// unknown id.
func (s *Store) DeleteGroup(ctx context.Context, id string) (err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "group", id)
	if err != nil {
		return err
	}
	defer s.db.users.groupsChanged(tenant)
	return s.db.write(ctx, func(q querier) error {
		if s.db.dialect == PostgreSQL {
			// Lock the group with the groups it is nested in, in id
			// order, as every multi-group write does: two groups nested
			// in each other and deleted at once must not deadlock.
			if _, err := s.db.exec(ctx, q, `SELECT g.id FROM scim_groups g WHERE g.tenant = ? AND (g.id = ? OR g.id IN (
	SELECT m.group_id FROM scim_group_members m WHERE m.tenant = ? AND m.member_fold = ?
)) ORDER BY g.id FOR UPDATE`, tenant, id, tenant, fold(id)); err != nil {
				return err
			}
		}
		var old *scim.Group
		if s.db.mirror != nil {
			var err error
			if old, err = s.lockGroup(ctx, q, tenant, id); err != nil {
				return err
			}
		}
		res, err := s.db.exec(ctx, q, "DELETE FROM scim_groups WHERE tenant = ? AND id = ?", tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("group", id)
		}
		if _, err := s.db.exec(ctx, q, "DELETE FROM scim_group_members WHERE tenant = ? AND group_id = ?", tenant, id); err != nil {
			return err
		}
		if err := s.removeMemberEverywhere(ctx, q, tenant, id); err != nil {
			return err
		}
		if old == nil {
			return nil
		}
		return s.db.mirrorChange(ctx, q, groupChange(tenant, old, nil))
	})
}

// lockGroup reads the group id with its members inside a write
// transaction, locking its row (on PostgreSQL; on SQLite the transaction
// holds the database's write lock, and the read is one statement). On
// PostgreSQL the members are read by a statement of their own, after the
// lock is held: a SELECT ... FOR UPDATE that waited for another
// transaction returns the row as that one committed it, but a subquery in
// its select list reads the snapshot the statement took before the wait,
// so the members read with it would miss what the other transaction
// committed while the version read includes it, and a write conditional
// on that version would store the stale list.
func (s *Store) lockGroup(ctx context.Context, q querier, tenant, id string) (*scim.Group, error) {
	if s.db.dialect != PostgreSQL {
		g, err := s.readGroup(ctx, q, tenant, id, true, "")
		if err != nil {
			return nil, err
		}
		if g.Members == nil {
			g.Members = []scim.Member{}
		}
		return g, nil
	}
	g, err := s.readGroup(ctx, q, tenant, id, false, " FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if err := s.loadMembers(ctx, q, tenant, []*scim.Group{g}); err != nil {
		return nil, err
	}
	if g.Members == nil {
		g.Members = []scim.Member{}
	}
	return g, nil
}

// UpdateGroup is the atomic read-modify-write of scim.GroupUpdater, in
// UpdateUser's two steps: first without a lock, the group read with its
// members on the pool, update called, and the result written conditional
// on the version read (one UPDATE outside a transaction when the members
// are unchanged; with the membership rows' statements in a transaction
// otherwise); when that write matches no row, the group's row locked,
// update called again on the group loaded, and the result (members
// rewritten) stored in one transaction. Every membership change moves
// the group's version, so a write conditional on it also finds the
// members as read. With a Mirror or declared unique extension attributes
// only the locked step runs. An error from update stores nothing and is
// returned as it is.
func (s *Store) UpdateGroup(ctx context.Context, id string, update func(*scim.Group) error) (_ *scim.Group, err error) {
	if update == nil {
		return nil, errors.New("sqlstore: UpdateGroup: nil update func")
	}
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "group", id)
	if err != nil {
		return nil, err
	}
	defer s.db.users.groupsChanged(tenant)
	if s.db.mirror == nil && !s.db.declaresGroupUnique() {
		g, err := s.updateGroupOptimistic(ctx, tenant, id, update)
		if !errors.Is(err, errRaced) {
			return g, err
		}
	}
	var out *scim.Group
	err = s.db.write(ctx, func(q querier) error {
		g, err := s.lockGroup(ctx, q, tenant, id)
		if err != nil {
			return err
		}
		version := g.Meta.Version
		var before *scim.Group
		if s.db.mirror != nil {
			before = g.Clone()
		}
		old := g.Members
		g.Members = slices.Clone(g.Members)
		if err := update(g); err != nil {
			return err
		}
		g.ID = id
		if err := checkGroupLengths(g); err != nil {
			return err
		}
		if err := s.writeGroup(ctx, q, tenant, g, version, old); err != nil {
			return err
		}
		if err := s.checkGroupUnique(ctx, q, tenant, id, g.Extra); err != nil {
			return err
		}
		out = g
		if before == nil {
			return nil
		}
		return s.db.mirrorChange(ctx, q, groupChange(tenant, before, g))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateGroupOptimistic is UpdateGroup's first step, without a lock, as
// updateUserOptimistic is UpdateUser's.
func (s *Store) updateGroupOptimistic(ctx context.Context, tenant, id string, update func(*scim.Group) error) (*scim.Group, error) {
	g, err := s.readGroup(ctx, s.db.db, tenant, id, true, "")
	if err != nil {
		return nil, err
	}
	if g.Members == nil {
		g.Members = []scim.Member{}
	}
	version, old := g.Meta.Version, g.Members
	g.Members = slices.Clone(g.Members)
	if err := update(g); err != nil {
		return nil, err
	}
	g.ID = id
	if err := checkGroupLengths(g); err != nil {
		return nil, err
	}
	run := s.db.write
	if d, ok := diffMembers(old, uniqueMembers(g.Members)); ok && len(d.removed)+len(d.changed)+len(d.added) == 0 {
		run = s.db.writeStmt // the group's UPDATE alone
	}
	err = run(ctx, func(q querier) error { return s.writeGroup(ctx, q, tenant, g, version, old) })
	if errors.Is(err, scim.ErrNotFound) || errors.Is(err, scim.ErrVersionMismatch) {
		return nil, errRaced
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// PatchMembers implements scim.MemberPatcher with work proportional to
// len(p.Add) + len(p.Remove), whatever the group's size, in one
// transaction (on PostgreSQL without a Mirror, a patch that only adds is
// one statement whose data-modifying WITHs run these steps):
//
//  1. read the group's row, locking it (FOR UPDATE on PostgreSQL; the
//     transaction's write lock on SQLite), and compare p.Version with it;
//  2. INSERT the added members ... ON CONFLICT DO NOTHING RETURNING
//     member_fold, which names the members that were not members before;
//  3. DELETE the removed ones ... RETURNING member_fold, which names those
//     that were;
//  4. only when 2 or 3 returned a row, UPDATE the group's version,
//     last_modified and member_seq.
//
// Concurrent patches of one group queue on its row lock, so none is lost,
// and every write of memberships takes the group's lock first, so none
// deadlocks. Adds apply before removes: an id in both is reported in Added
// and in Removed and ends up removed. Members are identified by their
// value compared case-insensitively, as everywhere in this store. A patch that changes nothing (a replayed request) keeps the
// version and LastModified, but a stale p.Version is still
// scim.ErrVersionMismatch.
//
// The group in the result has no Members (loading them would cost what
// this method exists to avoid).
func (s *Store) PatchMembers(ctx context.Context, groupID string, p scim.MemberPatch) (_ scim.MemberPatchResult, err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.scope(ctx, "group", groupID)
	if err != nil {
		return scim.MemberPatchResult{}, err
	}
	if err := checkMemberLengths(p.Add); err != nil {
		return scim.MemberPatchResult{}, err
	}
	add := uniqueMembers(p.Add)
	remove := make([]any, 0, len(p.Remove))
	var removeIDs []string
	seen := make(map[string]bool, len(p.Remove))
	for _, id := range p.Remove {
		// Ids PostgreSQL cannot store, and ids too long to be stored,
		// cannot be members.
		if k := fold(id); !seen[k] && s.db.storable(id) && len(id) <= MaxIndexedBytes {
			seen[k] = true
			remove = append(remove, k)
			removeIDs = append(removeIDs, id)
		}
	}
	// The users whose groups change are kept with their old groups in the
	// user cache: dropped, a PATCH of one of them reads it again rather
	// than try its copy, whose conditional write would fail.
	defer func() {
		for _, m := range add {
			s.db.users.drop(tenant, fold(m.Value))
		}
		for _, k := range remove {
			s.db.users.drop(tenant, k.(string))
		}
	}()
	// Only an add goes through the one statement: its INSERT ... ON
	// CONFLICT checks the index as committed when the group's lock is
	// granted, but a DELETE there would read the statement's snapshot,
	// taken before it waited for that lock, and miss a member that the
	// patch it waited for added.
	if s.db.dialect == PostgreSQL && s.db.mirror == nil && len(add) <= rowsPerInsert && len(remove) == 0 {
		return s.addMembersOne(ctx, tenant, groupID, p.Version, add)
	}
	lock := ""
	if s.db.dialect == PostgreSQL {
		lock = " FOR UPDATE"
	}
	var res scim.MemberPatchResult
	err = s.db.write(ctx, func(q querier) error {
		res = scim.MemberPatchResult{}
		var r groupRow
		var seq int64
		err := s.db.queryRow(ctx, q, "SELECT "+groupCols+", g.member_seq FROM scim_groups g WHERE g.tenant = ? AND g.id = ?"+lock,
			[]any{tenant, groupID}, append(r.dest(), &seq)...)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("group", groupID)
		}
		if err != nil {
			return err
		}
		if p.Version != "" {
			if n, ok := parseVersion(p.Version); !ok || n != r.version {
				return fmt.Errorf("sqlstore: group %q: version %q, stored %d: %w", groupID, p.Version, r.version, scim.ErrVersionMismatch)
			}
		}
		added := map[string]bool{}
		if err := s.insertMembers(ctx, q, tenant, groupID, add, seq, func(id string) { added[id] = true }); err != nil {
			return err
		}
		removed := map[string]bool{}
		if err := s.deleteMembers(ctx, q, tenant, groupID, remove, func(id string) { removed[id] = true }); err != nil {
			return err
		}
		// Report in the order given, whatever order RETURNING used.
		for _, m := range add {
			if added[fold(m.Value)] {
				res.Added = append(res.Added, m.Value)
			}
		}
		for _, id := range removeIDs {
			if removed[fold(id)] {
				res.Removed = append(res.Removed, id)
			}
		}
		if len(res.Added) == 0 && len(res.Removed) == 0 {
			res.Group, err = r.group()
			return err
		}
		var before *scim.Group
		if s.db.mirror != nil {
			b := r.g // the row as read, before the version moves on
			b.Meta.Version = strconv.FormatInt(r.version, 10)
			before = &b
		}
		// Positions seq .. seq+len(add)-1 may now be taken.
		bump := 0
		if len(res.Added) > 0 {
			bump = len(add)
		}
		err = s.db.queryRow(ctx, q, `UPDATE scim_groups SET version = version + 1, last_modified = ?, member_seq = member_seq + ?
	WHERE tenant = ? AND id = ? RETURNING last_modified, version`,
			[]any{s.db.timeArg(s.db.timestamp()), bump, tenant, groupID}, timeCol{&r.g.Meta.LastModified}, &r.version)
		if err != nil {
			return err
		}
		if res.Group, err = r.group(); err != nil || before == nil {
			return err
		}
		return s.db.mirrorChange(ctx, q, Change{Kind: MembersChanged, Tenant: tenant, ID: groupID,
			OldGroup: before, Group: res.Group.Clone(), Added: res.Added, Removed: res.Removed})
	})
	if err != nil {
		return scim.MemberPatchResult{}, err
	}
	return res, nil
}

// addMembersOne is PatchMembers on PostgreSQL without a Mirror for a patch
// that only adds, in one statement, which is atomic by itself and so needs
// no BEGIN and COMMIT: the group's row locked (FOR UPDATE) and read in a
// WITH, then, in data-modifying WITHs that run only when the version
// matches, the INSERT ... ON CONFLICT DO NOTHING RETURNING of the added
// members and the UPDATE of the group's version, lastModified and
// member_seq, only when the INSERT returned a row. A remove takes the
// transaction (see PatchMembers why).
func (s *Store) addMembersOne(ctx context.Context, tenant, groupID, version string, add []scim.Member) (scim.MemberPatchResult, error) {
	var b strings.Builder
	args := []any{tenant, groupID}
	b.WriteString("WITH g AS (SELECT " + groupCols + ", g.member_seq FROM scim_groups g WHERE g.tenant = ? AND g.id = ? FOR UPDATE), ok AS (SELECT member_seq FROM g")
	if version != "" {
		n, _ := parseVersion(version) // 0 when the store cannot have issued it: no row's version
		b.WriteString(" WHERE version = ?")
		args = append(args, n)
	}
	b.WriteString(")")
	if len(add) > 0 {
		b.WriteString(`, ins AS (INSERT INTO scim_group_members (tenant, group_id, member_id, member_fold, member_type, display, ref, seq)
	SELECT v.t, v.gid, v.mid, v.mf, v.mt, v.d, v.r, ok.member_seq + v.i FROM ok, (VALUES `)
		for i, m := range add {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint)")
			args = append(args, tenant, groupID, m.Value, fold(m.Value), m.Type, m.Display, m.Ref, i)
		}
		b.WriteString(") v (t, gid, mid, mf, mt, d, r, i) ON CONFLICT (tenant, group_id, member_fold) DO NOTHING RETURNING member_fold)")
	} else {
		// A patch of nothing: the group, read as a no-op's answer.
		b.WriteString(", ins AS (SELECT ''::text AS member_fold WHERE false)")
	}
	b.WriteString(`, up AS (UPDATE scim_groups SET version = version + 1, last_modified = ?, member_seq = member_seq + ?
	WHERE tenant = ? AND id = ? AND EXISTS (SELECT FROM ins) RETURNING last_modified, version)
SELECT ` + groupCols + `, (SELECT json_agg(member_fold) FROM ins), (SELECT last_modified FROM up), (SELECT version FROM up) FROM g`)
	args = append(args, s.db.timeArg(s.db.timestamp()), len(add), tenant, groupID)
	var r groupRow
	var ins []byte
	var lastModified *time.Time
	var newVersion *int64
	err := s.db.queryRow(ctx, s.db.db, b.String(), args, append(r.dest(), &ins, &lastModified, &newVersion)...)
	if errors.Is(err, sql.ErrNoRows) {
		return scim.MemberPatchResult{}, notFound("group", groupID)
	}
	if err != nil {
		return scim.MemberPatchResult{}, err
	}
	if version != "" {
		if n, ok := parseVersion(version); !ok || n != r.version {
			return scim.MemberPatchResult{}, fmt.Errorf("sqlstore: group %q: version %q, stored %d: %w", groupID, version, r.version, scim.ErrVersionMismatch)
		}
	}
	var inserted []string
	if ins != nil {
		if err := json.Unmarshal(ins, &inserted); err != nil {
			return scim.MemberPatchResult{}, err
		}
	}
	added := make(map[string]bool, len(inserted))
	for _, f := range inserted {
		added[f] = true
	}
	var res scim.MemberPatchResult
	// Reported in the order given, whatever order RETURNING used.
	for _, m := range add {
		if added[fold(m.Value)] {
			res.Added = append(res.Added, m.Value)
		}
	}
	if lastModified != nil && newVersion != nil {
		r.g.Meta.LastModified = lastModified.UTC()
		r.version = *newVersion
	}
	res.Group, err = r.group()
	if err != nil {
		return scim.MemberPatchResult{}, err
	}
	return res, nil
}

// ListGroups returns the tenant's groups that match q.Filter, sorted and
// paged, with their members only when q.Want.Wants("members") (then the
// page and the members are read from one snapshot). See the package
// documentation for what the database answers and what scim.MatchGroup
// and scim.SortGroups finish.
func (s *Store) ListGroups(ctx context.Context, q scim.Query) (_ scim.Page[*scim.Group], err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return scim.Page[*scim.Group]{}, err
	}
	sel, fin := s.groupSelection(tenant, q)
	var page scim.Page[*scim.Group]
	err = s.listGroupsWith(ctx, tenant, q, sel, func(rq querier, rd rowReader[*scim.Group]) error {
		var err error
		page.Resources, page.TotalResults, err = list(ctx, s.db, rq, sel, rd, fin)
		return err
	}, func() []*scim.Group { return page.Resources })
	if err != nil {
		return scim.Page[*scim.Group]{}, err
	}
	return page, nil
}

// groupSelection translates a list of groups: the SQL selection, and what
// the evaluator finishes when the selection is not exact.
func (s *Store) groupSelection(tenant string, q scim.Query) (selection, finisher[*scim.Group]) {
	sel := s.db.selectFor(groupTable, tenant, q)
	fin := finisher[*scim.Group]{
		match: func(g *scim.Group) bool { return scim.MatchGroup(q.Filter, g) },
		sort:  func(gs []*scim.Group) { scim.SortGroups(gs, q.SortBy, q.Descending) },
	}
	if (!sel.exact && mentions(q.Filter, "members")) || (!sel.sorted && strings.EqualFold(q.SortBy.Name, "members")) {
		fin.prepare = func(ctx context.Context, gs []*scim.Group) error {
			return s.loadMembers(ctx, s.db.db, tenant, gs)
		}
	}
	return sel, fin
}

// listGroupsWith runs a listing of groups with the reader of its rows.
// When q wants members, a page the database selects alone (see
// childrenInPage) reads them in its own statement; otherwise the listing
// runs in one read with the loading of the listed groups' members, so that
// the members are those of the groups as listed. When q does not want
// them, it clears the members the evaluator loaded.
func (s *Store) listGroupsWith(ctx context.Context, tenant string, q scim.Query, sel selection, run func(querier, rowReader[*scim.Group]) error, listed func() []*scim.Group) error {
	switch {
	case !q.Want.Wants("members"):
		if err := run(s.db.db, s.db.groupReader(false)); err != nil {
			return err
		}
		for _, g := range listed() {
			g.Members = nil
		}
		return nil
	case s.db.childrenInPage(sel):
		return run(s.db.db, s.db.groupReader(true))
	}
	return s.db.read(ctx, func(rq querier) error {
		if err := run(rq, s.db.groupReader(false)); err != nil {
			return err
		}
		return s.loadMembers(ctx, rq, tenant, listed())
	})
}
