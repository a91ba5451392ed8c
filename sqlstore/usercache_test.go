package sqlstore

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scimhost/scim"
)

// usersStatements returns the statements of qs about scim_users.
func usersStatements(qs []string) []string { return touching(qs, "scim_users") }

// TestUserCacheSkipsTheRead: with a user cache, a PATCH of a user the
// store created, read or wrote is its UPDATE alone, and returns what a
// read would have given; without one it reads first.
func TestUserCacheSkipsTheRead(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			WithUserCache(10)(db)
			s := newStore(t, db)
			ctx := t.Context()
			u, err := s.CreateUser(ctx, &scim.User{UserName: "kept", Title: "a", Emails: []scim.MultiValue{{Value: "k@example.com"}}})
			if err != nil {
				t.Fatal(err)
			}
			g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "team", Members: []scim.Member{{Value: u.ID}}})
			if err != nil {
				t.Fatal(err)
			}
			// Two more groups, so that the groups
			// column's order (the memberships index's, see userGroupsCol)
			// is in the text the UPDATE compares.
			var others []string
			for _, name := range []string{"x", "y"} {
				o, err := s.CreateGroup(ctx, &scim.Group{DisplayName: name, Members: []scim.Member{{Value: u.ID}}})
				if err != nil {
					t.Fatal(err)
				}
				others = append(others, o.ID)
			}
			// The groups' creates changed the user's groups: its copy,
			// kept before, is stale, and the PATCH must still see them.
			log := logQueries(db)
			for i, title := range []string{"b", "c", "d"} {
				var seen []scim.GroupRef
				got, err := s.UpdateUser(ctx, u.ID, func(cur *scim.User) error {
					seen = cur.Groups
					cur.Title = title
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if got.Title != title || len(got.Groups) != 3 || got.Groups[0].Value != g.ID || got.Groups[2].Value != others[1] || len(seen) != 3 {
					t.Fatalf("PATCH %d: title %q, groups %v, the update saw %v", i, got.Title, got.Groups, seen)
				}
				qs := usersStatements(log.take())
				if i > 0 && (len(qs) != 1 || !strings.HasPrefix(qs[0], "UPDATE scim_users")) {
					t.Errorf("PATCH %d of a kept user ran %q, want its UPDATE alone", i, qs)
				}
			}
			// A read keeps the user too.
			db.users.clear()
			if _, err := s.GetUser(ctx, u.ID, scim.Projection{}); err != nil {
				t.Fatal(err)
			}
			log.take()
			got, err := s.UpdateUser(ctx, u.ID, func(cur *scim.User) error {
				cur.Emails = append(cur.Emails, scim.MultiValue{Value: "second@example.com"})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if qs := usersStatements(log.take()); slices.ContainsFunc(qs, func(q string) bool { return strings.HasPrefix(q, "SELECT") }) {
				t.Errorf("PATCH after a read ran %q, want no read", qs)
			}
			fresh, err := s.GetUser(ctx, u.ID, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Emails) != 2 || got.Meta.Version != fresh.Meta.Version || got.Title != "d" || len(fresh.Emails) != 2 {
				t.Errorf("PATCH returned emails %v version %s title %q; stored %v version %s", got.Emails, got.Meta.Version, got.Title, fresh.Emails, fresh.Meta.Version)
			}
			p, err := s.listUsers(ctx, scim.Query{Count: 10}, &scim.AttrExpr{Path: scim.AttrPath{Name: "emails"}, Op: scim.OpEq, Value: str("second@example.com")})
			if err != nil || len(p.Resources) != 1 {
				t.Errorf("emails eq the added address: %d users (%v)", len(p.Resources), err)
			}
		})
	}
}

