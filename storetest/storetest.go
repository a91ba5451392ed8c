// Package storetest checks that a [scim.Store] keeps the Store contract, in
// the way testing/fstest.TestFS checks an fs.FS: a host that implements a
// Store over its own database tests it with one call,
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) scim.Store {
//			return mystore.New(openTestDB(t)) // empty; t.Cleanup drops it
//		}, storetest.Declare(storetest.Groups|storetest.MemberPatcher),
//			storetest.Tenants(func(t *testing.T) (a, b storetest.Tenant) {
//				db := openTestDB(t) // one database, two tenants
//				return storetest.Tenant{Store: mystore.New(db), Context: storetest.InTenant("a")},
//					storetest.Tenant{Store: mystore.New(db), Context: storetest.InTenant("b")}
//			}))
//	}
//
// and gets one subtest per rule, named after the rule, so that a failure
// says which promise the store broke.
//
// What Run checks: create, get, replace and delete of users, and of groups
// when the store implements [scim.GroupStore]; that the store assigns ID
// and Meta, keeps Created, and changes LastModified and Version on every
// write; that values handed in and out are copies; uniqueness of userName
// (case-insensitively) and group displayName (ErrConflict); ErrNotFound
// and ErrVersionMismatch; the filters every store must answer exactly
// (userName eq, externalId eq, id eq, emails[type eq "work" and value eq
// ...], displayName eq, `id eq G and members eq U`, pr, and, or), each
// failure saying which client sends the filter, and others it may refuse
// with ErrUnsupported but must never answer wrongly; paging; sorting by
// userName when supported; projection of members; memberships and their
// cleanup on delete; the optional capabilities [scim.UserUpdater] (and
// [scim.SharedUserUpdater]), [scim.GroupUpdater], [scim.MemberPatcher]
// and [scim.UserEncodingCacher] when implemented (its checks skip for a
// store that keeps no encoding unless it declares [EncodingCache]), and
// for a [scim.ReentrantReader] that answers true, reads inside
// UpdateUser's update function, also once another writer made it start
// again; and
// concurrent membership changes and concurrent creates of one userName;
// filters and sorts on the attributes of declared schema extensions, kept
// in User.Extra (see [Extensions]), and for a [scim.ExtensionDeclarer]
// the uniqueness of their values under twenty concurrent creates.
// Group members are users the check created, so that a store whose
// memberships have a foreign key to its users passes.
//
// A store declares what it implements with [Declare]: a declared
// capability that the store's method set does not match fails, naming the
// missing method or the wrong signature, where it would otherwise skip
// the capability's checks (and the handler would quietly do without it).
// Without a declaration a store that has some methods of an optional
// interface and not all fails all the same. [Tenants] adds the tenant
// isolation checks for a multi-tenant store: nothing of one tenant may be
// visible or changeable from another, and a failure says what leaked.
//
// A store that does not version resources (Meta.Version always empty)
// skips the version checks. A store that does not fill User.Groups is
// accepted unless it declares [UserGroups]; one that does must fill it
// correctly.
//
// The expected results are written out by hand, not computed with
// [scim.MatchUser], so that the kit also checks the evaluator a store may
// delegate to.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// Run runs the contract checks as subtests of t. newStore is called once
// for every check, with that check's *testing.T, and must return an empty
// store (a new tenant or schema is enough: each check creates its own
// users and groups). The store is used from several goroutines in the
// concurrency checks.
//
// Options declare what the store implements ([Declare]), add the tenant
// isolation checks ([Tenants]) and allow arbitrary member ids
// ([ArbitraryMemberIDs]). Without options Run checks what the store turns
// out to implement, and fails a store that implements part of an optional
// interface: a GroupStore method with a wrong signature would otherwise
// turn groups off without a word.
func Run(t *testing.T, newStore func(t *testing.T) scim.Store, opts ...Option) {
	t.Helper()
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	for _, g := range checks {
		t.Run(g.name, func(t *testing.T) {
			for _, ch := range g.checks {
				t.Run(ch.name, func(t *testing.T) {
					s := newStore(t)
					if s == nil {
						t.Fatal("newStore returned nil")
					}
					c.require(t, s, ch.needs)
					ch.fn(t, s, c)
				})
			}
		})
	}
	if c.tenants != nil {
		t.Run("Tenants", func(t *testing.T) {
			for _, ch := range tenantChecks {
				t.Run(ch.name, func(t *testing.T) {
					a, b := c.tenants(t)
					if a.Store == nil || b.Store == nil {
						t.Fatal("the Tenants function returned a nil Store")
					}
					c.require(t, a.Store, ch.needs)
					c.require(t, b.Store, ch.needs)
					ch.fn(t, c, a, b)
				})
			}
		})
	}
}

type check struct {
	name  string
	needs Capability // the capabilities without which the check is skipped
	fn    func(*testing.T, scim.Store, *config)
}

var checks = []struct {
	name   string
	checks []check
}{
	{"Declarations", []check{
		{"InterfacesMatch", 0, testDeclarations},
	}},
	{"Users", []check{
		{"CreateAssignsIDAndMeta", 0, testCreateUserAssigns},
		{"CreateDoesNotModifyItsArgument", 0, testCreateUserArgument},
		{"CreateIgnoresClientGroups", 0, testCreateUserGroups},
		{"ReturnedUsersAreCopies", 0, testUserCopies},
		{"RoundTripsEveryAttribute", 0, testUserRoundTrip},
		{"GetUnknownIsNotFound", 0, testUserNotFound},
		{"ReplaceKeepsIDAndCreated", 0, testReplaceUser},
		{"ReplaceRemovesOmittedAttributes", 0, testReplaceUserRemoves},
		{"ReplaceStaleVersionIsVersionMismatch", 0, testReplaceUserStale},
		{"ReplaceEmptyVersionIsUnconditional", 0, testReplaceUserUnconditional},
		{"UserNameIsUniqueIgnoringCase", 0, testUserNameConflict},
		{"RenameToOwnNameInOtherCase", 0, testRenameOwnCase},
		{"DeleteRemovesTheUser", 0, testDeleteUser},
		{"InactiveUsersAreReturned", 0, testInactiveUsers},
	}},
	{"UserFilters", []check{
		{"MustAnswer", 0, testUserFiltersMust},
		{"MayRefuse", 0, testUserFiltersMay},
	}},
	{"Paging", []check{
		{"EveryUserExactlyOnce", 0, testPaging},
		{"CountZeroGivesTotalOnly", 0, testPagingCountZero},
		{"StartIndexPastTheEnd", 0, testPagingPastEnd},
		{"FilteredTotal", 0, testPagingFiltered},
		{"SortByUserName", 0, testSortByUserName},
	}},
	{"Groups", []check{
		{"CreateAssignsIDAndMeta", Groups, testCreateGroup},
		{"ReturnedGroupsAreCopies", Groups, testGroupCopies},
		{"GetUnknownIsNotFound", Groups, testGroupNotFound},
		{"ReplaceKeepsIDAndCreated", Groups, testReplaceGroup},
		{"ReplaceStaleVersionIsVersionMismatch", Groups, testReplaceGroupStale},
		{"DisplayNameIsUniqueIgnoringCase", Groups, testDisplayNameConflict},
		{"DeleteRemovesTheGroup", Groups, testDeleteGroup},
		{"MembersReturnedWhenWanted", Groups, testGroupProjection},
		{"ListProjection", Groups, testListGroupsProjection},
		{"Filters", Groups, testGroupFilters},
		{"Paging", Groups, testGroupPaging},
	}},
	{"Memberships", []check{
		{"AddAndRemoveByReplace", Groups, testMembershipReplace},
		{"DeleteUserRemovesItFromGroups", Groups, testDeleteUserLeavesGroups},
		{"UserGroupsReflectMembership", Groups | UserGroups, testUserGroups},
	}},
	{"Capabilities", []check{
		{"UpdateUserStores", UserUpdater, testUpdateUser},
		{"UpdateUserErrorStoresNothing", UserUpdater, testUpdateUserError},
		{"UpdateUserConflict", UserUpdater, testUpdateUserConflict},
		{"UpdateUserSharedStoresWhatUpdateReturns", UserUpdater, testUpdateUserShared},
		{"ReadsInsideUpdateUserWhenReentrant", UserUpdater, testUpdateUserReentrant},
		{"UserEncodingCacheFollowsTheUser", 0, testUserEncodingCache},
		{"UpdateGroupStores", Groups | GroupUpdater, testUpdateGroup},
		{"UpdateGroupErrorStoresNothing", Groups | GroupUpdater, testUpdateGroupError},
		{"PatchMembersAddsAndRemoves", Groups | MemberPatcher, testPatchMembers},
		{"PatchMembersIsIdempotent", Groups | MemberPatcher, testPatchMembersIdempotent},
		{"PatchMembersUnknownGroupIsNotFound", Groups | MemberPatcher, testPatchMembersNotFound},
		{"PatchMembersStaleVersion", Groups | MemberPatcher, testPatchMembersStale},
	}},
	{"Keyset", keysetChecks},
	{"Extensions", extensionChecks},
	{"Concurrency", []check{
		{"FiftyMemberAddsToOneGroup", Groups, testConcurrentMemberAdds},
		{"TwentyCreatesOfOneUserName", 0, testConcurrentCreates},
	}},
}

// ---- helpers ----

func createUser(t *testing.T, s scim.Store, u *scim.User) *scim.User {
	t.Helper()
	got, err := s.CreateUser(t.Context(), u)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", u.UserName, err)
	}
	if got == nil {
		t.Fatalf("CreateUser(%q) returned nil and no error", u.UserName)
	}
	return got
}

func getUser(t *testing.T, s scim.Store, id string) *scim.User {
	t.Helper()
	got, err := s.GetUser(t.Context(), id, scim.Projection{})
	if err != nil {
		t.Fatalf("GetUser(%q): %v", id, err)
	}
	if got == nil {
		t.Fatalf("GetUser(%q) returned nil and no error", id)
	}
	return got
}

func groupStore(t *testing.T, s scim.Store) scim.GroupStore {
	t.Helper()
	gs, ok := s.(scim.GroupStore)
	if !ok {
		t.Skip("the store does not implement scim.GroupStore")
	}
	return gs
}

func createGroup(t *testing.T, gs scim.GroupStore, g *scim.Group) *scim.Group {
	t.Helper()
	got, err := gs.CreateGroup(t.Context(), g)
	if err != nil {
		t.Fatalf("CreateGroup(%q): %v", g.DisplayName, err)
	}
	if got == nil {
		t.Fatalf("CreateGroup(%q) returned nil and no error", g.DisplayName)
	}
	return got
}

