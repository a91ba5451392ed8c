package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimhost/scim"
)

// The isolation checks fill two tenants, alpha and bravo, with the same
// shapes of data. Every value of one tenant that may differ carries the
// tenant's name, so that anything of alpha's read through bravo is found by
// its text, whatever ids the store assigns (a store with ids counted per
// tenant gives both tenants the same ids, which is where a join that forgets
// the tenant shows up). Some values are equal in both tenants: the userName
// and externalId of the user "shared", and the group "Everyone".

type tenantCheck struct {
	name  string
	needs Capability
	fn    func(t *testing.T, c *config, a, b Tenant)
}

var tenantChecks = []tenantCheck{
	{"UniquenessIsPerTenant", 0, testTenantUniqueness},
	{"GetsSeeOnlyOwnTenant", 0, testTenantGets},
	{"UserListsAndFiltersSeeOnlyOwnTenant", 0, testTenantUserFilters},
	{"GroupListsAndFiltersSeeOnlyOwnTenant", Groups, testTenantGroupFilters},
	{"MemberDisplayValuesStayInTenant", Groups, testTenantMemberDisplay},
	{"UserGroupsSeeOnlyOwnTenant", Groups, testTenantUserGroups},
	{"WritesByOtherTenantsIDsAreNotFound", 0, testTenantWrites},
	{"MembershipChangesStayInTenant", Groups, testTenantMemberships},
	{"DeletesCascadeWithinTenant", Groups, testTenantCascade},
}

