package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// The sentinel errors of the Store contract. A Store returns them, or wraps
// them (fmt.Errorf("%w: ...", ErrConflict)), and the handler tests them with
// errors.Is. Their text never reaches a client: the handler writes its own
// detail. A Store that wants the client to read its own words returns a
// *[Error] instead.
var (
	// ErrNotFound: no resource has that id (in the caller's tenant).
	ErrNotFound = errors.New("scim: resource not found")
	// ErrConflict: the write would break a uniqueness rule (userName, a group's
	// displayName). The handler answers 409 uniqueness. A store that knows
	// which attribute conflicted returns a [*ConflictError], which wraps it.
	ErrConflict = errors.New("scim: uniqueness conflict")
	// ErrVersionMismatch: a replace carried a Meta.Version that is not the
	// stored one. The handler answers 412 when the client sent If-Match, and
	// otherwise retries its read-modify-write.
	ErrVersionMismatch = errors.New("scim: version mismatch")
	// ErrUnsupported: the store cannot evaluate this filter or sort. The
	// handler answers 400 invalidFilter rather than risk a wrong answer; a
	// store must never return a superset of the matches instead.
	ErrUnsupported = errors.New("scim: filter or sort not supported by the store")
)

// UnsupportedError is how a store says which part of a filter or sort it
// cannot evaluate, so that the client's 400 invalidFilter names it:
//
//	return scim.Page[*scim.User]{}, &scim.UnsupportedError{Expr: part.String(), Reason: "sub-attributes of addresses are not indexed"}
//
// It matches [ErrUnsupported] with errors.Is. Expr and Reason are sent to
// the client as they are: they must name the request's own filter and the
// store's limits, never internal details such as SQL or table names.
type UnsupportedError struct {
	// Expr is the part of the filter (or the sortBy attribute) the store
	// cannot evaluate, as the client wrote it or in filter syntax; it may be
	// empty when Reason names the part.
	Expr string
	// Reason, when not empty, says why, in words for the client.
	Reason string
}

// Error returns the detail the client reads.
func (e *UnsupportedError) Error() string {
	d := "the server cannot evaluate this filter"
	if e.Expr != "" {
		d = fmt.Sprintf("the server cannot evaluate %q in this filter", e.Expr)
	}
	if e.Reason != "" {
		d += ": " + e.Reason
	}
	return d
}

// Is reports whether target is ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Store is what a host implements over its own database: users, and
// optionally groups (implement [GroupStore] on the same value). A host that
// provisions users only still gets a complete endpoint; see [NewHandler].
//
// The optional interfaces are found by type assertion, so a method with a
// slightly wrong signature silently turns its capability off. Assert every
// interface the store means to implement at compile time,
//
//	var (
//		_ scim.Store         = (*myStore)(nil)
//		_ scim.GroupStore    = (*myStore)(nil)
//		_ scim.MemberPatcher = (*myStore)(nil)
//	)
//
// and declare them to package storetest (storetest.Declare); NewHandler
// logs what it found, and Options.RequireGroups makes a missing GroupStore
// an error.
//
// Declared extensions ([Options.Extensions]) reach a store in two ways: the
// paths of Query.Filter and Query.SortBy that name their attributes carry
// the declaration ([AttrPath].Declared), which [MatchUser] and [SortUsers]
// follow; and a store that implements [ExtensionDeclarer] is told the
// declarations by NewHandler, and enforces the uniqueness they declare.
//
// Every method must be safe for concurrent use. The context carries the
// request's context, including the tenant set by [BearerAuth]: a multi-tenant
// store scopes every method to it ([TenantFrom]), so that another tenant's
// id is ErrNotFound, its userNames and displayNames are free (a conflict
// would tell one tenant what another has), and nothing of it shows through
// a list, a filter, a member's display value or a user's groups.
// storetest.Tenants checks all of that.
//
// # Filters a store must answer
//
// ListUsers and ListGroups receive the parsed filter. A store answers the
// ones below exactly, because clients send them on every provisioning
// cycle and a refusal (ErrUnsupported, a 400) stops provisioning; it may
// refuse any other with ErrUnsupported, and [MatchUser] evaluates any
// filter in memory for a store that loads candidates first:
//
//   - userName eq: Entra ID's default matching attribute and the query of
//     its Test connection; Okta's lookup before every create.
//   - externalId eq (case-exact): Entra ID when an admin matches on it.
//   - emails[type eq "work" and value eq ...] (Entra writes it
//     emails[type eq "work"].value eq ...): Entra ID when an admin
//     matches on the work email.
//   - id eq: reads by id in a filter, alone or combined.
//   - displayName eq on groups: Entra ID's group matching, sent with
//     excludedAttributes=members.
//   - id eq G and members eq U on groups: Entra ID's membership check.
//   - pr, and, or over the above: RFC 7644 §3.4.2.2 defines them for every
//     service provider.
//
// docs/clients.md#filters has the sources.
type Store interface {
	UserStore
}

