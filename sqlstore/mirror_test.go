package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

// hostTables creates a host's own tables for the mirror tests: accounts,
// teams, and team_members with foreign keys to both, named uniquely for
// the test.
type hostTables struct {
	db                   *DB
	accounts, teams, tms string
}

func newHostTables(t *testing.T, db *DB) *hostTables {
	t.Helper()
	sfx := randomHex()
	h := &hostTables{db: db, accounts: "acct_" + sfx, teams: "team_" + sfx, tms: "tm_" + sfx}
	stmts := []string{
		`CREATE TABLE ` + h.accounts + ` (scim_id text PRIMARY KEY, email text NOT NULL, active boolean NOT NULL)`,
		`CREATE TABLE ` + h.teams + ` (scim_id text PRIMARY KEY, name text NOT NULL)`,
		`CREATE TABLE ` + h.tms + ` (team text NOT NULL REFERENCES ` + h.teams + ` (scim_id),
			account text NOT NULL REFERENCES ` + h.accounts + ` (scim_id), PRIMARY KEY (team, account))`,
	}
	for _, q := range stmts {
		if _, err := db.db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, tb := range []string{h.tms, h.teams, h.accounts} {
			_, _ = db.db.ExecContext(context.Background(), "DROP TABLE "+tb)
		}
	})
	return h
}

// mirror keeps the host tables in step; fail, when it returns an error,
// makes it fail instead.
func (h *hostTables) mirror(fail func(Change) error) Mirror {
	return func(ctx context.Context, tx Tx, c Change) error {
		if fail != nil {
			if err := fail(c); err != nil {
				return err
			}
		}
		exec := func(q string, args ...any) error {
			_, err := tx.ExecContext(ctx, h.db.rebind(q), args...)
			return err
		}
		email := func(u *scim.User) string {
			if len(u.Emails) > 0 {
				return u.Emails[0].Value
			}
			return u.UserName
		}
		members := func() error {
			for _, m := range c.Added {
				if err := exec("INSERT INTO "+h.tms+" (team, account) VALUES (?, ?)", c.ID, m); err != nil {
					return err
				}
			}
			for _, m := range c.Removed {
				if err := exec("DELETE FROM "+h.tms+" WHERE team = ? AND account = ?", c.ID, m); err != nil {
					return err
				}
			}
			return nil
		}
		switch c.Kind {
		case UserCreated:
			return exec("INSERT INTO "+h.accounts+" (scim_id, email, active) VALUES (?, ?, ?)", c.ID, email(c.User), c.User.Active)
		case UserUpdated, UserDeactivated, UserReactivated:
			return exec("UPDATE "+h.accounts+" SET email = ?, active = ? WHERE scim_id = ?", email(c.User), c.User.Active, c.ID)
		case UserDeleted:
			if err := exec("DELETE FROM "+h.tms+" WHERE account = ?", c.ID); err != nil {
				return err
			}
			return exec("DELETE FROM "+h.accounts+" WHERE scim_id = ?", c.ID)
		case GroupCreated:
			if err := exec("INSERT INTO "+h.teams+" (scim_id, name) VALUES (?, ?)", c.ID, c.Group.DisplayName); err != nil {
				return err
			}
			return members()
		case GroupUpdated:
			if err := exec("UPDATE "+h.teams+" SET name = ? WHERE scim_id = ?", c.Group.DisplayName, c.ID); err != nil {
				return err
			}
			return members()
		case MembersChanged:
			return members()
		case GroupDeleted:
			if err := exec("DELETE FROM "+h.tms+" WHERE team = ?", c.ID); err != nil {
				return err
			}
			return exec("DELETE FROM "+h.teams+" WHERE scim_id = ?", c.ID)
		}
		return fmt.Errorf("unexpected change %v", c.Kind)
	}
}

// state is the host's rows: accounts as "id email active", team members
// as "team account".
func (h *hostTables) state(t *testing.T) (accounts, members []string) {
	t.Helper()
	read := func(q string) []string {
		rows, err := h.db.db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a, b string
			var c any
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(a, " ", b, " ", c))
		}
		slices.Sort(out)
		return out
	}
	return read("SELECT scim_id, email, active FROM " + h.accounts),
		read("SELECT team, account, 1 FROM " + h.tms)
}

