package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/sqlstore"
)

// scim returns the SCIM endpoint: sqlstore in the app's database with the
// mirror, behind BearerAuth with a token per workspace, and the domain
// allowlist.
func (a *App) scim(ctx context.Context, dialect sqlstore.Dialect) (http.Handler, error) {
	db, err := sqlstore.Open(ctx, a.db, dialect, sqlstore.WithMirror(a.mirror))
	if err != nil {
		return nil, err
	}
	h, err := scim.NewHandler(db.Store(), scim.Options{AllowDomain: func(ctx context.Context, domain string) error {
		t, _ := scim.TenantFrom(ctx)
		var one int
		err := a.db.QueryRowContext(ctx, "SELECT 1 FROM workspace_domains WHERE workspace_id = $1 AND domain = $2", t.ID, domain).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: not a verified domain of the workspace", scim.ErrDomainNotAllowed)
		}
		return err
	}})
	return scim.BearerAuth(func(ctx context.Context, token string) (scim.Tenant, error) {
		hash := scim.HashToken(token)
		var ws string
		err := a.db.QueryRowContext(ctx, "SELECT workspace_id FROM scim_tokens WHERE hash = $1", hex.EncodeToString(hash[:])).Scan(&ws)
		if errors.Is(err, sql.ErrNoRows) {
			return scim.Tenant{}, scim.ErrUnknownToken
		}
		return scim.Tenant{ID: ws}, err
	})(h), err
}

// mirror keeps accounts, teams, team_members and sessions in step with
// SCIM inside sqlstore's transaction: an error rolls both back.
func (a *App) mirror(ctx context.Context, tx sqlstore.Tx, c sqlstore.Change) error {
	exec := func(q string, args ...any) (n int64, err error) {
		res, err := tx.ExecContext(ctx, q, args...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return n, err
	}
	const account, team = "(SELECT id FROM accounts WHERE scim_id = $1)", "(SELECT id FROM teams WHERE scim_id = $1)"
	var err error
	switch u := c.User; c.Kind {
	case sqlstore.UserCreated:
		_, err = exec("INSERT INTO accounts (scim_id, id, workspace_id, email, display_name, active) VALUES ($1, $2, $3, $4, $5, $6)",
			c.ID, newID("acct"), c.Tenant, email(u), u.DisplayName, u.Active)
	case sqlstore.UserUpdated, sqlstore.UserReactivated, sqlstore.UserDeactivated:
		_, err = exec("UPDATE accounts SET email = $2, display_name = $3, active = $4 WHERE scim_id = $1", c.ID, email(u), u.DisplayName, u.Active)
		if err == nil && !u.Active {
			_, err = exec("DELETE FROM sessions WHERE account_id = "+account, c.ID) // deactivated: signed out now
		}
	case sqlstore.UserDeleted:
		if _, err = exec("DELETE FROM sessions WHERE account_id = "+account, c.ID); err == nil {
			if _, err = exec("DELETE FROM team_members WHERE account_id = "+account, c.ID); err == nil {
				_, err = exec("DELETE FROM accounts WHERE scim_id = $1", c.ID)
			}
		}
	case sqlstore.GroupCreated:
		_, err = exec("INSERT INTO teams (scim_id, id, workspace_id, name) VALUES ($1, $2, $3, $4)", c.ID, newID("team"), c.Tenant, c.Group.DisplayName)
	case sqlstore.GroupUpdated:
		_, err = exec("UPDATE teams SET name = $2 WHERE scim_id = $1", c.ID, c.Group.DisplayName)
	case sqlstore.GroupDeleted:
		if _, err = exec("DELETE FROM team_members WHERE team_id = "+team, c.ID); err == nil {
			_, err = exec("DELETE FROM teams WHERE scim_id = $1", c.ID)
		}
		return err
	}
	if err != nil {
		return err
	}
	for _, m := range c.Added {
		n, err := exec(`INSERT INTO team_members (team_id, account_id) SELECT t.id, a.id FROM teams t, accounts a
	WHERE t.scim_id = $1 AND a.scim_id = $2 AND a.workspace_id = t.workspace_id`, c.ID, m)
		if err == nil && n == 0 {
			err = scim.Refuse(fmt.Sprintf("member %q is not a user of this workspace: teams hold users only", m))
		}
		if err != nil {
			return err
		}
	}
	for _, m := range c.Removed {
		if _, err := exec("DELETE FROM team_members WHERE team_id = "+team+" AND account_id = (SELECT id FROM accounts WHERE scim_id = $2)", c.ID, m); err != nil {
			return err
		}
	}
	return nil
}

// email is the account's email: the primary email, else the first, else
// the userName.
func email(u *scim.User) string {
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Value
	}
	return u.UserName
}