func getGroup(t *testing.T, gs scim.GroupStore, id string) *scim.Group {
	t.Helper()
	got, err := gs.GetGroup(t.Context(), id, scim.Projection{})
	if err != nil {
		t.Fatalf("GetGroup(%q): %v", id, err)
	}
	if got == nil {
		t.Fatalf("GetGroup(%q) returned nil and no error", id)
	}
	return got
}

// present stops the check when a store returned nil and no error.
func present[T any](t *testing.T, what string, v *T) {
	t.Helper()
	if v == nil {
		t.Fatalf("%s returned nil and no error", what)
	}
}

// conflictOn checks that a *scim.ConflictError, when the store returns one,
// names attr: the client reads the attribute in the 409.
func conflictOn(t *testing.T, what string, err error, attr string) {
	t.Helper()
	var ce *scim.ConflictError
	if errors.As(err, &ce) && ce.Attribute != "" && !strings.EqualFold(ce.Attribute, attr) {
		t.Errorf("%s: a *scim.ConflictError on %q, want %q: the client would read the wrong attribute in the 409", what, ce.Attribute, attr)
	}
}

func mustBe(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// normUser returns the client-visible attributes of u in a canonical form:
// no ID, Meta, Groups (read-only) or Password (write-only); empty slices
// nil; an empty Enterprise or Manager nil; the manager's read-only
// displayName dropped; Extra re-encoded, as a database may reformat JSON.
func normUser(u *scim.User) *scim.User {
	c := u.Clone()
	c.ID, c.Meta, c.Groups, c.Password = "", scim.Meta{}, nil, ""
	for _, p := range []*[]scim.MultiValue{&c.Emails, &c.PhoneNumbers, &c.IMs, &c.Photos, &c.Entitlements, &c.Roles, &c.X509Certificates} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(c.Addresses) == 0 {
		c.Addresses = nil
	}
	if e := c.Enterprise; e != nil {
		if e.Manager != nil {
			e.Manager.DisplayName = ""
			if *e.Manager == (scim.Manager{}) {
				e.Manager = nil
			}
		}
		if e.IsZero() {
			c.Enterprise = nil
		}
	}
	c.Extra = normExtra(c.Extra)
	return c
}

func normExtra(m map[string]json.RawMessage) map[string]json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, raw := range m {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			out[k] = raw
			continue
		}
		b, _ := json.Marshal(v) // re-encoding a decoded value cannot fail
		out[k] = b
	}
	return out
}

func sameUser(t *testing.T, what string, got, want *scim.User) {
	t.Helper()
	g, w := normUser(got), normUser(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, dump(g), dump(w))
	}
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// memberValues returns the sorted member values of g.
func memberValues(g *scim.Group) []string {
	vs := []string{}
	for _, m := range g.Members {
		vs = append(vs, m.Value)
	}
	slices.Sort(vs)
	return vs
}

func sorted(vs ...string) []string {
	c := append([]string{}, vs...)
	slices.Sort(c)
	return c
}

func sameMembers(t *testing.T, what string, g *scim.Group, want ...string) {
	t.Helper()
	if got := memberValues(g); !slices.Equal(got, sorted(want...)) {
		t.Errorf("%s: members %q, want %q", what, got, sorted(want...))
	}
}

func fullUser(userName string) *scim.User {
	return &scim.User{
		ExternalID:        "ext-" + userName,
		UserName:          userName,
		Name:              scim.Name{Formatted: "Ms. Barbara J Jensen III", FamilyName: "Jensen", GivenName: "Barbara", MiddleName: "Jane", HonorificPrefix: "Ms.", HonorificSuffix: "III"},
		DisplayName:       "Babs Jensen",
		NickName:          "Babs",
		ProfileURL:        "https://login.example.com/bjensen",
		Title:             "Tour Guide",
		UserType:          "Employee",
		PreferredLanguage: "en-US",
		Locale:            "en-US",
		Timezone:          "America/Los_Angeles",
		Active:            true,
		Emails:            []scim.MultiValue{{Value: userName, Type: "work", Primary: true}, {Value: "babs@jensen.org", Type: "home"}},
		PhoneNumbers:      []scim.MultiValue{{Value: "555-555-5555", Type: "work"}, {Value: "555-555-4444", Type: "mobile"}},
		IMs:               []scim.MultiValue{{Value: "someaimhandle", Type: "aim"}},
		Photos:            []scim.MultiValue{{Value: "https://photos.example.com/profilephoto/72930000000Ccne/F", Type: "photo"}},
		Addresses:         []scim.Address{{Type: "work", StreetAddress: "100 Universal City Plaza", Locality: "Hollywood", Region: "CA", PostalCode: "91608", Country: "USA", Formatted: "100 Universal City Plaza\nHollywood, CA 91608 USA", Primary: true}},
		Entitlements:      []scim.MultiValue{{Value: "Admin Access", Display: "Admin"}},
		Roles:             []scim.MultiValue{{Value: "Tour Guide", Primary: true}},
		X509Certificates:  []scim.MultiValue{{Value: "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}},
		Enterprise: &scim.EnterpriseUser{
			EmployeeNumber: "701984", CostCenter: "4130", Organization: "Universal Studios",
			Division: "Theme Park", Department: "Tour Operations",
			Manager: &scim.Manager{Value: "26118915-6090-4610-87e4-49d8ca9f808d"},
		},
		Extra: map[string]json.RawMessage{
			"urn:ietf:params:scim:schemas:extension:Acme:2.0:User": json.RawMessage(`{"costCode": "CC-17", "level": 7, "tags": ["a", "b"]}`),
		},
	}
}

// ---- users ----

func testCreateUserAssigns(t *testing.T, s scim.Store, cfg *config) {
	in := fullUser("bjensen@example.com")
	a := createUser(t, s, in)
	if a.ID == "" {
		t.Fatal("CreateUser returned an empty ID")
	}
	if a.Meta.Created.IsZero() || a.Meta.LastModified.IsZero() {
		t.Errorf("CreateUser: Meta.Created %v, Meta.LastModified %v, want both set", a.Meta.Created, a.Meta.LastModified)
	}
	if a.Meta.LastModified.Before(a.Meta.Created) {
		t.Errorf("CreateUser: LastModified %v before Created %v", a.Meta.LastModified, a.Meta.Created)
	}
	sameUser(t, "CreateUser returned", a, in)
	sameUser(t, "GetUser after CreateUser returned", getUser(t, s, a.ID), in)
	b := createUser(t, s, &scim.User{UserName: "other@example.com", Active: true})
	if b.ID == a.ID {
		t.Errorf("two users got the same ID %q", a.ID)
	}
}

func testCreateUserArgument(t *testing.T, s scim.Store, cfg *config) {
	in := fullUser("bjensen@example.com")
	want := in.Clone()
	createUser(t, s, in)
	if !reflect.DeepEqual(in, want) {
		t.Errorf("CreateUser modified its argument:\n got %s\nwant %s", dump(in), dump(want))
	}
}

func testCreateUserGroups(t *testing.T, s scim.Store, cfg *config) {
	in := &scim.User{UserName: "g@example.com", Active: true, Groups: []scim.GroupRef{{Value: "not-a-group", Display: "Made Up"}}}
	u := createUser(t, s, in)
	for _, got := range []*scim.User{u, getUser(t, s, u.ID)} {
		if len(got.Groups) != 0 {
			t.Errorf("a new user has groups %+v; Groups is read-only and the user is in none", got.Groups)
		}
	}
}

func testUserCopies(t *testing.T, s scim.Store, cfg *config) {
	in := fullUser("bjensen@example.com")
	created := createUser(t, s, in)
	want := getUser(t, s, created.ID).Clone() // our own copy, whatever the store does

	// Change everything the caller holds: the argument, and what create and
	// get returned.
	// (A store that lost attributes fails RoundTripsEveryAttribute; here
	// only what is there is changed.)
	for _, u := range []*scim.User{in, created, getUser(t, s, created.ID)} {
		u.UserName = "changed@example.com"
		u.Name.GivenName = "Changed"
		for i := range u.Emails {
			u.Emails[i].Value = "changed@example.com"
		}
		for i := range u.Addresses {
			u.Addresses[i].PostalCode = "00000"
		}
		if e := u.Enterprise; e != nil {
			e.Department = "Changed"
			if e.Manager != nil {
				e.Manager.Value = "changed"
			}
		}
		for _, raw := range u.Extra {
			if len(raw) > 2 {
				raw[2] = 'X'
			}
		}
		if u.Extra != nil {
			u.Extra["added"] = json.RawMessage(`1`)
		}
	}
	got := getUser(t, s, created.ID)
	sameUser(t, "GetUser after the caller changed its copies", got, want)
	if got.Meta.Version != want.Meta.Version {
		t.Errorf("Meta.Version changed from %q to %q without a write", want.Meta.Version, got.Meta.Version)
	}
}

func testUserRoundTrip(t *testing.T, s scim.Store, cfg *config) {
	in := fullUser("bjensen@example.com")
	in.Password = "t1meMa$heen"
	u := createUser(t, s, in)
	sameUser(t, "GetUser", getUser(t, s, u.ID), in)
	page, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 1, Count: 10})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(page.Resources) != 1 {
		t.Fatalf("ListUsers returned %d users, want 1", len(page.Resources))
	}
	present(t, "ListUsers", page.Resources[0])
	sameUser(t, "ListUsers", page.Resources[0], in)
}

func testUserNotFound(t *testing.T, s scim.Store, cfg *config) {
	ctx := t.Context()
	createUser(t, s, &scim.User{UserName: "exists@example.com", Active: true})
	_, err := s.GetUser(ctx, "no-such-id", scim.Projection{})
	mustBe(t, "GetUser(unknown)", err, scim.ErrNotFound)
	_, err = s.ReplaceUser(ctx, &scim.User{ID: "no-such-id", UserName: "x@example.com", Active: true})
	mustBe(t, "ReplaceUser(unknown)", err, scim.ErrNotFound)
	mustBe(t, "DeleteUser(unknown)", s.DeleteUser(ctx, "no-such-id"), scim.ErrNotFound)
}

