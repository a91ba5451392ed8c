package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/storetest"
)

// defective wraps memstore with one deliberate bug, to check that the kit
// notices it.
type defective struct {
	*memstore.Store
	defect string

	mu     sync.Mutex
	shared map[string]*scim.User
}

func (d *defective) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	switch d.defect {
	case "ignoreFilter":
		if f, ok := q.Filter.(*scim.AttrExpr); ok && strings.EqualFold(f.Path.Name, "externalId") {
			q.Filter = nil
		}
	case "supersetForContains":
		if f, ok := q.Filter.(*scim.AttrExpr); ok && f.Op == scim.OpCo {
			q.Filter = nil
		}
	case "ignorePaging":
		q.StartIndex, q.Count = 1, 1<<20
	case "countZeroReturnsAll":
		if q.Count == 0 {
			q.Count = 1 << 20
		}
	case "extensionNumbersAsText", "extensionNumbersAsTextDeclared":
		if f, ok := q.Filter.(*scim.AttrExpr); ok && strings.Contains(f.Path.URN, ":extension:") && f.Value.Kind == scim.KindNumber {
			g := *f
			g.Value.Kind = scim.KindString
			q.Filter = &g
		}
	case "extensionUntyped":
		// A store that loses the declarations the paths carry compares
		// every string ignoring case and dateTimes as text.
		if f, ok := q.Filter.(*scim.AttrExpr); ok && f.Path.Declared != nil {
			g := *f
			g.Path.Declared = nil
			q.Filter = &g
		}
		q.SortBy.Declared = nil
	case "refuseExtensions", "refuseExtensionsDeclared":
		custom := func(urn string) bool {
			return strings.Contains(urn, ":extension:") && !strings.EqualFold(urn, scim.EnterpriseUserSchema)
		}
		if f, ok := q.Filter.(*scim.AttrExpr); (ok && custom(f.Path.URN)) || custom(q.SortBy.URN) {
			return scim.Page[*scim.User]{}, scim.ErrUnsupported
		}
	}
	return d.Store.ListUsers(ctx, q)
}

func (d *defective) DeclareExtensions(exts []scim.Extension) error {
	if d.defect == "ignoreUniqueExtensions" {
		return nil // told, but enforces nothing
	}
	return d.Store.DeclareExtensions(exts)
}

func (d *defective) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	if d.defect != "sharedMemory" {
		return d.Store.GetUser(ctx, id, want)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if u := d.shared[id]; u != nil {
		return u, nil
	}
	u, err := d.Store.GetUser(ctx, id, want)
	if err == nil {
		d.shared[id] = u
	}
	return u, err
}

func (d *defective) ReplaceUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	switch d.defect {
	case "ignoreVersion":
		u = u.Clone()
		u.Meta.Version = ""
	case "resetCreated":
		got, err := d.Store.ReplaceUser(ctx, u)
		if got != nil {
			got.Meta.Created = time.Now()
		}
		return got, err
	}
	return d.Store.ReplaceUser(ctx, u)
}

func (d *defective) DeleteUser(ctx context.Context, id string) error {
	if d.defect != "keepMemberships" {
		return d.Store.DeleteUser(ctx, id)
	}
	u, err := d.Store.GetUser(ctx, id, scim.Projection{})
	if err != nil {
		return err
	}
	if err := d.Store.DeleteUser(ctx, id); err != nil {
		return err
	}
	for _, g := range u.Groups {
		if _, err := d.Store.PatchMembers(ctx, g.Value, scim.MemberPatch{Add: []scim.Member{{Value: id}}}); err != nil {
			return err
		}
	}
	return nil
}

func (d *defective) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	g, err := d.Store.GetGroup(ctx, id, want)
	if d.defect == "neverMembers" && g != nil {
		g.Members = nil
	}
	return g, err
}

func (d *defective) PatchMembers(ctx context.Context, groupID string, p scim.MemberPatch) (scim.MemberPatchResult, error) {
	if d.defect == "patchNotIdempotent" {
		g, err := d.Store.GetGroup(ctx, groupID, scim.Projection{})
		if err != nil {
			return scim.MemberPatchResult{}, err
		}
		for _, a := range p.Add {
			for _, m := range g.Members {
				if m.Value == a.Value {
					return scim.MemberPatchResult{}, errors.New("already a member")
				}
			}
		}
	}
	res, err := d.Store.PatchMembers(ctx, groupID, p)
	if d.defect == "patchReportsReplays" {
		res.Added = memberValues(p.Add)
	}
	return res, err
}

