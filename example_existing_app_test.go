package scim_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/storetest"
)

// This file is the code of docs/existing-app.md: a Store over an app's own
// accounts table. The table is held in memory here so that the example
// runs anywhere; each method says the SQL it stands for. Its test runs the
// conformance kit on it, with two tenants.

// account is a row of the app's accounts table, with the columns SCIM
// needs added by a migration:
//
//	ALTER TABLE accounts
//	  ADD COLUMN scim_id        text,                 -- the SCIM id Entra keeps
//	  ADD COLUMN email_fold     text,                 -- scim.FoldCase(email)
//	  ADD COLUMN external_id    text,
//	  ADD COLUMN version        bigint NOT NULL DEFAULT 1,
//	  ADD COLUMN created_at     timestamptz NOT NULL DEFAULT now(),
//	  ADD COLUMN last_modified  timestamptz NOT NULL DEFAULT now(),
//	  ADD COLUMN scim_doc       jsonb;                -- scim.MarshalUserDocument
//	CREATE UNIQUE INDEX ON accounts (workspace_id, email_fold);
//	CREATE UNIQUE INDEX ON accounts (workspace_id, scim_id);
//	CREATE INDEX ON accounts (workspace_id, external_id);
type account struct {
	workspace string // workspace_id: the app's tenant
	scimID    string
	email     string // the app's own login column: SCIM's userName
	emailFold string
	active    bool // the app's own "disabled" flag, inverted
	external  string
	version   int64
	created   time.Time
	modified  time.Time
	doc       []byte // everything else, in SCIM's form
}

// accounts is the app's Store: users only, scoped to the workspace
// BearerAuth put in the context.
type accounts struct {
	mu   sync.Mutex
	rows []*account // the table
}

var _ scim.Store = (*accounts)(nil)

func workspace(ctx context.Context) string {
	t, _ := scim.TenantFrom(ctx)
	return t.ID
}

// toRow writes u into row: the columns the app reads, and the document
// for the rest.
func toRow(row *account, u *scim.User) error {
	c := u.Clone()
	c.ID, c.Meta = row.scimID, scim.Meta{Created: row.created, LastModified: row.modified, Version: strconv.FormatInt(row.version, 10)}
	c.Password, c.Groups = "", nil // never stored: the app has its own login
	doc, err := scim.MarshalUserDocument(c)
	if err != nil {
		return err
	}
	row.email, row.emailFold = u.UserName, scim.FoldCase(u.UserName)
	row.active, row.external, row.doc = u.Active, u.ExternalID, doc
	return nil
}

// fromRow reads a row back. The app's own columns win over the document:
// when the app's UI changed the email, that is the user's userName now.
func fromRow(row *account) (*scim.User, error) {
	u, err := scim.UnmarshalUserDocument(row.doc)
	if err != nil {
		return nil, err
	}
	u.ID, u.UserName, u.Active, u.ExternalID = row.scimID, row.email, row.active, row.external
	u.Meta = scim.Meta{Created: row.created, LastModified: row.modified, Version: strconv.FormatInt(row.version, 10)}
	return u, nil
}

// find is SELECT ... WHERE workspace_id = $1 AND scim_id = $2.
func (s *accounts) find(ws, id string) *account {
	for _, r := range s.rows {
		if r.workspace == ws && r.scimID == id {
			return r
		}
	}
	return nil
}

// taken is the unique index on (workspace_id, email_fold).
func (s *accounts) taken(ws, userName string, self *account) error {
	fold := scim.FoldCase(userName)
	for _, r := range s.rows {
		if r.workspace == ws && r.emailFold == fold && r != self {
			return &scim.ConflictError{Attribute: "userName", Value: userName}
		}
	}
	return nil
}

func (s *accounts) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := workspace(ctx)
	if err := s.taken(ws, u.UserName, nil); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	row := &account{workspace: ws, scimID: scim.NewID(), version: 1, created: now, modified: now}
	if err := toRow(row, u); err != nil {
		return nil, err
	}
	s.rows = append(s.rows, row) // INSERT INTO accounts ...
	return fromRow(row)
}

func (s *accounts) GetUser(ctx context.Context, id string, _ scim.Projection) (*scim.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.find(workspace(ctx), id)
	if row == nil {
		return nil, scim.ErrNotFound
	}
	return fromRow(row)
}

func (s *accounts) ReplaceUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := workspace(ctx)
	// UPDATE accounts SET ..., version = version + 1
	// WHERE workspace_id = $1 AND scim_id = $2 [AND version = $3]
	row := s.find(ws, u.ID)
	if row == nil {
		return nil, scim.ErrNotFound
	}
	if u.Meta.Version != "" && u.Meta.Version != strconv.FormatInt(row.version, 10) {
		return nil, scim.ErrVersionMismatch
	}
	if err := s.taken(ws, u.UserName, row); err != nil {
		return nil, err
	}
	next := *row
	next.version++
	next.modified = time.Now().UTC()
	if err := toRow(&next, u); err != nil {
		return nil, err
	}
	*row = next
	return fromRow(row)
}

func (s *accounts) DeleteUser(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.find(workspace(ctx), id)
	if row == nil {
		return scim.ErrNotFound
	}
	// The app may keep the account and only unlink it from SCIM; here it
	// goes.
	s.rows = slices.DeleteFunc(s.rows, func(r *account) bool { return r == row })
	return nil
}