func testReplaceUser(t *testing.T, s scim.Store, cfg *config) {
	a := createUser(t, s, fullUser("bjensen@example.com"))
	next := a.Clone()
	next.Title = "Head Tour Guide"
	next.NickName = "B"
	next.Emails = append(next.Emails, scim.MultiValue{Value: "b@example.net", Type: "other"})
	b, err := s.ReplaceUser(t.Context(), next)
	if err != nil {
		t.Fatalf("ReplaceUser: %v", err)
	}
	present(t, "ReplaceUser", b)
	if b.ID != a.ID {
		t.Errorf("ReplaceUser changed ID from %q to %q", a.ID, b.ID)
	}
	if !b.Meta.Created.Equal(a.Meta.Created) {
		t.Errorf("ReplaceUser changed Meta.Created from %v to %v", a.Meta.Created, b.Meta.Created)
	}
	if b.Meta.LastModified.Before(a.Meta.LastModified) {
		t.Errorf("ReplaceUser moved Meta.LastModified back from %v to %v", a.Meta.LastModified, b.Meta.LastModified)
	}
	if a.Meta.Version != "" && b.Meta.Version == a.Meta.Version {
		t.Errorf("ReplaceUser kept Meta.Version %q", a.Meta.Version)
	}
	sameUser(t, "ReplaceUser returned", b, next)
	got := getUser(t, s, a.ID)
	sameUser(t, "GetUser after ReplaceUser", got, next)
	if got.Meta.Version != b.Meta.Version {
		t.Errorf("GetUser: Meta.Version %q, ReplaceUser returned %q", got.Meta.Version, b.Meta.Version)
	}
}

func testReplaceUserRemoves(t *testing.T, s scim.Store, cfg *config) {
	a := createUser(t, s, fullUser("bjensen@example.com"))
	next := &scim.User{ID: a.ID, UserName: a.UserName, Active: true}
	if _, err := s.ReplaceUser(t.Context(), next); err != nil {
		t.Fatalf("ReplaceUser: %v", err)
	}
	sameUser(t, "GetUser after replacing with a bare user", getUser(t, s, a.ID), next)
}

func testReplaceUserStale(t *testing.T, s scim.Store, cfg *config) {
	a := createUser(t, s, &scim.User{UserName: "v@example.com", Title: "One", Active: true})
	if a.Meta.Version == "" {
		t.Skip("the store does not version users (Meta.Version is empty)")
	}
	next := a.Clone()
	next.Title = "Two"
	b, err := s.ReplaceUser(t.Context(), next)
	if err != nil {
		t.Fatalf("ReplaceUser with the current version: %v", err)
	}
	stale := a.Clone() // still carries the first version
	stale.Title = "Three"
	_, err = s.ReplaceUser(t.Context(), stale)
	mustBe(t, "ReplaceUser with a stale version", err, scim.ErrVersionMismatch)
	got := getUser(t, s, a.ID)
	if got.Title != "Two" || got.Meta.Version != b.Meta.Version {
		t.Errorf("after a refused replace: title %q version %q, want %q %q", got.Title, got.Meta.Version, "Two", b.Meta.Version)
	}
}

func testReplaceUserUnconditional(t *testing.T, s scim.Store, cfg *config) {
	a := createUser(t, s, &scim.User{UserName: "v@example.com", Title: "One", Active: true})
	next := a.Clone()
	next.Title = "Two"
	if _, err := s.ReplaceUser(t.Context(), next); err != nil {
		t.Fatalf("ReplaceUser: %v", err)
	}
	blind := a.Clone()
	blind.Meta.Version = ""
	blind.Title = "Three"
	if _, err := s.ReplaceUser(t.Context(), blind); err != nil {
		t.Fatalf("ReplaceUser without a version: %v", err)
	}
	if got := getUser(t, s, a.ID); got.Title != "Three" {
		t.Errorf("title %q after an unconditional replace, want %q", got.Title, "Three")
	}
}

func testUserNameConflict(t *testing.T, s scim.Store, cfg *config) {
	ctx := t.Context()
	createUser(t, s, &scim.User{UserName: "alice@example.com", Active: true})
	_, err := s.CreateUser(ctx, &scim.User{UserName: "ALICE@Example.COM", Active: true})
	mustBe(t, "CreateUser with a userName in other case", err, scim.ErrConflict)
	conflictOn(t, "CreateUser with a userName in other case", err, "userName")

	b := createUser(t, s, &scim.User{UserName: "bob@example.com", Title: "Bob", Active: true})
	rename := b.Clone()
	rename.UserName = "Alice@Example.com"
	rename.Title = "Renamed"
	_, err = s.ReplaceUser(ctx, rename)
	mustBe(t, "ReplaceUser to another user's userName", err, scim.ErrConflict)
	if got := getUser(t, s, b.ID); got.UserName != "bob@example.com" || got.Title != "Bob" {
		t.Errorf("after a refused rename: %q %q, want the user unchanged", got.UserName, got.Title)
	}
	// The refused rename left the name free for its owner only.
	page, err := s.ListUsers(ctx, scim.Query{Filter: eq("userName", "bob@example.com"), StartIndex: 1, Count: 10})
	if err != nil || page.TotalResults != 1 {
		t.Errorf("userName eq after a refused rename: %d results, %v; want 1", page.TotalResults, err)
	}
}

func testRenameOwnCase(t *testing.T, s scim.Store, cfg *config) {
	a := createUser(t, s, &scim.User{UserName: "carol@example.com", Active: true})
	next := a.Clone()
	next.UserName = "Carol@Example.com"
	b, err := s.ReplaceUser(t.Context(), next)
	if err != nil {
		t.Fatalf("ReplaceUser changing only the case of its own userName: %v", err)
	}
	present(t, "ReplaceUser", b)
	if b.UserName != "Carol@Example.com" {
		t.Errorf("userName %q, want %q", b.UserName, "Carol@Example.com")
	}
	checkUsers(t, s, eq("userName", "CAROL@example.com"), true, "Carol@Example.com")
}

func testDeleteUser(t *testing.T, s scim.Store, cfg *config) {
	ctx := t.Context()
	a := createUser(t, s, &scim.User{UserName: "gone@example.com", Active: true})
	createUser(t, s, &scim.User{UserName: "stays@example.com", Active: true})
	if err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetUser(ctx, a.ID, scim.Projection{})
	mustBe(t, "GetUser after DeleteUser", err, scim.ErrNotFound)
	mustBe(t, "DeleteUser twice", s.DeleteUser(ctx, a.ID), scim.ErrNotFound)
	checkUsers(t, s, nil, true, "stays@example.com")
	checkUsers(t, s, eq("userName", "gone@example.com"), true)
	// The userName is free again.
	createUser(t, s, &scim.User{UserName: "gone@example.com", Active: true})
}

func testInactiveUsers(t *testing.T, s scim.Store, cfg *config) {
	a := createUser(t, s, &scim.User{UserName: "off@example.com", ExternalID: "off", Active: false})
	if a.Active {
		t.Error("CreateUser returned Active true for an inactive user")
	}
	if getUser(t, s, a.ID).Active {
		t.Error("GetUser returned Active true for an inactive user")
	}
	checkUsers(t, s, eq("userName", "off@example.com"), true, "off@example.com")
	checkUsers(t, s, eq("externalId", "off"), true, "off@example.com")
	checkUsers(t, s, nil, true, "off@example.com")
}

// ---- filters ----

// path splits "urn:...:name.sub" into an AttrPath.
func path(s string) scim.AttrPath {
	var p scim.AttrPath
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URN, s = s[:i], s[i+1:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, p.Sub = s[:i], s[i+1:]
	}
	p.Name = s
	return p
}

func cmpf(p string, op scim.Operator, v string) scim.Filter {
	return &scim.AttrExpr{Path: path(p), Op: op, Value: scim.Value{Kind: scim.KindString, Text: v}}
}
func eq(p, v string) scim.Filter { return cmpf(p, scim.OpEq, v) }
func pr(p string) scim.Filter    { return &scim.AttrExpr{Path: path(p), Op: scim.OpPr} }
func and(l, r scim.Filter) scim.Filter {
	return &scim.LogicalExpr{Op: scim.OpAnd, Left: l, Right: r}
}
func or(l, r scim.Filter) scim.Filter {
	return &scim.LogicalExpr{Op: scim.OpOr, Left: l, Right: r}
}
func not(f scim.Filter) scim.Filter { return &scim.NotExpr{Filter: f} }
func vp(p string, f scim.Filter) scim.Filter {
	return &scim.ValuePathExpr{Path: path(p), Filter: f}
}

// Why the kit requires each filter it requires: the client that sends it.
// A failure of a required filter says so, because a store's author may
// otherwise take it for an option. docs/clients.md#filters has the
// details and the sources.
const (
	whyUserName = "required: Entra ID matches users by userName eq (its default matching attribute, and the query of its Test connection), and Okta asks userName eq before every create"
	whyExternal = "required: Entra ID matches users by externalId eq when an admin makes externalId the matching attribute; values are case-exact (RFC 7643 §3.1)"
	whyID       = "required: clients read a resource by id eq in a filter (Entra's membership check: id eq G and members eq U), and RFC 7643 §3.1 makes id filterable"
	whyEmail    = `required: Entra ID matches users by emails[type eq "work"].value eq when an admin makes the work email the matching attribute`
	whyLogic    = "required: RFC 7644 §3.4.2.2 defines pr, and and or for every service provider, and clients combine the lookups above with them (Entra's id eq G and members eq U)"
	whyGroup    = "required: Entra ID matches groups by displayName eq (GET /Groups?excludedAttributes=members&filter=displayName eq ...)"
	whyMember   = "required: Entra ID checks a membership with GET /Groups?filter=id eq G and members eq U"
)

// required is the end of a failure message of filter check: why the
// filter is required, when it is.
func required(must bool, why string) string {
	if !must || why == "" {
		return ""
	}
	return " (" + why + ")"
}

// checkUsers lists the users f selects and compares their userNames, in any
// order, with want. When must is false the store may refuse f with
// ErrUnsupported.
func checkUsers(t *testing.T, s scim.Store, f scim.Filter, must bool, want ...string) {
	t.Helper()
	checkUsersWhy(t, s, f, must, "", want...)
}

func checkUsersWhy(t *testing.T, s scim.Store, f scim.Filter, must bool, why string, want ...string) {
	t.Helper()
	page, err := s.ListUsers(t.Context(), scim.Query{Filter: f, StartIndex: 1, Count: 1000})
	if errors.Is(err, scim.ErrUnsupported) && !must {
		t.Logf("filter %v: ErrUnsupported (allowed)", f)
		return
	}
	if err != nil {
		t.Errorf("filter %v: %v%s", f, err, required(must, why))
		return
	}
	var got []string
	for _, u := range page.Resources {
		if u == nil {
			t.Errorf("filter %v: a nil user in Resources", f)
			return
		}
		got = append(got, u.UserName)
	}
	if !slices.Equal(sorted(got...), sorted(want...)) || page.TotalResults != len(want) {
		t.Errorf("filter %v: %q (totalResults %d), want %q%s", f, sorted(got...), page.TotalResults, sorted(want...), required(must, why))
	}
}