func memberValues(ms []scim.Member) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.Value)
	}
	return ids
}

// usersOnly is a Store without groups.
type usersOnly struct{ s *memstore.Store }

func (u usersOnly) CreateUser(ctx context.Context, x *scim.User) (*scim.User, error) {
	return u.s.CreateUser(ctx, x)
}
func (u usersOnly) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	return u.s.GetUser(ctx, id, want)
}
func (u usersOnly) ReplaceUser(ctx context.Context, x *scim.User) (*scim.User, error) {
	return u.s.ReplaceUser(ctx, x)
}
func (u usersOnly) DeleteUser(ctx context.Context, id string) error { return u.s.DeleteUser(ctx, id) }
func (u usersOnly) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return u.s.ListUsers(ctx, q)
}

// tenantOf is the tenant key of memstore.WithTenant: the tenant BearerAuth
// (or storetest.InTenant) put in the context.
func tenantOf(ctx context.Context) string {
	t, _ := scim.TenantFrom(ctx)
	return t.ID
}

// leaky wraps a multi-tenant memstore with one deliberate cross-tenant
// leak, of the kind a join or an index that forgets the tenant makes.
type leaky struct {
	*memstore.Store
	defect string

	mu      sync.Mutex
	display map[string]string // user id → displayName, of every tenant
	names   map[string]bool   // folded userNames of every tenant
}

var tenantIDs = []string{"alpha", "bravo"}

func inTenant(ctx context.Context, id string) context.Context {
	return scim.WithTenant(ctx, scim.Tenant{ID: id})
}

func (l *leaky) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.defect == "globalUniqueness" && l.names[scim.FoldCase(u.UserName)] {
		return nil, scim.ErrConflict
	}
	got, err := l.Store.CreateUser(ctx, u)
	if err == nil {
		l.display[got.ID] = got.DisplayName
		l.names[scim.FoldCase(got.UserName)] = true
	}
	return got, err
}

func (l *leaky) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	u, err := l.Store.GetUser(ctx, id, want)
	if l.defect == "leakGet" && errors.Is(err, scim.ErrNotFound) {
		for _, other := range tenantIDs {
			if u, err := l.Store.GetUser(inTenant(ctx, other), id, want); err == nil {
				return u, nil
			}
		}
	}
	return u, err
}

func (l *leaky) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	f, ok := q.Filter.(*scim.AttrExpr)
	if l.defect != "leakFilter" || !ok || !strings.EqualFold(f.Path.Name, "externalId") {
		return l.Store.ListUsers(ctx, q)
	}
	var all scim.Page[*scim.User]
	for _, id := range slices.Compact(slices.Sorted(slices.Values(append([]string{tenantOf(ctx)}, tenantIDs...)))) {
		page, err := l.Store.ListUsers(inTenant(ctx, id), q)
		if err != nil {
			return page, err
		}
		all.Resources = append(all.Resources, page.Resources...)
		all.TotalResults += page.TotalResults
	}
	return all, nil
}

// fillDisplay fills the display of members from the users of every tenant,
// as a join on the user id alone would.
func (l *leaky) fillDisplay(g *scim.Group) {
	if l.defect != "leakMemberDisplay" || g == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, m := range g.Members {
		if m.Display == "" {
			g.Members[i].Display = l.display[m.Value]
		}
	}
}

func (l *leaky) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	g, err := l.Store.GetGroup(ctx, id, want)
	l.fillDisplay(g)
	return g, err
}

func (l *leaky) ListGroups(ctx context.Context, q scim.Query) (scim.Page[*scim.Group], error) {
	page, err := l.Store.ListGroups(ctx, q)
	for _, g := range page.Resources {
		l.fillDisplay(g)
	}
	return page, err
}

// foreignKeys wraps memstore with a foreign key from members to users: a
// member id that is no user of the tenant is refused, as a database with
// the key would refuse the row. It keeps its own index of user ids, as the
// database would, since memstore's UpdateGroup holds the store's lock.
type foreignKeys struct {
	*memstore.Store
	mu    sync.Mutex
	users map[string]bool // tenant + "/" + user id
}

var errNoSuchUser = errors.New("foreign key violation: member is not a user")

func (f *foreignKeys) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	got, err := f.Store.CreateUser(ctx, u)
	if err == nil {
		f.mu.Lock()
		f.users[tenantOf(ctx)+"/"+got.ID] = true
		f.mu.Unlock()
	}
	return got, err
}

func (f *foreignKeys) DeleteUser(ctx context.Context, id string) error {
	err := f.Store.DeleteUser(ctx, id)
	if err == nil {
		f.mu.Lock()
		delete(f.users, tenantOf(ctx)+"/"+id)
		f.mu.Unlock()
	}
	return err
}