// side is one tenant with the data the check stored in it.
type side struct {
	name string // "alpha" or "bravo"
	Tenant
	ctx    context.Context
	gs     scim.GroupStore // nil without groups
	one    *scim.User      // one@<name>.example.com
	two    *scim.User      // two@<name>.example.com
	shared *scim.User      // shared@example.com, in both tenants
	team   *scim.Group     // "Team <name>": one and two
	every  *scim.Group     // "Everyone": shared
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// seed stores the tenant's data, and fails when the store refuses a name
// that only the other tenant has.
func seed(t *testing.T, tn Tenant, name string, withGroups bool) *side {
	t.Helper()
	s := &side{name: name, Tenant: tn, ctx: t.Context()}
	if tn.Context != nil {
		s.ctx = tn.Context(t.Context())
	}
	if gs, ok := tn.Store.(scim.GroupStore); ok && withGroups {
		s.gs = gs
	}
	mk := func(u *scim.User) *scim.User {
		t.Helper()
		got, err := tn.Store.CreateUser(s.ctx, u)
		if errors.Is(err, scim.ErrConflict) {
			t.Fatalf("tenant %s: CreateUser(%q): ErrConflict, though no user of tenant %s has that userName: uniqueness must be per tenant, or the conflict tells one tenant what another has", name, u.UserName, name)
		}
		if err != nil || got == nil {
			t.Fatalf("tenant %s: CreateUser(%q): %v", name, u.UserName, err)
		}
		return got
	}
	T := title(name)
	s.one = mk(&scim.User{UserName: "one@" + name + ".example.com", ExternalID: "ext-one-" + name, DisplayName: T + " One", Title: "Engineer " + name, Active: true,
		Emails: []scim.MultiValue{{Value: "one@" + name + ".example.com", Type: "work", Primary: true}}})
	s.two = mk(&scim.User{UserName: "two@" + name + ".example.com", ExternalID: "ext-two-" + name, DisplayName: T + " Two", Active: true,
		Emails: []scim.MultiValue{{Value: "two@" + name + ".example.com", Type: "work"}}})
	s.shared = mk(&scim.User{UserName: "shared@example.com", ExternalID: "ext-shared", DisplayName: T + " Shared", Title: "Shared " + name, Active: true,
		Emails: []scim.MultiValue{{Value: "shared@example.com", Type: "work"}}})
	if s.gs == nil {
		return s
	}
	mg := func(g *scim.Group) *scim.Group {
		t.Helper()
		got, err := s.gs.CreateGroup(s.ctx, g)
		if errors.Is(err, scim.ErrConflict) {
			t.Fatalf("tenant %s: CreateGroup(%q): ErrConflict, though no group of tenant %s has that displayName: uniqueness must be per tenant", name, g.DisplayName, name)
		}
		if err != nil || got == nil {
			t.Fatalf("tenant %s: CreateGroup(%q): %v", name, g.DisplayName, err)
		}
		return got
	}
	s.team = mg(&scim.Group{DisplayName: "Team " + name, ExternalID: "g-team-" + name, Members: []scim.Member{
		{Value: s.one.ID, Type: "User", Display: T + " One"}, {Value: s.two.ID, Type: "User"}}})
	s.every = mg(&scim.Group{DisplayName: "Everyone", ExternalID: "g-everyone-" + name, Members: []scim.Member{{Value: s.shared.ID, Type: "User"}}})
	return s
}

// seedBoth stores both tenants' data and returns them.
func seedBoth(t *testing.T, a, b Tenant, withGroups bool) (*side, *side) {
	t.Helper()
	return seed(t, a, "alpha", withGroups), seed(t, b, "bravo", withGroups)
}

// pairs returns both directions: each tenant looking at the other.
func pairs(x, y *side) [][2]*side { return [][2]*side{{x, y}, {y, x}} }

// leaked reports, as a test error, what of tenant other appears in v, read
// by tenant self through what; it returns whether anything did.
func leaked(t *testing.T, self, other *side, what string, v any) bool {
	t.Helper()
	text := dump(v)
	// The other tenant's ids are no leak where they were handed in (a
	// member value), and a store's ids may contain anything.
	for _, id := range other.ids() {
		text = strings.ReplaceAll(text, id, "")
	}
	if !strings.Contains(strings.ToLower(text), other.name) {
		return false
	}
	t.Errorf("LEAK: tenant %s sees tenant %s's data: %s returned %s", self.name, other.name, what, describe(v))
	return true
}

// describe names the resources in v for a leak message.
func describe(v any) string {
	switch x := v.(type) {
	case *scim.User:
		if x == nil {
			return "nil"
		}
		return fmt.Sprintf("user %q (displayName %q, id %q)", x.UserName, x.DisplayName, x.ID)
	case *scim.Group:
		if x == nil {
			return "nil"
		}
		return fmt.Sprintf("group %q (externalId %q, id %q) with members %s", x.DisplayName, x.ExternalID, x.ID, dump(x.Members))
	case []*scim.User:
		var s []string
		for _, u := range x {
			s = append(s, describe(u))
		}
		return strings.Join(s, ", ")
	case []*scim.Group:
		var s []string
		for _, g := range x {
			s = append(s, describe(g))
		}
		return strings.Join(s, ", ")
	}
	return dump(v)
}

func (s *side) users() []*scim.User { return []*scim.User{s.one, s.two, s.shared} }

// ids returns the ids of the tenant's users and groups.
func (s *side) ids() []string {
	var ids []string
	for _, u := range s.users() {
		ids = append(ids, u.ID)
	}
	if s.gs != nil {
		for _, g := range s.groups() {
			ids = append(ids, g.ID)
		}
	}
	return ids
}
func (s *side) groups() []*scim.Group { return []*scim.Group{s.team, s.every} }

func (s *side) hasUserID(id string) bool {
	return slices.ContainsFunc(s.users(), func(u *scim.User) bool { return u.ID == id })
}

func (s *side) hasGroupID(id string) bool {
	return s.gs != nil && slices.ContainsFunc(s.groups(), func(g *scim.Group) bool { return g.ID == id })
}

func (s *side) getUser(t *testing.T, id string) *scim.User {
	t.Helper()
	u, err := s.Store.GetUser(s.ctx, id, scim.Projection{})
	if err != nil || u == nil {
		t.Fatalf("tenant %s: GetUser(%q) of its own user: %v", s.name, id, err)
	}
	return u
}

func (s *side) getGroup(t *testing.T, id string) *scim.Group {
	t.Helper()
	g, err := s.gs.GetGroup(s.ctx, id, scim.Projection{})
	if err != nil || g == nil {
		t.Fatalf("tenant %s: GetGroup(%q) of its own group: %v", s.name, id, err)
	}
	return g
}

func (s *side) listUsers(t *testing.T, f scim.Filter) ([]*scim.User, int, error) {
	t.Helper()
	page, err := s.Store.ListUsers(s.ctx, scim.Query{Filter: f, StartIndex: 1, Count: 1000})
	return page.Resources, page.TotalResults, err
}

func (s *side) listGroups(t *testing.T, f scim.Filter) ([]*scim.Group, int, error) {
	t.Helper()
	page, err := s.gs.ListGroups(s.ctx, scim.Query{Filter: f, StartIndex: 1, Count: 1000})
	return page.Resources, page.TotalResults, err
}

// ---- the checks ----

func testTenantUniqueness(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true) // seeding creates the shared names in both
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		next := self.two.Clone()
		next.UserName = other.two.UserName
		next.Title = "renamed " + self.name
		_, err := self.Store.ReplaceUser(self.ctx, next)
		if errors.Is(err, scim.ErrConflict) {
			t.Errorf("tenant %s: ReplaceUser renaming its user to %q, a userName only tenant %s has: ErrConflict; uniqueness must be per tenant, or the conflict tells one tenant what another has", self.name, other.two.UserName, other.name)
		} else if err != nil {
			t.Errorf("tenant %s: ReplaceUser(userName %q): %v", self.name, other.two.UserName, err)
		}
		if self.gs != nil {
			_, err := self.gs.CreateGroup(self.ctx, &scim.Group{DisplayName: other.team.DisplayName + " copy", ExternalID: "copy-" + self.name})
			if err != nil {
				t.Errorf("tenant %s: CreateGroup(%q): %v", self.name, other.team.DisplayName+" copy", err)
			}
		}
	}
	// Each tenant's user now has the other's old userName, and its own title.
	for _, s := range []*side{alpha, bravo} {
		if got := s.getUser(t, s.two.ID); !strings.Contains(got.Title, s.name) {
			t.Errorf("tenant %s: its user after its own rename: %s", s.name, describe(got))
		}
	}
}

