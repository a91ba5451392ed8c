package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/scimhost/scim"
)

// run calls f(i) for i in [0, n) from n goroutines started together and
// returns the errors by i.
func run(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = f(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func memberCount(t *testing.T, s *Store, id string) int {
	t.Helper()
	g, err := s.GetGroup(t.Context(), id, scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range g.Members {
		if seen[m.Value] {
			t.Errorf("member %s listed twice", m.Value)
		}
		seen[m.Value] = true
	}
	return len(g.Members)
}

func TestConcurrentPatchMembers(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		g, err := s.CreateGroup(t.Context(), &scim.Group{DisplayName: "crowd"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 200
		errs := run(n, func(i int) error {
			_, err := s.PatchMembers(t.Context(), g.ID, scim.MemberPatch{Add: []scim.Member{{Value: fmt.Sprintf("user-%03d", i)}}})
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := memberCount(t, s, g.ID); got != n {
			t.Errorf("%d members after %d concurrent adds", got, n)
		}
		got, err := s.GetGroup(t.Context(), g.ID, scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Meta.Version != fmt.Sprint(n+1) {
			t.Errorf("version %s after %d patches, want %d", got.Meta.Version, n, n+1)
		}

		// Concurrent removes and adds of overlapping sets, as Entra sends
		// when it reassigns users, finish without deadlock and agree.
		// Every id is in two patches, and exactly one of them may
		// report it as changed.
		var mu sync.Mutex
		added, removed := map[string]int{}, map[string]int{}
		errs = run(n, func(i int) error {
			res, err := s.PatchMembers(t.Context(), g.ID, scim.MemberPatch{
				Add:    []scim.Member{{Value: fmt.Sprintf("new-%03d", i)}, {Value: fmt.Sprintf("new-%03d", (i+1)%n)}},
				Remove: []string{fmt.Sprintf("user-%03d", i), fmt.Sprintf("user-%03d", (i+7)%n)},
			})
			mu.Lock()
			defer mu.Unlock()
			for _, id := range res.Added {
				added[id]++
			}
			for _, id := range res.Removed {
				removed[id]++
			}
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := memberCount(t, s, g.ID); got != n {
			t.Errorf("%d members after the swap, want %d", got, n)
		}
		for i := range n {
			if id := fmt.Sprintf("new-%03d", i); added[id] != 1 {
				t.Errorf("%s reported added %d times, want once", id, added[id])
			}
			if id := fmt.Sprintf("user-%03d", i); removed[id] != 1 {
				t.Errorf("%s reported removed %d times, want once", id, removed[id])
			}
		}
	})
}

func TestConcurrentUpdateGroup(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		g, err := s.CreateGroup(t.Context(), &scim.Group{DisplayName: "crowd"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 200
		errs := run(n, func(i int) error {
			_, err := s.UpdateGroup(t.Context(), g.ID, func(g *scim.Group) error {
				g.Members = append(g.Members, scim.Member{Value: fmt.Sprintf("user-%03d", i)})
				return nil
			})
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := memberCount(t, s, g.ID); got != n {
			t.Errorf("%d members after %d concurrent updates", got, n)
		}
	})
}

// TestConcurrentUpdateUser runs 50 concurrent updates of one user, each
// an unlocked read and one conditional UPDATE until it loses a race, then
// the locked path: none is lost, whether it rewrites the email index
// (adding an email) or changes no child rows (counting in title).
func TestConcurrentUpdateUser(t *testing.T) {
	const n = 50
	for _, tc := range []struct {
		name   string
		update func(i int, u *scim.User) error
		check  func(u *scim.User) bool
	}{
		{"emails", func(i int, u *scim.User) error {
			u.Emails = append(u.Emails, scim.MultiValue{Value: fmt.Sprintf("%d@example.com", i)})
			return nil
		}, func(u *scim.User) bool { return len(u.Emails) == n }},
		{"one attribute", func(_ int, u *scim.User) error {
			k, err := strconv.Atoi(u.Title)
			u.Title = strconv.Itoa(k + 1)
			return err
		}, func(u *scim.User) bool { return u.Title == strconv.Itoa(n) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachDialectCaching(t, func(t *testing.T, db *DB) {
				s := newStore(t, db)
				u, err := s.CreateUser(t.Context(), &scim.User{UserName: "counter", Title: "0"})
				if err != nil {
					t.Fatal(err)
				}
				errs := run(n, func(i int) error {
					_, err := s.UpdateUser(t.Context(), u.ID, func(u *scim.User) error { return tc.update(i, u) })
					return err
				})
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				got, err := s.GetUser(t.Context(), u.ID, scim.Projection{})
				if err != nil {
					t.Fatal(err)
				}
				if !tc.check(got) || got.Meta.Version != strconv.Itoa(n+1) {
					t.Errorf("%d emails, title %s, version %s after %d concurrent updates", len(got.Emails), got.Title, got.Meta.Version, n)
				}
			})
		})
	}
}

func TestConcurrentCreateSameUserName(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		const n = 20
		errs := run(n, func(i int) error {
			_, err := s.CreateUser(t.Context(), &scim.User{UserName: []string{"Same.User", "same.user", "SAME.USER"}[i%3]})
			return err
		})
		ok, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, scim.ErrConflict):
				conflicts++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 1 || conflicts != n-1 {
			t.Errorf("%d created, %d conflicts; want 1 and %d", ok, conflicts, n-1)
		}
	})
}

// TestConcurrentDeletesAndPatches interleaves user deletions, which touch
// every group the user is in, with patches of those groups; the two lock in
// the same order, so the test finishes (no deadlock) and no membership of a
// deleted user survives.
func TestConcurrentDeletesAndPatches(t *testing.T) {
	eachDialectCaching(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		const users, groups = 20, 5
		var uids []string
		var members []scim.Member
		for i := range users {
			u, err := s.CreateUser(ctx, &scim.User{UserName: fmt.Sprint("u", i)})
			if err != nil {
				t.Fatal(err)
			}
			uids = append(uids, u.ID)
			members = append(members, scim.Member{Value: u.ID})
		}
		var gids []string
		for i := range groups {
			g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: fmt.Sprint("g", i), Members: members})
			if err != nil {
				t.Fatal(err)
			}
			gids = append(gids, g.ID)
		}
		errs := run(users*2, func(i int) error {
			if i%2 == 0 {
				return s.DeleteUser(ctx, uids[i/2])
			}
			_, err := s.PatchMembers(ctx, gids[i%groups], scim.MemberPatch{Add: []scim.Member{{Value: fmt.Sprint("extra-", i)}}})
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, gid := range gids {
			total += memberCount(t, s, gid)
		}
		if total != users { // only the extras are left
			t.Errorf("%d memberships left, want %d", total, users)
		}
	})
}

func TestMigrationsConcurrentAndIdempotent(t *testing.T) {
	ms, err := loadMigrations(PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	sqliteMs, err := loadMigrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(sqliteMs) {
		t.Fatalf("%d PostgreSQL migrations, %d SQLite ones: the dialects must move together", len(ms), len(sqliteMs))
	}
	setups := []struct {
		name string
		// fresh returns n handles on one new, empty database.
		fresh func(t *testing.T, n int) []*sql.DB
		d     Dialect
	}{
		{"postgres", func(t *testing.T, n int) []*sql.DB {
			db := freshPostgresSchema(t, "scimhost_migrate_")
			dbs := make([]*sql.DB, n)
			for i := range dbs {
				dbs[i] = db
			}
			return dbs
		}, PostgreSQL},
		{"sqlite", func(t *testing.T, n int) []*sql.DB {
			path := filepath.Join(t.TempDir(), "m.db")
			dbs := make([]*sql.DB, n)
			for i := range dbs {
				db, err := sql.Open("sqlite", SQLiteDSN(path))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs[i] = db // separate pools stand for separate processes
			}
			return dbs
		}, SQLite},
	}
	for _, st := range setups {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			dbs := st.fresh(t, 4)
			errs := run(len(dbs), func(i int) error {
				_, err := Open(t.Context(), dbs[i], st.d)
				return err
			})
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			// Once more, now that everything is applied.
			if _, err := Open(t.Context(), dbs[0], st.d); err != nil {
				t.Fatal(err)
			}
			var n, maxV int
			if err := dbs[0].QueryRowContext(t.Context(), "SELECT count(*), max(version) FROM scim_schema_migrations").Scan(&n, &maxV); err != nil {
				t.Fatal(err)
			}
			if n != len(ms) || maxV != ms[len(ms)-1].Version {
				t.Errorf("scim_schema_migrations has %d rows up to version %d; want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].Version)
			}
			// A database migrated by a newer release is refused.
			if _, err := dbs[0].ExecContext(t.Context(), "INSERT INTO scim_schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'x')"); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(t.Context(), dbs[0], st.d); err == nil {
				t.Error("Open accepted a schema newer than the package")
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	if _, err := Open(t.Context(), nil, SQLite); err == nil {
		t.Error("Open(nil) succeeded")
	}
	db, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(t.TempDir(), "x.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(t.Context(), db, Dialect(0)); err == nil {
		t.Error("Open with the zero Dialect succeeded")
	}
}

// TestConcurrentNestedDeletes deletes groups nested in each other (a in b,
// b in a) at the same time as patches of both: nothing deadlocks and no
// membership of a deleted group survives.
func TestConcurrentNestedDeletes(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		for round := range 10 {
			a, err := s.CreateGroup(ctx, &scim.Group{DisplayName: fmt.Sprint("a", round)})
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.CreateGroup(ctx, &scim.Group{DisplayName: fmt.Sprint("b", round), Members: []scim.Member{{Value: a.ID, Type: "Group"}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.PatchMembers(ctx, a.ID, scim.MemberPatch{Add: []scim.Member{{Value: b.ID, Type: "Group"}}}); err != nil {
				t.Fatal(err)
			}
			errs := run(4, func(i int) error {
				switch i {
				case 0:
					return s.DeleteGroup(ctx, a.ID)
				case 1:
					return s.DeleteGroup(ctx, b.ID)
				case 2:
					_, err := s.PatchMembers(ctx, a.ID, scim.MemberPatch{Add: []scim.Member{{Value: "x"}}})
					return err
				default:
					_, err := s.PatchMembers(ctx, b.ID, scim.MemberPatch{Remove: []string{a.ID}})
					return err
				}
			})
			for i, err := range errs {
				if err != nil && !(i >= 2 && errors.Is(err, scim.ErrNotFound)) {
					t.Fatalf("round %d, op %d: %v", round, i, err)
				}
			}
		}
		if n := countRows(t, db, "scim_group_members", s.tenant); n != 0 {
			t.Errorf("%d memberships left", n)
		}
	})
}

// TestUpdateLosesARaceOnce has another writer get in between the unlocked
// read of UpdateUser and UpdateGroup and their conditional write: the
// write then matches no row, the update runs again under the row lock on
// the state the other writer left, and both changes are kept. With emails
// changed on both sides (the PostgreSQL WITH, SQLite's transaction), the
// email index ends as the stored user says.
func TestUpdateLosesARaceOnce(t *testing.T) {
	eachDialectCaching(t, func(t *testing.T, db *DB) {
		s := newStore(t, db)
		ctx := t.Context()
		u, err := s.CreateUser(ctx, &scim.User{UserName: "raced", Emails: []scim.MultiValue{{Value: "a@example.com"}, {Value: "b@example.com"}}})
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		got, err := s.UpdateUser(ctx, u.ID, func(cur *scim.User) error {
			calls++
			if calls == 1 {
				if _, err := s.UpdateUser(ctx, u.ID, func(o *scim.User) error {
					o.Title = "other"
					o.Emails = []scim.MultiValue{{Value: "c@example.com"}}
					return nil
				}); err != nil {
					return err
				}
			}
			cur.DisplayName = "mine"
			cur.Emails = append(cur.Emails, scim.MultiValue{Value: "d@example.com"})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 || got.Title != "other" || got.DisplayName != "mine" || got.Meta.Version != "3" || len(got.Emails) != 2 {
			t.Fatalf("after %d calls: title %q, displayName %q, version %s, emails %v", calls, got.Title, got.DisplayName, got.Meta.Version, got.Emails)
		}
		for email, want := range map[string]int{"a@example.com": 0, "b@example.com": 0, "c@example.com": 1, "d@example.com": 1} {
			p, err := s.listUsers(ctx, scim.Query{Count: 10}, &scim.AttrExpr{Path: scim.AttrPath{Name: "emails"}, Op: scim.OpEq, Value: str(email)})
			if err != nil || len(p.Resources) != want {
				t.Errorf("emails eq %s: %d users, want %d (%v)", email, len(p.Resources), want, err)
			}
		}

		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "raced"})
		if err != nil {
			t.Fatal(err)
		}
		calls = 0
		gg, err := s.UpdateGroup(ctx, g.ID, func(cur *scim.Group) error {
			calls++
			if calls == 1 {
				if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: u.ID}}}); err != nil {
					return err
				}
			}
			cur.DisplayName = "renamed"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 || gg.DisplayName != "renamed" || len(gg.Members) != 1 || gg.Meta.Version != "3" {
			t.Fatalf("after %d calls: %q, members %v, version %s", calls, gg.DisplayName, gg.Members, gg.Meta.Version)
		}
		if n := memberCount(t, s, g.ID); n != 1 {
			t.Errorf("%d members stored, want 1", n)
		}
	})
}