// filterUsers creates the users the filter checks select from.
func filterUsers(t *testing.T, s scim.Store) map[string]*scim.User {
	us := map[string]*scim.User{}
	for _, u := range []*scim.User{
		{UserName: "alice@example.com", ExternalID: "ext-A", Title: "Engineer", Active: true,
			Name:   scim.Name{FamilyName: "Liddell"},
			Emails: []scim.MultiValue{{Value: "alice@example.com", Type: "work", Primary: true}, {Value: "alice@home.org", Type: "home"}}},
		{UserName: "Bob@Example.com", ExternalID: "ext-b", Active: false,
			Emails: []scim.MultiValue{{Value: "bob@example.com", Type: "work"}}},
		{UserName: "carol@example.com", ExternalID: "EXT-A", Title: "Engineering Manager", Active: true,
			Name:   scim.Name{FamilyName: "Carol"},
			Emails: []scim.MultiValue{{Value: "carol@example.com", Type: "home"}}},
		{UserName: "dave@example.com", Title: "Sales", Active: true},
	} {
		us[u.UserName] = createUser(t, s, u)
	}
	return us
}

func testUserFiltersMust(t *testing.T, s scim.Store, cfg *config) {
	us := filterUsers(t, s)
	const a, b, c, d = "alice@example.com", "Bob@Example.com", "carol@example.com", "dave@example.com"
	work := func(v string) scim.Filter { return vp("emails", and(eq("type", "work"), eq("value", v))) }
	cases := []struct {
		name string
		f    scim.Filter
		why  string
		want []string
	}{
		{"no filter", nil, "", []string{a, b, c, d}},
		{"userName eq, other case", eq("userName", "ALICE@EXAMPLE.COM"), whyUserName, []string{a}},
		{"userName eq, inactive user", eq("userName", "bob@example.com"), whyUserName, []string{b}},
		{"userName eq, no match", eq("userName", "nobody@example.com"), whyUserName, nil},
		{"userName eq, core-qualified", eq(scim.UserSchema+":userName", "dave@example.com"), whyUserName, []string{d}},
		{"externalId eq", eq("externalId", "ext-A"), whyExternal, []string{a}},
		{"externalId eq is case-exact", eq("externalId", "EXT-A"), whyExternal, []string{c}},
		{"externalId eq, no match in other case", eq("externalId", "ext-a"), whyExternal, nil},
		{"id eq", eq("id", us[c].ID), whyID, []string{c}},
		{"id eq, unknown", eq("id", "no-such-id"), whyID, nil},
		{`emails[type eq "work" and value eq x]`, work("BOB@example.com"), whyEmail, []string{b}},
		{`emails[type eq "work" and value eq x], home email`, work("carol@example.com"), whyEmail, nil},
		{"title pr", pr("title"), whyLogic, []string{a, c, d}},
		{"externalId pr", pr("externalId"), whyLogic, []string{a, b, c}},
		{"title pr and userName eq", and(pr("title"), eq("userName", a)), whyLogic, []string{a}},
		{"userName eq and title pr, no title", and(eq("userName", b), pr("title")), whyLogic, nil},
		{"userName eq or userName eq", or(eq("userName", a), eq("userName", d)), whyLogic, []string{a, d}},
		{"externalId pr and title pr", and(pr("externalId"), pr("title")), whyLogic, []string{a, c}},
		{"(userName eq or externalId eq) and title pr", and(or(eq("userName", b), eq("externalId", "EXT-A")), pr("title")), whyLogic, []string{c}},
		{"id eq and userName eq, disagreeing", and(eq("id", us[a].ID), eq("userName", d)), whyLogic, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkUsersWhy(t, s, tc.f, true, tc.why, tc.want...) })
	}
}

func testUserFiltersMay(t *testing.T, s scim.Store, cfg *config) {
	us := filterUsers(t, s)
	const a, b, c, d = "alice@example.com", "Bob@Example.com", "carol@example.com", "dave@example.com"
	cases := []struct {
		name string
		f    scim.Filter
		want []string
	}{
		{"userName sw", cmpf("userName", scim.OpSw, "B"), []string{b}},
		{"userName co", cmpf("userName", scim.OpCo, "@EXAMPLE"), []string{a, b, c, d}},
		{"userName ew", cmpf("userName", scim.OpEw, "E.COM"), []string{a, b, c, d}},
		{"userName ne", cmpf("userName", scim.OpNe, "ALICE@example.com"), []string{b, c, d}},
		{"userName gt", cmpf("userName", scim.OpGt, "c"), []string{c, d}},
		{"title co ignores case", cmpf("title", scim.OpCo, "engineer"), []string{a, c}},
		{"title ne, absent titles included", cmpf("title", scim.OpNe, "Sales"), []string{a, b, c}},
		{"not (title pr)", not(pr("title")), []string{b}},
		{"emails co", cmpf("emails", scim.OpCo, "home.org"), []string{a}},
		{"emails.value eq", eq("emails.value", "CAROL@example.com"), []string{c}},
		{"emails.type eq", eq("emails.type", "home"), []string{a, c}},
		{"emails[type eq home]", vp("emails", eq("type", "home")), []string{a, c}},
		{"name.familyName eq", eq("name.familyName", "carol"), []string{c}},
		{"active eq false", &scim.AttrExpr{Path: path("active"), Op: scim.OpEq, Value: scim.Value{Kind: scim.KindBool, Text: "false"}}, []string{b}},
		{"meta.created pr", pr("meta.created"), []string{a, b, c, d}},
		{"externalId eq or id eq", or(eq("externalId", "ext-b"), eq("id", us[d].ID)), []string{b, d}},
		{"not (userName eq)", not(eq("userName", a)), []string{b, c, d}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkUsers(t, s, tc.f, false, tc.want...) })
	}
}

// ---- paging and sorting ----

func createNumbered(t *testing.T, s scim.Store, n int) []*scim.User {
	us := make([]*scim.User, n)
	for i := range us {
		u := &scim.User{UserName: "user" + strconv.Itoa(i) + "@example.com", Active: true}
		if i%3 == 0 {
			u.Title = "Third"
		}
		us[i] = createUser(t, s, u)
	}
	return us
}

// walk pages through q with pages of count, checking TotalResults and page
// sizes, and returns the IDs in the order the pages gave them.
func walk(t *testing.T, s scim.Store, q scim.Query, count, total int) []string {
	t.Helper()
	var ids []string
	for start := 1; start <= total+1; start += count {
		q.StartIndex, q.Count = start, count
		page, err := s.ListUsers(t.Context(), q)
		if err != nil {
			t.Fatalf("ListUsers(startIndex=%d, count=%d): %v", start, count, err)
		}
		if page.TotalResults != total {
			t.Errorf("startIndex=%d: totalResults %d, want %d", start, page.TotalResults, total)
		}
		if want := min(count, max(total-start+1, 0)); len(page.Resources) != want {
			t.Errorf("startIndex=%d count=%d: %d resources, want %d", start, count, len(page.Resources), want)
		}
		for _, u := range page.Resources {
			present(t, "ListUsers", u)
			ids = append(ids, u.ID)
		}
	}
	return ids
}

func testPaging(t *testing.T, s scim.Store, cfg *config) {
	us := createNumbered(t, s, 23)
	first := walk(t, s, scim.Query{}, 5, len(us))
	var want []string
	for _, u := range us {
		want = append(want, u.ID)
	}
	if !slices.Equal(sorted(first...), sorted(want...)) {
		t.Errorf("pages of 5 returned %d IDs, want each of the %d users exactly once:\n got %q\nwant %q", len(first), len(us), sorted(first...), sorted(want...))
	}
	if again := walk(t, s, scim.Query{}, 5, len(us)); !slices.Equal(first, again) {
		t.Errorf("the order changed between two walks with no write in between:\n%q\n%q", first, again)
	}
}

func testPagingCountZero(t *testing.T, s scim.Store, cfg *config) {
	createNumbered(t, s, 4)
	page, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 1, Count: 0})
	if err != nil {
		t.Fatalf("ListUsers(count=0): %v", err)
	}
	if len(page.Resources) != 0 || page.TotalResults != 4 {
		t.Errorf("count=0: %d resources, totalResults %d; want 0 and 4", len(page.Resources), page.TotalResults)
	}
}

func testPagingPastEnd(t *testing.T, s scim.Store, cfg *config) {
	createNumbered(t, s, 4)
	page, err := s.ListUsers(t.Context(), scim.Query{StartIndex: 100, Count: 10})
	if err != nil {
		t.Fatalf("ListUsers(startIndex=100): %v", err)
	}
	if len(page.Resources) != 0 || page.TotalResults != 4 {
		t.Errorf("startIndex past the end: %d resources, totalResults %d; want 0 and 4", len(page.Resources), page.TotalResults)
	}
}

func testPagingFiltered(t *testing.T, s scim.Store, cfg *config) {
	us := createNumbered(t, s, 10) // users 0, 3, 6, 9 have a title
	ids := walk(t, s, scim.Query{Filter: pr("title")}, 3, 4)
	want := []string{us[0].ID, us[3].ID, us[6].ID, us[9].ID}
	if !slices.Equal(sorted(ids...), sorted(want...)) {
		t.Errorf("title pr in pages of 3: %q, want %q", sorted(ids...), sorted(want...))
	}
}

func testSortByUserName(t *testing.T, s scim.Store, cfg *config) {
	for _, n := range []string{"delta", "Alpha", "charlie", "Bravo", "echo"} {
		createUser(t, s, &scim.User{UserName: n, Active: true})
	}
	asc := []string{"Alpha", "Bravo", "charlie", "delta", "echo"}
	for _, desc := range []bool{false, true} {
		q := scim.Query{SortBy: path("userName"), Descending: desc, StartIndex: 1, Count: 10}
		page, err := s.ListUsers(t.Context(), q)
		if errors.Is(err, scim.ErrUnsupported) {
			t.Skip("the store does not sort (ErrUnsupported)")
		}
		if err != nil {
			t.Fatalf("ListUsers(sortBy=userName, descending=%v): %v", desc, err)
		}
		var got []string
		for _, u := range page.Resources {
			present(t, "ListUsers", u)
			got = append(got, u.UserName)
		}
		want := slices.Clone(asc)
		if desc {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("sortBy=userName descending=%v: %q, want %q (case-insensitive order)", desc, got, want)
		}
		// The same order in pages of two.
		var paged []string
		for start := 1; start <= len(asc); start += 2 {
			q.StartIndex, q.Count = start, 2
			page, err := s.ListUsers(t.Context(), q)
			if err != nil {
				t.Fatalf("ListUsers(sortBy=userName, startIndex=%d): %v", start, err)
			}
			for _, u := range page.Resources {
				present(t, "ListUsers", u)
				paged = append(paged, u.UserName)
			}
		}
		if !slices.Equal(paged, want) {
			t.Errorf("sortBy=userName descending=%v in pages of 2: %q, want %q", desc, paged, want)
		}
	}
}

// ---- groups ----

