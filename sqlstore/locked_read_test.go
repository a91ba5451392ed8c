package sqlstore

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimhost/scim"
)

// TestUpdateGroupLockedReadAfterWait: UpdateUser's and UpdateGroup's
// second step calls update on the row as locked, so a transaction that
// held the group's lock when that step began, and committed a member
// while the step waited, must be seen by update and kept. On PostgreSQL
// the locked read is one SELECT ... FOR UPDATE whose members are a
// subquery in its select list: after the wait, FOR UPDATE hands back the
// row as committed (the new version), but the subquery reads the
// statement's snapshot, taken before the wait, and misses the member.
// An update that moves a member (a PATCH removing and adding it again)
// then rewrites every membership row from that list, and the member the
// other transaction committed is lost although the version check passed.
// Without a Mirror the locked step follows an unlocked one that lost to
// a third writer; with one, every UpdateGroup takes it, so two writers
// are enough.
func TestUpdateGroupLockedReadAfterWait(t *testing.T) {
	t.Run("after the unlocked step lost", func(t *testing.T) { testLockedReadAfterWait(t, openPostgres(t), false) })
	t.Run("with a Mirror", func(t *testing.T) {
		db, err := Open(t.Context(), postgresDB(t, testSchema), PostgreSQL, append(testOptions(), WithMirror(func(context.Context, Tx, Change) error { return nil }))...)
		if err != nil {
			t.Fatal(err)
		}
		testLockedReadAfterWait(t, db, true)
	})
}

func testLockedReadAfterWait(t *testing.T, db *DB, mirrored bool) {
	s := newStore(t, db)
	ctx := t.Context()
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "locked read", Members: []scim.Member{{Value: "x"}, {Value: "y"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Armed once the first call of update has made the unlocked step
	// lose: the next locking read of the group is the second step's, and
	// another transaction then holds the lock, adds member "late" and
	// commits once that read waits for it.
	var armed, fired atomic.Bool
	done := make(chan struct{})
	db.onQuery = func(q string) {
		if !armed.Load() || !strings.Contains(q, "FROM scim_groups g") || !strings.Contains(q, "FOR UPDATE") || fired.Swap(true) {
			return
		}
		commit := heldGroupTx(t, db, s.tenant, g.ID, func(ctx context.Context, exec func(string, ...any) error) error {
			if err := exec(`INSERT INTO scim_group_members (tenant, group_id, member_id, member_fold, member_type, display, ref, seq)
	SELECT tenant, id, 'late', $3, '', '', '', member_seq FROM scim_groups WHERE tenant = $1 AND id = $2`, s.tenant, g.ID, fold("late")); err != nil {
				return err
			}
			return exec("UPDATE scim_groups SET version = version + 1, member_seq = member_seq + 1 WHERE tenant = $1 AND id = $2", s.tenant, g.ID)
		})
		go func() { defer close(done); commit() }()
	}
	armed.Store(mirrored) // with a Mirror the first read is the locked one
	calls := 0
	var seen []string
	_, err = s.UpdateGroup(ctx, g.ID, func(cur *scim.Group) error {
		calls++
		if calls == 1 && !mirrored {
			// Another writer gets in between the unlocked read and its
			// conditional write.
			if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: "z"}}}); err != nil {
				return err
			}
			armed.Store(true)
			return nil
		}
		seen = nil
		for _, m := range cur.Members {
			seen = append(seen, m.Value)
		}
		// remove members[value eq "x"], then add x: x moves to the end.
		i := slices.IndexFunc(cur.Members, func(m scim.Member) bool { return m.Value == "x" })
		x := cur.Members[i]
		cur.Members = append(slices.Delete(cur.Members, i, i+1), x)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !fired.Load() {
		t.Fatal("the locked step's read never ran")
	}
	<-done
	if !slices.Contains(seen, "late") {
		t.Errorf("update was called under the lock with members %v, without the member committed before the lock was granted", seen)
	}
	got, err := s.GetGroup(ctx, g.ID, scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, m := range got.Members {
		stored = append(stored, m.Value)
	}
	if !slices.Contains(stored, "late") {
		t.Errorf("stored members %v (version %s): the member another transaction committed is lost", stored, got.Meta.Version)
	}
}
