package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) scim.Store { return memstore.New() },
		storetest.Declare(storetest.Groups|storetest.UserUpdater|storetest.GroupUpdater|storetest.MemberPatcher|storetest.UserGroups|storetest.EncodingCache),
		storetest.Tenants(func(*testing.T) (a, b storetest.Tenant) {
			s := memstore.New(memstore.WithTenant(func(ctx context.Context) string {
				t, _ := scim.TenantFrom(ctx)
				return t.ID
			}))
			return storetest.Tenant{Store: s, Context: storetest.InTenant("alpha")},
				storetest.Tenant{Store: s, Context: storetest.InTenant("bravo")}
		}))
}

// ---- filter helpers (the filters are built by hand) ----

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

func eq(p, v string) scim.Filter {
	return &scim.AttrExpr{Path: path(p), Op: scim.OpEq, Value: scim.Value{Kind: scim.KindString, Text: v}}
}
func ne(p, v string) scim.Filter {
	return &scim.AttrExpr{Path: path(p), Op: scim.OpNe, Value: scim.Value{Kind: scim.KindString, Text: v}}
}
func pr(p string) scim.Filter { return &scim.AttrExpr{Path: path(p), Op: scim.OpPr} }
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

func all() scim.Query { return scim.Query{StartIndex: 1, Count: 1 << 20} }

func userNames(us []*scim.User) []string {
	var s []string
	for _, u := range us {
		s = append(s, u.UserName)
	}
	return s
}

// ---- tenancy ----

type tenantKey struct{}

func inTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

func tenantOf(ctx context.Context) string {
	s, _ := ctx.Value(tenantKey{}).(string)
	return s
}