func testCreateGroup(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	u1 := createUser(t, s, &scim.User{UserName: "u1@example.com", Active: true})
	u2 := createUser(t, s, &scim.User{UserName: "u2@example.com", Active: true})
	in := &scim.Group{DisplayName: "Tour Guides", ExternalID: "a1b2",
		Members: []scim.Member{{Value: u1.ID, Type: "User"}, {Value: u2.ID, Type: "User"}},
		Extra:   map[string]json.RawMessage{"urn:example:Acme:2.0:Group": json.RawMessage(`{"region":"EMEA"}`)}}
	want := in.Clone()
	g := createGroup(t, gs, in)
	if !reflect.DeepEqual(in, want) {
		t.Errorf("CreateGroup modified its argument")
	}
	if g.ID == "" || g.Meta.Created.IsZero() || g.Meta.LastModified.IsZero() {
		t.Errorf("CreateGroup: ID %q, Created %v, LastModified %v; want all set", g.ID, g.Meta.Created, g.Meta.LastModified)
	}
	for what, got := range map[string]*scim.Group{"CreateGroup": g, "GetGroup": getGroup(t, gs, g.ID)} {
		if got.DisplayName != in.DisplayName || got.ExternalID != in.ExternalID {
			t.Errorf("%s: displayName %q externalId %q, want %q %q", what, got.DisplayName, got.ExternalID, in.DisplayName, in.ExternalID)
		}
		sameMembers(t, what, got, u1.ID, u2.ID)
		if !reflect.DeepEqual(normExtra(got.Extra), normExtra(in.Extra)) {
			t.Errorf("%s: Extra %s, want %s", what, dump(got.Extra), dump(in.Extra))
		}
	}
	if other := createGroup(t, gs, &scim.Group{DisplayName: "Other"}); other.ID == g.ID {
		t.Errorf("two groups got the same ID %q", g.ID)
	}
}

func testGroupCopies(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ids := cfg.memberIDs(t, s, 2)
	m1, m2 := ids[0], ids[1]
	in := &scim.Group{DisplayName: "Copies", Members: []scim.Member{{Value: m1}, {Value: m2}}}
	created := createGroup(t, gs, in)
	for _, g := range []*scim.Group{in, created, getGroup(t, gs, created.ID)} {
		g.DisplayName = "Changed"
		for i := range g.Members {
			g.Members[i].Value = "changed"
		}
	}
	got := getGroup(t, gs, created.ID)
	if got.DisplayName != "Copies" {
		t.Errorf("displayName %q after the caller changed its copies, want %q", got.DisplayName, "Copies")
	}
	sameMembers(t, "GetGroup after the caller changed its copies", got, m1, m2)
}

func testGroupNotFound(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ctx := t.Context()
	createGroup(t, gs, &scim.Group{DisplayName: "Exists"})
	_, err := gs.GetGroup(ctx, "no-such-id", scim.Projection{})
	mustBe(t, "GetGroup(unknown)", err, scim.ErrNotFound)
	_, err = gs.ReplaceGroup(ctx, &scim.Group{ID: "no-such-id", DisplayName: "X"})
	mustBe(t, "ReplaceGroup(unknown)", err, scim.ErrNotFound)
	mustBe(t, "DeleteGroup(unknown)", gs.DeleteGroup(ctx, "no-such-id"), scim.ErrNotFound)
}

func testReplaceGroup(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ids := cfg.memberIDs(t, s, 3)
	m1, m2, m3 := ids[0], ids[1], ids[2]
	a := createGroup(t, gs, &scim.Group{DisplayName: "Before", Members: []scim.Member{{Value: m1}}})
	next := a.Clone()
	next.DisplayName = "After"
	next.Members = []scim.Member{{Value: m2}, {Value: m3}}
	b, err := gs.ReplaceGroup(t.Context(), next)
	if err != nil {
		t.Fatalf("ReplaceGroup: %v", err)
	}
	present(t, "ReplaceGroup", b)
	if b.ID != a.ID || !b.Meta.Created.Equal(a.Meta.Created) || b.Meta.LastModified.Before(a.Meta.LastModified) {
		t.Errorf("ReplaceGroup: ID %q→%q, Created %v→%v, LastModified %v→%v", a.ID, b.ID, a.Meta.Created, b.Meta.Created, a.Meta.LastModified, b.Meta.LastModified)
	}
	if a.Meta.Version != "" && b.Meta.Version == a.Meta.Version {
		t.Errorf("ReplaceGroup kept Meta.Version %q", a.Meta.Version)
	}
	got := getGroup(t, gs, a.ID)
	if got.DisplayName != "After" {
		t.Errorf("displayName %q, want %q", got.DisplayName, "After")
	}
	sameMembers(t, "GetGroup after ReplaceGroup", got, m2, m3)
	// The old name is free, the new one taken.
	createGroup(t, gs, &scim.Group{DisplayName: "Before"})
	_, err = gs.CreateGroup(t.Context(), &scim.Group{DisplayName: "AFTER"})
	mustBe(t, "CreateGroup with a renamed group's new name", err, scim.ErrConflict)
}

func testReplaceGroupStale(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	a := createGroup(t, gs, &scim.Group{DisplayName: "One"})
	if a.Meta.Version == "" {
		t.Skip("the store does not version groups (Meta.Version is empty)")
	}
	next := a.Clone()
	next.DisplayName = "Two"
	if _, err := gs.ReplaceGroup(t.Context(), next); err != nil {
		t.Fatalf("ReplaceGroup with the current version: %v", err)
	}
	stale := a.Clone()
	stale.DisplayName = "Three"
	_, err := gs.ReplaceGroup(t.Context(), stale)
	mustBe(t, "ReplaceGroup with a stale version", err, scim.ErrVersionMismatch)
	blind := a.Clone()
	blind.Meta.Version = ""
	blind.DisplayName = "Four"
	if _, err := gs.ReplaceGroup(t.Context(), blind); err != nil {
		t.Fatalf("ReplaceGroup without a version: %v", err)
	}
	if got := getGroup(t, gs, a.ID); got.DisplayName != "Four" {
		t.Errorf("displayName %q, want %q", got.DisplayName, "Four")
	}
}

func testDisplayNameConflict(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ctx := t.Context()
	createGroup(t, gs, &scim.Group{DisplayName: "Engineers"})
	_, err := gs.CreateGroup(ctx, &scim.Group{DisplayName: "ENGINEERS"})
	mustBe(t, "CreateGroup with a displayName in other case", err, scim.ErrConflict)
	conflictOn(t, "CreateGroup with a displayName in other case", err, "displayName")
	b := createGroup(t, gs, &scim.Group{DisplayName: "Sales"})
	rename := b.Clone()
	rename.DisplayName = "engineers"
	_, err = gs.ReplaceGroup(ctx, rename)
	mustBe(t, "ReplaceGroup to another group's displayName", err, scim.ErrConflict)
	if got := getGroup(t, gs, b.ID); got.DisplayName != "Sales" {
		t.Errorf("displayName %q after a refused rename, want %q", got.DisplayName, "Sales")
	}
}

func testDeleteGroup(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ctx := t.Context()
	u := createUser(t, s, &scim.User{UserName: "member@example.com", Active: true})
	g := createGroup(t, gs, &scim.Group{DisplayName: "Doomed", Members: []scim.Member{{Value: u.ID}}})
	if err := gs.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err := gs.GetGroup(ctx, g.ID, scim.Projection{})
	mustBe(t, "GetGroup after DeleteGroup", err, scim.ErrNotFound)
	mustBe(t, "DeleteGroup twice", gs.DeleteGroup(ctx, g.ID), scim.ErrNotFound)
	if got := getUser(t, s, u.ID); len(got.Groups) != 0 {
		t.Errorf("user's groups %+v after its only group was deleted", got.Groups)
	}
	// The name is free again.
	createGroup(t, gs, &scim.Group{DisplayName: "Doomed"})
}

func testGroupProjection(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ids := cfg.memberIDs(t, s, 2)
	m1, m2 := ids[0], ids[1]
	g := createGroup(t, gs, &scim.Group{DisplayName: "Big", Members: []scim.Member{{Value: m1}, {Value: m2}}})
	for _, want := range []scim.Projection{
		{},
		{Attributes: []scim.AttrPath{path("members")}},
		{Attributes: []scim.AttrPath{path("displayName"), path("members.value")}},
	} {
		got, err := gs.GetGroup(t.Context(), g.ID, want)
		if err != nil {
			t.Fatalf("GetGroup(%+v): %v", want, err)
		}
		present(t, "GetGroup", got)
		sameMembers(t, fmt.Sprintf("GetGroup(%+v)", want), got, m1, m2)
	}
	for _, want := range []scim.Projection{
		{Excluded: []scim.AttrPath{path("members")}},
		{Attributes: []scim.AttrPath{path("displayName")}},
	} {
		got, err := gs.GetGroup(t.Context(), g.ID, want)
		if err != nil {
			t.Fatalf("GetGroup(%+v): %v", want, err)
		}
		present(t, "GetGroup", got)
		if got.DisplayName != "Big" || got.ID != g.ID {
			t.Errorf("GetGroup(%+v): %q %q, want %q %q", want, got.ID, got.DisplayName, g.ID, "Big")
		}
		// Members are not wanted: a store may skip them, but what it does
		// return must be right.
		if len(got.Members) != 0 {
			sameMembers(t, fmt.Sprintf("GetGroup(%+v)", want), got, m1, m2)
		}
	}
}

func testListGroupsProjection(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ids := cfg.memberIDs(t, s, 2)
	m1, m2 := ids[0], ids[1]
	createGroup(t, gs, &scim.Group{DisplayName: "Big", Members: []scim.Member{{Value: m1}, {Value: m2}}})
	q := scim.Query{Filter: eq("displayName", "big"), StartIndex: 1, Count: 10}
	page, err := gs.ListGroups(t.Context(), q)
	if err != nil || len(page.Resources) != 1 {
		t.Fatalf("ListGroups(displayName eq): %d groups, %v; want 1", len(page.Resources), err)
	}
	present(t, "ListGroups", page.Resources[0])
	sameMembers(t, "ListGroups with members wanted", page.Resources[0], m1, m2)
	q.Want = scim.Projection{Excluded: []scim.AttrPath{path("members")}}
	page, err = gs.ListGroups(t.Context(), q)
	if err != nil || len(page.Resources) != 1 {
		t.Fatalf("ListGroups(displayName eq, excludedAttributes=members): %d groups, %v; want 1", len(page.Resources), err)
	}
	present(t, "ListGroups", page.Resources[0])
	if g := page.Resources[0]; len(g.Members) != 0 {
		sameMembers(t, "ListGroups with members excluded", g, m1, m2)
	}
}

// checkGroups is checkUsers for groups, comparing displayNames.
func checkGroups(t *testing.T, gs scim.GroupStore, f scim.Filter, must bool, want ...string) {
	t.Helper()
	checkGroupsWhy(t, gs, f, must, "", want...)
}