func testTenantGets(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true)
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		for _, u := range other.users() {
			what := fmt.Sprintf("GetUser(%q), the id of tenant %s's user %q,", u.ID, other.name, u.UserName)
			got, err := self.Store.GetUser(self.ctx, u.ID, scim.Projection{})
			if err == nil && got != nil {
				if !leaked(t, self, other, what, got) && !self.hasUserID(u.ID) {
					t.Errorf("tenant %s: %s returned %s, want ErrNotFound", self.name, what, describe(got))
				}
				continue
			}
			if !self.hasUserID(u.ID) {
				mustBe(t, "tenant "+self.name+": "+what, err, scim.ErrNotFound)
			}
		}
		if self.gs == nil {
			continue
		}
		for _, g := range other.groups() {
			for _, want := range []scim.Projection{{}, {Excluded: []scim.AttrPath{path("members")}}} {
				what := fmt.Sprintf("GetGroup(%q, %+v), the id of tenant %s's group %q,", g.ID, want, other.name, g.DisplayName)
				got, err := self.gs.GetGroup(self.ctx, g.ID, want)
				if err == nil && got != nil {
					if !leaked(t, self, other, what, got) && !self.hasGroupID(g.ID) {
						t.Errorf("tenant %s: %s returned %s, want ErrNotFound", self.name, what, describe(got))
					}
					continue
				}
				if !self.hasGroupID(g.ID) {
					mustBe(t, "tenant "+self.name+": "+what, err, scim.ErrNotFound)
				}
			}
		}
	}
}

func testTenantUserFilters(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, false)
	work := func(v string) scim.Filter { return vp("emails", and(eq("type", "work"), eq("value", v))) }
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		cases := []struct {
			name string
			f    scim.Filter
			must bool
			want []*scim.User
		}{
			{"no filter", nil, true, self.users()},
			{"userName eq, in both tenants", eq("userName", "shared@example.com"), true, []*scim.User{self.shared}},
			{"userName eq, the other tenant's", eq("userName", other.one.UserName), true, nil},
			{"externalId eq, in both tenants", eq("externalId", "ext-shared"), true, []*scim.User{self.shared}},
			{"externalId eq, the other tenant's", eq("externalId", other.one.ExternalID), true, nil},
			{"id eq, the other tenant's", eq("id", other.one.ID), true, usersWithID(self, other.one.ID)},
			{"emails[type eq work and value eq], the other tenant's", work(other.one.Emails[0].Value), true, nil},
			{"emails[type eq work and value eq], in both tenants", work("shared@example.com"), true, []*scim.User{self.shared}},
			{"title pr", pr("title"), true, []*scim.User{self.one, self.shared}},
			{"userName eq or userName eq", or(eq("userName", other.two.UserName), eq("userName", self.two.UserName)), true, []*scim.User{self.two}},
			{"userName sw", cmpf("userName", scim.OpSw, "one@"), false, []*scim.User{self.one}},
			{"title co", cmpf("title", scim.OpCo, "engineer"), false, []*scim.User{self.one}},
			{"not (userName eq)", not(eq("userName", "shared@example.com")), false, []*scim.User{self.one, self.two}},
		}
		for _, tc := range cases {
			what := fmt.Sprintf("ListUsers(filter %v)", tc.f)
			got, total, err := self.listUsers(t, tc.f)
			if errors.Is(err, scim.ErrUnsupported) && !tc.must {
				continue
			}
			if err != nil {
				t.Errorf("tenant %s: %s: %v", self.name, what, err)
				continue
			}
			if leaked(t, self, other, what, got) {
				continue
			}
			var gotNames, wantNames []string
			for _, u := range got {
				gotNames = append(gotNames, u.UserName)
			}
			for _, u := range tc.want {
				wantNames = append(wantNames, u.UserName)
			}
			if !slices.Equal(sorted(gotNames...), sorted(wantNames...)) {
				t.Errorf("tenant %s: %s: %q, want %q", self.name, what, sorted(gotNames...), sorted(wantNames...))
			}
			if total != len(tc.want) {
				t.Errorf("LEAK: tenant %s sees tenant %s's data: %s: totalResults %d, want %d (a count over both tenants tells one what the other has)", self.name, other.name, what, total, len(tc.want))
			}
		}
	}
}