func TestTenantsAreIsolated(t *testing.T) {
	s := memstore.New(memstore.WithTenant(tenantOf))
	a, b := inTenant(t.Context(), "a"), inTenant(t.Context(), "b")
	ua, err := s.CreateUser(a, &scim.User{UserName: "same@example.com", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	// The same userName and displayName are free in another tenant.
	ub, err := s.CreateUser(b, &scim.User{UserName: "SAME@example.com", Active: true})
	if err != nil {
		t.Fatalf("CreateUser in tenant b with tenant a's userName: %v", err)
	}
	ga, err := s.CreateGroup(a, &scim.Group{DisplayName: "G", Members: []scim.Member{{Value: ua.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(b, &scim.Group{DisplayName: "g"}); err != nil {
		t.Fatalf("CreateGroup in tenant b with tenant a's displayName: %v", err)
	}
	// Another tenant's ids are not found, by any method.
	checks := []struct {
		name string
		err  error
	}{
		{"GetUser", func() error { _, err := s.GetUser(b, ua.ID, scim.Projection{}); return err }()},
		{"ReplaceUser", func() error { _, err := s.ReplaceUser(b, ua); return err }()},
		{"UpdateUser", func() error { _, err := s.UpdateUser(b, ua.ID, func(*scim.User) error { return nil }); return err }()},
		{"DeleteUser", s.DeleteUser(b, ua.ID)},
		{"GetGroup", func() error { _, err := s.GetGroup(b, ga.ID, scim.Projection{}); return err }()},
		{"ReplaceGroup", func() error { _, err := s.ReplaceGroup(b, ga); return err }()},
		{"UpdateGroup", func() error { _, err := s.UpdateGroup(b, ga.ID, func(*scim.Group) error { return nil }); return err }()},
		{"PatchMembers", func() error {
			_, err := s.PatchMembers(b, ga.ID, scim.MemberPatch{Remove: []string{ua.ID}})
			return err
		}()},
		{"DeleteGroup", s.DeleteGroup(b, ga.ID)},
		{"GetUser in a tenant with no data", func() error {
			_, err := s.GetUser(inTenant(t.Context(), "c"), ua.ID, scim.Projection{})
			return err
		}()},
	}
	for _, c := range checks {
		if !errors.Is(c.err, scim.ErrNotFound) {
			t.Errorf("%s from another tenant: %v, want ErrNotFound", c.name, c.err)
		}
	}
	for ctx, want := range map[context.Context][]string{a: {"same@example.com"}, b: {"SAME@example.com"}, inTenant(t.Context(), "c"): nil} {
		page, err := s.ListUsers(ctx, scim.Query{Filter: eq("userName", "same@example.com"), StartIndex: 1, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, userNames(page.Resources)); diff != "" || page.TotalResults != len(want) {
			t.Errorf("tenant %q: userName eq (-want +got):\n%s", tenantOf(ctx), diff)
		}
		if page.Resources == nil {
			t.Errorf("tenant %q: Resources is nil, want empty", tenantOf(ctx))
		}
	}
	if got, err := s.GetUser(a, ua.ID, scim.Projection{}); err != nil || len(got.Groups) != 1 {
		t.Errorf("tenant a's user after tenant b's attempts: %+v, %v", got, err)
	}
	if got, err := s.GetUser(b, ub.ID, scim.Projection{}); err != nil || len(got.Groups) != 0 {
		t.Errorf("tenant b's user: %+v, %v; want no groups", got, err)
	}
}

// ---- index pushdown ----

// pushdownUsers is a population with repeated externalIds and emails, so
// that every index holds lists.
func pushdownUsers(t *testing.T, s *memstore.Store) []*scim.User {
	var us []*scim.User
	for i := range 30 {
		u := &scim.User{
			UserName:   fmt.Sprintf("User%d@Example.com", i),
			ExternalID: "ext-" + strconv.Itoa(i%7),
			Title:      []string{"", "Eng", "Sales"}[i%3],
			Active:     i%4 != 0,
			Emails: []scim.MultiValue{
				{Value: fmt.Sprintf("u%d@example.com", i), Type: "work"},
				{Value: fmt.Sprintf("shared%d@Example.org", i%5), Type: "home"},
			},
		}
		got, err := s.CreateUser(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		us = append(us, got)
	}
	return us
}

// checkPushdown compares ListUsers with a scan of every user by MatchUser,
// order included (creation order).
func checkPushdown(t *testing.T, s *memstore.Store, filters []scim.Filter) {
	t.Helper()
	everyone, err := s.ListUsers(t.Context(), all())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range filters {
		var want []string
		for _, u := range everyone.Resources {
			if scim.MatchUser(f, u) {
				want = append(want, u.ID)
			}
		}
		page, err := s.ListUsers(t.Context(), scim.Query{Filter: f, StartIndex: 1, Count: 1000})
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		var got []string
		for _, u := range page.Resources {
			got = append(got, u.ID)
		}
		if diff := cmp.Diff(want, got); diff != "" || page.TotalResults != len(want) {
			t.Errorf("%v: index and scan disagree (-scan +index):\n%s", f, diff)
		}
	}
}

func userFilters(us []*scim.User) []scim.Filter {
	return []scim.Filter{
		eq("userName", "user7@example.COM"),
		eq("userName", "renamed@example.com"),
		eq(scim.UserSchema+":userName", "USER8@EXAMPLE.COM"),
		eq("USERNAME", "user9@example.com"),
		eq("userName", ""),
		&scim.AttrExpr{Path: path("userName"), Op: scim.OpEq, Value: scim.Value{Kind: scim.KindNumber, Text: "7"}},
		eq("externalId", "ext-3"),
		eq("externalId", "EXT-3"),
		eq("id", us[5].ID),
		eq("id", strings.ToUpper(us[5].ID)),
		eq("emails", "SHARED2@example.org"),
		eq("emails.value", "u4@EXAMPLE.com"),
		vp("emails", and(eq("type", "work"), eq("value", "U11@example.com"))),
		vp("emails", and(eq("type", "work"), eq("value", "shared1@example.org"))),
		vp("emails", or(eq("type", "work"), eq("value", "shared1@example.org"))),
		vp("emails", not(eq("value", "u3@example.com"))),
		and(eq("externalId", "ext-1"), pr("title")),
		and(pr("title"), eq("emails", "shared3@example.org")),
		and(eq("externalId", "ext-2"), eq("userName", "user9@example.com")),
		or(eq("userName", "user1@example.com"), eq("externalId", "ext-4")),
		or(eq("userName", "user1@example.com"), eq("externalId", "ext-1")),
		or(eq("userName", "user1@example.com"), pr("title")),
		not(eq("userName", "user1@example.com")),
		ne("userName", "user1@example.com"),
		and(eq("id", us[3].ID), eq("manager", "nobody")),
		&scim.LogicalExpr{Left: eq("userName", "user1@example.com"), Right: eq("userName", "user1@example.com")},
		and(nil, eq("externalId", "ext-5")),
		(*scim.AttrExpr)(nil),
	}
}

func TestIndexPushdownMatchesScan(t *testing.T) {
	s := memstore.New()
	us := pushdownUsers(t, s)
	checkPushdown(t, s, userFilters(us))

	// Rename, change externalId and emails, delete; the indexes must follow.
	up := us[7].Clone()
	up.UserName = "Renamed@example.com"
	up.ExternalID = "ext-3"
	up.Emails = []scim.MultiValue{{Value: "SHARED2@EXAMPLE.ORG", Type: "work"}}
	if _, err := s.ReplaceUser(t.Context(), up); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(t.Context(), us[9].ID, func(u *scim.User) error {
		u.UserName = "user7@example.com" // the name us[7] gave up
		u.ExternalID = ""
		u.Emails = nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 3, 4, 11} {
		if err := s.DeleteUser(t.Context(), us[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateUser(t.Context(), &scim.User{UserName: "user1@example.com", ExternalID: "ext-1", Active: true}); err != nil {
		t.Fatalf("re-create a deleted userName: %v", err)
	}
	// An update that keeps every indexed value leaves the indexes as they
	// are (commitUser skips them); one that changes only an email's case
	// does not.
	for i, change := range []func(u *scim.User){
		func(u *scim.User) { u.Title, u.Active = "changed", !u.Active },
		func(u *scim.User) {
			for j := range u.Emails {
				u.Emails[j].Value = strings.ToLower(u.Emails[j].Value)
			}
		},
	} {
		if _, err := s.UpdateUser(t.Context(), us[5+i].ID, func(u *scim.User) error { change(u); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	checkPushdown(t, s, userFilters(us))
	// The old name no longer finds the renamed user.
	page, err := s.ListUsers(t.Context(), scim.Query{Filter: eq("userName", "User9@Example.com"), StartIndex: 1, Count: 10})
	if err != nil || page.TotalResults != 0 {
		t.Errorf("userName eq the old name after a rename: %d results, %v", page.TotalResults, err)
	}
}

// TestManyDeletes runs enough deletes to compact the creation-order lists
// and a group's member slots, and checks order and membership after it.
func TestManyDeletes(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	var ids []string
	for i := range 300 {
		u, err := s.CreateUser(ctx, &scim.User{UserName: "u" + strconv.Itoa(i), Active: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	var members []scim.Member
	for _, id := range ids {
		members = append(members, scim.Member{Value: id})
	}
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "All", Members: members})
	if err != nil {
		t.Fatal(err)
	}
	var wantUsers, wantMembers []string
	for i, id := range ids {
		if i%5 != 0 {
			if err := s.DeleteUser(ctx, id); err != nil {
				t.Fatal(err)
			}
			continue
		}
		wantUsers = append(wantUsers, "u"+strconv.Itoa(i))
		wantMembers = append(wantMembers, id)
	}
	page, err := s.ListUsers(ctx, all())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantUsers, userNames(page.Resources)); diff != "" {
		t.Errorf("users after deletes (-want +got):\n%s", diff)
	}
	got, err := s.GetGroup(ctx, g.ID, scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	var gotMembers []string
	for _, m := range got.Members {
		gotMembers = append(gotMembers, m.Value)
	}
	if diff := cmp.Diff(wantMembers, gotMembers); diff != "" {
		t.Errorf("members after deletes, in insertion order (-want +got):\n%s", diff)
	}
	// Membership answers stay right after compaction.
	for i, id := range ids {
		page, err := s.ListGroups(ctx, scim.Query{Filter: and(eq("id", g.ID), eq("members", id)), StartIndex: 1, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		if want := i%5 == 0; (page.TotalResults == 1) != want {
			t.Errorf("member %d: in group = %v, want %v", i, page.TotalResults == 1, want)
		}
	}
}

// ---- groups and memberships ----

func TestMemberOrderAndCaseFolding(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "G", Members: []scim.Member{
		{Value: "c"}, {Value: "a"}, {Value: "B", Display: "first"}, {Value: "b", Display: "duplicate"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []scim.Member{{Value: "c"}, {Value: "a"}, {Value: "B", Display: "first"}}
	if diff := cmp.Diff(want, g.Members); diff != "" {
		t.Errorf("members after create (-want +got):\n%s", diff)
	}
	p, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: "A"}, {Value: "d"}, {Value: "e"}, {Value: "D"}}, Remove: []string{"C", "zzz"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Group.Members != nil {
		t.Errorf("PatchMembers returned members %+v, want nil (O(changed))", p.Group.Members)
	}
	if !cmp.Equal(p.Added, []string{"d", "e"}) || !cmp.Equal(p.Removed, []string{"C"}) {
		t.Errorf("PatchMembers said it added %q and removed %q, want [d e] and [C]", p.Added, p.Removed)
	}
	got, err := s.GetGroup(ctx, g.ID, scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	want = []scim.Member{{Value: "a"}, {Value: "B", Display: "first"}, {Value: "d"}, {Value: "e"}}
	if diff := cmp.Diff(want, got.Members); diff != "" {
		t.Errorf("members after PatchMembers (-want +got):\n%s", diff)
	}
	for _, f := range []scim.Filter{
		and(eq("id", g.ID), eq("members", "A")),
		and(eq("id", g.ID), eq("members.value", "b")),
		and(eq("id", g.ID), eq(scim.GroupSchema+":members", "E")),
		and(eq("id", g.ID), ne("members", "zzz")),
		and(eq("id", g.ID), not(eq("members", "c"))),
		eq("members", "D"),
	} {
		page, err := s.ListGroups(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 10})
		if err != nil || page.TotalResults != 1 {
			t.Errorf("%v: %d groups, %v; want 1", f, page.TotalResults, err)
		}
	}
	for _, f := range []scim.Filter{
		and(eq("id", g.ID), eq("members", "c")),
		and(eq("id", g.ID), ne("members", "a")),
		and(eq("id", g.ID), eq("members", "")),
		eq("members", "c"),
	} {
		page, err := s.ListGroups(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 10})
		if err != nil || page.TotalResults != 0 {
			t.Errorf("%v: %d groups, %v; want 0", f, page.TotalResults, err)
		}
	}
}

func TestMembershipCleanup(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	u, _ := s.CreateUser(ctx, &scim.User{UserName: "u", Active: true})
	parent, _ := s.CreateGroup(ctx, &scim.Group{DisplayName: "Parent"})
	child, _ := s.CreateGroup(ctx, &scim.Group{DisplayName: "Child", Members: []scim.Member{{Value: u.ID}}})
	if _, err := s.PatchMembers(ctx, parent.ID, scim.MemberPatch{Add: []scim.Member{{Value: u.ID}, {Value: child.ID, Type: "Group"}}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetUser(ctx, u.ID, scim.Projection{})
	want := []scim.GroupRef{
		{Value: parent.ID, Display: "Parent", Type: "direct"},
		{Value: child.ID, Display: "Child", Type: "direct"},
	}
	if diff := cmp.Diff(want, got.Groups); diff != "" {
		t.Errorf("user's groups, in group creation order (-want +got):\n%s", diff)
	}
	// A renamed group shows its new name.
	if _, err := s.UpdateGroup(ctx, child.ID, func(g *scim.Group) error { g.DisplayName = "Kid"; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetUser(ctx, u.ID, scim.Projection{})
	want[1].Display = "Kid"
	if diff := cmp.Diff(want, got.Groups); diff != "" {
		t.Errorf("user's groups after a rename (-want +got):\n%s", diff)
	}
	// Not wanted, not filled.
	got, _ = s.GetUser(ctx, u.ID, scim.Projection{Excluded: []scim.AttrPath{{Name: "groups"}}})
	if got.Groups != nil {
		t.Errorf("groups excluded, got %+v", got.Groups)
	}
	// Deleting the child group removes it from its parent and bumps the parent.
	before, _ := s.GetGroup(ctx, parent.ID, scim.Projection{})
	if err := s.DeleteGroup(ctx, child.ID); err != nil {
		t.Fatal(err)
	}
	after, _ := s.GetGroup(ctx, parent.ID, scim.Projection{})
	if diff := cmp.Diff([]scim.Member{{Value: u.ID}}, after.Members); diff != "" {
		t.Errorf("parent's members after deleting the child group (-want +got):\n%s", diff)
	}
	if after.Meta.Version == before.Meta.Version || !after.Meta.LastModified.After(before.Meta.LastModified) {
		t.Errorf("parent's meta did not change: %+v → %+v", before.Meta, after.Meta)
	}
	got, _ = s.GetUser(ctx, u.ID, scim.Projection{})
	if diff := cmp.Diff(want[:1], got.Groups); diff != "" {
		t.Errorf("user's groups after deleting the child group (-want +got):\n%s", diff)
	}
	// Filters on groups see the filled Groups.
	page, err := s.ListUsers(ctx, scim.Query{Filter: eq("groups", parent.ID), StartIndex: 1, Count: 10})
	if err != nil || page.TotalResults != 1 {
		t.Errorf("groups eq <parent>: %d users, %v; want 1", page.TotalResults, err)
	}
	page, err = s.ListUsers(ctx, scim.Query{Filter: eq("groups", child.ID), StartIndex: 1, Count: 10})
	if err != nil || page.TotalResults != 0 {
		t.Errorf("groups eq <deleted child>: %d users, %v; want 0", page.TotalResults, err)
	}
}

func TestNoOpPatchKeepsVersion(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	g, _ := s.CreateGroup(ctx, &scim.Group{DisplayName: "G", Members: []scim.Member{{Value: "m"}}})
	p, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Version: g.Meta.Version, Add: []scim.Member{{Value: "M"}}, Remove: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Group.Meta != g.Meta {
		t.Errorf("a PatchMembers that changed nothing changed meta: %+v → %+v", g.Meta, p.Group.Meta)
	}
}

func TestClockAndVersions(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	s := memstore.New(memstore.WithClock(func() time.Time { return t0 }))
	ctx := t.Context()
	u, _ := s.CreateUser(ctx, &scim.User{UserName: "u", Active: true})
	wantCreated := t0.UTC().Truncate(time.Millisecond)
	if !u.Meta.Created.Equal(wantCreated) || u.Meta.Created.Location() != time.UTC || u.Meta.Created != u.Meta.LastModified {
		t.Errorf("Created %v LastModified %v, want both %v in UTC", u.Meta.Created, u.Meta.LastModified, wantCreated)
	}
	prev := u
	for i := range 3 {
		next, err := s.ReplaceUser(ctx, prev)
		if err != nil {
			t.Fatal(err)
		}
		if !next.Meta.LastModified.After(prev.Meta.LastModified) || next.Meta.Version == prev.Meta.Version || !next.Meta.Created.Equal(wantCreated) {
			t.Errorf("write %d with a stopped clock: %+v after %+v; want a later LastModified and a new Version", i, next.Meta, prev.Meta)
		}
		prev = next
	}
}

func TestIDs(t *testing.T) {
	s := memstore.New()
	seen := map[string]bool{}
	for i := range 100 {
		u, err := s.CreateUser(t.Context(), &scim.User{UserName: strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		id := u.ID
		if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[14] != '4' || id[18] != '-' || !strings.ContainsRune("89ab", rune(id[19])) || id[23] != '-' {
			t.Errorf("ID %q is not a UUIDv4", id)
		}
		if seen[id] {
			t.Errorf("ID %q assigned twice", id)
		}
		seen[id] = true
	}
}

func TestEmptyNamesDoNotConflict(t *testing.T) {
	s := memstore.New()
	for range 2 {
		if _, err := s.CreateUser(t.Context(), &scim.User{}); err != nil {
			t.Errorf("CreateUser without a userName: %v", err)
		}
		if _, err := s.CreateGroup(t.Context(), &scim.Group{}); err != nil {
			t.Errorf("CreateGroup without a displayName: %v", err)
		}
	}
}

func TestCaseFoldingUniqueness(t *testing.T) {
	cases := []struct {
		a, b     string
		conflict bool
	}{
		{"alice", "ALICE", true},
		{"ſam", "SAM", true},      // long s folds to s
		{"\u212Aim", "kim", true}, // KELVIN SIGN folds to k
		{"ΣΟΦΙΑ", "σοφια", true},
		{"İpek", "ipek", false}, // dotted capital I folds only to itself
		{"straße", "STRASSE", false},
		{"a\xffb", "a\xfeb", true}, // invalid bytes fold as U+FFFD, as EqualFold decodes them
	}
	for _, tc := range cases {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			if strings.EqualFold(tc.a, tc.b) != tc.conflict {
				t.Fatalf("test case disagrees with strings.EqualFold")
			}
			s := memstore.New()
			if _, err := s.CreateUser(t.Context(), &scim.User{UserName: tc.a}); err != nil {
				t.Fatal(err)
			}
			_, err := s.CreateUser(t.Context(), &scim.User{UserName: tc.b})
			if got := errors.Is(err, scim.ErrConflict); got != tc.conflict {
				t.Errorf("second CreateUser: %v, want conflict %v", err, tc.conflict)
			}
			page, err := s.ListUsers(t.Context(), scim.Query{Filter: eq("userName", tc.b), StartIndex: 1, Count: 10})
			if err != nil {
				t.Fatal(err)
			}
			if want := 1; page.TotalResults != want {
				t.Errorf("userName eq %q: %d users, want %d", tc.b, page.TotalResults, want)
			}
		})
	}
}

func TestSortAndPage(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	names := []string{"delta", "Alpha", "charlie", "Bravo", "echo", "foxtrot"}
	for i, n := range names {
		u := &scim.User{UserName: n, Active: true}
		if i%2 == 0 {
			u.Title = strconv.Itoa(9 - i)
		}
		if _, err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		q    scim.Query
		want []string
	}{
		{"creation order", scim.Query{StartIndex: 1, Count: 10}, names},
		{"userName", scim.Query{SortBy: path("userName"), StartIndex: 1, Count: 10}, []string{"Alpha", "Bravo", "charlie", "delta", "echo", "foxtrot"}},
		{"userName, page 2", scim.Query{SortBy: path("userName"), StartIndex: 3, Count: 2}, []string{"charlie", "delta"}},
		{"title: absent last", scim.Query{SortBy: path("title"), StartIndex: 1, Count: 10}, []string{"echo", "charlie", "delta", "Alpha", "Bravo", "foxtrot"}},
		{"title descending: absent first", scim.Query{SortBy: path("title"), Descending: true, StartIndex: 1, Count: 10}, []string{"Alpha", "Bravo", "foxtrot", "delta", "charlie", "echo"}},
		{"filtered and sorted", scim.Query{Filter: pr("title"), SortBy: path("userName"), Descending: true, StartIndex: 1, Count: 10}, []string{"echo", "delta", "charlie"}},
		{"startIndex 0 is 1", scim.Query{StartIndex: 0, Count: 1}, names[:1]},
		{"negative count", scim.Query{StartIndex: 1, Count: -1}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListUsers(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, userNames(page.Resources)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupListSortAndProjection(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	for _, n := range []string{"b", "C", "a"} {
		if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: n, Members: []scim.Member{{Value: "m-" + n}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		q       scim.Query
		want    []string
		members bool
	}{
		{"creation order", scim.Query{StartIndex: 1, Count: 10}, []string{"b", "C", "a"}, true},
		{"displayName descending, no members", scim.Query{SortBy: path("displayName"), Descending: true, StartIndex: 1, Count: 10, Want: scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}}}, []string{"C", "b", "a"}, false},
		{"members (first value)", scim.Query{SortBy: path("members"), StartIndex: 1, Count: 10}, []string{"a", "b", "C"}, true},
		{"members.value filter", scim.Query{Filter: vp("members", eq("value", "M-C")), StartIndex: 1, Count: 10}, []string{"C"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListGroups(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range page.Resources {
				got = append(got, g.DisplayName)
				if (g.Members != nil) != tc.members {
					t.Errorf("group %s: members %+v, want loaded = %v", g.DisplayName, g.Members, tc.members)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	s := memstore.New()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.CreateUser(ctx, &scim.User{UserName: "u"}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateUser with a cancelled context: %v", err)
	}
	if _, err := s.ListUsers(ctx, all()); !errors.Is(err, context.Canceled) {
		t.Errorf("ListUsers with a cancelled context: %v", err)
	}
}

// TestRandomOperations applies random writes and checks, after each, that
// every index answers as a scan does.
func TestRandomOperations(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []string
	name := func() string {
		return []string{"ann", "Ann", "bob", "BOB", "cy", "dee"}[rng.IntN(6)] + strconv.Itoa(rng.IntN(3))
	}
	for step := range 300 {
		switch op := rng.IntN(4); {
		case op == 0 || len(ids) == 0:
			u, err := s.CreateUser(ctx, &scim.User{UserName: name(), ExternalID: name(), Emails: []scim.MultiValue{{Value: name()}}})
			if err == nil {
				ids = append(ids, u.ID)
			} else if !errors.Is(err, scim.ErrConflict) {
				t.Fatal(err)
			}
		case op == 1:
			id := ids[rng.IntN(len(ids))]
			_, err := s.UpdateUser(ctx, id, func(u *scim.User) error {
				u.UserName, u.ExternalID = name(), name()
				u.Emails = append(u.Emails, scim.MultiValue{Value: name()})
				return nil
			})
			if err != nil && !errors.Is(err, scim.ErrConflict) {
				t.Fatal(err)
			}
		case op == 2:
			i := rng.IntN(len(ids))
			if err := s.DeleteUser(ctx, ids[i]); err != nil {
				t.Fatal(err)
			}
			ids = slices.Delete(ids, i, i+1)
		default:
			continue
		}
		if step%10 == 0 {
			var fs []scim.Filter
			for range 5 {
				fs = append(fs, eq("userName", name()), eq("externalId", name()), eq("emails", name()))
			}
			checkPushdown(t, s, fs)
		}
	}
}

// ---- benchmarks ----

func populate(b *testing.B, n int) *memstore.Store {
	s := memstore.New()
	ctx := context.Background()
	for i := range n {
		id := strconv.Itoa(i)
		_, err := s.CreateUser(ctx, &scim.User{
			UserName:   "user" + id + "@example.com",
			ExternalID: "ext" + id,
			Active:     true,
			Emails:     []scim.MultiValue{{Value: "user" + id + "@example.com", Type: "work", Primary: true}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkListUsersByUserName is Entra ID's per-user matching query,
// `userName eq "..."`, against tenants of 100 and 100,000 users: the index
// makes both cost the same.
func BenchmarkListUsersByUserName(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run("users="+strconv.Itoa(n), func(b *testing.B) {
			s := populate(b, n)
			q := scim.Query{Filter: eq("userName", "USER42@example.com"), StartIndex: 1, Count: 100}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListUsers(ctx, q)
				if err != nil || page.TotalResults != 1 {
					b.Fatalf("%d results, %v", page.TotalResults, err)
				}
			}
		})
	}
}

// BenchmarkListUsersByWorkEmail is Entra ID's email matching query,
// `emails[type eq "work"].value eq "..."`, answered from the email index.
func BenchmarkListUsersByWorkEmail(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run("users="+strconv.Itoa(n), func(b *testing.B) {
			s := populate(b, n)
			q := scim.Query{Filter: vp("emails", and(eq("type", "work"), eq("value", "user42@EXAMPLE.com"))), StartIndex: 1, Count: 100}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListUsers(ctx, q)
				if err != nil || page.TotalResults != 1 {
					b.Fatalf("%d results, %v", page.TotalResults, err)
				}
			}
		})
	}
}

// BenchmarkMembership is Entra ID's membership check and a one-member PATCH
// on groups of 10 and 100,000 members.
func BenchmarkMembership(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		s := memstore.New()
		ctx := context.Background()
		members := make([]scim.Member, n)
		for i := range members {
			members[i] = scim.Member{Value: "member-" + strconv.Itoa(i), Type: "User"}
		}
		g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "G", Members: members})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("check/members="+strconv.Itoa(n), func(b *testing.B) {
			q := scim.Query{Filter: and(eq("id", g.ID), eq("members", "member-7")), StartIndex: 1, Count: 1,
				Want: scim.Projection{Attributes: []scim.AttrPath{{Name: "id"}}}}
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListGroups(ctx, q)
				if err != nil || page.TotalResults != 1 {
					b.Fatalf("%d results, %v", page.TotalResults, err)
				}
			}
		})
		b.Run("patch/members="+strconv.Itoa(n), func(b *testing.B) {
			add := []scim.Member{{Value: "newcomer", Type: "User"}}
			remove := []string{"newcomer"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: add}); err != nil {
					b.Fatal(err)
				}
				if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Remove: remove}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkListUsersScan is a filter no index answers, for scale.
func BenchmarkListUsersScan(b *testing.B) {
	s := populate(b, 100_000)
	q := scim.Query{Filter: eq("emails.type", "home"), StartIndex: 1, Count: 100}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ListUsers(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEntraQueries sends the filters Entra ID sends, as it writes them,
// through the parser, the indexes and the evaluator.
func TestEntraQueries(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	mgr, _ := s.CreateUser(ctx, &scim.User{UserName: "boss@contoso.com", Active: true})
	u, err := s.CreateUser(ctx, &scim.User{
		UserName: "Test_User_7f4bc1a3@contoso.com", ExternalID: "johnwong", Active: false,
		Emails:     []scim.MultiValue{{Value: "John.Wong@contoso.com", Type: "work"}},
		Enterprise: &scim.EnterpriseUser{Manager: &scim.Manager{Value: mgr.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := s.CreateGroup(ctx, &scim.Group{DisplayName: "Sales EMEA", Members: []scim.Member{{Value: u.ID}}})
	users := []struct {
		filter string
		want   int
	}{
		{`userName eq "test_user_7F4BC1A3@contoso.com"`, 1},
		{`userName eq "` + "4a0a6a4e-7f63-4a8e-9a59-0d6f1b6b1e1e" + `"`, 0},
		{`externalId eq "johnwong"`, 1},
		{`emails[type eq "work"].value eq "john.wong@contoso.com"`, 1},
		{`emails[type eq "home"].value eq "john.wong@contoso.com"`, 0},
		{`id eq "` + u.ID + `" and manager eq "` + mgr.ID + `"`, 1},
		{`id eq "` + u.ID + `" and manager eq "someone-else"`, 0},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "` + mgr.ID + `"`, 1},
		{`USERNAME Eq "Test_User_7f4bc1a3@contoso.com"`, 1},
	}
	for _, tc := range users {
		f, err := scim.ParseFilter(tc.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%s): %v", tc.filter, err)
		}
		page, err := s.ListUsers(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 100})
		if err != nil || page.TotalResults != tc.want {
			t.Errorf("%s: %d users, %v; want %d", tc.filter, page.TotalResults, err, tc.want)
		}
	}
	groups := []struct {
		filter string
		want   int
	}{
		{`displayName eq "sales emea"`, 1},
		{`id eq "` + g.ID + `" and members eq "` + u.ID + `"`, 1},
		{`id eq "` + g.ID + `" and members eq "` + mgr.ID + `"`, 0},
		{`members[value eq "` + u.ID + `"]`, 1},
	}
	for _, tc := range groups {
		f, err := scim.ParseFilter(tc.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%s): %v", tc.filter, err)
		}
		page, err := s.ListGroups(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 100, Want: scim.Projection{Excluded: []scim.AttrPath{{Name: "members"}}}})
		if err != nil || page.TotalResults != tc.want {
			t.Errorf("%s: %d groups, %v; want %d", tc.filter, page.TotalResults, err, tc.want)
		}
		for _, g := range page.Resources {
			if g.Members != nil {
				t.Errorf("%s with excludedAttributes=members returned members", tc.filter)
			}
		}
	}
}

// FuzzUserNameIndexAgreesWithFilter: a list filtered by `userName eq`
// answers from the userName index alone, without evaluating the filter on
// the user it finds, which is right only while the index's keys are equal
// exactly when the evaluator's eq says the strings are. The seeds are the
// runes where a fold differs from lower-casing: KELVIN SIGN and LONG S fold
// with k and s, 'ß' and dotted 'İ' fold with nothing (an index keyed by
// full case folding or by strings.ToLower would disagree on one of them),
// and invalid UTF-8.
func FuzzUserNameIndexAgreesWithFilter(f *testing.F) {
	for _, seed := range [][2]string{
		{"\u212Aelvin", "kelvin"}, {"kelvin", "\u212AELVIN"}, {"ſam", "SAM"}, {"Sam", "ſam"},
		{"straße", "STRASSE"}, {"strasse", "STRAßE"}, {"ß", "ẞ"}, {"İstanbul", "istanbul"}, {"ı", "I"},
		{"ǅ", "ǆ"}, {"Ω", "\u2126"}, {"a\xffb", "A\uFFFDB"}, {"ada@contoso.com", "ADA@Contoso.COM"}, {"x", "y"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, stored, asked string) {
		s := memstore.New()
		u, err := s.CreateUser(t.Context(), &scim.User{UserName: stored})
		if err != nil {
			t.Skip(err)
		}
		filter := eq("userName", asked)
		want := scim.MatchUser(filter, u)
		for _, q := range []scim.Query{
			{Filter: filter, StartIndex: 1, Count: 10},
			{Filter: filter, StartIndex: 1, Count: 10, Want: scim.Projection{Attributes: []scim.AttrPath{path("userName")}}},
		} {
			page, err := s.ListUsersShared(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if got := page.TotalResults == 1 && len(page.Resources) == 1 && page.Resources[0].ID == u.ID; got != want || page.TotalResults > 1 {
				t.Errorf("userName %q, filter userName eq %q: the list finds %d users, MatchUser says %v", stored, asked, page.TotalResults, want)
			}
		}
	})
}

// TestCachedReadsAreTheTwoCalls: GetUserCached and ListUsersCached return
// what GetUserShared and ListUsersShared return, each user with the cache
// UserEncodingCache gives for it, for a user in a group and one in none,
// a page of one, of several, and sorted.
func TestCachedReadsAreTheTwoCalls(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	var ids []string
	for i := range 3 {
		u, err := s.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("u%d@example.com", i), DisplayName: fmt.Sprint(2 - i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if _, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "g", Members: []scim.Member{{Value: ids[1]}}}); err != nil {
		t.Fatal(err)
	}
	same := func(what string, got scim.Cached[*scim.User], u *scim.User) {
		t.Helper()
		// A copy made for the read (a sorted page's user in a group) is
		// equal, not the same, and has no cache.
		if got.Value != u && (got.Cache != nil || !cmp.Equal(got.Value, u)) || got.Cache != s.UserEncodingCache(ctx, u) {
			t.Errorf("%s: %p with cache %p, want %p with %p", what, got.Value, got.Cache, u, s.UserEncodingCache(ctx, u))
		}
	}
	for _, id := range ids {
		got, err := s.GetUserCached(ctx, id)
		u, err2 := s.GetUserShared(ctx, id, scim.Projection{})
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		same("GetUserCached "+id, got, u)
		if got.Cache == nil {
			t.Errorf("GetUserCached %s: no cache", id)
		}
	}
	if _, err := s.GetUserCached(ctx, "missing"); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("GetUserCached of a missing user: %v, want ErrNotFound", err)
	}
	for _, q := range []scim.Query{
		{Filter: eq("userName", "U1@example.com")},
		{Filter: eq("userName", "nobody")},
		{Filter: pr("userName")},
		{Filter: pr("userName"), StartIndex: 2},
		{},
		{SortBy: path("displayName")},
		{Filter: pr("userName"), Want: scim.Projection{Excluded: []scim.AttrPath{path("groups")}}},
	} {
		q.StartIndex, q.Count = max(q.StartIndex, 1), 10
		got, err := s.ListUsersCached(ctx, q)
		want, err2 := s.ListUsersShared(ctx, q)
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		if got.TotalResults != want.TotalResults || len(got.Resources) != len(want.Resources) {
			t.Fatalf("%+v: ListUsersCached gives %d of %d users, ListUsersShared %d of %d", q, len(got.Resources), got.TotalResults, len(want.Resources), want.TotalResults)
		}
		for i, u := range want.Resources {
			same(fmt.Sprintf("%+v: user %d", q, i), got.Resources[i], u)
		}
		if len(got.Resources) == 1 && cap(got.Resources) != 1 {
			t.Errorf("%+v: a page of one has room for %d: an append would write into the store", q, cap(got.Resources))
		}
	}
}
