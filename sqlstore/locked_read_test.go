package sqlstore

import (
	"context"
	"slices"
	"strings"
	"sync"
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

// TestUpdateUserLockedReadAfterWait is TestUpdateGroupLockedReadAfterWait
// for a user's groups: with a Mirror, UpdateUser reads the user under its
// row lock, and the user before the write, which update is called on and
// the Mirror's Change carries as OldUser, must have the groups as
// committed when the lock was granted. Here another writer of the user
// holds the row lock when that read starts, and the user is added to a
// group while the read waits, before that writer commits. On PostgreSQL
// the read was one SELECT ... FOR UPDATE whose groups are a subquery in
// its select list, which reads the snapshot taken before the wait: the
// user came back as the other writer committed it but without the group,
// a state that never was, and an update of the displayName alone was
// reported (OldUser against User, and the handler's event, which compares
// the user update was called on with the result) as changing "groups".
func TestUpdateUserLockedReadAfterWait(t *testing.T) {
	var changes []Change
	var mu sync.Mutex
	db, err := Open(t.Context(), postgresDB(t, testSchema), PostgreSQL, append(testOptions(), WithMirror(func(_ context.Context, _ Tx, c Change) error {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, c)
		return nil
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	ctx := t.Context()
	u, err := s.CreateUser(ctx, &scim.User{UserName: "locked read"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "joined while waiting"})
	if err != nil {
		t.Fatal(err)
	}
	var fired atomic.Bool
	done := make(chan error, 1)
	db.onQuery = func(q string) {
		if !strings.Contains(q, "FROM scim_users u") || !strings.Contains(q, "FOR UPDATE") || fired.Swap(true) {
			return
		}
		exec, pid := heldTx(t, db, func(ctx context.Context, exec func(string, ...any) error) error {
			return exec("UPDATE scim_users SET version = version + 1 WHERE tenant = $1 AND id = $2", s.tenant, u.ID)
		})
		go func() {
			waitBlockedOn(t, db, pid)
			_, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: u.ID}}})
			if err == nil {
				err = exec("COMMIT")
			}
			done <- err
		}()
	}
	var seen []scim.GroupRef
	got, err := s.UpdateUser(ctx, u.ID, func(cur *scim.User) error {
		seen = cur.Groups
		cur.DisplayName = "renamed"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !fired.Load() {
		t.Fatal("the locked read never ran")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got.Groups) != 1 || got.Groups[0].Value != g.ID {
		t.Fatalf("the user after the update has groups %v, want the group %s", got.Groups, g.ID)
	}
	if !slices.Equal(seen, got.Groups) {
		t.Errorf("update was called under the lock with groups %v, without the group joined before the lock was granted (after the update: %v)", seen, got.Groups)
	}
	mu.Lock()
	defer mu.Unlock()
	var updated []Change
	for _, c := range changes {
		if c.Kind == UserUpdated {
			updated = append(updated, c)
		}
	}
	if len(updated) != 1 {
		t.Fatalf("%d UserUpdated changes, want 1", len(updated))
	}
	if c := updated[0]; !slices.Equal(c.OldUser.Groups, c.User.Groups) {
		t.Errorf("the Mirror's Change has OldUser.Groups %v and User.Groups %v: a displayName update reported as a change of groups", c.OldUser.Groups, c.User.Groups)
	}
}
