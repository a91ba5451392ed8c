package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/internal/methodset"
)

// An Option changes what [Run] checks.
type Option func(*config)

type config struct {
	declared     bool
	capabilities Capability
	tenants      func(t *testing.T) (a, b Tenant)
	arbitraryIDs bool
	extensions   []scim.Extension
}

// Capability is a part of the Store contract that a store may or may not
// implement. Capabilities combine with |.
type Capability uint

// The capabilities a store declares with [Declare].
const (
	// Groups: the store implements [scim.GroupStore].
	Groups Capability = 1 << iota
	// UserUpdater: the store implements [scim.UserUpdater].
	UserUpdater
	// GroupUpdater: the store implements [scim.GroupUpdater].
	GroupUpdater
	// MemberPatcher: the store implements [scim.MemberPatcher].
	MemberPatcher
	// UserGroups: GetUser and ListUsers fill User.Groups (the read-only
	// "groups" attribute Okta and the Entra ID validator read back).
	UserGroups
	// UserKeysetLister: the store implements [scim.UserKeysetLister], so
	// that RFC 9865 cursor walks over users are exact.
	UserKeysetLister
	// ExtensionDeclarer: the store implements [scim.ExtensionDeclarer], so
	// that it enforces the uniqueness of declared extension attributes.
	ExtensionDeclarer
	// EncodingCache: the store is a [scim.SharedUserReader] and a
	// [scim.UserEncodingCacher] that keeps an encoding cache for the user
	// a shared read has just returned (memstore; sqlstore with its user
	// cache). Undeclared, a store whose UserEncodingCache returns nil
	// there, as the contract allows, skips the cache's checks.
	EncodingCache
)

// capabilityInterfaces are the interfaces behind the capabilities that are
// one.
var capabilityInterfaces = []struct {
	c     Capability
	iface reflect.Type
	name  string
}{
	{Groups, reflect.TypeFor[scim.GroupStore](), "scim.GroupStore"},
	{UserUpdater, reflect.TypeFor[scim.UserUpdater](), "scim.UserUpdater"},
	{GroupUpdater, reflect.TypeFor[scim.GroupUpdater](), "scim.GroupUpdater"},
	{MemberPatcher, reflect.TypeFor[scim.MemberPatcher](), "scim.MemberPatcher"},
	{UserKeysetLister, reflect.TypeFor[scim.UserKeysetLister](), "scim.UserKeysetLister"},
	{ExtensionDeclarer, reflect.TypeFor[scim.ExtensionDeclarer](), "scim.ExtensionDeclarer"},
}

