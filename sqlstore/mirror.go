package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"github.com/scimhost/scim"
)

// Tx is the store's open write transaction as a [Mirror] sees it. What a
// mirror runs on it commits with the SCIM write or rolls back with it. On
// PostgreSQL and SQLite it is a *sql.Tx (on SQLite, holding the
// database's write lock from its start). Statements use the driver's placeholders ($1 for pgx, ? for
// SQLite).
type Tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Tx = (*sql.Tx)(nil)
	_ Tx = (*sql.Conn)(nil)
)

// ChangeKind says what a [Change] did.
type ChangeKind uint8

// The kinds of [Change]. A user update is exactly one of UserUpdated,
// UserDeactivated and UserReactivated.
const (
	UserCreated     ChangeKind = iota + 1
	UserUpdated                // replaced or patched; active unchanged
	UserDeactivated            // active went from true to false
	UserReactivated            // active went from false to true
	UserDeleted                // the store also removed the user from every group
	GroupCreated               // Added lists the members
	GroupUpdated               // replaced or patched; Added and Removed say how the members changed
	GroupDeleted               // Removed lists the members it had
	MembersChanged             // PatchMembers; Added and Removed say what changed
)

var changeKindNames = [...]string{"", "UserCreated", "UserUpdated", "UserDeactivated", "UserReactivated",
	"UserDeleted", "GroupCreated", "GroupUpdated", "GroupDeleted", "MembersChanged"}

// String returns the kind's name ("UserCreated").
func (k ChangeKind) String() string {
	if int(k) < len(changeKindNames) {
		return changeKindNames[k]
	}
	return "ChangeKind(?)"
}

// Change is one write of the store, handed to a [Mirror] inside the
// store's transaction, after the store's own statements.
type Change struct {
	Kind ChangeKind
	// Tenant is the store's tenant; ID the user's or group's id.
	Tenant, ID string
	// OldUser is the user before the write (nil for UserCreated) and User
	// after it (nil for UserDeleted); both nil for group changes.
	OldUser, User *scim.User
	// OldGroup is the group before the write (nil for GroupCreated) and
	// Group after it (nil for GroupDeleted); both nil for user changes.
	// For MembersChanged neither has Members (loading them would cost
	// O(group size)); for the other kinds both have them.
	OldGroup, Group *scim.Group
	// Added and Removed are the member ids that joined and left the group,
	// in the order given.
	Added, Removed []string
}

// Mirror keeps a host's own tables in step with the store: it runs inside
// the store's write transaction for every change, with that transaction,
// so that the host's rows and SCIM's commit together or not at all. A
// mirror that returns an error rolls the SCIM write back: a *scim.Error
// reaches the client as written (a 409 for a seat the host's schema
// refuses, a 400 for a member its foreign key does not know); any other
// error becomes a 500 whose detail says nothing of it (the handler logs
// it). The mirror must not call the store (on SQLite the store's write
// lock is held) and should be quick: the group's row lock, or on SQLite
// the database's write lock, is held while it runs.
type Mirror func(ctx context.Context, tx Tx, c Change) error

// WithMirror runs m inside the transaction of every write.
func WithMirror(m Mirror) Option {
	return func(db *DB) { db.mirror = m }
}

// mirrorChange runs the mirror, if any, on c.
func (db *DB) mirrorChange(ctx context.Context, q querier, c Change) error {
	if db.mirror == nil {
		return nil
	}
	err := db.mirror(ctx, q, c)
	if err == nil {
		return nil
	}
	var se *scim.Error
	if errors.As(err, &se) {
		return se
	}
	return &scim.Error{Status: http.StatusInternalServerError, Detail: "internal server error", Err: err}
}

// userChange is the Change of a user write.
func userChange(tenant string, old, u *scim.User) Change {
	c := Change{Kind: UserUpdated, Tenant: tenant, OldUser: old, User: u}
	switch {
	case old == nil:
		c.Kind, c.ID = UserCreated, u.ID
	case u == nil:
		c.Kind, c.ID = UserDeleted, old.ID
	case old.Active && !u.Active:
		c.Kind, c.ID = UserDeactivated, u.ID
	case !old.Active && u.Active:
		c.Kind, c.ID = UserReactivated, u.ID
	default:
		c.ID = u.ID
	}
	return c
}

// groupChange is the Change of a group write whose old and new members
// are known.
func groupChange(tenant string, old, g *scim.Group) Change {
	c := Change{Kind: GroupUpdated, Tenant: tenant, OldGroup: old, Group: g}
	var before, after []scim.Member
	switch {
	case old == nil:
		c.Kind, c.ID = GroupCreated, g.ID
		after = g.Members
	case g == nil:
		c.Kind, c.ID = GroupDeleted, old.ID
		before = old.Members
	default:
		c.ID = g.ID
		before, after = old.Members, g.Members
	}
	was := make(map[string]bool, len(before))
	for _, m := range before {
		was[fold(m.Value)] = true
	}
	is := make(map[string]bool, len(after))
	for _, m := range after {
		k := fold(m.Value)
		if !is[k] {
			is[k] = true
			if !was[k] {
				c.Added = append(c.Added, m.Value)
			}
		}
	}
	for _, m := range before {
		if !is[fold(m.Value)] {
			c.Removed = append(c.Removed, m.Value)
		}
	}
	return c
}