// usersWithID returns self's users with id: none, unless the store counts
// ids per tenant.
func usersWithID(self *side, id string) []*scim.User {
	var us []*scim.User
	for _, u := range self.users() {
		if u.ID == id {
			us = append(us, u)
		}
	}
	return us
}

func groupsWhere(self *side, keep func(*scim.Group) bool) []*scim.Group {
	var gs []*scim.Group
	for _, g := range self.groups() {
		if keep(g) {
			gs = append(gs, g)
		}
	}
	return gs
}

func hasMember(g *scim.Group, id string) bool {
	return slices.ContainsFunc(g.Members, func(m scim.Member) bool { return m.Value == id })
}

func testTenantGroupFilters(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true)
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		ou := other.one.ID
		cases := []struct {
			name string
			f    scim.Filter
			must bool
			want []*scim.Group
		}{
			{"no filter", nil, true, self.groups()},
			{"displayName eq, in both tenants", eq("displayName", "everyone"), true, []*scim.Group{self.every}},
			{"displayName eq, the other tenant's", eq("displayName", other.team.DisplayName), true, nil},
			{"id eq, the other tenant's", eq("id", other.team.ID), true, groupsWhere(self, func(g *scim.Group) bool { return g.ID == other.team.ID })},
			{"id eq and members eq, the other tenant's", and(eq("id", other.team.ID), eq("members", ou)), true,
				groupsWhere(self, func(g *scim.Group) bool { return g.ID == other.team.ID && hasMember(g, ou) })},
			{"members eq, the other tenant's user", eq("members", ou), false, groupsWhere(self, func(g *scim.Group) bool { return hasMember(g, ou) })},
			{"externalId eq, the other tenant's", eq("externalId", other.team.ExternalID), false, nil},
			{"members pr", pr("members"), false, self.groups()},
		}
		for _, tc := range cases {
			for _, want := range []scim.Projection{{}, {Excluded: []scim.AttrPath{path("members")}}} {
				what := fmt.Sprintf("ListGroups(filter %v, %+v)", tc.f, want)
				page, err := self.gs.ListGroups(self.ctx, scim.Query{Filter: tc.f, StartIndex: 1, Count: 1000, Want: want})
				if errors.Is(err, scim.ErrUnsupported) && !tc.must {
					continue
				}
				if err != nil {
					t.Errorf("tenant %s: %s: %v", self.name, what, err)
					continue
				}
				if leaked(t, self, other, what, page.Resources) {
					continue
				}
				var gotNames, wantNames []string
				for _, g := range page.Resources {
					gotNames = append(gotNames, g.DisplayName)
				}
				for _, g := range tc.want {
					wantNames = append(wantNames, g.DisplayName)
				}
				if !slices.Equal(sorted(gotNames...), sorted(wantNames...)) {
					t.Errorf("tenant %s: %s: %q, want %q", self.name, what, sorted(gotNames...), sorted(wantNames...))
				}
				if page.TotalResults != len(tc.want) {
					t.Errorf("LEAK: tenant %s sees tenant %s's data: %s: totalResults %d, want %d (a count over both tenants tells one what the other has)", self.name, other.name, what, page.TotalResults, len(tc.want))
				}
			}
		}
	}
}

