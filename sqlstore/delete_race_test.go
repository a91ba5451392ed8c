package sqlstore

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimhost/scim"
)

// TestDeleteAfterConcurrentAdd: DeleteUser and DeleteGroup remove the
// deleted resource from its groups in removeMemberEverywhere, which locks
// the groups it finds (one SELECT ... FOR UPDATE), bumps their versions
// and deletes the memberships. An add of the same member to another group,
// uncommitted when that SELECT takes its snapshot, is not among the groups
// found; when the add commits before the DELETE of the memberships runs,
// that DELETE (a statement of its own, with a later snapshot) used to see
// the membership and delete it, and the group lost a member without a new
// version: a client holding the group's ETag from the add keeps a copy
// that lists a member the group no longer has, and an UpdateGroup
// conditional on that version passes. Each group's state must be one a
// serial order explains: the member still there with the add's version
// (the add after the delete, which the store accepts for any id, as it
// does not check member ids), or gone with a version after the add's.
func TestDeleteAfterConcurrentAdd(t *testing.T) {
	for _, kind := range []string{"user", "group"} {
		t.Run(kind, func(t *testing.T) { testDeleteAfterConcurrentAdd(t, kind) })
	}
}

func testDeleteAfterConcurrentAdd(t *testing.T, kind string) {
	db := openPostgres(t)
	s := newStore(t, db)
	ctx := t.Context()
	var id string
	del := s.DeleteUser
	if kind == "user" {
		u, err := s.CreateUser(ctx, &scim.User{UserName: "leaving"})
		if err != nil {
			t.Fatal(err)
		}
		id = u.ID
	} else {
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "leaving"})
		if err != nil {
			t.Fatal(err)
		}
		id, del = g.ID, s.DeleteGroup
	}
	// The resource is in one group already, so that the delete has
	// memberships to remove, and is being added to another.
	in, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "in", Members: []scim.Member{{Value: id}}})
	if err != nil {
		t.Fatal(err)
	}
	late, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "late"})
	if err != nil {
		t.Fatal(err)
	}
	// When removeMemberEverywhere's SELECT starts, another transaction
	// holds the lock of group late and has added the member, as
	// PatchMembers does; it commits when the delete runs its next
	// statement.
	var started, committed atomic.Bool
	var commit func(string, ...any) error
	db.onQuery = func(q string) {
		switch {
		case !started.Load() && strings.Contains(q, "FROM scim_groups g WHERE g.tenant = $1 AND g.id IN ("):
			started.Store(true)
			commit, _ = heldTx(t, db, func(ctx context.Context, exec func(string, ...any) error) error {
				if err := exec("SELECT 1 FROM scim_groups WHERE tenant = $1 AND id = $2 FOR UPDATE", s.tenant, late.ID); err != nil {
					return err
				}
				if err := exec(`INSERT INTO scim_group_members (tenant, group_id, member_id, member_fold, member_type, display, ref, seq)
	SELECT tenant, id, $3, $4, '', '', '', member_seq FROM scim_groups WHERE tenant = $1 AND id = $2`, s.tenant, late.ID, id, fold(id)); err != nil {
					return err
				}
				return exec("UPDATE scim_groups SET version = version + 1, member_seq = member_seq + 1 WHERE tenant = $1 AND id = $2", s.tenant, late.ID)
			})
		case started.Load() && !committed.Swap(true):
			if err := commit("COMMIT"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := del(ctx, id); err != nil {
		t.Fatal(err)
	}
	db.onQuery = nil
	if !committed.Load() {
		t.Fatal("the concurrent add never ran")
	}
	if kind == "user" {
		if _, err := s.GetUser(ctx, id, scim.Projection{}); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("GetUser after the delete: %v, want ErrNotFound", err)
		}
	}
	for _, c := range []struct {
		g *scim.Group
		// added is the version the group had once it had the member.
		added int64
	}{{in, 1}, {late, 2}} {
		got, err := s.GetGroup(ctx, c.g.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		member := false
		for _, m := range got.Members {
			member = member || fold(m.Value) == fold(id)
		}
		v, _ := parseVersion(got.Meta.Version)
		switch {
		case member && c.g == in:
			t.Errorf("group %q still has the deleted %s as a member", got.DisplayName, kind)
		case member && v != c.added:
			t.Errorf("group %q has the member with version %d, want %d", got.DisplayName, v, c.added)
		case !member && v <= c.added:
			t.Errorf("group %q lost the member, but its version is still %d, the version it had with the member", got.DisplayName, v)
		}
	}
}