func checkGroupsWhy(t *testing.T, gs scim.GroupStore, f scim.Filter, must bool, why string, want ...string) {
	t.Helper()
	page, err := gs.ListGroups(t.Context(), scim.Query{Filter: f, StartIndex: 1, Count: 1000})
	if errors.Is(err, scim.ErrUnsupported) && !must {
		t.Logf("filter %v: ErrUnsupported (allowed)", f)
		return
	}
	if err != nil {
		t.Errorf("filter %v: %v%s", f, err, required(must, why))
		return
	}
	var got []string
	for _, g := range page.Resources {
		if g == nil {
			t.Errorf("filter %v: a nil group in Resources", f)
			return
		}
		got = append(got, g.DisplayName)
	}
	if !slices.Equal(sorted(got...), sorted(want...)) || page.TotalResults != len(want) {
		t.Errorf("filter %v: %q (totalResults %d), want %q%s", f, sorted(got...), page.TotalResults, sorted(want...), required(must, why))
	}
}

func testGroupFilters(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	u := createUser(t, s, &scim.User{UserName: "u@example.com", Active: true})
	v := createUser(t, s, &scim.User{UserName: "v@example.com", Active: true})
	eng := createGroup(t, gs, &scim.Group{DisplayName: "Engineers", ExternalID: "g-eng", Members: []scim.Member{{Value: u.ID}}})
	createGroup(t, gs, &scim.Group{DisplayName: "Sales", ExternalID: "g-sales", Members: []scim.Member{{Value: u.ID}, {Value: v.ID}}})
	createGroup(t, gs, &scim.Group{DisplayName: "Empty"})
	cases := []struct {
		name string
		f    scim.Filter
		must bool
		why  string
		want []string
	}{
		{"no filter", nil, true, "", []string{"Engineers", "Sales", "Empty"}},
		{"displayName eq, other case", eq("displayName", "ENGINEERS"), true, whyGroup, []string{"Engineers"}},
		{"displayName eq, no match", eq("displayName", "Nobody"), true, whyGroup, nil},
		{"id eq and members eq, a member", and(eq("id", eng.ID), eq("members", u.ID)), true, whyMember, []string{"Engineers"}},
		{"id eq and members eq, not a member", and(eq("id", eng.ID), eq("members", v.ID)), true, whyMember, nil},
		{"id eq", eq("id", eng.ID), true, whyID, []string{"Engineers"}},
		{"externalId eq", eq("externalId", "g-sales"), false, "", []string{"Sales"}},
		{"members eq", eq("members", u.ID), false, "", []string{"Engineers", "Sales"}},
		{"members.value eq", eq("members.value", v.ID), false, "", []string{"Sales"}},
		{"members pr", pr("members"), false, "", []string{"Engineers", "Sales"}},
		{"not (members pr)", not(pr("members")), false, "", []string{"Empty"}},
		{"displayName sw", cmpf("displayName", scim.OpSw, "e"), false, "", []string{"Engineers", "Empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkGroupsWhy(t, gs, tc.f, tc.must, tc.why, tc.want...) })
	}
}

func testGroupPaging(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	var want []string
	for i := range 7 {
		want = append(want, createGroup(t, gs, &scim.Group{DisplayName: "group " + strconv.Itoa(i)}).ID)
	}
	var got []string
	for start := 1; start <= 8; start += 3 {
		page, err := gs.ListGroups(t.Context(), scim.Query{StartIndex: start, Count: 3, Want: scim.Projection{Excluded: []scim.AttrPath{path("members")}}})
		if err != nil {
			t.Fatalf("ListGroups(startIndex=%d): %v", start, err)
		}
		if page.TotalResults != 7 {
			t.Errorf("startIndex=%d: totalResults %d, want 7", start, page.TotalResults)
		}
		for _, g := range page.Resources {
			present(t, "ListGroups", g)
			got = append(got, g.ID)
		}
	}
	if !slices.Equal(sorted(got...), sorted(want...)) {
		t.Errorf("pages of 3: %q, want each of %q once", got, want)
	}
}

// ---- memberships ----

func testMembershipReplace(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	u1 := createUser(t, s, &scim.User{UserName: "u1@example.com", Active: true})
	u2 := createUser(t, s, &scim.User{UserName: "u2@example.com", Active: true})
	g := createGroup(t, gs, &scim.Group{DisplayName: "G"})
	sameMembers(t, "a new group", getGroup(t, gs, g.ID), []string{}...)
	for _, step := range [][]string{{u1.ID}, {u1.ID, u2.ID}, {u2.ID}, {}} {
		next := getGroup(t, gs, g.ID)
		next.Members = nil
		for _, id := range step {
			next.Members = append(next.Members, scim.Member{Value: id, Type: "User"})
		}
		if _, err := gs.ReplaceGroup(t.Context(), next); err != nil {
			t.Fatalf("ReplaceGroup(members %q): %v", step, err)
		}
		sameMembers(t, fmt.Sprintf("after ReplaceGroup(members %q)", step), getGroup(t, gs, g.ID), step...)
		checkGroups(t, gs, and(eq("id", g.ID), eq("members", u1.ID)), true, func() []string {
			if slices.Contains(step, u1.ID) {
				return []string{"G"}
			}
			return nil
		}()...)
	}
}

func testDeleteUserLeavesGroups(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	u1 := createUser(t, s, &scim.User{UserName: "u1@example.com", Active: true})
	u2 := createUser(t, s, &scim.User{UserName: "u2@example.com", Active: true})
	a := createGroup(t, gs, &scim.Group{DisplayName: "A", Members: []scim.Member{{Value: u1.ID}, {Value: u2.ID}}})
	b := createGroup(t, gs, &scim.Group{DisplayName: "B", Members: []scim.Member{{Value: u1.ID}}})
	if err := s.DeleteUser(t.Context(), u1.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	sameMembers(t, "group A after deleting a member", getGroup(t, gs, a.ID), u2.ID)
	sameMembers(t, "group B after deleting its only member", getGroup(t, gs, b.ID), []string{}...)
	checkGroups(t, gs, and(eq("id", a.ID), eq("members", u1.ID)), true)
}

func testUserGroups(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	u := createUser(t, s, &scim.User{UserName: "u@example.com", Active: true})
	a := createGroup(t, gs, &scim.Group{DisplayName: "A", Members: []scim.Member{{Value: u.ID}}})
	b := createGroup(t, gs, &scim.Group{DisplayName: "B", Members: []scim.Member{{Value: u.ID}}})
	createGroup(t, gs, &scim.Group{DisplayName: "C"})
	got := getUser(t, s, u.ID)
	if len(got.Groups) == 0 {
		if cfg.declared && cfg.capabilities&UserGroups != 0 {
			t.Fatal("the store declares UserGroups (storetest.Declare), but GetUser returned no groups for a member of two")
		}
		t.Skip("the store does not fill User.Groups")
	}
	check := func(what string, want map[string]string) {
		t.Helper()
		u := getUser(t, s, u.ID)
		have := map[string]string{}
		for _, r := range u.Groups {
			have[r.Value] = r.Display
		}
		if len(have) != len(u.Groups) || len(have) != len(want) {
			t.Errorf("%s: groups %+v, want %v", what, u.Groups, want)
			return
		}
		for id, name := range want {
			d, ok := have[id]
			if !ok || (d != "" && d != name) {
				t.Errorf("%s: groups %+v, want %v (display, when set, the group's displayName)", what, u.Groups, want)
				return
			}
		}
	}
	check("after two groups added the user", map[string]string{a.ID: "A", b.ID: "B"})
	if err := gs.DeleteGroup(t.Context(), a.ID); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	check("after one of them was deleted", map[string]string{b.ID: "B"})
	next := getGroup(t, gs, b.ID)
	next.Members = nil
	if _, err := gs.ReplaceGroup(t.Context(), next); err != nil {
		t.Fatalf("ReplaceGroup: %v", err)
	}
	check("after the other dropped the user", map[string]string{})
}

// ---- optional capabilities ----

var errRefused = errors.New("storetest: update refused")

func testUpdateUser(t *testing.T, s scim.Store, cfg *config) {
	up, ok := s.(scim.UserUpdater)
	if !ok {
		t.Skip("the store does not implement scim.UserUpdater")
	}
	a := createUser(t, s, &scim.User{UserName: "up@example.com", Title: "One", Active: true})
	b, err := up.UpdateUser(t.Context(), a.ID, func(u *scim.User) error {
		if u.ID != a.ID || u.UserName != "up@example.com" || u.Title != "One" {
			return fmt.Errorf("update received %+v, want the stored user", u)
		}
		u.Title = "Two"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	present(t, "UpdateUser", b)
	if b.Title != "Two" || b.ID != a.ID || !b.Meta.Created.Equal(a.Meta.Created) {
		t.Errorf("UpdateUser returned %q %q %v, want %q %q %v", b.ID, b.Title, b.Meta.Created, a.ID, "Two", a.Meta.Created)
	}
	if a.Meta.Version != "" && b.Meta.Version == a.Meta.Version {
		t.Errorf("UpdateUser kept Meta.Version %q", a.Meta.Version)
	}
	if got := getUser(t, s, a.ID); got.Title != "Two" {
		t.Errorf("title %q after UpdateUser, want %q", got.Title, "Two")
	}
	_, err = up.UpdateUser(t.Context(), "no-such-id", func(*scim.User) error { return nil })
	mustBe(t, "UpdateUser(unknown)", err, scim.ErrNotFound)
}

// testUpdateUserReentrant: on a store whose ReentrantReads is true, the
// update function of UpdateUser reads the store (as the handler's policies
// do after lost races), on every call: the first, during which another
// writer changes the user, so that a store that reads without its lock
// first calls it again under the lock, and the calls after. None of the
// reads may wait for the update; a deadline ends the check if they do.
func testUpdateUserReentrant(t *testing.T, s scim.Store, cfg *config) {
	rr, ok := s.(scim.ReentrantReader)
	if !ok || !rr.ReentrantReads() {
		t.Skip("the store's update functions may not read it (scim.ReentrantReader)")
	}
	up := s.(scim.UserUpdater)
	a := createUser(t, s, &scim.User{UserName: "up@example.com", Title: "One", Active: true})
	b := createUser(t, s, &scim.User{UserName: "other@example.com", Active: true})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var rival sync.WaitGroup
	defer rival.Wait()
	calls := 0
	_, err := up.UpdateUser(ctx, a.ID, func(u *scim.User) error {
		calls++
		if calls == 1 {
			// The other writer may have to wait for this update, when
			// the store holds its lock already: then it is not waited for.
			done := make(chan struct{})
			rival.Add(1)
			go func() {
				defer rival.Done()
				defer close(done)
				r := a.Clone()
				r.DisplayName = "Rival"
				_, _ = s.ReplaceUser(ctx, r) // ErrVersionMismatch when it came after the update
			}()
			select {
			case <-done:
			case <-time.After(200 * time.Millisecond):
			}
		}
		if _, err := s.GetUser(ctx, b.ID, scim.Projection{}); err != nil {
			return fmt.Errorf("GetUser inside the update function (call %d): %w", calls, err)
		}
		if _, err := s.ListUsers(ctx, scim.Query{StartIndex: 1, Count: 10}); err != nil {
			return fmt.Errorf("ListUsers inside the update function (call %d): %w", calls, err)
		}
		u.Title = "Two"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser (its update function called %d times): %v", calls, err)
	}
	if got := getUser(t, s, a.ID); got.Title != "Two" {
		t.Errorf("title %q after UpdateUser, want %q", got.Title, "Two")
	}
}

func testUpdateUserError(t *testing.T, s scim.Store, cfg *config) {
	up, ok := s.(scim.UserUpdater)
	if !ok {
		t.Skip("the store does not implement scim.UserUpdater")
	}
	a := createUser(t, s, &scim.User{UserName: "up@example.com", Title: "One", Active: true})
	_, err := up.UpdateUser(t.Context(), a.ID, func(u *scim.User) error {
		u.Title = "Two"
		u.UserName = "renamed@example.com"
		return errRefused
	})
	mustBe(t, "UpdateUser whose update fails", err, errRefused)
	got := getUser(t, s, a.ID)
	if got.Title != "One" || got.UserName != "up@example.com" || got.Meta.Version != a.Meta.Version {
		t.Errorf("after a failed update: %q %q version %q, want the user unchanged (%q %q %q)", got.UserName, got.Title, got.Meta.Version, a.UserName, a.Title, a.Meta.Version)
	}
	checkUsers(t, s, eq("userName", "renamed@example.com"), true)
}

func testUpdateUserConflict(t *testing.T, s scim.Store, cfg *config) {
	up, ok := s.(scim.UserUpdater)
	if !ok {
		t.Skip("the store does not implement scim.UserUpdater")
	}
	createUser(t, s, &scim.User{UserName: "taken@example.com", Active: true})
	a := createUser(t, s, &scim.User{UserName: "free@example.com", Active: true})
	_, err := up.UpdateUser(t.Context(), a.ID, func(u *scim.User) error {
		u.UserName = "TAKEN@example.com"
		return nil
	})
	mustBe(t, "UpdateUser to another user's userName", err, scim.ErrConflict)
	if got := getUser(t, s, a.ID); got.UserName != "free@example.com" {
		t.Errorf("userName %q after a refused update, want %q", got.UserName, "free@example.com")
	}
}

// testUpdateUserShared checks a SharedUserUpdater: update is given the
// stored user, what it returns is stored and returned, a user read before
// stays as it was, and an update that fails, a taken userName and an
// unknown id store nothing.
func testUpdateUserShared(t *testing.T, s scim.Store, cfg *config) {
	up, ok := s.(scim.SharedUserUpdater)
	if !ok {
		t.Skip("the store does not implement scim.SharedUserUpdater")
	}
	ctx := t.Context()
	createUser(t, s, &scim.User{UserName: "taken@example.com", Active: true})
	a := createUser(t, s, &scim.User{UserName: "shared@example.com", Title: "One", Active: true,
		Emails: []scim.MultiValue{{Value: "shared@example.com"}}})
	before := getUser(t, s, a.ID)
	b, err := up.UpdateUserShared(ctx, a.ID, func(stored *scim.User) (*scim.User, error) {
		if stored.ID != a.ID || stored.Title != "One" || len(stored.Emails) != 1 {
			return nil, fmt.Errorf("update received %+v, want the stored user", stored)
		}
		next := stored.Clone()
		next.Title, next.Emails[0].Value = "Two", "two@example.com"
		return next, nil
	})
	if err != nil {
		t.Fatalf("UpdateUserShared: %v", err)
	}
	present(t, "UpdateUserShared", b)
	if b.Title != "Two" || b.ID != a.ID || !b.Meta.Created.Equal(a.Meta.Created) || (a.Meta.Version != "" && b.Meta.Version == a.Meta.Version) {
		t.Errorf("UpdateUserShared returned %q %q %v %q, want %q %q %v and a new version", b.ID, b.Title, b.Meta.Created, b.Meta.Version, a.ID, "Two", a.Meta.Created)
	}
	if before.Title != "One" || before.Emails[0].Value != "shared@example.com" {
		t.Errorf("a user read before UpdateUserShared changed: %q %q", before.Title, before.Emails[0].Value)
	}
	after := getUser(t, s, a.ID)
	if after.Title != "Two" || after.Emails[0].Value != "two@example.com" {
		t.Errorf("after UpdateUserShared: %q %q, want %q %q", after.Title, after.Emails[0].Value, "Two", "two@example.com")
	}
	for _, tc := range []struct {
		name   string
		id     string
		update func(*scim.User) (*scim.User, error)
		want   error
	}{
		{"whose update fails", a.ID, func(*scim.User) (*scim.User, error) { return nil, errRefused }, errRefused},
		{"to another user's userName", a.ID, func(stored *scim.User) (*scim.User, error) {
			next := stored.Clone()
			next.UserName, next.Title = "TAKEN@example.com", "Three"
			return next, nil
		}, scim.ErrConflict},
		{"of an unknown id", "no-such-id", func(stored *scim.User) (*scim.User, error) { return stored.Clone(), nil }, scim.ErrNotFound},
	} {
		_, err := up.UpdateUserShared(ctx, tc.id, tc.update)
		mustBe(t, "UpdateUserShared "+tc.name, err, tc.want)
	}
	if got := getUser(t, s, a.ID); got.Title != "Two" || got.UserName != "shared@example.com" || got.Meta.Version != after.Meta.Version {
		t.Errorf("after refused updates: %q %q version %q, want the user unchanged", got.UserName, got.Title, got.Meta.Version)
	}
}

func testUpdateGroup(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ids := cfg.memberIDs(t, s, 2)
	m1, m2 := ids[0], ids[1]
	up, ok := s.(scim.GroupUpdater)
	if !ok {
		t.Skip("the store does not implement scim.GroupUpdater")
	}
	g := createGroup(t, gs, &scim.Group{DisplayName: "G", Members: []scim.Member{{Value: m1}}})
	got, err := up.UpdateGroup(t.Context(), g.ID, func(g *scim.Group) error {
		if len(g.Members) != 1 || g.Members[0].Value != m1 {
			return fmt.Errorf("update received members %+v, want m1", g.Members)
		}
		g.Members = append(g.Members, scim.Member{Value: m2})
		g.DisplayName = "H"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	present(t, "UpdateGroup", got)
	if got.DisplayName != "H" || (g.Meta.Version != "" && got.Meta.Version == g.Meta.Version) {
		t.Errorf("UpdateGroup returned %q version %q", got.DisplayName, got.Meta.Version)
	}
	sameMembers(t, "GetGroup after UpdateGroup", getGroup(t, gs, g.ID), m1, m2)
	_, err = up.UpdateGroup(t.Context(), "no-such-id", func(*scim.Group) error { return nil })
	mustBe(t, "UpdateGroup(unknown)", err, scim.ErrNotFound)
}

func testUpdateGroupError(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	ids := cfg.memberIDs(t, s, 1)
	m1 := ids[0]
	up, ok := s.(scim.GroupUpdater)
	if !ok {
		t.Skip("the store does not implement scim.GroupUpdater")
	}
	g := createGroup(t, gs, &scim.Group{DisplayName: "G", Members: []scim.Member{{Value: m1}}})
	_, err := up.UpdateGroup(t.Context(), g.ID, func(g *scim.Group) error {
		g.Members = nil
		g.DisplayName = "H"
		return errRefused
	})
	mustBe(t, "UpdateGroup whose update fails", err, errRefused)
	got := getGroup(t, gs, g.ID)
	if got.DisplayName != "G" || got.Meta.Version != g.Meta.Version {
		t.Errorf("after a failed update: %q version %q, want the group unchanged", got.DisplayName, got.Meta.Version)
	}
	sameMembers(t, "after a failed update", got, m1)
}

func memberPatcher(t *testing.T, s scim.Store) (scim.GroupStore, scim.MemberPatcher) {
	t.Helper()
	gs := groupStore(t, s)
	mp, ok := s.(scim.MemberPatcher)
	if !ok {
		t.Skip("the store does not implement scim.MemberPatcher")
	}
	return gs, mp
}

func testPatchMembers(t *testing.T, s scim.Store, cfg *config) {
	gs, mp := memberPatcher(t, s)
	ids := cfg.memberIDs(t, s, 3)
	m1, m2, m3 := ids[0], ids[1], ids[2]
	g := createGroup(t, gs, &scim.Group{DisplayName: "G", Members: []scim.Member{{Value: m1}}})
	res, err := mp.PatchMembers(t.Context(), g.ID, scim.MemberPatch{
		Add:    []scim.Member{{Value: m2, Type: "User"}, {Value: m3, Type: "User"}},
		Remove: []string{m1},
	})
	if err != nil {
		t.Fatalf("PatchMembers: %v", err)
	}
	p := res.Group
	if p == nil || p.ID != g.ID {
		t.Fatalf("PatchMembers returned %+v, want the group", p)
	}
	if !slices.Equal(res.Added, []string{m2, m3}) || !slices.Equal(res.Removed, []string{m1}) {
		t.Errorf("PatchMembers said it added %q and removed %q, want [m2 m3] and [m1]", res.Added, res.Removed)
	}
	if g.Meta.Version != "" && p.Meta.Version == g.Meta.Version {
		t.Errorf("PatchMembers kept Meta.Version %q", g.Meta.Version)
	}
	got := getGroup(t, gs, g.ID)
	sameMembers(t, "after PatchMembers", got, m2, m3)
	if got.Meta.Version != p.Meta.Version {
		t.Errorf("GetGroup: version %q, PatchMembers returned %q", got.Meta.Version, p.Meta.Version)
	}
	if got.Meta.LastModified.Before(g.Meta.LastModified) {
		t.Errorf("PatchMembers moved LastModified back from %v to %v", g.Meta.LastModified, got.Meta.LastModified)
	}
	if _, err := mp.PatchMembers(t.Context(), g.ID, scim.MemberPatch{Version: got.Meta.Version, Remove: []string{m2}}); err != nil {
		t.Fatalf("PatchMembers with the current version: %v", err)
	}
	sameMembers(t, "after a second PatchMembers", getGroup(t, gs, g.ID), m3)
}

func testPatchMembersIdempotent(t *testing.T, s scim.Store, cfg *config) {
	gs, mp := memberPatcher(t, s)
	ids := cfg.memberIDs(t, s, 3)
	m1, m2, m3 := ids[0], ids[1], ids[2]
	g := createGroup(t, gs, &scim.Group{DisplayName: "G", Members: []scim.Member{{Value: m1}, {Value: m2}}})
	patch := scim.MemberPatch{Add: []scim.Member{{Value: m1}, {Value: m3}}, Remove: []string{m2, "never-a-member"}}
	want := [][2][]string{{{m3}, {m2}}, {nil, nil}} // what changed in each round
	for i := range 2 {                              // a replayed request
		res, err := mp.PatchMembers(t.Context(), g.ID, patch)
		if err != nil {
			t.Fatalf("PatchMembers (round %d): %v", i+1, err)
		}
		sameMembers(t, fmt.Sprintf("after PatchMembers round %d", i+1), getGroup(t, gs, g.ID), m1, m3)
		if !slices.Equal(res.Added, want[i][0]) || !slices.Equal(res.Removed, want[i][1]) {
			t.Errorf("round %d: PatchMembers said it added %q and removed %q, want %q and %q", i+1, res.Added, res.Removed, want[i][0], want[i][1])
		}
	}
}

func testPatchMembersNotFound(t *testing.T, s scim.Store, cfg *config) {
	_, mp := memberPatcher(t, s)
	ids := cfg.memberIDs(t, s, 1)
	m1 := ids[0]
	_, err := mp.PatchMembers(t.Context(), "no-such-id", scim.MemberPatch{Add: []scim.Member{{Value: m1}}})
	mustBe(t, "PatchMembers(unknown group)", err, scim.ErrNotFound)
}

func testPatchMembersStale(t *testing.T, s scim.Store, cfg *config) {
	gs, mp := memberPatcher(t, s)
	ids := cfg.memberIDs(t, s, 2)
	m1, m2 := ids[0], ids[1]
	g := createGroup(t, gs, &scim.Group{DisplayName: "G"})
	if g.Meta.Version == "" {
		t.Skip("the store does not version groups (Meta.Version is empty)")
	}
	if _, err := mp.PatchMembers(t.Context(), g.ID, scim.MemberPatch{Version: g.Meta.Version, Add: []scim.Member{{Value: m1}}}); err != nil {
		t.Fatalf("PatchMembers with the current version: %v", err)
	}
	_, err := mp.PatchMembers(t.Context(), g.ID, scim.MemberPatch{Version: g.Meta.Version, Add: []scim.Member{{Value: m2}}})
	mustBe(t, "PatchMembers with a stale version", err, scim.ErrVersionMismatch)
	sameMembers(t, "after a refused PatchMembers", getGroup(t, gs, g.ID), m1)
}

// ---- concurrency ----

// addMember adds id to group gid by the best path the store offers, as the
// handler does.
func addMember(ctx context.Context, s scim.Store, gid, id string) error {
	m := scim.Member{Value: id, Type: "User"}
	if mp, ok := s.(scim.MemberPatcher); ok {
		_, err := mp.PatchMembers(ctx, gid, scim.MemberPatch{Add: []scim.Member{m}})
		return err
	}
	if up, ok := s.(scim.GroupUpdater); ok {
		_, err := up.UpdateGroup(ctx, gid, func(g *scim.Group) error {
			g.Members = append(g.Members, m)
			return nil
		})
		return err
	}
	gs := s.(scim.GroupStore)
	for range 1000 {
		g, err := gs.GetGroup(ctx, gid, scim.Projection{})
		if err != nil {
			return err
		}
		g.Members = append(g.Members, m)
		_, err = gs.ReplaceGroup(ctx, g)
		if !errors.Is(err, scim.ErrVersionMismatch) {
			return err
		}
	}
	return fmt.Errorf("adding member %s: still a version mismatch after 1000 attempts", id)
}

func testConcurrentMemberAdds(t *testing.T, s scim.Store, cfg *config) {
	gs := groupStore(t, s)
	g := createGroup(t, gs, &scim.Group{DisplayName: "Crowded"})
	_, patcher := s.(scim.MemberPatcher)
	_, updater := s.(scim.GroupUpdater)
	if !patcher && !updater && g.Meta.Version == "" {
		t.Skip("the store has no atomic way to add a member: no MemberPatcher, no GroupUpdater, no versions")
	}
	const n = 50
	ids := make([]string, n)
	for i := range ids {
		ids[i] = createUser(t, s, &scim.User{UserName: "member" + strconv.Itoa(i) + "@example.com", Active: true}).ID
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = addMember(t.Context(), s, g.ID, id)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent member adds: %v", err)
	}
	sameMembers(t, "after 50 concurrent adds", getGroup(t, gs, g.ID), ids...)
}

func testConcurrentCreates(t *testing.T, s scim.Store, cfg *config) {
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "race@example.com"
			if i%2 == 1 {
				name = "RACE@example.com"
			}
			_, errs[i] = s.CreateUser(t.Context(), &scim.User{UserName: name, Active: true})
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, scim.ErrConflict):
			t.Errorf("concurrent create: %v, want nil or ErrConflict", err)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent creates of one userName succeeded, want exactly 1", created, n)
	}
	checkUsers(t, s, eq("userName", "race@example.com"), true, func() []string {
		for i, err := range errs {
			if err == nil && i%2 == 1 {
				return []string{"RACE@example.com"}
			}
		}
		return []string{"race@example.com"}
	}()...)
}

// testUserEncodingCache checks a UserEncodingCacher: the user a shared
// read returns has a cache (unless the store does not declare
// EncodingCache: then the check skips), the same one while nothing
// changes, and no cache once the user is written or its groups change (a
// membership, a group renamed), when the handler would otherwise answer
// with the user's old bytes; a user that is not the store's has none.
// What UpdateUserShared returns has no cache of an earlier state.
func testUserEncodingCache(t *testing.T, s scim.Store, cfg *config) {
	declared := cfg.capabilities&EncodingCache != 0
	ec, ok := s.(scim.UserEncodingCacher)
	sr, shared := s.(scim.SharedUserReader)
	if !ok || !shared {
		if declared {
			t.Fatal("the store declares EncodingCache (storetest.Declare) but is not a scim.UserEncodingCacher and a scim.SharedUserReader")
		}
		t.Skip("the store does not implement scim.UserEncodingCacher and scim.SharedUserReader")
	}
	ctx := t.Context()
	a := createUser(t, s, &scim.User{UserName: "cached@example.com", Active: true})
	read := func(what string) (*scim.User, *scim.EncodingCache) {
		t.Helper()
		u, err := sr.GetUserShared(ctx, a.ID, scim.Projection{})
		if err != nil {
			t.Fatalf("GetUserShared after %s: %v", what, err)
		}
		present(t, "GetUserShared", u)
		c := ec.UserEncodingCache(ctx, u)
		if c == nil {
			t.Fatalf("after %s, no cache for the user GetUserShared returned", what)
		}
		return u, c
	}
	if u, err := sr.GetUserShared(ctx, a.ID, scim.Projection{}); err == nil && ec.UserEncodingCache(ctx, u) == nil && !declared {
		// Allowed: the store keeps no encoding for this user (its cache
		// may be bounded, or off, as sqlstore's is without WithUserCache).
		t.Skip("the store keeps no encoding cache for a user it has just read (declare EncodingCache to require one): nothing to check")
	}
	u1, c1 := read("the create")
	if _, again := read("a read"); again != c1 {
		t.Errorf("a second read of an unchanged user has another cache: the handler would encode it on every read")
	}
	page, err := sr.ListUsersShared(ctx, scim.Query{Filter: eq("userName", "cached@example.com"), StartIndex: 1, Count: 10})
	if err != nil || len(page.Resources) != 1 {
		t.Fatalf("ListUsersShared: %d users, %v", len(page.Resources), err)
	}
	if c := ec.UserEncodingCache(ctx, page.Resources[0]); c != nil && c != c1 {
		t.Errorf("ListUsersShared's user has another cache than GetUserShared's")
	}
	if c := ec.UserEncodingCache(ctx, u1.Clone()); c != nil {
		t.Errorf("a copy of the stored user has a cache: the handler would answer a user of its caller's with the store's bytes")
	}
	stale := func(what string, u *scim.User) {
		t.Helper()
		if c := ec.UserEncodingCache(ctx, u); c != nil {
			t.Errorf("after %s, the user read before it still has a cache: the handler would answer with its old bytes", what)
		}
	}
	next := getUser(t, s, a.ID)
	next.Title = "Changed"
	if _, err := s.ReplaceUser(ctx, next); err != nil {
		t.Fatalf("ReplaceUser: %v", err)
	}
	stale("ReplaceUser", u1)
	u2, c2 := read("ReplaceUser")
	if c2 == c1 || u2.Title != "Changed" {
		t.Errorf("after ReplaceUser, the user read has the old cache or title %q", u2.Title)
	}
	if up, ok := s.(scim.SharedUserUpdater); ok {
		// The handler asks for the cache of what UpdateUserShared returns
		// and encodes its PATCH answer there: it must not be a cache of
		// the state before.
		u, err := up.UpdateUserShared(ctx, a.ID, func(stored *scim.User) (*scim.User, error) {
			c := stored.Clone()
			c.Title = "Updated"
			return c, nil
		})
		if err != nil {
			t.Fatalf("UpdateUserShared: %v", err)
		}
		stale("UpdateUserShared", u2)
		if c := ec.UserEncodingCache(ctx, u); c != nil && (c == c1 || c == c2) {
			t.Errorf("the user UpdateUserShared returned has the cache of an earlier state: the handler would keep its answer where the old bytes were read")
		}
		if u2, c2 = read("UpdateUserShared"); u2.Title != "Updated" || c2 == c1 {
			t.Errorf("after UpdateUserShared, the user read has the old cache or title %q", u2.Title)
		}
	}
	gs, ok := s.(scim.GroupStore)
	if !ok {
		return
	}
	g := createGroup(t, gs, &scim.Group{DisplayName: "Cached", Members: []scim.Member{{Value: a.ID}}})
	stale("the user became a member", u2)
	u3, _ := read("the user became a member")
	g = getGroup(t, gs, g.ID)
	g.DisplayName = "Cached, renamed"
	if _, err := gs.ReplaceGroup(ctx, g); err != nil {
		t.Fatalf("ReplaceGroup: %v", err)
	}
	if cfg.capabilities&UserGroups != 0 || len(u3.Groups) > 0 {
		// A store that shows the user's groups shows the group's displayName.
		stale("the user's group was renamed", u3)
	}
	u4, _ := read("the rename")
	if err := gs.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	if cfg.capabilities&UserGroups != 0 || len(u4.Groups) > 0 {
		stale("the user's group was deleted", u4)
	}
}