func testTenantMemberDisplay(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true)
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		// The tenant's own groups, read every way, show only its own
		// members' values.
		for _, g := range self.groups() {
			leaked(t, self, other, fmt.Sprintf("GetGroup(%q) of its own group", g.ID), self.getGroup(t, g.ID))
		}
		got, _, err := self.listGroups(t, nil)
		if err != nil {
			t.Fatalf("tenant %s: ListGroups: %v", self.name, err)
		}
		leaked(t, self, other, "ListGroups of its own groups", got)
		// A member id of the other tenant's user: a store may refuse it (a
		// foreign key to its users), but one that keeps it must not show
		// the other tenant's user through it.
		cross, err := self.gs.CreateGroup(self.ctx, &scim.Group{DisplayName: "Cross " + self.name, Members: []scim.Member{{Value: other.one.ID, Type: "User"}}})
		if err != nil {
			t.Logf("tenant %s: CreateGroup with tenant %s's user as member: %v (refused: allowed)", self.name, other.name, err)
			continue
		}
		if cross == nil {
			t.Fatalf("tenant %s: CreateGroup returned nil and no error", self.name)
		}
		what := fmt.Sprintf("a group of its own whose member is the id of tenant %s's user %q", other.name, other.one.UserName)
		leaked(t, self, other, "CreateGroup of "+what, cross)
		leaked(t, self, other, "GetGroup of "+what, self.getGroup(t, cross.ID))
		page, err := self.gs.ListGroups(self.ctx, scim.Query{Filter: eq("displayName", cross.DisplayName), StartIndex: 1, Count: 10})
		if err != nil {
			t.Fatalf("tenant %s: ListGroups(displayName eq %q): %v", self.name, cross.DisplayName, err)
		}
		leaked(t, self, other, "ListGroups of "+what, page.Resources)
		// Nor may the other tenant's user now show the group.
		leaked(t, other, self, fmt.Sprintf("GetUser(%q) of its own user, after tenant %s made it a member", other.one.ID, self.name), other.getUser(t, other.one.ID).Groups)
		if err := self.gs.DeleteGroup(self.ctx, cross.ID); err != nil {
			t.Fatalf("tenant %s: DeleteGroup: %v", self.name, err)
		}
	}
}

func testTenantUserGroups(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true)
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		for _, u := range self.users() {
			got := self.getUser(t, u.ID)
			what := fmt.Sprintf("GetUser(%q) of its own user %q", u.ID, u.UserName)
			if leaked(t, self, other, what, got) {
				continue
			}
			for _, r := range got.Groups {
				if !self.hasGroupID(r.Value) {
					t.Errorf("LEAK: tenant %s: %s lists group %q, which is no group of the tenant (tenant %s's ids: team %q, everyone %q)", self.name, what, r.Value, other.name, other.team.ID, other.every.ID)
				}
			}
		}
		all, _, err := self.listUsers(t, nil)
		if err != nil {
			t.Fatalf("tenant %s: ListUsers: %v", self.name, err)
		}
		leaked(t, self, other, "ListUsers", all)
	}
}

// unchanged fails when tenant s's data differs from what seed stored,
// after tenant by's attempts.
func unchanged(t *testing.T, s *side, by string) {
	t.Helper()
	for _, u := range s.users() {
		got := s.getUser(t, u.ID)
		if !sameUserQuiet(got, u) || got.Meta.Version != u.Meta.Version {
			t.Errorf("tenant %s's user changed after tenant %s's writes with its id:\n got %s\nwant %s", s.name, by, dump(normUser(got)), dump(normUser(u)))
		}
	}
	if s.gs == nil {
		return
	}
	for _, g := range s.groups() {
		got := s.getGroup(t, g.ID)
		if got.DisplayName != g.DisplayName || got.Meta.Version != g.Meta.Version || !slices.Equal(memberValues(got), memberValues(g)) {
			t.Errorf("tenant %s's group %q changed after tenant %s's writes with its id: %s, want %s", s.name, g.DisplayName, by, describe(got), describe(g))
		}
	}
}

func sameUserQuiet(got, want *scim.User) bool {
	return dump(normUser(got)) == dump(normUser(want))
}