// UserStore stores users.
//
// A Store owns ID and Meta: it assigns ID on create, sets Meta.Created once
// and Meta.LastModified and Meta.Version on every write, and returns the
// stored user. Users handed to a Store are the caller's: copy them before
// keeping them, and return values the caller may modify.
type UserStore interface {
	// CreateUser stores a new user. It returns ErrConflict when another user
	// has the same userName, compared case-insensitively.
	CreateUser(ctx context.Context, u *User) (*User, error)
	// GetUser returns the user with this id, or ErrNotFound. want says which
	// attributes the client will see; a store may skip loading others
	// (returning more is always allowed).
	GetUser(ctx context.Context, id string, want Projection) (*User, error)
	// ReplaceUser replaces the stored user u.ID with u (every attribute but
	// ID and Meta.Created). It returns ErrNotFound for an unknown id,
	// ErrConflict as CreateUser does, and ErrVersionMismatch when
	// u.Meta.Version is not empty and is not the stored version.
	ReplaceUser(ctx context.Context, u *User) (*User, error)
	// DeleteUser deletes the user and removes it from every group. It
	// returns ErrNotFound for an unknown id.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns the users that match q.Filter, sorted and paged as q
	// says, with the total number of matches. It returns ErrUnsupported for a
	// filter or sort it cannot evaluate exactly.
	ListUsers(ctx context.Context, q Query) (Page[*User], error)
}

// GroupStore stores groups. Its contract mirrors [UserStore]: the store owns
// ID and Meta, group displayNames are unique (ErrConflict) in the stores of
// this module, and a stale Meta.Version is ErrVersionMismatch.
//
// A member's Value is a user id (or, for nested groups, a group id); the
// store keeps the ids it is given and need not check them.
type GroupStore interface {
	CreateGroup(ctx context.Context, g *Group) (*Group, error)
	// GetGroup returns the group with this id, or ErrNotFound. When
	// want.Wants("members") is false the store should not load the members:
	// Entra ID reads groups with excludedAttributes=members, and groups can
	// be large.
	GetGroup(ctx context.Context, id string, want Projection) (*Group, error)
	ReplaceGroup(ctx context.Context, g *Group) (*Group, error)
	DeleteGroup(ctx context.Context, id string) error
	ListGroups(ctx context.Context, q Query) (Page[*Group], error)
}

// UserUpdater is an optional capability of a [UserStore]: an atomic
// read-modify-write. UpdateUser loads user id, calls update on a copy, and
// stores the result as one atomic step (a row lock, a transaction, a mutex);
// if update returns an error, nothing is stored and that error is returned.
// It returns ErrNotFound for an unknown id and ErrConflict as ReplaceUser.
//
// For a PATCH costing at most 1,000 (in Options.MaxPatchCost's units; Entra
// ID's cost tens), when the host has no UserPolicies, the handler makes no
// read of its own: its update function checks If-Match against the version
// it is given, applies the operations, which takes microseconds, and checks
// the result, so that the PATCH is one store call. Otherwise (a PUT; a host
// with UserPolicies; a costlier PATCH, or one whose result introduces an
// email address while AllowDomain is set, for which the first update
// function returns an error without a change) the handler reads with
// GetUser, computes the change and runs the host's policies first, outside
// the store's lock (a policy may query the store); its update function then
// only swaps in the result, after checking that the version is still the
// one it read. The update function never calls the store, unless the store
// allows it ([ReentrantReader]).
//
// A store may call update more than once, each time on a fresh copy of the
// stored user, and store the result of the last call only: sqlstore reads
// without a lock first and, when another write came in between, calls
// update again under its row lock. The handler's update functions allow it.
//
// Without it the handler writes with ReplaceUser carrying the version it
// read, retrying on ErrVersionMismatch: just as correct, one store call
// fewer, but an update from another process costs a retry.
type UserUpdater interface {
	UpdateUser(ctx context.Context, id string, update func(*User) error) (*User, error)
}