func (f *foreignKeys) check(ctx context.Context, ms []scim.Member) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range ms {
		if !f.users[tenantOf(ctx)+"/"+m.Value] {
			return fmt.Errorf("%w: %q", errNoSuchUser, m.Value)
		}
	}
	return nil
}

func (f *foreignKeys) CreateGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	if err := f.check(ctx, g.Members); err != nil {
		return nil, err
	}
	return f.Store.CreateGroup(ctx, g)
}

func (f *foreignKeys) ReplaceGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	if err := f.check(ctx, g.Members); err != nil {
		return nil, err
	}
	return f.Store.ReplaceGroup(ctx, g)
}

func (f *foreignKeys) UpdateGroup(ctx context.Context, id string, update func(*scim.Group) error) (*scim.Group, error) {
	return f.Store.UpdateGroup(ctx, id, func(g *scim.Group) error {
		if err := update(g); err != nil {
			return err
		}
		return f.check(ctx, g.Members)
	})
}

func (f *foreignKeys) PatchMembers(ctx context.Context, groupID string, p scim.MemberPatch) (scim.MemberPatchResult, error) {
	if _, err := f.Store.GetGroup(ctx, groupID, scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}}); err != nil {
		return scim.MemberPatchResult{}, err
	}
	if err := f.check(ctx, p.Add); err != nil {
		return scim.MemberPatchResult{}, err
	}
	return f.Store.PatchMembers(ctx, groupID, p)
}

// wrongListGroups has every GroupStore method but one: its ListGroups
// returns a slice, not a scim.Page.
type wrongListGroups struct{ usersOnly }

func (w wrongListGroups) CreateGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	return w.s.CreateGroup(ctx, g)
}
func (w wrongListGroups) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	return w.s.GetGroup(ctx, id, want)
}
func (w wrongListGroups) ReplaceGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	return w.s.ReplaceGroup(ctx, g)
}
func (w wrongListGroups) DeleteGroup(ctx context.Context, id string) error {
	return w.s.DeleteGroup(ctx, id)
}
func (w wrongListGroups) ListGroups(ctx context.Context, q scim.Query) ([]*scim.Group, error) {
	page, err := w.s.ListGroups(ctx, q)
	return page.Resources, err
}

// TestDefectiveStore is run by TestRunCatchesDefects in a child process,
// with the defect in the environment.
func TestDefectiveStore(t *testing.T) {
	defect := os.Getenv("STORETEST_DEFECT")
	if defect == "" {
		t.Skip("run by TestRunCatchesDefects")
	}
	var opts []storetest.Option
	tenants := func(newStore func() scim.Store) storetest.Option {
		return storetest.Tenants(func(*testing.T) (a, b storetest.Tenant) {
			s := newStore()
			return storetest.Tenant{Store: s, Context: storetest.InTenant("alpha")}, storetest.Tenant{Store: s, Context: storetest.InTenant("bravo")}
		})
	}
	newLeaky := func() scim.Store {
		return &leaky{Store: memstore.New(memstore.WithTenant(tenantOf)), defect: defect, display: map[string]string{}, names: map[string]bool{}}
	}
	newStore := func() scim.Store {
		return &defective{Store: memstore.New(), defect: defect, shared: map[string]*scim.User{}}
	}
	switch defect {
	case "extensionNumbersAsTextDeclared", "refuseExtensionsDeclared":
		opts = append(opts, storetest.Extensions(scim.Extension{
			Schema: "urn:ietf:params:scim:schemas:extension:Fabrikam:2.0:User", Resource: "User",
			Attributes: []scim.Attribute{{Name: "level", Type: scim.TypeInteger}},
		}))
	case "usersOnly":
		newStore = func() scim.Store { return usersOnly{memstore.New()} }
	case "usersOnlyDeclaringGroups":
		newStore = func() scim.Store { return usersOnly{memstore.New()} }
		opts = append(opts, storetest.Declare(storetest.Groups))
	case "wrongListGroups", "wrongListGroupsDeclared":
		newStore = func() scim.Store { return wrongListGroups{usersOnly{memstore.New()}} }
		if defect == "wrongListGroupsDeclared" {
			opts = append(opts, storetest.Declare(storetest.Groups|storetest.UserGroups))
		}
	case "noUserGroupsDeclared":
		opts = append(opts, storetest.Declare(storetest.Groups|storetest.UserGroups))
		newStore = func() scim.Store { return noUserGroups{memstore.New()} }
	case "leakGet", "leakFilter", "leakMemberDisplay", "globalUniqueness", "noLeak":
		newStore = newLeaky
		opts = append(opts, tenants(newLeaky))
	case "seqIDs", "seqIDsLeakJoin":
		seq := func() scim.Store { return newSeqIDs(defect == "seqIDsLeakJoin") }
		newStore = seq
		opts = append(opts, tenants(seq), storetest.Declare(storetest.Groups|storetest.UserGroups))
	case "foreignKeys":
		fk := func() scim.Store {
			return &foreignKeys{Store: memstore.New(memstore.WithTenant(tenantOf)), users: map[string]bool{}}
		}
		newStore = fk
		opts = append(opts, tenants(fk), storetest.Declare(storetest.Groups|storetest.UserUpdater|storetest.GroupUpdater|storetest.MemberPatcher|storetest.UserGroups))
	}
	storetest.Run(t, func(*testing.T) scim.Store { return newStore() }, opts...)
}