// String names the capabilities in c, joined by "|".
func (c Capability) String() string {
	var names []string
	for i, n := range []string{"Groups", "UserUpdater", "GroupUpdater", "MemberPatcher", "UserGroups", "UserKeysetLister", "ExtensionDeclarer", "EncodingCache"} {
		if c&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := c &^ (1<<8 - 1); rest != 0 {
		names = append(names, "Capability("+strconv.FormatUint(uint64(rest), 10)+")")
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// Declare says what the store is meant to implement. A declared
// capability the store does not implement fails the run, with a message
// naming each missing method or wrong signature, instead of skipping its
// checks; a store that implements a capability it did not declare is
// checked for it all the same. Recommended: a store's tests then fail
// where a slip in a method signature would make the handler quietly serve
// users only, or quietly load whole groups for every membership change.
//
//	storetest.Run(t, newStore, storetest.Declare(storetest.Groups|storetest.MemberPatcher))
func Declare(c Capability) Option {
	return func(cfg *config) { cfg.declared, cfg.capabilities = true, c }
}

// ArbitraryMemberIDs makes the group checks use member ids that are no
// user ("m1", "m2"), for a store that keeps whatever ids it is given. By
// default every member is a user the check created, so that a store whose
// memberships have a foreign key to its users passes.
func ArbitraryMemberIDs() Option {
	return func(cfg *config) { cfg.arbitraryIDs = true }
}

// Tenant is one tenant of a multi-tenant store, as the isolation checks of
// [Tenants] call it.
type Tenant struct {
	// Store is what the kit calls for this tenant: one store that both
	// tenants share and that scopes every call by its context, or a store
	// per tenant over one database (as sqlstore's DB.Tenant returns).
	Store scim.Store
	// Context, when not nil, derives the context of this tenant's calls
	// from the test's context; [InTenant] makes one for a store that scopes
	// by [scim.TenantFrom]. When nil the test's context is used as it is.
	Context func(context.Context) context.Context
}

// InTenant returns a [Tenant.Context] that puts scim.Tenant{ID: id} in the
// context, as [scim.BearerAuth] does for a request.
func InTenant(id string) func(context.Context) context.Context {
	return func(ctx context.Context) context.Context {
		return scim.WithTenant(ctx, scim.Tenant{ID: id})
	}
}

// Tenants adds the tenant isolation checks, a group of subtests named
// "Tenants": newTenants is called once per check, with that check's
// *testing.T, and returns two tenants with nothing stored (of one
// database: the point is that they share it). Each check fills both
// tenants with users and groups whose names and values differ only in the
// tenant's name, some of them equal in both (a userName, an externalId, a
// group's displayName), and proves that nothing of one tenant is visible
// or changeable from the other: gets, replaces, updates, deletes and
// membership changes by the other tenant's ids; lists and every filter the
// kit asks; member display values; User.Groups; deletes cascading into
// groups; and uniqueness, which must be per tenant (a conflict with
// another tenant's userName tells the caller that the other tenant has
// that user). A failure says what leaked.
func Tenants(newTenants func(t *testing.T) (a, b Tenant)) Option {
	return func(cfg *config) { cfg.tenants = newTenants }
}

// mismatch says why s does not implement the interface of capability c,
// or "" when it does.
func mismatch(s scim.Store, c Capability) string {
	for _, ci := range capabilityInterfaces {
		if ci.c != c {
			continue
		}
		typ := reflect.TypeOf(s)
		if typ.Implements(ci.iface) {
			return ""
		}
		return fmt.Sprintf("%s does not implement %s: %s", typ, ci.name, strings.Join(methodset.Mismatches(typ, ci.iface), "; "))
	}
	return ""
}

// partial reports whether s has some, not all, of the methods of c's
// interface.
func partial(s scim.Store, c Capability) bool {
	for _, ci := range capabilityInterfaces {
		if ci.c == c {
			typ := reflect.TypeOf(s)
			return !typ.Implements(ci.iface) && methodset.Partial(typ, ci.iface)
		}
	}
	return false
}

// require skips the check when s lacks a capability it needs, or fails it
// when that capability was declared.
func (c *config) require(t *testing.T, s scim.Store, needs Capability) {
	t.Helper()
	for _, ci := range capabilityInterfaces {
		if needs&ci.c == 0 {
			continue
		}
		msg := mismatch(s, ci.c)
		if msg == "" {
			continue
		}
		if c.declared && c.capabilities&ci.c != 0 {
			t.Fatalf("the store declares %v (storetest.Declare), but %s", ci.c, msg)
		}
		t.Skipf("the store does not implement %s", ci.name)
	}
}

// memberIDs returns n ids to make group members of: users created for the
// check, or with ArbitraryMemberIDs "m1", "m2", ... .
func (c *config) memberIDs(t *testing.T, s scim.Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		if c.arbitraryIDs {
			ids[i] = "m" + strconv.Itoa(i+1)
			continue
		}
		ids[i] = createUser(t, s, &scim.User{UserName: "member" + strconv.Itoa(i+1) + "@example.com", DisplayName: "Member " + strconv.Itoa(i+1), Active: true}).ID
	}
	return ids
}

// testDeclarations fails a store that declared a capability it does not
// implement, and, without a declaration, one that implements part of an
// optional interface: both are slips the handler would not report.
func testDeclarations(t *testing.T, s scim.Store, cfg *config) {
	for _, ci := range capabilityInterfaces {
		msg := mismatch(s, ci.c)
		switch {
		case msg == "":
			t.Logf("implements %s", ci.name)
		case cfg.declared && cfg.capabilities&ci.c != 0:
			t.Errorf("the store declares %v (storetest.Declare), but %s", ci.c, msg)
		case !cfg.declared && partial(s, ci.c):
			t.Errorf("%s; the handler would serve the store without %v. Fix the method, or pass storetest.Declare without %v to say so", msg, ci.c, ci.c)
		case partial(s, ci.c):
			t.Logf("has part of %s but does not declare %v: %s", ci.name, ci.c, msg)
		}
	}
}