func testTenantWrites(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true)
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		ctx := self.ctx
		for _, u := range other.users() {
			if self.hasUserID(u.ID) {
				t.Logf("tenant %s has a user with tenant %s's id %q: the store counts ids per tenant; writes by that id are its own", self.name, other.name, u.ID)
				continue
			}
			note := fmt.Sprintf("tenant %s: %%s(%q), the id of tenant %s's user %q", self.name, u.ID, other.name, u.UserName)
			next := u.Clone()
			next.Title = "overwritten by " + self.name
			next.Meta.Version = ""
			_, err := self.Store.ReplaceUser(ctx, next)
			mustBe(t, fmt.Sprintf(note, "ReplaceUser"), err, scim.ErrNotFound)
			if up, ok := self.Store.(scim.UserUpdater); ok {
				called := false
				_, err := up.UpdateUser(ctx, u.ID, func(x *scim.User) error {
					called = true
					leaked(t, self, other, fmt.Sprintf(note, "UpdateUser")+"'s update function", x)
					x.Title = "overwritten by " + self.name
					return nil
				})
				mustBe(t, fmt.Sprintf(note, "UpdateUser"), err, scim.ErrNotFound)
				if called {
					t.Errorf("LEAK: "+note+" called its update function with the other tenant's user", "UpdateUser")
				}
			}
			mustBe(t, fmt.Sprintf(note, "DeleteUser"), self.Store.DeleteUser(ctx, u.ID), scim.ErrNotFound)
		}
		if self.gs != nil {
			for _, g := range other.groups() {
				if self.hasGroupID(g.ID) {
					t.Logf("tenant %s has a group with tenant %s's id %q: the store counts ids per tenant", self.name, other.name, g.ID)
					continue
				}
				note := fmt.Sprintf("tenant %s: %%s(%q), the id of tenant %s's group %q", self.name, g.ID, other.name, g.DisplayName)
				next := g.Clone()
				next.DisplayName = "Overwritten by " + self.name
				next.Members = []scim.Member{{Value: self.one.ID}}
				next.Meta.Version = ""
				_, err := self.gs.ReplaceGroup(ctx, next)
				mustBe(t, fmt.Sprintf(note, "ReplaceGroup"), err, scim.ErrNotFound)
				if up, ok := self.Store.(scim.GroupUpdater); ok {
					called := false
					_, err := up.UpdateGroup(ctx, g.ID, func(x *scim.Group) error {
						called = true
						leaked(t, self, other, fmt.Sprintf(note, "UpdateGroup")+"'s update function", x)
						x.Members = nil
						return nil
					})
					mustBe(t, fmt.Sprintf(note, "UpdateGroup"), err, scim.ErrNotFound)
					if called {
						t.Errorf("LEAK: "+note+" called its update function with the other tenant's group", "UpdateGroup")
					}
				}
				if mp, ok := self.Store.(scim.MemberPatcher); ok {
					_, err := mp.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: self.two.ID, Type: "User"}}, Remove: memberValues(g)})
					mustBe(t, fmt.Sprintf(note, "PatchMembers"), err, scim.ErrNotFound)
				}
				mustBe(t, fmt.Sprintf(note, "DeleteGroup"), self.gs.DeleteGroup(ctx, g.ID), scim.ErrNotFound)
			}
		}
		unchanged(t, other, self.name)
	}
}

// changeMembers adds and removes members of group gid in tenant s by every
// path the store offers, one after the other: PatchMembers, UpdateGroup and
// a replace (each but the first then changes nothing).
func changeMembers(t *testing.T, s *side, gid string, add []string, remove []string) {
	t.Helper()
	if mp, ok := s.Store.(scim.MemberPatcher); ok {
		var ms []scim.Member
		for _, id := range add {
			ms = append(ms, scim.Member{Value: id, Type: "User"})
		}
		if _, err := mp.PatchMembers(s.ctx, gid, scim.MemberPatch{Add: ms, Remove: remove}); err != nil {
			t.Fatalf("tenant %s: PatchMembers(%q): %v", s.name, gid, err)
		}
	}
	update := func(g *scim.Group) {
		g.Members = slices.DeleteFunc(g.Members, func(m scim.Member) bool { return slices.Contains(remove, m.Value) })
		for _, id := range add {
			if !hasMember(g, id) {
				g.Members = append(g.Members, scim.Member{Value: id, Type: "User"})
			}
		}
	}
	if up, ok := s.Store.(scim.GroupUpdater); ok {
		if _, err := up.UpdateGroup(s.ctx, gid, func(g *scim.Group) error { update(g); return nil }); err != nil {
			t.Fatalf("tenant %s: UpdateGroup(%q): %v", s.name, gid, err)
		}
	}
	g := s.getGroup(t, gid)
	update(g)
	if _, err := s.gs.ReplaceGroup(s.ctx, g); err != nil {
		t.Fatalf("tenant %s: ReplaceGroup(%q): %v", s.name, gid, err)
	}
}