// noUserGroups is memstore without User.Groups.
type noUserGroups struct{ *memstore.Store }

func (n noUserGroups) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	u, err := n.Store.GetUser(ctx, id, want)
	if u != nil {
		u.Groups = nil
	}
	return u, err
}

func TestRunCatchesDefects(t *testing.T) {
	if os.Getenv("STORETEST_DEFECT") != "" {
		t.Skip("in the child process")
	}
	cases := []struct {
		defect string
		fail   []string // checks that must fail; none: the run must pass
		skip   []string // checks that must be skipped
	}{
		{"ignoreFilter", []string{"UserFilters/MustAnswer/externalId_eq", "UserFilters/MustAnswer/externalId_eq_is_case-exact"}, nil},
		{"supersetForContains", []string{"UserFilters/MayRefuse/title_co_ignores_case"}, nil},
		{"ignorePaging", []string{"Paging/EveryUserExactlyOnce", "Paging/StartIndexPastTheEnd"}, nil},
		{"countZeroReturnsAll", []string{"Paging/CountZeroGivesTotalOnly"}, nil},
		{"sharedMemory", []string{"Users/ReturnedUsersAreCopies"}, nil},
		{"ignoreVersion", []string{"Users/ReplaceStaleVersionIsVersionMismatch"}, nil},
		{"resetCreated", []string{"Users/ReplaceKeepsIDAndCreated"}, nil},
		{"keepMemberships", []string{"Memberships/DeleteUserRemovesItFromGroups"}, nil},
		{"neverMembers", []string{"Groups/MembersReturnedWhenWanted", "Groups/CreateAssignsIDAndMeta"}, nil},
		{"patchNotIdempotent", []string{"Capabilities/PatchMembersIsIdempotent"}, nil},
		{"patchReportsReplays", []string{"Capabilities/PatchMembersIsIdempotent"}, nil},
		{"usersOnly", nil, []string{"Groups/CreateAssignsIDAndMeta", "Memberships/UserGroupsReflectMembership", "Capabilities/PatchMembersAddsAndRemoves", "Concurrency/FiftyMemberAddsToOneGroup"}},
		{"usersOnlyDeclaringGroups", []string{"Declarations/InterfacesMatch", "Groups/CreateAssignsIDAndMeta", "Concurrency/FiftyMemberAddsToOneGroup"}, nil},
		{"wrongListGroups", []string{"Declarations/InterfacesMatch"}, []string{"Groups/CreateAssignsIDAndMeta"}},
		{"wrongListGroupsDeclared", []string{"Declarations/InterfacesMatch", "Groups/CreateAssignsIDAndMeta", "Memberships/UserGroupsReflectMembership"}, nil},
		{"noUserGroupsDeclared", []string{"Memberships/UserGroupsReflectMembership"}, nil},
		{"extensionNumbersAsText", []string{"Extensions/FilterAndSortByExtensionAttributes"}, nil},
		{"extensionNumbersAsTextDeclared", []string{"Extensions/FilterAndSortByExtensionAttributes"}, nil},
		{"refuseExtensions", nil, nil},
		{"ignoreUniqueExtensions", []string{"Extensions/UniqueExtensionValues"}, nil},
		{"extensionUntyped", []string{"Extensions/FilterAndSortByExtensionAttributes"}, nil},
		{"refuseExtensionsDeclared", []string{"Extensions/FilterAndSortByExtensionAttributes"}, nil},
		{"noLeak", nil, nil},
		{"foreignKeys", nil, nil},
		{"seqIDs", nil, nil},
		{"seqIDsLeakJoin", []string{"Tenants/MemberDisplayValuesStayInTenant"}, nil},
		{"leakGet", []string{"Tenants/GetsSeeOnlyOwnTenant"}, nil},
		{"leakFilter", []string{"Tenants/UserListsAndFiltersSeeOnlyOwnTenant"}, nil},
		{"leakMemberDisplay", []string{"Tenants/MemberDisplayValuesStayInTenant"}, nil},
		{"globalUniqueness", []string{"Tenants/UniquenessIsPerTenant"}, nil},
	}
	// What the failures of some defects must say.
	messages := map[string][]string{
		"usersOnlyDeclaringGroups": {"the store declares Groups (storetest.Declare), but storetest_test.usersOnly does not implement scim.GroupStore: CreateGroup is missing"},
		"wrongListGroups":          {"ListGroups has signature func(context.Context, scim.Query) ([]*scim.Group, error), want func(context.Context, scim.Query) (scim.Page[*github.com/scimhost/scim.Group], error); the handler would serve the store without Groups"},
		"wrongListGroupsDeclared":  {"the store declares Groups (storetest.Declare), but storetest_test.wrongListGroups does not implement scim.GroupStore: ListGroups has signature"},
		"noUserGroupsDeclared":     {"the store declares UserGroups"},
		"ignoreFilter":             {`filter externalId eq "ext-A": ["Bob@Example.com" "alice@example.com" "carol@example.com" "dave@example.com"] (totalResults 4), want ["alice@example.com"] (required: Entra ID matches users by externalId eq`},
		"leakGet":                  {`LEAK: tenant bravo sees tenant alpha's data: GetUser(`, `returned user "one@alpha.example.com"`},
		"leakFilter":               {`LEAK: tenant alpha sees tenant bravo's data: ListUsers(filter externalId eq "ext-shared") returned user "shared@example.com"`, `user "shared@example.com" (displayName "Bravo Shared"`},
		"leakMemberDisplay":        {`LEAK: tenant bravo sees tenant alpha's data: GetGroup of a group of its own whose member is the id of tenant alpha's user "one@alpha.example.com" returned group "Cross bravo"`, `"Display":"Alpha One"`},
		"seqIDsLeakJoin":           {`LEAK: tenant alpha sees tenant bravo's data: GetGroup("4") of its own group returned group "Team alpha"`, `"Display":"Bravo Two"`},
		"extensionNumbersAsText":   {`filter urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:badgeNumber gt 100: [] (totalResults 0), want ["ext0-2@example.com" "ext0-4@example.com"]`},
		"ignoreUniqueExtensions":   {"two concurrent creates with urn:ietf:params:scim:schemas:extension:StoreTest:2.0:User:badge \"Badge-1\" succeeded, want exactly one"},
		"extensionUntyped": {
			`filter urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:code eq "value-100": ["ext0-1@example.com"] (totalResults 1), want []`,
			`filter urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:since eq "2026-01-01T01:40:00Z": [] (totalResults 0), want ["ext0-1@example.com"]`,
		},
		"refuseExtensionsDeclared": {`filter urn:ietf:params:scim:schemas:extension:Fabrikam:2.0:User:level gt 100: scim: filter or sort not supported by the store`},
		"globalUniqueness":         {`tenant bravo: CreateUser("shared@example.com"): ErrConflict, though no user of tenant bravo has that userName`},
	}
	for _, tc := range cases {
		t.Run(tc.defect, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDefectiveStore$", "-test.v", "-test.count=1", "-test.timeout=120s")
			cmd.Env = append(os.Environ(), "STORETEST_DEFECT="+tc.defect)
			out, err := cmd.CombinedOutput()
			if len(tc.fail) == 0 && err != nil {
				t.Fatalf("the kit failed a correct store: %v\n%s", err, out)
			}
			if len(tc.fail) > 0 && err == nil {
				t.Fatalf("the kit passed a store with defect %q", tc.defect)
			}
			for _, name := range tc.fail {
				if !strings.Contains(string(out), "--- FAIL: TestDefectiveStore/"+name+" ") {
					t.Errorf("check %s did not fail for defect %q", name, tc.defect)
				}
			}
			for _, name := range tc.skip {
				if !strings.Contains(string(out), "--- SKIP: TestDefectiveStore/"+name+" ") {
					t.Errorf("check %s was not skipped for defect %q", name, tc.defect)
				}
			}
			for _, m := range messages[tc.defect] {
				if !strings.Contains(string(out), m) {
					t.Errorf("the output for defect %q does not say %q", tc.defect, m)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
