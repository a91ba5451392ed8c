package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
)

// fullUser sets every attribute of the model, with the shapes that are easy
// to lose on the way through a database: empty but non-nil slices, Extra
// JSON with whitespace, an Enterprise extension with a manager, and text
// that needs escaping.
func fullUser(userName string) *scim.User {
	return &scim.User{
		ExternalID: "ext-" + userName,
		UserName:   userName,
		Name: scim.Name{Formatted: "Ms. Barbara J Jensen III", FamilyName: "Jensen", GivenName: "Barbara",
			MiddleName: "Jane", HonorificPrefix: "Ms.", HonorificSuffix: "III"},
		DisplayName:       "Babs <Jensen> & \"co\"",
		NickName:          "Babs",
		ProfileURL:        "https://login.example.com/bjensen",
		Title:             "Tour Guide",
		UserType:          "Employee",
		PreferredLanguage: "en-US",
		Locale:            "en-US",
		Timezone:          "America/Los_Angeles",
		Active:            true,
		Password:          "t1meMa$heen",
		Emails: []scim.MultiValue{
			{Value: userName + "@example.com", Type: "work", Primary: true},
			{Value: userName + "@home.example", Type: "home", Display: "home"},
		},
		PhoneNumbers:     []scim.MultiValue{{Value: "555-555-5555", Type: "work"}},
		IMs:              []scim.MultiValue{{Value: "someaimhandle", Type: "aim"}},
		Photos:           []scim.MultiValue{{Value: "https://photos.example.com/profilephoto/72930000000Ccne/F", Type: "photo"}},
		Addresses:        []scim.Address{{Formatted: "100 Universal City Plaza\nHollywood, CA 91608 USA", StreetAddress: "100 Universal City Plaza", Locality: "Hollywood", Region: "CA", PostalCode: "91608", Country: "USA", Type: "work", Primary: true}},
		Entitlements:     []scim.MultiValue{},
		Roles:            []scim.MultiValue{{Value: `{"id":"r1","value":"Admin"}`, Type: "WindowsAzureActiveDirectoryRole"}},
		X509Certificates: []scim.MultiValue{{Value: "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}},
		Enterprise: &scim.EnterpriseUser{EmployeeNumber: "701984", CostCenter: "4130", Organization: "Universal Studios",
			Division: "Theme Park", Department: "Tour Operations",
			Manager: &scim.Manager{Value: "26118915-6090-4610-87e4-49d8ca9f808d", Ref: "../Users/26118915-6090-4610-87e4-49d8ca9f808d", DisplayName: "John Smith"}},
		Extra: map[string]json.RawMessage{
			"urn:ietf:params:scim:schemas:extension:Acme:2.0:User": json.RawMessage(`{ "badge": 42,  "tags": ["a", "b"] }`),
			"nickNames": json.RawMessage(`["x"]`),
		},
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkNewMeta checks what a store sets on create.
func checkNewMeta(t *testing.T, id string, m scim.Meta) {
	t.Helper()
	if !uuidRE.MatchString(id) {
		t.Errorf("id %q is not a UUIDv4", id)
	}
	if m.Version != "1" {
		t.Errorf("version %q, want 1", m.Version)
	}
	if m.Created.IsZero() || !m.Created.Equal(m.LastModified) {
		t.Errorf("created %v, lastModified %v: want equal and set", m.Created, m.LastModified)
	}
	if m.Created.Location() != time.UTC || m.Created.Nanosecond()%1000 != 0 {
		t.Errorf("created %v: want UTC to the microsecond", m.Created)
	}
}

func TestUserCRUD(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		in := fullUser("bjensen")
		created, err := s.CreateUser(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		checkNewMeta(t, created.ID, created.Meta)
		want := in.Clone()
		want.ID, want.Meta, want.Password = created.ID, created.Meta, ""
		if d := cmp.Diff(want, created); d != "" {
			t.Errorf("CreateUser returned (-want +got):\n%s", d)
		}
		if in.ID != "" || in.Password == "" {
			t.Error("CreateUser modified its argument")
		}
		got, err := s.GetUser(ctx, created.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(created, got); d != "" {
			t.Errorf("GetUser after create (-want +got):\n%s", d)
		}

		// Replace: every attribute may change but id and created.
		repl := fullUser("bjensen2")
		repl.ID = created.ID
		repl.Active = false
		repl.Enterprise = nil
		repl.Extra = nil
		repl.Emails = nil
		replaced, err := s.ReplaceUser(ctx, repl)
		if err != nil {
			t.Fatal(err)
		}
		if replaced.Meta.Version != "2" || !replaced.Meta.Created.Equal(created.Meta.Created) ||
			replaced.Meta.LastModified.Before(created.Meta.LastModified) {
			t.Errorf("meta after replace = %+v, created meta %+v", replaced.Meta, created.Meta)
		}
		got, err = s.GetUser(ctx, created.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(replaced, got); d != "" {
			t.Errorf("GetUser after replace (-want +got):\n%s", d)
		}
		if got.UserName != "bjensen2" || got.Active || got.Enterprise != nil || got.Emails != nil {
			t.Errorf("replace did not replace: %+v", got)
		}

		// The old userName is free again.
		if _, err := s.CreateUser(ctx, &scim.User{UserName: "BJENSEN"}); err != nil {
			t.Errorf("create with the released userName: %v", err)
		}

		if err := s.DeleteUser(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"get":     second(s.GetUser(ctx, created.ID, scim.Projection{})),
			"delete":  s.DeleteUser(ctx, created.ID),
			"replace": second(s.ReplaceUser(ctx, repl)),
			"update":  second(s.UpdateUser(ctx, created.ID, func(*scim.User) error { return nil })),
		} {
			if !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("%s after delete: %v, want ErrNotFound", name, err)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestUserNameConflict(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		for _, name := range []string{"bjensen", "Ünïcode.Ärger"} {
			if _, err := s.CreateUser(ctx, &scim.User{UserName: name}); err != nil {
				t.Fatal(err)
			}
		}
		other, err := s.CreateUser(ctx, &scim.User{UserName: "other"})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			op   func() error
		}{
			{"create same", func() error { return second(s.CreateUser(ctx, &scim.User{UserName: "bjensen"})) }},
			{"create other case", func() error { return second(s.CreateUser(ctx, &scim.User{UserName: "BJensen"})) }},
			{"create unicode case", func() error { return second(s.CreateUser(ctx, &scim.User{UserName: "üNÏCODE.äRGER"})) }},
			{"replace to taken", func() error {
				return second(s.ReplaceUser(ctx, &scim.User{ID: other.ID, UserName: "BJENSEN"}))
			}},
			{"update to taken", func() error {
				return second(s.UpdateUser(ctx, other.ID, func(u *scim.User) error { u.UserName = "bJensen"; return nil }))
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.op(); !errors.Is(err, scim.ErrConflict) {
					t.Errorf("got %v, want ErrConflict", err)
				}
			})
		}
		got, err := s.GetUser(ctx, other.ID, scim.Projection{})
		if err != nil || got.UserName != "other" || got.Meta.Version != "1" {
			t.Errorf("after failed writes the user is %+v, %v; want it unchanged", got, err)
		}
	})
}

func TestVersionMismatch(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		u, err := s.CreateUser(ctx, &scim.User{UserName: "v"})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "v"})
		if err != nil {
			t.Fatal(err)
		}
		withVersion := func(v string) *scim.User {
			c := u.Clone()
			c.Meta.Version = v
			return c
		}
		groupVersion := func(v string) *scim.Group {
			c := g.Clone()
			c.Meta.Version = v
			return c
		}
		patch := func(id, version string, add []scim.Member) error {
			return second(s.PatchMembers(ctx, id, scim.MemberPatch{Version: version, Add: add}))
		}
		tests := []struct {
			name string
			op   func() error
			want error
		}{
			{"user stale", func() error { return second(s.ReplaceUser(ctx, withVersion("7"))) }, scim.ErrVersionMismatch},
			{"user not a number", func() error { return second(s.ReplaceUser(ctx, withVersion(`W/"1"`))) }, scim.ErrVersionMismatch},
			{"user unknown id", func() error {
				c := withVersion("1")
				c.ID = "nope"
				return second(s.ReplaceUser(ctx, c))
			}, scim.ErrNotFound},
			{"user unknown id, bad version", func() error {
				c := withVersion("x")
				c.ID = "nope"
				return second(s.ReplaceUser(ctx, c))
			}, scim.ErrNotFound},
			{"group stale", func() error { return second(s.ReplaceGroup(ctx, groupVersion("0"))) }, scim.ErrVersionMismatch},
			{"patch stale", func() error { return patch(g.ID, "2", []scim.Member{{Value: "m"}}) }, scim.ErrVersionMismatch},
			{"patch stale, changing nothing", func() error { return patch(g.ID, "2", nil) }, scim.ErrVersionMismatch},
			{"patch unknown", func() error { return patch("nope", "1", nil) }, scim.ErrNotFound},
			{"user current", func() error { return second(s.ReplaceUser(ctx, withVersion("1"))) }, nil},
			{"user now stale", func() error { return second(s.ReplaceUser(ctx, withVersion("1"))) }, scim.ErrVersionMismatch},
			{"user no version", func() error { return second(s.ReplaceUser(ctx, withVersion(""))) }, nil},
			{"group current", func() error { return second(s.ReplaceGroup(ctx, groupVersion("1"))) }, nil},
			{"patch current, changing nothing", func() error { return patch(g.ID, "2", nil) }, nil},
			{"patch still current", func() error { return patch(g.ID, "2", []scim.Member{{Value: "m"}}) }, nil},
			{"patch now stale", func() error { return patch(g.ID, "2", []scim.Member{{Value: "n"}}) }, scim.ErrVersionMismatch},
			{"patch not a number", func() error { return patch(g.ID, "x", nil) }, scim.ErrVersionMismatch},
			{"patch after the change", func() error { return patch(g.ID, "3", []scim.Member{{Value: "n"}}) }, nil},
		}
		for _, tt := range tests {
			// Sequential: each row depends on the writes before it.
			err := tt.op()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}
	})
}

func TestTenancy(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		a, b := newStore(t, db), newStore(t, db)
		ua, err := a.CreateUser(ctx, &scim.User{UserName: "same"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.CreateUser(ctx, &scim.User{UserName: "same"}); err != nil {
			t.Errorf("userName must be unique per tenant only: %v", err)
		}
		ga, err := a.CreateGroup(ctx, &scim.Group{DisplayName: "same", Members: []scim.Member{{Value: ua.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.CreateGroup(ctx, &scim.Group{DisplayName: "same"}); err != nil {
			t.Errorf("displayName must be unique per tenant only: %v", err)
		}
		for name, err := range map[string]error{
			"GetUser":      second(b.GetUser(ctx, ua.ID, scim.Projection{})),
			"ReplaceUser":  second(b.ReplaceUser(ctx, ua)),
			"UpdateUser":   second(b.UpdateUser(ctx, ua.ID, func(*scim.User) error { return nil })),
			"DeleteUser":   b.DeleteUser(ctx, ua.ID),
			"GetGroup":     second(b.GetGroup(ctx, ga.ID, scim.Projection{})),
			"ReplaceGroup": second(b.ReplaceGroup(ctx, ga)),
			"UpdateGroup":  second(b.UpdateGroup(ctx, ga.ID, func(*scim.Group) error { return nil })),
			"PatchMembers": second(b.PatchMembers(ctx, ga.ID, scim.MemberPatch{Add: []scim.Member{{Value: "x"}}})),
			"DeleteGroup":  b.DeleteGroup(ctx, ga.ID),
		} {
			if !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("%s of another tenant's resource: %v, want ErrNotFound", name, err)
			}
		}
		users, err := b.listUsers(ctx, scim.Query{Count: 10}, &scim.AttrExpr{Path: scim.AttrPath{Name: "id"}, Op: scim.OpEq, Value: str(ua.ID)})
		if err != nil || users.TotalResults != 0 {
			t.Errorf("list by id across tenants: %+v, %v", users, err)
		}
		groups, err := b.listGroups(ctx, scim.Query{Count: 10}, &scim.AttrExpr{Path: scim.AttrPath{Name: "members"}, Op: scim.OpEq, Value: str(ua.ID)})
		if err != nil || groups.TotalResults != 0 {
			t.Errorf("list by member across tenants: %+v, %v", groups, err)
		}
		// a's data survived b's attempts.
		g, err := a.GetGroup(ctx, ga.ID, scim.Projection{})
		if err != nil || len(g.Members) != 1 || g.Meta.Version != "1" {
			t.Errorf("group after another tenant's writes: %+v, %v", g, err)
		}
	})
}

type tenantKey struct{}

func TestByContext(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		tenant := randomTenant(t, db)
		s := db.ByContext(func(ctx context.Context) string {
			v, _ := ctx.Value(tenantKey{}).(string)
			return v
		})
		ctx := context.WithValue(t.Context(), tenantKey{}, tenant)
		u, err := s.CreateUser(ctx, &scim.User{UserName: "ctx"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Tenant(tenant).GetUser(t.Context(), u.ID, scim.Projection{}); err != nil {
			t.Errorf("the user is not in the context's tenant: %v", err)
		}
		if _, err := s.GetUser(t.Context(), u.ID, scim.Projection{}); !errors.Is(err, ErrNoTenant) {
			t.Errorf("no tenant in context: %v, want ErrNoTenant", err)
		}
		if _, err := s.ListUsers(t.Context(), scim.Query{}); !errors.Is(err, ErrNoTenant) {
			t.Errorf("list with no tenant in context: %v, want ErrNoTenant", err)
		}
		if _, err := db.ByContext(nil).CreateUser(ctx, &scim.User{UserName: "x"}); !errors.Is(err, ErrNoTenant) {
			t.Errorf("ByContext(nil): %v, want ErrNoTenant", err)
		}
	})
}

// TestStoreDefaultTenant: DB.Store scopes every call to scim.TenantFrom,
// and serves a context without a tenant from the tenant "".
func TestStoreDefaultTenant(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		s := db.Store()
		ta, tb := randomTenant(t, db), randomTenant(t, db)
		a := scim.WithTenant(t.Context(), scim.Tenant{ID: ta})
		b := scim.WithTenant(t.Context(), scim.Tenant{ID: tb})
		u, err := s.CreateUser(a, &scim.User{UserName: "same"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(b, &scim.User{UserName: "same"}); err != nil {
			t.Errorf("the same userName in another tenant: %v", err)
		}
		if _, err := s.GetUser(b, u.ID, scim.Projection{}); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("another tenant's user: %v, want ErrNotFound", err)
		}
		if _, err := db.Tenant(ta).GetUser(t.Context(), u.ID, scim.Projection{}); err != nil {
			t.Errorf("the user is not in the context's tenant: %v", err)
		}
		if db.dialect == PostgreSQL {
			return // tenant "" of the shared test schema is left alone
		}
		if _, err := s.CreateUser(t.Context(), &scim.User{UserName: "single"}); err != nil {
			t.Fatalf("no tenant in the context: %v", err)
		}
		if page, err := db.Tenant("").ListUsers(t.Context(), scim.Query{Count: 5}); err != nil || page.TotalResults != 1 {
			t.Errorf("tenant \"\": %+v, %v", page, err)
		}
	})
}

func TestDeleteTenant(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		gone, kept := newStore(t, db), newStore(t, db)
		for _, s := range []*Store{gone, kept} {
			u, err := s.CreateUser(ctx, fullUser("u"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "g", Members: []scim.Member{{Value: u.ID}}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.DeleteTenant(ctx, gone.tenant); err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int{"scim_users": 0, "scim_user_emails": 0, "scim_groups": 0, "scim_group_members": 0} {
			if n := countRows(t, db, table, gone.tenant); n != want {
				t.Errorf("%s has %d rows of the deleted tenant", table, n)
			}
			if n := countRows(t, db, table, kept.tenant); n == 0 {
				t.Errorf("%s lost the other tenant's rows", table)
			}
		}
	})
}

func countRows(t *testing.T, db *DB, table, tenant string) int {
	t.Helper()
	var n int
	if err := db.queryRow(t.Context(), db.db, "SELECT count(*) FROM "+table+" WHERE tenant = ?", []any{tenant}, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGroupCRUD(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		in := &scim.Group{
			ExternalID:  "8c6a7c3e-entra-object-id",
			DisplayName: "Tour Guides",
			Members: []scim.Member{
				{Value: "u2", Display: "Second", Type: "User", Ref: "https://x/Users/u2"},
				{Value: "u1", Type: "User"},
				{Value: "u2", Display: "duplicate, dropped"},
				{Value: "g9", Type: "Group"},
			},
			Extra: map[string]json.RawMessage{"urn:example:ext": json.RawMessage(`{"k": "v"}`)},
		}
		created, err := s.CreateGroup(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		checkNewMeta(t, created.ID, created.Meta)
		want := in.Clone()
		want.ID, want.Meta = created.ID, created.Meta
		want.Members = []scim.Member{in.Members[0], in.Members[1], in.Members[3]}
		if d := cmp.Diff(want, created); d != "" {
			t.Errorf("CreateGroup returned (-want +got):\n%s", d)
		}
		got, err := s.GetGroup(ctx, created.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(created, got); d != "" {
			t.Errorf("GetGroup (-want +got):\n%s", d)
		}
		noMembers, err := s.GetGroup(ctx, created.ID, scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}})
		if err != nil {
			t.Fatal(err)
		}
		want = created.Clone()
		want.Members = nil
		if d := cmp.Diff(want, noMembers); d != "" {
			t.Errorf("GetGroup without members (-want +got):\n%s", d)
		}

		if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "TOUR guides"}); !errors.Is(err, scim.ErrConflict) {
			t.Errorf("duplicate displayName: %v, want ErrConflict", err)
		}

		repl := &scim.Group{ID: created.ID, DisplayName: "Guides", Members: []scim.Member{{Value: "u3"}, {Value: "u1"}}}
		replaced, err := s.ReplaceGroup(ctx, repl)
		if err != nil {
			t.Fatal(err)
		}
		if replaced.Meta.Version != "2" || !replaced.Meta.Created.Equal(created.Meta.Created) {
			t.Errorf("meta after replace: %+v", replaced.Meta)
		}
		got, err = s.GetGroup(ctx, created.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(replaced, got); d != "" {
			t.Errorf("GetGroup after replace (-want +got):\n%s", d)
		}

		updated, err := s.UpdateGroup(ctx, created.ID, func(g *scim.Group) error {
			if len(g.Members) != 2 {
				t.Errorf("update saw %d members, want 2", len(g.Members))
			}
			g.Members = append(g.Members, scim.Member{Value: "u4"})
			g.ExternalID = "new-ext"
			g.ID = "ignored"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err = s.GetGroup(ctx, created.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(updated, got); d != "" || got.Meta.Version != "3" || len(got.Members) != 3 || got.ExternalID != "new-ext" {
			t.Errorf("GetGroup after update (-want +got):\n%s\n%+v", d, got)
		}

		// Updates that reorder or insert members rewrite the list; the
		// order read back is the order written.
		for _, order := range [][]string{{"u4", "u3", "u1"}, {"u4", "new", "u3"}, {"u3"}} {
			updated, err = s.UpdateGroup(ctx, created.ID, func(g *scim.Group) error {
				g.Members = nil
				for _, v := range order {
					g.Members = append(g.Members, scim.Member{Value: v, Display: "d-" + v})
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err = s.GetGroup(ctx, created.ID, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(updated, got); d != "" {
				t.Errorf("members %v: read back (-want +got):\n%s", order, d)
			}
		}

		sentinel := errors.New("no")
		if _, err := s.UpdateGroup(ctx, created.ID, func(g *scim.Group) error {
			g.DisplayName = "changed"
			return sentinel
		}); err != sentinel {
			t.Errorf("UpdateGroup returned %v, want the update's own error", err)
		}
		if got, _ := s.GetGroup(ctx, created.ID, scim.Projection{}); got.DisplayName != "Guides" || got.Meta.Version != "6" {
			t.Errorf("a failed update changed the group: %+v", got)
		}

		if err := s.DeleteGroup(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetGroup(ctx, created.ID, scim.Projection{}); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("get after delete: %v", err)
		}
		if err := s.DeleteGroup(ctx, created.ID); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		if n := countRows(t, db, "scim_group_members", s.tenant); n != 0 {
			t.Errorf("%d membership rows left after DeleteGroup", n)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		u, err := s.CreateUser(ctx, fullUser("upd"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.UpdateUser(ctx, u.ID, func(c *scim.User) error {
			if d := cmp.Diff(u, c); d != "" {
				t.Errorf("update saw (-stored +seen):\n%s", d)
			}
			c.Active = false
			c.Emails = []scim.MultiValue{{Value: "new@example.com", Type: "work"}}
			c.Meta = scim.Meta{Version: "999"} // ignored: the store owns Meta
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Active || got.Meta.Version != "2" || !got.Meta.Created.Equal(u.Meta.Created) || got.ID != u.ID {
			t.Errorf("UpdateUser returned %+v", got)
		}
		// The emails index follows the update.
		page, err := s.listUsers(ctx, scim.Query{Count: 5}, &scim.AttrExpr{Path: scim.AttrPath{Name: "emails", Sub: "value"}, Op: scim.OpEq, Value: str("NEW@example.com")})
		if err != nil || page.TotalResults != 1 {
			t.Errorf("filter on the new email: %+v, %v", page, err)
		}
		page, err = s.listUsers(ctx, scim.Query{Count: 5}, &scim.AttrExpr{Path: scim.AttrPath{Name: "emails", Sub: "value"}, Op: scim.OpEq, Value: str("upd@example.com")})
		if err != nil || page.TotalResults != 0 {
			t.Errorf("filter on the old email: %+v, %v", page, err)
		}
	})
}

func TestUserGroupsAndDeletes(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		u, err := s.CreateUser(ctx, &scim.User{UserName: "member"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateUser(ctx, &scim.User{UserName: "other"})
		if err != nil {
			t.Fatal(err)
		}
		gb, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "Beta", Members: []scim.Member{{Value: u.ID}, {Value: other.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		ga, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "alpha", Members: []scim.Member{{Value: u.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		parent, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "parent", Members: []scim.Member{{Value: ga.ID, Type: "Group"}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetUser(ctx, u.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		// In the order the groups were created, as memstore has them.
		want := []scim.GroupRef{{Value: gb.ID, Display: "Beta", Type: "direct"}, {Value: ga.ID, Display: "alpha", Type: "direct"}}
		if d := cmp.Diff(want, got.Groups); d != "" {
			t.Errorf("Groups (-want +got):\n%s", d)
		}
		page, err := s.ListUsers(ctx, scim.Query{Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, lu := range page.Resources {
			if lu.ID == u.ID {
				if d := cmp.Diff(want, lu.Groups); d != "" {
					t.Errorf("Groups from ListUsers (-want +got):\n%s", d)
				}
			}
		}

		// More groups, joined in another order than they were created
		// in: their ids (random) and the memberships index (by group id)
		// are in no order of creation, and the groups still come in it.
		var more []*scim.Group
		for i := range 6 {
			g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: fmt.Sprintf("g%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			more = append(more, g)
		}
		for _, i := range []int{4, 1, 5, 0, 3, 2} {
			if _, err := s.PatchMembers(ctx, more[i].ID, scim.MemberPatch{Add: []scim.Member{{Value: u.ID}}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range more {
			want = append(want, scim.GroupRef{Value: g.ID, Display: g.DisplayName, Type: "direct"})
		}
		if got, err = s.GetUser(ctx, u.ID, scim.Projection{}); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got.Groups); d != "" {
			t.Errorf("Groups of eight (-want +got):\n%s", d)
		}

		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		g, err := s.GetGroup(ctx, gb.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]scim.Member{{Value: other.ID}}, g.Members); d != "" || g.Meta.Version != "2" {
			t.Errorf("group after its member's deletion, version %s (-want +got):\n%s", g.Meta.Version, d)
		}
		if n := countRows(t, db, "scim_user_emails", s.tenant); n != 0 {
			t.Errorf("emails index keeps %d rows", n)
		}

		// Deleting a group removes it from the groups it is nested in.
		if err := s.DeleteGroup(ctx, ga.ID); err != nil {
			t.Fatal(err)
		}
		p, err := s.GetGroup(ctx, parent.ID, scim.Projection{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Members) != 0 || p.Meta.Version != "2" {
			t.Errorf("parent after its nested group's deletion: %+v", p)
		}
	})
}

// TestProjectionSkipsMembers proves, from the statements the store runs,
// that reading groups without members never touches scim_group_members, so
// that Entra ID's excludedAttributes=members reads cost the same for a
// group of ten and of a hundred thousand.
func TestProjectionSkipsMembers(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "big", Members: []scim.Member{{Value: "a"}, {Value: "b"}}})
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.CreateUser(ctx, &scim.User{UserName: "a"})
		if err != nil {
			t.Fatal(err)
		}
		log := logQueries(db)
		noMembers := scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}}
		onlyID := scim.Projection{Attributes: []scim.AttrPath{{Name: "id"}}}
		tests := []struct {
			name        string
			read        func() error
			wantMembers bool
		}{
			{"GetGroup excluded members", func() error { return second(s.GetGroup(ctx, g.ID, noMembers)) }, false},
			{"GetGroup attributes=id", func() error { return second(s.GetGroup(ctx, g.ID, onlyID)) }, false},
			{"ListGroups excluded members", func() error { return second(s.ListGroups(ctx, scim.Query{Count: 10, Want: noMembers})) }, false},
			{"ListGroups displayName eq, excluded members", func() error {
				return second(s.listGroups(ctx, scim.Query{Count: 10, Want: noMembers},
					&scim.AttrExpr{Path: scim.AttrPath{Name: "displayName"}, Op: scim.OpEq, Value: str("big")}))
			}, false},
			{"GetUser excluded groups", func() error {
				return second(s.GetUser(ctx, u.ID, scim.Projection{Excluded: []scim.AttrPath{{Name: "groups"}}}))
			}, false},
			{"GetGroup", func() error { return second(s.GetGroup(ctx, g.ID, scim.Projection{})) }, true},
			{"ListGroups", func() error { return second(s.ListGroups(ctx, scim.Query{Count: 10})) }, true},
			{"GetUser", func() error { return second(s.GetUser(ctx, u.ID, scim.Projection{})) }, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				log.take()
				if err := tt.read(); err != nil {
					t.Fatal(err)
				}
				qs := log.take()
				if got := touching(qs, "scim_group_members"); (len(got) > 0) != tt.wantMembers {
					t.Errorf("statements touching scim_group_members: %q; want some: %v", got, tt.wantMembers)
				}
			})
		}
	})
}

// TestUpdateSetsChangedKeys checks userUpdate's rule from the statements
// UpdateUser runs: an update that keeps userName, externalId and the
// manager leaves their columns (and so their indexes) out of the UPDATE,
// and one that changes any of them sets them, so that the lookups by the
// new value find the user and those by the old one do not.
func TestUpdateSetsChangedKeys(t *testing.T) {
	eachDialectCaching(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		u, err := s.CreateUser(ctx, &scim.User{UserName: "keys", ExternalID: "e1", Active: true,
			Enterprise: &scim.EnterpriseUser{Manager: &scim.Manager{Value: "m1"}}})
		if err != nil {
			t.Fatal(err)
		}
		log := logQueries(db)
		eq := func(attr, v string) scim.Filter {
			return &scim.AttrExpr{Path: scim.AttrPath{Name: attr}, Op: scim.OpEq, Value: str(v)}
		}
		for _, tt := range []struct {
			name     string
			update   func(*scim.User)
			wantKeys bool
			found    scim.Filter // finds the user after the update
			lost     scim.Filter // no longer does
		}{
			{"title", func(u *scim.User) { u.Title = "Guide" }, false, eq("userName", "keys"), nil},
			{"active", func(u *scim.User) { u.Active = false }, false, eq("externalId", "e1"), nil},
			{"userName", func(u *scim.User) { u.UserName = "keys2" }, true, eq("userName", "KEYS2"), eq("userName", "keys")},
			{"userName case", func(u *scim.User) { u.UserName = "Keys2" }, true, eq("userName", "keys2"), nil},
			{"externalId", func(u *scim.User) { u.ExternalID = "e2" }, true, eq("externalId", "e2"), eq("externalId", "e1")},
			{"manager", func(u *scim.User) { u.Enterprise.Manager.Value = "m2" }, true, nil, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				log.take()
				got, err := s.UpdateUser(ctx, u.ID, func(u *scim.User) error { tt.update(u); return nil })
				if err != nil {
					t.Fatal(err)
				}
				updates := touching(log.take(), "UPDATE scim_users")
				if len(updates) == 0 {
					t.Fatal("no UPDATE of scim_users")
				}
				for _, q := range updates {
					for _, col := range []string{"user_name =", "user_name_fold =", "external_id =", "manager_fold ="} {
						if strings.Contains(q, col) != tt.wantKeys {
							t.Errorf("%s in %q: %v, want %v", col, q, !tt.wantKeys, tt.wantKeys)
						}
					}
				}
				read, err := s.GetUser(ctx, u.ID, scim.Projection{})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(got, read); d != "" {
					t.Errorf("GetUser after the update (-returned +read):\n%s", d)
				}
				for f, want := range map[scim.Filter]int{tt.found: 1, tt.lost: 0} {
					if f == nil {
						continue
					}
					page, err := s.listUsers(ctx, scim.Query{Count: 10}, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Resources) != want {
						t.Errorf("filter %v: %d users, want %d", f, len(page.Resources), want)
					}
				}
			})
		}
		var mgr string
		if err := db.queryRow(ctx, db.db, "SELECT manager_fold FROM scim_users WHERE tenant = ? AND id = ?", []any{s.tenant, u.ID}, &mgr); err != nil {
			t.Fatal(err)
		}
		if mgr != fold("m2") {
			t.Errorf("manager_fold %q after the manager's change, want %q", mgr, fold("m2"))
		}
	})
}

func TestPatchMembers(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		fakeClock(db)
		ctx := t.Context()
		s := newStore(t, db)
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "p", Members: []scim.Member{{Value: "m1"}}})
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name                   string
			add                    []scim.Member
			remove                 []string
			wantAdded, wantRemoved []string
			wantMembers            []string
		}{
			{"add two", []scim.Member{{Value: "m2", Display: "Two", Type: "User"}, {Value: "m3"}}, nil,
				[]string{"m2", "m3"}, nil, []string{"m1", "m2", "m3"}},
			{"add again is no error", []scim.Member{{Value: "m2"}, {Value: "m4"}, {Value: "m4"}}, nil,
				[]string{"m4"}, nil, []string{"m1", "m2", "m3", "m4"}},
			{"remove one and a non-member", nil, []string{"m1", "nobody", "m1"},
				nil, []string{"m1"}, []string{"m2", "m3", "m4"}},
			{"add and remove the same id", []scim.Member{{Value: "m5"}}, []string{"m5"},
				[]string{"m5"}, []string{"m5"}, []string{"m2", "m3", "m4"}},
			// members.value is case-insensitive: M2 is m2.
			{"case does not matter for ids", []scim.Member{{Value: "M2"}}, nil,
				nil, nil, []string{"m2", "m3", "m4"}},
			{"a replay changes nothing", []scim.Member{{Value: "M2"}, {Value: "m3"}}, []string{"m1", "m5"},
				nil, nil, []string{"m2", "m3", "m4"}},
			{"nothing", nil, nil, nil, nil, []string{"m2", "m3", "m4"}},
			{"order given, not stored", []scim.Member{{Value: "z"}, {Value: "a"}}, []string{"m4", "M2"},
				[]string{"z", "a"}, []string{"m4", "M2"}, []string{"m3", "z", "a"}},
		}
		last := g.Meta
		version := 1
		for _, st := range steps {
			res, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Version: last.Version, Add: st.add, Remove: st.remove})
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if d := cmp.Diff(st.wantAdded, res.Added); d != "" {
				t.Errorf("%s: added (-want +got):\n%s", st.name, d)
			}
			if d := cmp.Diff(st.wantRemoved, res.Removed); d != "" {
				t.Errorf("%s: removed (-want +got):\n%s", st.name, d)
			}
			changed := len(st.wantAdded)+len(st.wantRemoved) > 0
			if changed {
				version++
			}
			got := res.Group
			if got == nil {
				t.Fatalf("%s: no group returned", st.name)
			}
			if want := strconv.Itoa(version); got.Meta.Version != want || got.Members != nil ||
				!got.Meta.Created.Equal(g.Meta.Created) || got.DisplayName != "p" {
				t.Errorf("%s: returned %+v, want version %s and no members", st.name, got, want)
			}
			if changed && !got.Meta.LastModified.After(last.LastModified) || !changed && !got.Meta.LastModified.Equal(last.LastModified) {
				t.Errorf("%s: lastModified %v after %v; changed: %v", st.name, got.Meta.LastModified, last.LastModified, changed)
			}
			last = got.Meta
			full, err := s.GetGroup(ctx, g.ID, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(got.Meta, full.Meta); d != "" {
				t.Errorf("%s: meta of GetGroup (-PatchMembers +GetGroup):\n%s", st.name, d)
			}
			var ids []string
			for _, m := range full.Members {
				ids = append(ids, m.Value)
			}
			if d := cmp.Diff(st.wantMembers, ids); d != "" {
				t.Errorf("%s: members (-want +got):\n%s", st.name, d)
			}
			if st.name == "add two" && (full.Members[1] != scim.Member{Value: "m2", Display: "Two", Type: "User"}) {
				t.Errorf("member stored as %+v", full.Members[1])
			}
		}
	})
}

// TestUnstorableStrings: PostgreSQL cannot store NUL bytes or invalid UTF-8
// in text. Lookups and filters with such strings find nothing instead of
// failing; writes fail with a 400 the client can read. SQLite stores them.
func TestUnstorableStrings(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		for _, bad := range []string{"a\x00b", "a\xffb"} {
			if _, err := s.GetUser(ctx, bad, scim.Projection{}); !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("GetUser(%q): %v, want ErrNotFound", bad, err)
			}
			if _, err := s.PatchMembers(ctx, bad, scim.MemberPatch{}); !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("PatchMembers(%q): %v, want ErrNotFound", bad, err)
			}
			for _, op := range []scim.Operator{scim.OpEq, scim.OpCo} {
				for _, attr := range []string{"userName", "externalId", "emails.value"} {
					if _, err := s.listUsers(ctx, scim.Query{Count: 1}, cmpx(attr, op, bad)); err != nil {
						t.Errorf("%s %s %q: %v", attr, op, bad, err)
					}
				}
			}
			u, err := s.CreateUser(ctx, &scim.User{UserName: bad})
			if db.dialect == SQLite {
				if err != nil {
					t.Errorf("SQLite CreateUser(%q): %v", bad, err)
					continue
				}
				page, err := s.listUsers(ctx, scim.Query{Count: 1}, eq("userName", bad))
				if err != nil || page.TotalResults != 1 || page.Resources[0].ID != u.ID {
					t.Errorf("SQLite userName eq %q: %+v, %v", bad, page, err)
				}
				continue
			}
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || se.Type != scim.InvalidValue {
				t.Errorf("PostgreSQL CreateUser(%q): %v, want a 400 invalidValue", bad, err)
			}
		}
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "g", Members: []scim.Member{{Value: "m"}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Remove: []string{"m", "x\x00"}})
		if err != nil {
			t.Errorf("removing an unstorable id: %v", err)
		} else if d := cmp.Diff([]string{"m"}, res.Removed); d != "" {
			t.Errorf("removed (-want +got):\n%s", d)
		}
	})
}

// TestUpdatePanics: an update callback that panics leaves no transaction
// open and no lock held.
func TestUpdatePanics(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := newStore(t, db)
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "g"})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 { // more than one writer slot's worth
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic did not propagate")
					}
				}()
				_, _ = s.UpdateGroup(ctx, g.ID, func(g *scim.Group) error {
					g.DisplayName = "changed"
					panic("boom")
				})
			}()
		}
		res, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Version: "1", Add: []scim.Member{{Value: "after"}}})
		if err != nil {
			t.Fatalf("write after the panics: %v", err)
		}
		if got := res.Group; got.DisplayName != "g" || got.Meta.Version != "2" {
			t.Errorf("after the panics the group is %+v", got)
		}
	})
}