// TestUserCacheStaleAcrossProcesses: two DBs over one database, each with
// a user cache of its own, as two processes would be. The other's writes
// make one's copies stale: a PATCH on a stale copy stores nothing from
// it, and runs again on the stored user, so that neither process loses
// an update, a membership the other added is seen, and an update that
// fails on a stale copy is tried on the stored user rather than answered.
func TestUserCacheStaleAcrossProcesses(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		sa, sb := twoProcesses(t, db, 10, 10)
		ctx := t.Context()
		u, err := sa.CreateUser(ctx, &scim.User{UserName: "shared", Title: "0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.GetUser(ctx, u.ID, scim.Projection{}); err != nil {
			t.Fatal(err)
		}
		// b changes the title; a's copy is stale.
		if _, err := sb.UpdateUser(ctx, u.ID, func(cur *scim.User) error { cur.Title = "b"; return nil }); err != nil {
			t.Fatal(err)
		}
		calls := 0
		got, err := sa.UpdateUser(ctx, u.ID, func(cur *scim.User) error {
			calls++
			cur.DisplayName = "a"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 || got.Title != "b" || got.DisplayName != "a" || got.Meta.Version != "3" {
			t.Fatalf("after %d calls: title %q, displayName %q, version %s", calls, got.Title, got.DisplayName, got.Meta.Version)
		}

		// b adds the user to a group; a's copy (version 3) has no
		// groups. The version alone would match.
		g, err := sb.CreateGroup(ctx, &scim.Group{DisplayName: "g"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: u.ID}}}); err != nil {
			t.Fatal(err)
		}
		var seen [][]scim.GroupRef
		got, err = sa.UpdateUser(ctx, u.ID, func(cur *scim.User) error {
			seen = append(seen, cur.Groups)
			cur.Title = "a"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || len(seen[1]) != 1 || len(got.Groups) != 1 || got.Meta.Version != "4" {
			t.Fatalf("the update saw groups %v; returned %v, version %s", seen, got.Groups, got.Meta.Version)
		}

		// An update that fails on a's stale copy (b wrote since) runs
		// again on the stored user; one that fails on a current copy
		// fails at once.
		if _, err := sb.UpdateUser(ctx, u.ID, func(cur *scim.User) error { cur.Title = "ready"; return nil }); err != nil {
			t.Fatal(err)
		}
		errNotReady := errors.New("not ready")
		calls = 0
		got, err = sa.UpdateUser(ctx, u.ID, func(cur *scim.User) error {
			calls++
			if cur.Title != "ready" {
				return errNotReady
			}
			cur.NickName = "n"
			return nil
		})
		if err != nil || calls != 2 || got.NickName != "n" {
			t.Fatalf("after %d calls: %v, %+v", calls, err, got)
		}
		calls = 0
		_, err = sa.UpdateUser(ctx, u.ID, func(cur *scim.User) error { calls++; return errNotReady })
		if !errors.Is(err, errNotReady) || calls != 1 {
			t.Fatalf("after %d calls: %v, want errNotReady after one", calls, err)
		}

		// b deletes the user: a's PATCH is not found.
		if err := sb.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := sa.UpdateUser(ctx, u.ID, func(cur *scim.User) error { cur.Title = "gone"; return nil }); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("PATCH of a user another process deleted: %v", err)
		}
	})
}

// TestUserCacheBounded: the cache keeps at most its size, and a later
// version is never replaced by an earlier one.
func TestUserCacheBounded(t *testing.T) {
	uc := &userCache{max: 2, m: map[userKey]*cachedUser{}}
	for _, id := range []string{"a", "b", "c"} {
		uc.put("t", &cachedUser{id: id, version: 1})
	}
	if len(uc.m) != 2 || uc.get("t", "c") == nil {
		t.Fatalf("kept %v", uc.m)
	}
	uc.put("t", &cachedUser{id: "c", version: 3})
	uc.put("t", &cachedUser{id: "c", version: 2})
	if c := uc.get("t", "c"); c.version != 3 {
		t.Errorf("version %d kept, want 3", c.version)
	}
	if uc.get("u", "c") != nil {
		t.Error("another tenant's user was found")
	}
}