// SharedUserReader is an optional capability of a [UserStore]: reads that
// return the store's own users instead of copies. The Store contract's
// rule that a read returns values the caller may modify costs a deep copy
// of every user read, which is most of the work of a GET or a list on an
// in-memory store; a store whose stored users never change once handed out
// (it stores a new value on every write, as memstore does) can skip it.
//
// The handler uses these methods for reads it only encodes (GET, lists)
// and for the state a PUT or PATCH starts from, which it copies before
// changing; it never modifies what they return, and neither may any other
// caller. The users must stay unchanged for as long as a caller holds
// them, with no lock held: a store that updates users in place must not
// implement this. Errors are those of GetUser and ListUsers. A type that
// embeds such a store (memstore) and overrides GetUser or ListUsers must
// override these two as well, or the handler's reads go past its override.
type SharedUserReader interface {
	// GetUserShared is GetUser returning the stored user itself.
	GetUserShared(ctx context.Context, id string, want Projection) (*User, error)
	// ListUsersShared is ListUsers returning the stored users themselves.
	ListUsersShared(ctx context.Context, q Query) (Page[*User], error)
}

// UserEncodingCacher is an optional capability of a [SharedUserReader]:
// a place beside a stored user (each, or those the store has room for)
// where the handler keeps that user as it encodes it, so that a read of
// an unchanged user copies bytes instead of encoding again. Encoding is
// most of what a GET by id or a one-user list (Entra ID's match by
// userName) costs over an in-memory store.
//
// UserEncodingCache returns the cache of u when u is what GetUserShared or
// ListUsersShared just returned for the default projection (a
// [Projection] without attributes or excludedAttributes), or what
// UpdateUserShared ([SharedUserUpdater]) just returned, and is still the
// stored user with its current Groups; otherwise, and for a u of its
// caller's own, it returns nil. (The handler asks about a PATCH's result
// too, and encodes its answer, the default projection, into that cache,
// so that the read which follows finds it.) It may return nil for any
// user, as a store bounding the memory its caches take does (sqlstore
// keeps them only in its user cache); what it must never return is a cache of bytes
// the user no longer has. The store must hand out a new cache (or
// nil) once anything the user's representation shows changes: a write of
// the user, and any change of its Groups — a membership added or removed,
// a group renamed or deleted — even though the user's own Meta stays.
// The simplest way to keep that rule is memstore's: a cache belongs to one
// immutable *User value, found by pointer identity, and a new value is
// made whenever the user or its groups change. Because it is asked about
// the very user the shared read returned, a type that embeds such a store
// and overrides GetUserShared or ListUsersShared to return users of its
// own gets nil here and no cached bytes.
//
// The handler keeps one encoding per cache: what the Handler's
// configuration (its extensions) and the request's base URL (meta.location)
// make of the default projection; it answers any other projection, and a
// request to another Handler or under another base URL, by encoding, and
// that encoding replaces the one kept. It keeps none larger than 64 KiB.
// The memory is the store's to bound: an encoded user is about as large as
// the stored one.
type UserEncodingCacher interface {
	UserEncodingCache(ctx context.Context, u *User) *EncodingCache
}

// CachedUserReader is an optional capability of a [UserEncodingCacher]:
// its shared reads with each user's [EncodingCache] found in the same
// step. Read the other way — GetUserShared or ListUsersShared, then
// UserEncodingCache for each user — a GET or a one-user list looks the
// user up twice and takes the store's lock twice; for a list over a large
// in-memory store, the second lookup (by id, after the userName index)
// walks memory the processor's caches may no longer hold.
//
// GetUserCached is GetUserShared for the default projection (a
// [Projection] without attributes or excludedAttributes), with the cache
// UserEncodingCache gives for the user it returns. ListUsersCached is
// ListUsersShared, with the cache UserEncodingCache gives for each user of
// the page (nil where it gives nil). The page's Resources slice, like the
// users, must not be modified: it may be the store's own.
//
// The handler uses these methods only when CachedUserReader returns the
// store it was given, compared as an interface value. A type that embeds
// such a store (memstore) and overrides some of its reads inherits the
// embedded store's CachedUserReader, which returns the embedded store and
// not the type, so the handler reads through the type's own
// GetUserShared, ListUsersShared and UserEncodingCache, two calls, and
// never serves bytes that go past an override. A type that wants the one
// call implements all three methods of its own, CachedUserReader
// returning the type's value (a pointer, comparable).
type CachedUserReader interface {
	CachedUserReader() CachedUserReader
	GetUserCached(ctx context.Context, id string) (Cached[*User], error)
	ListUsersCached(ctx context.Context, q Query) (Page[Cached[*User]], error)
}