// TestMirror: the mirror sees every write inside the store's transaction,
// keeps the host's tables (with their foreign keys) in step, and when it
// fails, neither copy changes: a *scim.Error reaches the caller as it is,
// anything else becomes a generic 500.
func TestMirror(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		h := newHostTables(t, db)
		var failWith error
		var kinds []ChangeKind
		db.mirror = h.mirror(func(c Change) error {
			kinds = append(kinds, c.Kind)
			return failWith
		})
		s := newStore(t, db)
		ctx := t.Context()
		bool1 := func(b bool) string { // how each database scans a boolean
			if db.dialect == SQLite {
				return map[bool]string{true: "1", false: "0"}[b]
			}
			return fmt.Sprint(b)
		}

		u1, err := s.CreateUser(ctx, &scim.User{UserName: "ann", Active: true, Emails: []scim.MultiValue{{Value: "ann@example.com"}}})
		if err != nil {
			t.Fatal(err)
		}
		u2, err := s.CreateUser(ctx, &scim.User{UserName: "bob", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "team", Members: []scim.Member{{Value: u1.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: u2.ID}}}); err != nil {
			t.Fatal(err)
		}
		check := func(step string, wantAccounts, wantMembers []string) {
			t.Helper()
			accounts, members := h.state(t)
			slices.Sort(wantAccounts)
			slices.Sort(wantMembers)
			if d := cmp.Diff(wantAccounts, accounts); d != "" {
				t.Errorf("%s: accounts (-want +got):\n%s", step, d)
			}
			if d := cmp.Diff(wantMembers, members); d != "" {
				t.Errorf("%s: team members (-want +got):\n%s", step, d)
			}
			sg, err := s.GetGroup(ctx, g.ID, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			var scimMembers []string
			for _, m := range sg.Members {
				scimMembers = append(scimMembers, g.ID+" "+m.Value+" 1")
			}
			slices.Sort(scimMembers)
			if d := cmp.Diff(wantMembers, scimMembers); d != "" {
				t.Errorf("%s: SCIM's members differ from the host's (-host +scim):\n%s", step, d)
			}
		}
		acct := func(u *scim.User, email string, active bool) string { return u.ID + " " + email + " " + bool1(active) }
		check("after creates", []string{acct(u1, "ann@example.com", true), acct(u2, "bob", true)},
			[]string{g.ID + " " + u1.ID + " 1", g.ID + " " + u2.ID + " 1"})

		// A member the host's foreign key does not know: the mirror's
		// error rolls the SCIM write back, and the client reads a
		// generic 500.
		_, err = s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: "no-such-account"}}})
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != 500 || se.Detail != "internal server error" {
			t.Errorf("a member the foreign key refuses: %v; want a generic 500", err)
		}
		check("after a refused member", []string{acct(u1, "ann@example.com", true), acct(u2, "bob", true)},
			[]string{g.ID + " " + u1.ID + " 1", g.ID + " " + u2.ID + " 1"})

		// Deactivation, seen as such.
		kinds = nil
		if _, err := s.UpdateUser(ctx, u2.ID, func(u *scim.User) error { u.Active = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(kinds, []ChangeKind{UserDeactivated}) {
			t.Errorf("kinds %v, want UserDeactivated", kinds)
		}
		// A *scim.Error from the mirror passes through as written, and
		// nothing changes.
		failWith = &scim.Error{Status: 409, Type: scim.Uniqueness, Detail: "the workspace has no seat left"}
		_, err = s.UpdateUser(ctx, u2.ID, func(u *scim.User) error { u.Active = true; return nil })
		if !errors.As(err, &se) || se != failWith {
			t.Errorf("a *scim.Error from the mirror: %v; want it as written", err)
		}
		_, err = s.ReplaceUser(ctx, &scim.User{ID: u1.ID, UserName: "ann2"})
		if !errors.As(err, &se) || se != failWith {
			t.Errorf("ReplaceUser: %v; want the mirror's error", err)
		}
		if err := s.DeleteUser(ctx, u1.ID); !errors.As(err, &se) || se != failWith {
			t.Errorf("DeleteUser: %v; want the mirror's error", err)
		}
		if err := s.DeleteGroup(ctx, g.ID); !errors.As(err, &se) || se != failWith {
			t.Errorf("DeleteGroup: %v; want the mirror's error", err)
		}
		if _, err := s.UpdateGroup(ctx, g.ID, func(g *scim.Group) error { g.Members = nil; return nil }); !errors.As(err, &se) || se != failWith {
			t.Errorf("UpdateGroup: %v; want the mirror's error", err)
		}
		if _, err := s.CreateUser(ctx, &scim.User{UserName: "cy"}); !errors.As(err, &se) || se != failWith {
			t.Errorf("CreateUser: %v; want the mirror's error", err)
		}
		if page, _ := s.listUsers(ctx, scim.Query{Count: 1}, eq("userName", "cy")); page.TotalResults != 0 {
			t.Error("a user the mirror refused was stored")
		}
		if got, _ := s.GetUser(ctx, u1.ID, scim.Projection{}); got == nil || got.UserName != "ann" {
			t.Errorf("a replace the mirror refused was stored: %+v", got)
		}
		check("after refused writes", []string{acct(u1, "ann@example.com", true), acct(u2, "bob", false)},
			[]string{g.ID + " " + u1.ID + " 1", g.ID + " " + u2.ID + " 1"})
		failWith = nil

		// A replace of the group that drops a member; a delete of a
		// user, which leaves the team too.
		if _, err := s.ReplaceGroup(ctx, &scim.Group{ID: g.ID, DisplayName: "team2", Members: []scim.Member{{Value: u1.ID}}}); err != nil {
			t.Fatal(err)
		}
		check("after a replace", []string{acct(u1, "ann@example.com", true), acct(u2, "bob", false)},
			[]string{g.ID + " " + u1.ID + " 1"})
		if err := s.DeleteUser(ctx, u1.ID); err != nil {
			t.Fatal(err)
		}
		check("after a delete", []string{acct(u2, "bob", false)}, nil)
		if err := s.DeleteGroup(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
	})
}
