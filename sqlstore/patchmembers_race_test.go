package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// heldGroupTx begins a transaction on PostgreSQL that locks the group's
// row as PatchMembers' transaction does, and runs stmts in it; commit
// ends it once another backend waits on it.
func heldGroupTx(t *testing.T, db *DB, tenant, groupID string, stmts ...func(ctx context.Context, exec func(string, ...any) error) error) (commit func()) {
	t.Helper()
	lock := func(ctx context.Context, exec func(string, ...any) error) error {
		return exec("SELECT 1 FROM scim_groups WHERE tenant = $1 AND id = $2 FOR UPDATE", tenant, groupID)
	}
	exec, pid := heldTx(t, db, append([]func(context.Context, func(string, ...any) error) error{lock}, stmts...)...)
	return func() {
		t.Helper()
		waitBlockedOn(t, db, pid)
		if err := exec("COMMIT"); err != nil {
			t.Fatal(err)
		}
	}
}

// heldTx begins a transaction on PostgreSQL, on a connection of its own,
// and runs stmts in it. It returns exec, which runs a statement in it
// (COMMIT ends it), and its backend's pid.
func heldTx(t *testing.T, db *DB, stmts ...func(ctx context.Context, exec func(string, ...any) error) error) (exec func(string, ...any) error, pid int) {
	t.Helper()
	ctx := t.Context()
	conn, err := db.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	exec = func(q string, args ...any) error { _, err := conn.ExecContext(ctx, q, args...); return err }
	if err := exec("BEGIN"); err != nil {
		t.Fatal(err)
	}
	for _, f := range stmts {
		if err := f(ctx, exec); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return exec, pid
}

// waitBlockedOn returns once another backend is blocked behind the
// transaction of backend pid: that backend's statement has then taken its
// snapshot.
func waitBlockedOn(t *testing.T, db *DB, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := db.db.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no backend waited on the held transaction")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// patchMembersBehind runs PatchMembers with p while a transaction holding
// the group's lock runs stmts, and returns its result once that
// transaction has committed.
func patchMembersBehind(t *testing.T, db *DB, s *Store, groupID string, p scim.MemberPatch, stmts ...func(ctx context.Context, exec func(string, ...any) error) error) scim.MemberPatchResult {
	t.Helper()
	commit := heldGroupTx(t, db, s.tenant, groupID, stmts...)
	type result struct {
		res scim.MemberPatchResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.PatchMembers(t.Context(), groupID, p)
		done <- result{res, err}
	}()
	commit()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.res
}

// TestPatchMembersRemoveAfterConcurrentAdd: a remove of a member that a
// concurrent transaction adds and commits while the remove waits for the
// group's lock runs after that add, so the member must end up removed
// (and reported removed), as the transaction of BEGIN, SELECT ... FOR
// UPDATE, DELETE does, whose DELETE reads after the lock.
func TestPatchMembersRemoveAfterConcurrentAdd(t *testing.T) {
	db := openPostgres(t)
	s := newStore(t, db)
	ctx := t.Context()
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "held"})
	if err != nil {
		t.Fatal(err)
	}
	res := patchMembersBehind(t, db, s, g.ID, scim.MemberPatch{Remove: []string{"late"}}, func(ctx context.Context, exec func(string, ...any) error) error {
		if err := exec(`INSERT INTO scim_group_members (tenant, group_id, member_id, member_fold, member_type, display, ref, seq)
	VALUES ($1, $2, 'late', $3, '', '', '', 0)`, s.tenant, g.ID, fold("late")); err != nil {
			return err
		}
		return exec("UPDATE scim_groups SET version = version + 1, member_seq = member_seq + 1 WHERE tenant = $1 AND id = $2", s.tenant, g.ID)
	})
	if n := memberCount(t, s, g.ID); n != 0 || len(res.Removed) != 1 {
		t.Errorf("after the remove that waited on the add: %d members stored, removed reported %v; want 0 and [late]", n, res.Removed)
	}
}

// TestPatchMembersAddAfterConcurrentRemove is the other way round: an add
// of a member that a concurrent transaction removes while the add waits
// must end up stored.
func TestPatchMembersAddAfterConcurrentRemove(t *testing.T) {
	db := openPostgres(t)
	s := newStore(t, db)
	ctx := t.Context()
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "held", Members: []scim.Member{{Value: "early"}}})
	if err != nil {
		t.Fatal(err)
	}
	res := patchMembersBehind(t, db, s, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: "early"}}}, func(ctx context.Context, exec func(string, ...any) error) error {
		if err := exec(`DELETE FROM scim_group_members WHERE tenant = $1 AND group_id = $2`, s.tenant, g.ID); err != nil {
			return err
		}
		return exec("UPDATE scim_groups SET version = version + 1 WHERE tenant = $1 AND id = $2", s.tenant, g.ID)
	})
	if n := memberCount(t, s, g.ID); n != 1 || len(res.Added) != 1 {
		t.Errorf("after the add that waited on the remove: %d members stored, added reported %v; want 1 and [early]", n, res.Added)
	}
}