// Cached is a resource a shared read returned with the cache of its
// encoding (see [CachedUserReader]); Cache is nil when there is none.
type Cached[T any] struct {
	Value T
	Cache *EncodingCache
}

// EncodingCache is one stored user's encoded form, as a Handler keeps it
// for a [UserEncodingCacher]. The zero value is empty and ready to use; it
// is safe for concurrent use, and must not be copied once used. A store
// only allocates it (beside the user it belongs to) and drops it when that
// user's representation changes: the handler alone reads and fills it.
type EncodingCache struct {
	p atomic.Pointer[cachedEncoding]
}

// cachedEncoding is what an EncodingCache holds: body is the default
// projection of the user as the Handler whose encodingOwner owner is
// encodes it under base.
type cachedEncoding struct {
	owner *encodingOwner
	base  string
	body  []byte
	// etag is the user's ETag header value ("" for no version), length
	// len(body) as a Content-Length value, and pageLength that of a
	// ListResponse of this user alone from startIndex 1 (Entra ID's match),
	// whose size is pageLen: made once with the encoding, so that a read
	// from the cache builds no header value.
	etag, length, pageLength string
	pageLen                  int
}

// encodingOwner identifies one Handler in the encodings it caches: a
// token of its own rather than the Handler, so that a cached encoding
// does not keep a Handler that is no longer used (and all it holds) alive.
// It is not zero-sized, so that no two tokens share an address.
type encodingOwner struct{ _ byte }

// SharedUserUpdater is an optional capability of a store that is a
// [UserUpdater] and a [SharedUserReader]: UpdateUser without its copies.
// UpdateUser hands update a copy of the stored user and stores a copy of
// the result, so that neither the caller nor the store holds a value the
// other may change; a store whose stored users never change (see
// SharedUserReader) can let the caller copy once instead.
//
// UpdateUserShared loads user id and calls update with the stored user
// itself (Groups filled as GetUserShared fills them), which update must not
// modify. update returns the user's new state, a value of its own (a copy
// it made and changed, or one it computed before), which the store then
// keeps without copying: neither update nor its caller may modify it or
// keep it once update has returned. If update returns an error, nothing is
// stored and that error is returned. The store sets ID, Meta and Groups of
// what it keeps as UpdateUser does, and returns the stored user itself,
// which the caller must not modify. The atomic step, the errors and the
// rule that update never calls the store are UpdateUser's.
//
// The handler uses it instead of UpdateUser when the store has both, so a
// type that embeds such a store (memstore) and overrides UpdateUser must
// override UpdateUserShared as well.
type SharedUserUpdater interface {
	UpdateUserShared(ctx context.Context, id string, update func(stored *User) (*User, error)) (*User, error)
}

// GroupUpdater is the [UserUpdater] capability for groups. update receives
// the group with its members. A PATCH runs inside it as for users when the
// host has no GroupPolicies.
type GroupUpdater interface {
	UpdateGroup(ctx context.Context, id string, update func(*Group) error) (*Group, error)
}

// ReentrantReader is an optional capability of a store with [UserUpdater]
// or [GroupUpdater]: ReentrantReads reports whether the update function of
// UpdateUser and UpdateGroup may call the store's reads (GetUser, ListUsers
// and the like) without waiting for the update to end. The rule that update
// never calls the store is then relaxed for reads, for one case:
//
// The handler's read-modify-write (see UserUpdater) reads outside the
// store's lock and stores its result only if the version is still the one
// it read. Against writers that never read first (another process's PATCH
// running inside its store's lock), a slow read can lose that race for as
// long as they keep writing. After 8 lost races the handler therefore
// computes the change and runs the host's checks (UserPolicies,
// GroupPolicies, AllowDomain) inside the update function, on the stored
// resource, where no other writer can come in between; a check may query
// the store, so it does this only when ReentrantReads is true. It runs one
// such update at a time per Handler, so that updates waiting for the reads
// of their checks cannot hold every connection of a pool. Without the
// capability it keeps retrying. A host's checks that write to the store's
// database would then wait for the update's lock: they should only read.
//
// sqlstore reads on other connections of its pool than the update's, and
// answers true unless the pool allows one connection only or an SQLite
// database is not in WAL mode. memstore holds one lock for its reads and
// writes and does not implement it.
type ReentrantReader interface {
	ReentrantReads() bool
}