// pushdown recognises the filters Entra ID and Okta send on every cycle
// and returns the indexed column and value they compare: the SQL path.
// Everything else takes the fallback.
func pushdown(f scim.Filter) (column, value string, ok bool) {
	e, isAttr := f.(*scim.AttrExpr)
	if !isAttr || e.Op != scim.OpEq || e.Value.Kind != scim.KindString || e.Path.Sub != "" ||
		(e.Path.URN != "" && !strings.EqualFold(e.Path.URN, scim.UserSchema)) {
		return "", "", false
	}
	switch {
	case strings.EqualFold(e.Path.Name, "userName"):
		return "email_fold", scim.FoldCase(e.Value.Text), true
	case strings.EqualFold(e.Path.Name, "externalId"):
		return "external_id", e.Value.Text, true // case-exact
	case strings.EqualFold(e.Path.Name, "id"):
		return "scim_id", e.Value.Text, true
	}
	return "", "", false
}

func (s *accounts) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	if q.SortBy != (scim.AttrPath{}) {
		return scim.Page[*scim.User]{}, scim.ErrUnsupported // or ORDER BY a column the app has
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := workspace(ctx)
	column, value, indexed := pushdown(q.Filter)
	var matches []*scim.User
	// SELECT ... FROM accounts WHERE workspace_id = $1 [AND <column> = $2]
	// ORDER BY created_at, scim_id
	for _, r := range s.rows {
		if r.workspace != ws {
			continue
		}
		if indexed && map[string]string{"email_fold": r.emailFold, "external_id": r.external, "scim_id": r.scimID}[column] != value {
			continue
		}
		u, err := fromRow(r)
		if err != nil {
			return scim.Page[*scim.User]{}, err
		}
		// The fallback: any other filter is evaluated on the loaded rows
		// exactly as the handler would, never approximated.
		if !indexed && q.Filter != nil && !scim.MatchUser(q.Filter, u) {
			continue
		}
		matches = append(matches, u)
	}
	slices.SortStableFunc(matches, func(a, b *scim.User) int {
		return cmp.Or(a.Meta.Created.Compare(b.Meta.Created), strings.Compare(a.ID, b.ID))
	})
	page := scim.Page[*scim.User]{TotalResults: len(matches)}
	if start := max(q.StartIndex, 1) - 1; start < len(matches) {
		page.Resources = matches[start:min(start+q.Count, len(matches))]
	}
	return page, nil
}

// renameFromApp is what the app's own settings page does when a user
// changes their email: the app's column is the truth for what the app
// owns, and bumping version and last_modified makes the change visible to
// the provisioning client (a new ETag, a newer meta.lastModified).
func (s *accounts) renameFromApp(ws, id, email string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.find(ws, id)
	if row == nil {
		return scim.ErrNotFound
	}
	if err := s.taken(ws, email, row); err != nil {
		return err
	}
	row.email, row.emailFold = email, scim.FoldCase(email)
	row.version++
	row.modified = time.Now().UTC()
	return nil
}

// An app adds SCIM to its own accounts table: the filters Entra ID sends
// on every cycle go to an index, every other filter to scim.MatchUser over
// the workspace's rows, and what the table has no column for lives in a
// document column.
func Example_existingApp() {
	for _, f := range []string{
		`userName eq "Ada@Example.com"`,
		`externalId eq "ada"`,
		`emails[type eq "work" and value eq "ada@example.com"]`,
		`title pr and active eq true`,
	} {
		parsed, err := scim.ParseFilter(f)
		if err != nil {
			panic(err)
		}
		if column, value, ok := pushdown(parsed); ok {
			fmt.Printf("%s: WHERE workspace_id = $1 AND %s = %q\n", f, column, value)
		} else {
			fmt.Printf("%s: scim.MatchUser over the workspace's rows\n", f)
		}
	}

	store := &accounts{}
	ctx := scim.WithTenant(context.Background(), scim.Tenant{ID: "workspace-42"})
	u, err := store.CreateUser(ctx, &scim.User{UserName: "ada@example.com", ExternalID: "ada", Title: "Countess", Active: true,
		PhoneNumbers: []scim.MultiValue{{Value: "+44 20 7946 0000", Type: "work"}}})
	if err != nil {
		panic(err)
	}
	// The app's UI changes the email; SCIM reads the app's column.
	if err := store.renameFromApp("workspace-42", u.ID, "ada.lovelace@example.com"); err != nil {
		panic(err)
	}
	got, err := store.GetUser(ctx, u.ID, scim.Projection{})
	if err != nil {
		panic(err)
	}
	fmt.Println(got.UserName, got.PhoneNumbers[0].Value, "version", got.Meta.Version)
	// Output:
	// userName eq "Ada@Example.com": WHERE workspace_id = $1 AND email_fold = "ada@example.com"
	// externalId eq "ada": WHERE workspace_id = $1 AND external_id = "ada"
	// emails[type eq "work" and value eq "ada@example.com"]: scim.MatchUser over the workspace's rows
	// title pr and active eq true: scim.MatchUser over the workspace's rows
	// ada.lovelace@example.com +44 20 7946 0000 version 2
}

// TestExistingAppStore runs the conformance kit on the example's store,
// tenant isolation included.
func TestExistingAppStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) scim.Store { return &accounts{} },
		storetest.Declare(0),
		storetest.Tenants(func(*testing.T) (a, b storetest.Tenant) {
			s := &accounts{}
			return storetest.Tenant{Store: s, Context: storetest.InTenant("alpha")},
				storetest.Tenant{Store: s, Context: storetest.InTenant("bravo")}
		}))
}