func testTenantMemberships(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true)
	for _, p := range pairs(alpha, bravo) {
		self, other := p[0], p[1]
		// Each path the store has, on the tenant's own groups: take one
		// out of the team and put the shared user in, then back.
		changeMembers(t, self, self.team.ID, []string{self.shared.ID}, []string{self.one.ID})
		if got := self.getGroup(t, self.team.ID); !slices.Equal(memberValues(got), sorted(self.two.ID, self.shared.ID)) {
			t.Errorf("tenant %s: its team after its own membership change: %s", self.name, describe(got))
		}
		unchanged(t, other, self.name)
		changeMembers(t, self, self.team.ID, []string{self.one.ID}, []string{self.shared.ID})
		self.team = self.getGroup(t, self.team.ID)
		// The other tenant's users are untouched in their groups.
		for _, u := range other.users() {
			leaked(t, other, self, fmt.Sprintf("GetUser(%q) of its own user, after tenant %s's membership changes", u.ID, self.name), other.getUser(t, u.ID))
		}
	}
}

func testTenantCascade(t *testing.T, c *config, a, b Tenant) {
	alpha, bravo := seedBoth(t, a, b, true)
	// bravo deletes the user that is a member of both tenants' groups
	// under equal names, and its Everyone group.
	if err := bravo.Store.DeleteUser(bravo.ctx, bravo.one.ID); err != nil {
		t.Fatalf("tenant bravo: DeleteUser of its own user: %v", err)
	}
	if got := bravo.getGroup(t, bravo.team.ID); hasMember(got, bravo.one.ID) {
		t.Errorf("tenant bravo: its team still lists the user it deleted: %s", describe(got))
	}
	if err := bravo.gs.DeleteGroup(bravo.ctx, bravo.every.ID); err != nil {
		t.Fatalf("tenant bravo: DeleteGroup of its own group: %v", err)
	}
	// alpha has all it had: the user, its memberships, its Everyone.
	unchanged(t, alpha, "bravo")
	for _, u := range alpha.users() {
		got := alpha.getUser(t, u.ID)
		for _, r := range got.Groups {
			if !alpha.hasGroupID(r.Value) {
				t.Errorf("tenant alpha: user %q lists group %q, which is no group of alpha", u.UserName, r.Value)
			}
		}
	}
	if len(alpha.getUser(t, alpha.one.ID).Groups) != 0 { // the store fills User.Groups
		if got := alpha.getUser(t, alpha.shared.ID); !slices.ContainsFunc(got.Groups, func(r scim.GroupRef) bool { return r.Value == alpha.every.ID }) {
			t.Errorf("tenant alpha: its shared user lost its group Everyone when tenant bravo deleted its own Everyone: groups %+v", got.Groups)
		}
	}
	checkGroupMembers := func(s *side, g *scim.Group, want ...string) {
		t.Helper()
		got := s.getGroup(t, g.ID)
		if !slices.Equal(memberValues(got), sorted(want...)) {
			t.Errorf("tenant %s: group %q has members %q after tenant bravo's deletes, want %q", s.name, g.DisplayName, memberValues(got), sorted(want...))
		}
	}
	checkGroupMembers(alpha, alpha.team, alpha.one.ID, alpha.two.ID)
	checkGroupMembers(alpha, alpha.every, alpha.shared.ID)
	// And the other way round: alpha's deletes leave bravo's rest alone.
	if err := alpha.Store.DeleteUser(alpha.ctx, alpha.two.ID); err != nil {
		t.Fatalf("tenant alpha: DeleteUser: %v", err)
	}
	checkGroupMembers(bravo, bravo.team, bravo.two.ID)
	if _, err := bravo.Store.GetUser(bravo.ctx, bravo.two.ID, scim.Projection{}); err != nil {
		t.Errorf("tenant bravo: GetUser of its own user after tenant alpha deleted one: %v", err)
	}
}