// MemberPatcher is an optional capability of a [GroupStore]: change a group's
// membership in time proportional to the members changed, not to the size of
// the group. The handler uses it for a PATCH whose operations only add
// members and remove members by id, which is every membership change Entra ID
// sends.
//
// PatchMembers adds each of p.Add that is not a member yet and removes each
// id in p.Remove that is one, as one atomic step, and when that changed
// anything updates Meta.LastModified and Meta.Version. Adding a member twice
// or removing a non-member is not an error (clients replay operations), and
// the result says what really changed, so that a replay raises no change
// event. It returns ErrNotFound for an unknown group, and ErrVersionMismatch
// when p.Version is not empty and is not the stored version.
//
// Without it the handler applies membership changes through
// [GroupUpdater] or GetGroup/ReplaceGroup, which load every member.
type MemberPatcher interface {
	PatchMembers(ctx context.Context, groupID string, p MemberPatch) (MemberPatchResult, error)
}

// MemberPatch is a change of a group's membership.
type MemberPatch struct {
	// Version, when not empty, must be the group's stored Meta.Version.
	Version string
	// Add are members to add; Remove are member ids to remove. Adds apply
	// before removes, so an id in both ends up removed.
	Add    []Member
	Remove []string
}

// MemberPatchResult is what PatchMembers did.
type MemberPatchResult struct {
	// Group is the group after the change, without its members (Members
	// nil): loading them would cost O(group size).
	Group *Group
	// Added and Removed are the member ids whose membership really changed,
	// in the order given.
	Added, Removed []string
}

// Query is a list request as the handler hands it to a store.
type Query struct {
	// Filter selects resources; nil selects all.
	Filter Filter
	// StartIndex is the 1-based index of the first result to return (RFC 7644
	// §3.4.2.4); the handler makes it at least 1.
	StartIndex int
	// Count is the largest number of resources to return; the handler makes it
	// at least 0 and at most its page-size limit. Count 0 asks for
	// TotalResults alone.
	Count int
	// SortBy orders the results; a zero SortBy leaves the order to the store,
	// which must still be stable from one page to the next (creation order or
	// id order).
	SortBy AttrPath
	// Descending reverses the order of SortBy.
	Descending bool
	// Want says which attributes the client will see; see [Projection].
	Want Projection
}

// Page is one page of a list result.
type Page[T any] struct {
	// Resources are the results from Query.StartIndex on, at most Query.Count.
	Resources []T
	// TotalResults is the number of resources that match the filter, on all
	// pages.
	TotalResults int
}

// Projection is what a client asked to see with the "attributes" and
// "excludedAttributes" query parameters (RFC 7644 §3.4.2.5). The zero value
// wants every attribute that is returned by default.
type Projection struct {
	// Attributes, when not empty, lists the only attributes to return (besides
	// those always returned, such as id).
	Attributes []AttrPath
	// Excluded lists attributes not to return.
	Excluded []AttrPath
}

// Wants reports whether the client will see any part of the top-level
// attribute name ("members", "emails", "name"; an extension attribute may be
// URN-qualified: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").
// Names compare case-insensitively. A store calls it to skip loading
// attributes nobody will read.
func (p Projection) Wants(name string) bool {
	urn, attr := splitURN(name)
	if strings.EqualFold(attr, "id") {
		return true
	}
	for _, x := range p.Excluded {
		if x.Sub == "" && sameAttr(x, urn, attr) {
			return false
		}
	}
	if len(p.Attributes) == 0 {
		return true
	}
	for _, a := range p.Attributes {
		if sameAttr(a, urn, attr) {
			return true
		}
		// Asking for a whole extension schema wants its attributes. The
		// attribute-path grammar cannot tell a schema URN from a qualified
		// attribute, so "urn:...:enterprise:2.0:User" parses as URN
		// "urn:...:enterprise:2.0" and Name "User".
		if a.Sub == "" && urn != "" && (strings.EqualFold(a.URN+":"+a.Name, urn) || a.URN == "" && strings.EqualFold(a.Name, urn)) {
			return true
		}
	}
	return false
}

// sameAttr reports whether a names the top-level attribute urn:attr; an
// unqualified name on either side matches any schema.
func sameAttr(a AttrPath, urn, attr string) bool {
	if !strings.EqualFold(a.Name, attr) {
		return false
	}
	return a.URN == "" || urn == "" || strings.EqualFold(a.URN, urn)
}

// splitURN splits "urn:...:User:manager" into its schema URN and attribute
// name; a name without a URN comes back as ("", name).
func splitURN(name string) (urn, attr string) {
	if len(name) < 4 || !strings.EqualFold(name[:4], "urn:") {
		return "", name
	}
	i := strings.LastIndexByte(name, ':')
	return name[:i], name[i+1:]
}

// FoldCase returns the key under which SCIM compares strings that are not
// case-exact (userName, emails.value, a group's displayName): two strings
// are equal ignoring case — as strings.EqualFold and the filter evaluator
// decide — exactly when their keys are equal. A Store indexes such
// attributes by it, so that its uniqueness checks and lookups agree with
// MatchUser; memstore and sqlstore do.
//
// Every rune becomes one representative of its simple case-folding orbit:
// ASCII letters lower case, other runes the orbit's smallest member (so
// KELVIN SIGN and 'ſ' fold with 'k' and 's', which strings.ToLower misses).
// Invalid UTF-8 becomes U+FFFD, as EqualFold reads it. An ASCII string
// without upper-case letters is its own key, returned without allocating.
func FoldCase(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			var b strings.Builder
			b.Grow(len(s))
			for _, r := range s {
				b.WriteRune(foldCanon(r))
			}
			return b.String()
		}
	}
	return s
}

// NewID returns a random UUID (version 4) in its canonical lower-case form,
// the id shape Entra ID and most clients expect, for a Store to assign to a
// new resource. It draws 122 random bits from crypto/rand.
func NewID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails since Go 1.24
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// UserKeysetLister is an optional capability of a [UserStore]: list users
// in a stable key order from a position, for RFC 9865 cursor pagination.
// A walk by cursor over a store with it returns every user that exists for
// the whole walk exactly once, however many users are created or deleted
// meanwhile, and every page costs the same, the last as the first: the store
// seeks to the key instead of counting past the users before it.
//
// ListUsersKeyset returns, in key order, up to q.Count users that match
// q.Filter and whose key follows k.Key (or, when k.Backward, precedes it),
// with TotalResults as ListUsers counts them. q.StartIndex, q.SortBy and
// q.Descending are unset: a cursor walks the key order. A key is the
// store's own opaque string, stable for the life of a resource and never
// reused for another (a creation sequence, an auto-increment column); the
// handler never shows it to a client unsealed. A k.Key whose resource has
// since been deleted is still a position. It returns ErrUnsupported as
// ListUsers does.
//
// Without it the handler serves cursors over ListUsers: a cursor then
// carries an index, and a walk is as stable as index paging (a delete
// during the walk can make it skip a user).
type UserKeysetLister interface {
	ListUsersKeyset(ctx context.Context, q Query, k Keyset) (KeysetPage[*User], error)
}

// GroupKeysetLister is the [UserKeysetLister] capability of a [GroupStore].
type GroupKeysetLister interface {
	ListGroupsKeyset(ctx context.Context, q Query, k Keyset) (KeysetPage[*Group], error)
}

// Keyset is the position a keyset page starts from.
type Keyset struct {
	// Key is a key from a previous KeysetPage's First or Last; "" is the
	// start of the order (its end, when Backward).
	Key string
	// Backward asks for the resources just before Key, still returned in
	// key order.
	Backward bool
}

// KeysetPage is one page of a keyset list.
type KeysetPage[T any] struct {
	// Resources are in key order, at most Query.Count of them.
	Resources []T
	// TotalResults is the number of resources that match the filter, on all
	// pages.
	TotalResults int
	// First and Last are the keys of the first and last of Resources; ""
	// when there are none.
	First, Last string
	// More reports whether resources that match lie beyond this page in the
	// direction of travel: after Last, or before First when Backward.
	More bool
}
