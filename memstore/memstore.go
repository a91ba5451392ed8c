// Package memstore is an in-memory [scim.Store]: the reference
// implementation of the Store contract, used by the handler's tests, the
// package Examples and the demo server, and a model for a host writing its
// own Store.
//
// A Store keeps users and groups per tenant, indexed so that the requests
// SCIM clients send on every provisioning cycle cost the same with a
// hundred users as with a hundred thousand:
//
//   - users by id, by userName (case-insensitively), by externalId and by
//     email value (case-insensitively); groups by id, by displayName
//     (case-insensitively) and by externalId;
//   - membership in both directions, so that adding or removing one member,
//     Entra ID's `id eq "<group>" and members eq "<user>"` check, and a
//     user's "groups" cost the same whatever the size of the group.
//
// A list whose filter is, or is an "and" containing, an equality on one of
// those attributes (or an "or" of such filters) takes its candidates from
// the index and evaluates the whole filter on them with [scim.MatchUser] or
// [scim.MatchGroup] — except `userName eq "x"` alone, whose index answer
// is already exact (the index compares as the evaluator does); any other
// filter scans the tenant in creation order.
// Either way the answer is exact: a Store never returns ErrUnsupported.
//
// Its decisions on what the Store contract leaves open:
//
//   - IDs are random UUIDv4 strings from crypto/rand.
//   - Meta.Created and Meta.LastModified are UTC and truncated to the
//     millisecond, which is what a JSON dateTime and most databases keep, so
//     that a time read back equals the time filtered on. LastModified
//     strictly increases with every write of a resource, even within one
//     millisecond.
//   - Meta.Version is a decimal counter shared by the whole Store, so no two
//     writes ever produce the same version. A write that changes nothing (a
//     PatchMembers that adds existing members) keeps the version.
//   - userName and displayName are unique per tenant under Unicode simple
//     case folding, the relation strings.EqualFold and the filter evaluator
//     use (so "ſam" and "SAM" conflict, and "İ" and "i" do not). An empty
//     userName or displayName is not indexed and never conflicts: checking
//     that they are set is the handler's job.
//   - Values of extension attributes declared unique (server or global,
//     see [Store.DeclareExtensions]) are unique per tenant and resource
//     type, indexed and checked under the tenant's lock as userName is.
//   - A member is identified by its Value under the same case folding,
//     because the Group schema makes members.value case-insensitive: adding
//     "ABC" to a group that has "abc" changes nothing. Duplicate members in
//     a create or replace keep the first. Members keep the order they were
//     added in.
//   - User.Groups is filled from the membership index (value = group id,
//     display = the group's current displayName, type = "direct"), in the
//     order the groups were created. Groups sent by a client are ignored.
//     A membership change does not change the user's Meta, as the user's own
//     attributes did not change.
//   - Deleting a user or a group removes it from every group it is a member
//     of; those groups get a new LastModified and Version.
//   - GetGroup and ListGroups return Members nil when the client does not
//     want them, and a non-nil (possibly empty) slice when it does, so that
//     a caller can tell "not loaded" from "no members".
//   - PatchMembers returns the group without its members (Members nil), so
//     that it stays O(members changed); it applies add before remove.
//   - UpdateUser and UpdateGroup call update with the tenant's lock held:
//     update must not call the Store. (The handler computes a PATCH before
//     the call and only swaps in its result, so a costly PATCH holds the
//     lock no longer than a PUT.)
//   - It is a [scim.UserEncodingCacher]: beside each user that a GET or a
//     list with the default projection has read, it keeps the user with
//     its groups and the Handler's encoding of it (one encoding per user,
//     for the last Handler and base URL that read it, none over 64 KiB),
//     so that the next read of the unchanged user copies bytes. It drops
//     both on every write of the user and every change of its groups (a
//     membership added or removed, a group renamed or deleted). A write
//     through UpdateUserShared (the handler's PATCH) makes the new state
//     the kept one at once, so the PATCH's answer is the encoding kept. The cost
//     is memory: a user that has been read takes about twice its size (the
//     encoding is about as large as the stored user), until it changes or
//     is deleted; a user never read, or read only with attributes or
//     excludedAttributes, takes nothing more. As a [scim.CachedUserReader]
//     it finds a user and its encoding under one lock and one lookup; a
//     type embedding the Store gets the two calls instead (see
//     Store.CachedUserReader).
//   - Without [WithTenant], the tenant is the one [scim.TenantFrom] finds in
//     the request's context: a Store behind [scim.BearerAuth] is
//     multi-tenant, and one used without a tenant in the context holds one.
//
// A Store is safe for concurrent use. Each tenant has its own
// sync.RWMutex: a tenant's reads proceed in parallel, its writes are
// serialized, and one tenant's writes never wait for another's. A scan
// (a filter no index answers) checks the request's context as it goes, so a
// request that is cancelled or past its deadline stops holding the read
// lock.
package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimhost/scim"
)

var (
	_ scim.Store         = (*Store)(nil)
	_ scim.GroupStore    = (*Store)(nil)
	_ scim.UserUpdater   = (*Store)(nil)
	_ scim.GroupUpdater  = (*Store)(nil)
	_ scim.MemberPatcher = (*Store)(nil)

	_ scim.SharedUserReader   = (*Store)(nil)
	_ scim.SharedUserUpdater  = (*Store)(nil)
	_ scim.UserEncodingCacher = (*Store)(nil)
	_ scim.CachedUserReader   = (*Store)(nil)
)

// Store is an in-memory, multi-tenant scim.Store with every optional
// capability of the contract. Create one with [New]; the zero value is not
// usable. It is safe for concurrent use.
type Store struct {
	tenantOf func(context.Context) string
	now      func() time.Time

	// tenants maps a key to its *tenant. A sync.Map, read without a lock:
	// a shared lock's counter is a cache line every core writes on every
	// read, and tenants are added rarely and never removed.
	tenants sync.Map
	version atomic.Uint64 // the last Meta.Version handed out
	// declared are the extensions DeclareExtensions was told of; nil
	// before.
	declared atomic.Pointer[declared]
}

// Option configures a Store.
type Option func(*Store)

// WithTenant makes the Store partition its data by the tenant key f
// returns for a request's context: each tenant has its own users, groups
// and indexes, and another tenant's id is ErrNotFound. Without it the key is
// the ID of the [scim.Tenant] that [scim.TenantFrom] finds in the context,
// which is what [scim.BearerAuth] puts there, and "" (one tenant) for a
// context without one. Pass it when the host's own authentication keeps the
// tenant elsewhere; a nil f keeps the default.
func WithTenant(f func(context.Context) string) Option {
	return func(s *Store) {
		if f != nil {
			s.tenantOf = f
		}
	}
}

// WithClock makes the Store read the time from now instead of time.Now,
// for tests and examples that want fixed timestamps.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// New returns an empty Store, partitioned by the tenant of each request's
// context (see [WithTenant]): behind scim.BearerAuth it is multi-tenant, and
// without a tenant in the context it holds one.
func New(opts ...Option) *Store {
	s := &Store{
		tenantOf: tenantFromContext,
		now:      time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// tenantFromContext is the default tenant key: the ID of scim.TenantFrom.
func tenantFromContext(ctx context.Context) string {
	t, _ := scim.TenantFrom(ctx)
	return t.ID
}

// tenant is one tenant's data. Lists keep creation order and are compacted
// when half of them are tombstones.
type tenant struct {
	// mu guards everything below: one tenant's requests never wait for
	// another's.
	mu  sync.RWMutex
	seq uint64 // creation sequence of users and groups

	users      map[string]*userRec   // id →
	userList   []*userRec            // creation order, with tombstones
	userDead   int                   // tombstones in userList
	byUserName map[string]*userRec   // foldKey(userName) →
	byUserExt  map[string][]*userRec // externalId (case-exact) → creation order
	byEmail    map[string][]*userRec // foldKey(email value) → creation order

	groups     map[string]*groupRec   // id →
	groupList  []*groupRec            // creation order, with tombstones
	groupDead  int                    // tombstones in groupList
	byDisplay  map[string]*groupRec   // foldKey(displayName) →
	byGroupExt map[string][]*groupRec // externalId →

	// userUnique and groupUnique index the values of unique extension
	// attributes (see DeclareExtensions).
	userUnique, groupUnique uniqueIndex

	// memberOf maps foldKey(member value) to the groups that have it.
	memberOf map[string]map[*groupRec]struct{}

	// userLive counts the live users in each block of userBlock
	// positions of userList, so that a page of all users finds its first
	// one without walking the users before it.
	userLive []int
}

func newTenant() *tenant {
	return &tenant{
		users:       map[string]*userRec{},
		byUserName:  map[string]*userRec{},
		byUserExt:   map[string][]*userRec{},
		byEmail:     map[string][]*userRec{},
		groups:      map[string]*groupRec{},
		byDisplay:   map[string]*groupRec{},
		byGroupExt:  map[string][]*groupRec{},
		memberOf:    map[string]map[*groupRec]struct{}{},
		userUnique:  uniqueIndex{},
		groupUnique: uniqueIndex{},
	}
}

// userRec is a stored user: u is the Store's own copy, with Groups nil.
type userRec struct {
	u    *scim.User
	seq  uint64
	pos  int // index in tenant.userList
	dead bool
	// unique are u's values of unique extension attributes.
	unique []scim.UniqueValue
	// self holds the record alone: an index lookup returns self[:] as
	// its candidates without allocating.
	self [1]*userRec
	// view is u with its current Groups, as the shared reads of the
	// default projection hand it out, with the handler's cache of its
	// encoding; nil until such a read. Readers make it under the read
	// lock; every change of u or of its groups drops it, under the write
	// lock, so a view never outlives the state it shows.
	view atomic.Pointer[userView]
}

// userView is a user with its groups, immutable, and the cache of its
// encoding (scim.UserEncodingCacher).
type userView struct {
	u     *scim.User
	cache scim.EncodingCache
	// one is u with &cache, as ListUsersCached's page of this user alone
	// hands it out (without allocating a slice) and GetUserCached returns.
	one [1]scim.Cached[*scim.User]
}

// viewOf returns rec's view, making it when there is none. t must be
// locked, for reading at least.
func (t *tenant) viewOf(rec *userRec) *userView {
	if v := rec.view.Load(); v != nil {
		return v
	}
	v := newView(t.userShared(rec.u, true))
	if rec.view.CompareAndSwap(nil, v) {
		return v
	}
	// Another reader made it first, under the same read lock: the same
	// state.
	return rec.view.Load()
}

func newView(u *scim.User) *userView {
	v := &userView{u: u}
	v.one[0] = scim.Cached[*scim.User]{Value: v.u, Cache: &v.cache}
	return v
}

// groupsChanged drops the view of the user whose fold key is k, if k is a
// user's: a membership of it changed, or a group it is in was renamed.
// User IDs are lower-case UUIDs (scim.NewID), their own fold keys.
func (t *tenant) groupsChanged(k string) {
	if rec := t.users[k]; rec != nil {
		rec.view.Store(nil)
	}
}

// groupRec is a stored group: g is the Store's own copy with Members nil;
// the members live in slots, in the order they were added, with tombstones
// so that removing one is O(1).
type groupRec struct {
	g     *scim.Group
	seq   uint64
	dead  bool
	slots []memberSlot
	index map[string]int // foldKey(member value) → slot
	live  int
	// unique are g's values of unique extension attributes.
	unique []scim.UniqueValue
}

type memberSlot struct {
	m    scim.Member
	dead bool
}

// members returns the live members in order; never nil.
func (r *groupRec) members() []scim.Member {
	ms := make([]scim.Member, 0, r.live)
	for _, s := range r.slots {
		if !s.dead {
			ms = append(ms, s.m)
		}
	}
	return ms
}

// noTenant stands for a tenant that has no data yet: it is never written
// (every write to it finds nothing to change), so a read of an unknown
// tenant creates nothing.
var noTenant = newTenant()

// tenant returns the tenant of key, creating it when create is set, and
// noTenant when it has no data and create is false. Tenants are never
// removed, so a caller may lock it once it has it.
func (s *Store) tenant(key string, create bool) *tenant {
	if t, ok := s.tenants.Load(key); ok {
		return t.(*tenant)
	}
	if !create {
		return noTenant
	}
	t, _ := s.tenants.LoadOrStore(key, newTenant())
	return t.(*tenant)
}

// stamp returns the time of a write to a resource last written at prev.
func (s *Store) stamp(prev time.Time) time.Time {
	now := s.now().UTC().Truncate(time.Millisecond)
	if !now.After(prev) && !prev.IsZero() {
		now = prev.Add(time.Millisecond)
	}
	return now
}

func (s *Store) nextVersion() string {
	return strconv.FormatUint(s.version.Add(1), 10)
}

// newID returns a random UUID (scim.NewID) not used by a user or group of t.
func (t *tenant) newID() string {
	for {
		if id := scim.NewID(); t.users[id] == nil && t.groups[id] == nil {
			return id
		}
	}
}

func notFound(kind, id string) error {
	return fmt.Errorf("memstore: %s %q: %w", kind, id, scim.ErrNotFound)
}

func versionMismatch(kind, id, have, stored string) error {
	return fmt.Errorf("memstore: %s %q is at version %q, not %q: %w", kind, id, stored, have, scim.ErrVersionMismatch)
}

// ---- users ----

// CreateUser stores a copy of u with a new ID and Meta. It returns
// ErrConflict when another user of the tenant has the same userName under
// case folding.
func (s *Store) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errors.New("memstore: CreateUser: nil user")
	}
	key := s.tenantOf(ctx)
	c := u.Clone()
	c.Groups = nil
	unique := s.userUniqueValues(c)
	t := s.tenant(key, true)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.checkUserName(c.UserName, nil); err != nil {
		return nil, err
	}
	if err := t.userUnique.check(unique, ""); err != nil {
		return nil, err
	}
	c.ID = t.newID()
	now := s.stamp(time.Time{})
	c.Meta = scim.Meta{Created: now, LastModified: now, Version: s.nextVersion()}
	t.seq++
	rec := &userRec{u: c, seq: t.seq, pos: len(t.userList), unique: unique}
	rec.self[0] = rec
	t.users[c.ID] = rec
	t.userList = append(t.userList, rec)
	t.countLive(rec.pos, 1)
	t.indexUser(rec)
	return t.userOut(rec.u, true), nil
}

// GetUser returns a copy of the user, with Groups filled when want asks for
// them, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t == nil || t.users[id] == nil {
		return nil, notFound("user", id)
	}
	return t.userOut(t.users[id].u, want.Wants("groups")), nil
}

// GetUserShared is GetUser without the copy (see [scim.SharedUserReader]):
// a stored user is never modified, every write stores a new one. The
// caller must not modify it.
func (s *Store) GetUserShared(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := s.tenant(s.tenantOf(ctx), false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	rec := t.users[id]
	if rec == nil {
		return nil, notFound("user", id)
	}
	if want.Wants("groups") {
		return t.viewOf(rec).u, nil
	}
	return rec.u, nil
}

// UserEncodingCache returns the cache of u's encoding when u is the view
// that GetUserShared or ListUsersShared hands out for the user now, as
// what UpdateUserShared returned is until the next change (see
// [scim.UserEncodingCacher]), and nil otherwise. The Store drops a view,
// and its cache with it, on every write of the user and every change of
// its groups (a membership, a group's displayName, a group deleted).
func (s *Store) UserEncodingCache(ctx context.Context, u *scim.User) *scim.EncodingCache {
	if u == nil {
		return nil
	}
	t := s.tenant(s.tenantOf(ctx), false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	return cacheOf(t.users[u.ID], u)
}

// CachedUserReader returns s (see [scim.CachedUserReader]): a type that
// embeds a Store gets this method, which does not return the type, so a
// Handler over it reads through the type's own GetUserShared,
// ListUsersShared and UserEncodingCache.
func (s *Store) CachedUserReader() scim.CachedUserReader { return s }

// GetUserCached is GetUserShared for the default projection with
// UserEncodingCache's answer for the user, under one lock and one lookup.
func (s *Store) GetUserCached(ctx context.Context, id string) (scim.Cached[*scim.User], error) {
	if err := ctx.Err(); err != nil {
		return scim.Cached[*scim.User]{}, err
	}
	t := s.tenant(s.tenantOf(ctx), false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	rec := t.users[id]
	if rec == nil {
		return scim.Cached[*scim.User]{}, notFound("user", id)
	}
	return t.viewOf(rec).one[0], nil
}

// ListUsersCached is ListUsersShared with UserEncodingCache's answer for
// each user, found as the page is made. A page of one user of its view
// is the view's own one-element slice, which the caller must not modify.
func (s *Store) ListUsersCached(ctx context.Context, q scim.Query) (scim.Page[scim.Cached[*scim.User]], error) {
	return listUsers(s, ctx, q, (*tenant).cachedOut)
}

// cachedOut is a user of ListUsersCached's page: sharedOut's, with the
// cache UserEncodingCache gives for it.
func (t *tenant) cachedOut(rec *userRec, u *scim.User, groups bool) scim.Cached[*scim.User] {
	if rec != nil && groups {
		return t.viewOf(rec).one[0]
	}
	u = t.userShared(u, groups)
	if rec == nil {
		rec = t.users[u.ID]
	}
	return scim.Cached[*scim.User]{Value: u, Cache: cacheOf(rec, u)}
}

// cacheOf returns the cache of u when u is rec's view's user, else nil.
func cacheOf(rec *userRec, u *scim.User) *scim.EncodingCache {
	if rec != nil {
		if v := rec.view.Load(); v != nil && v.u == u {
			return &v.cache
		}
	}
	return nil
}

// userShared returns u itself, or when groups is set and u is in a group,
// a shallow copy with Groups filled.
func (t *tenant) userShared(u *scim.User, groups bool) *scim.User {
	if !groups {
		return u
	}
	refs := t.groupRefs(u.ID)
	if refs == nil {
		return u
	}
	v := *u
	v.Groups = refs
	return &v
}

// ReplaceUser replaces the stored user u.ID with a copy of u, keeping ID
// and Meta.Created. It returns ErrNotFound, ErrVersionMismatch when
// u.Meta.Version is set and stale, and ErrConflict for a userName another
// user has; then nothing changes.
func (s *Store) ReplaceUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errors.New("memstore: ReplaceUser: nil user")
	}
	key := s.tenantOf(ctx)
	c := u.Clone()
	t := s.tenant(key, false)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t == nil || t.users[c.ID] == nil {
		return nil, notFound("user", c.ID)
	}
	rec := t.users[c.ID]
	if v := c.Meta.Version; v != "" && v != rec.u.Meta.Version {
		return nil, versionMismatch("user", c.ID, v, rec.u.Meta.Version)
	}
	if err := s.commitUser(t, rec, c); err != nil {
		return nil, err
	}
	return t.userOut(rec.u, true), nil
}

// UpdateUser calls update on a copy of the user (with Groups filled) and
// stores the result atomically, keeping ID and Meta.Created. If update
// returns an error, nothing is stored and the error is returned. It returns
// ErrNotFound for an unknown id and ErrConflict for a userName another user
// has. update runs with the Store locked and must not call the Store.
func (s *Store) UpdateUser(ctx context.Context, id string, update func(*scim.User) error) (*scim.User, error) {
	var work *scim.User
	return s.updateUser(ctx, id, func(stored *scim.User) (*scim.User, error) {
		work = stored.Clone()
		if err := update(work); err != nil {
			return nil, err
		}
		// The caller may still hold work: the Store keeps its own copy.
		return work.Clone(), nil
	}, func(_ *tenant, rec *userRec, groups []scim.GroupRef) *scim.User {
		// work is already a copy of what was stored: the caller gets it
		// rather than another one, with the groups computed for this
		// call, which only the copy above read.
		work.ID, work.Meta, work.Groups = id, rec.u.Meta, groups
		return work
	})
}

// UpdateUserShared is UpdateUser without the copies (see
// [scim.SharedUserUpdater]): update is given the stored user, which it
// must not modify, and returns the new state, which the Store keeps as it
// is; the user returned is the stored one, which the caller must not
// modify.
func (s *Store) UpdateUserShared(ctx context.Context, id string, update func(stored *scim.User) (*scim.User, error)) (*scim.User, error) {
	return s.updateUser(ctx, id, update, func(_ *tenant, rec *userRec, groups []scim.GroupRef) *scim.User {
		u := rec.u
		if groups != nil {
			v := *rec.u
			v.Groups = groups
			u = &v
		}
		// The new state is the user's view at once: UserEncodingCache
		// gives the caller its cache, so the handler's answer to a PATCH
		// is encoded there and the next read finds it.
		rec.view.Store(newView(u))
		return u
	})
}

// updateUser is UpdateUserShared, returning what out makes of the stored
// record and the user's groups, with the tenant still locked (so the
// groups update was given are still the user's).
func (s *Store) updateUser(ctx context.Context, id string, update func(stored *scim.User) (*scim.User, error), out func(*tenant, *userRec, []scim.GroupRef) *scim.User) (*scim.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t == nil || t.users[id] == nil {
		return nil, notFound("user", id)
	}
	rec := t.users[id]
	// The view, when a read made one, is the user with its current
	// groups already: no need to look them up again.
	var stored *scim.User
	if v := rec.view.Load(); v != nil {
		stored = v.u
	} else {
		stored = t.userShared(rec.u, true)
	}
	c, err := update(stored)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("memstore: UpdateUserShared: update returned no user")
	}
	c.ID = id
	if err := s.commitUser(t, rec, c); err != nil {
		return nil, err
	}
	return out(t, rec, stored.Groups), nil
}

// commitUser stores c as the new state of rec, or returns ErrConflict and
// changes nothing.
func (s *Store) commitUser(t *tenant, rec *userRec, c *scim.User) error {
	// An unchanged userName is indexed to rec already.
	if c.UserName != rec.u.UserName {
		if err := t.checkUserName(c.UserName, rec); err != nil {
			return err
		}
	}
	unique := s.userUniqueValues(c)
	if err := t.userUnique.check(unique, rec.u.ID); err != nil {
		return err
	}
	c.Groups = nil
	c.Meta = scim.Meta{
		Created:      rec.u.Meta.Created,
		LastModified: s.stamp(rec.u.Meta.LastModified),
		Version:      s.nextVersion(),
	}
	// Most updates (Entra ID's PATCHes of active, title or a manager) keep
	// every indexed value: the indexes then already point at rec.
	reindex := !sameUserKeys(rec.u, c) || !slices.Equal(rec.unique, unique)
	if reindex {
		t.unindexUser(rec)
	}
	rec.u, rec.unique = c, unique
	rec.view.Store(nil)
	if reindex {
		t.indexUser(rec)
	}
	return nil
}

// sameUserKeys reports whether a and b have the same values for the
// indexes (indexUser): userName, externalId and the email values in the
// same order, each compared as it is, which is stricter than the keys.
func sameUserKeys(a, b *scim.User) bool {
	if a.UserName != b.UserName || a.ExternalID != b.ExternalID || len(a.Emails) != len(b.Emails) {
		return false
	}
	for i := range a.Emails {
		if a.Emails[i].Value != b.Emails[i].Value {
			return false
		}
	}
	return true
}

// DeleteUser deletes the user and removes it from every group, or returns
// ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t == nil || t.users[id] == nil {
		return notFound("user", id)
	}
	rec := t.users[id]
	t.unindexUser(rec)
	delete(t.users, id)
	rec.dead = true
	t.userDead++
	t.countLive(rec.pos, -1)
	if t.userDead > 64 && t.userDead > len(t.userList)/2 {
		t.userList = slices.DeleteFunc(t.userList, func(r *userRec) bool { return r.dead })
		t.userDead = 0
		t.userLive = t.userLive[:0]
		for i, r := range t.userList {
			r.pos = i
			t.countLive(i, 1)
		}
	}
	s.leaveGroups(t, id)
	return nil
}

// leaveGroups removes member id from every group that has it.
func (s *Store) leaveGroups(t *tenant, id string) {
	k := foldKey(id)
	for g := range t.memberOf[k] {
		g.removeSlot(k)
		s.touchGroup(g)
	}
	delete(t.memberOf, k)
}

func (t *tenant) checkUserName(userName string, self *userRec) error {
	if userName == "" {
		return nil
	}
	if other := t.byUserName[foldKey(userName)]; other != nil && other != self {
		return &scim.ConflictError{Attribute: "userName", Value: userName}
	}
	return nil
}

func (t *tenant) indexUser(rec *userRec) {
	u := rec.u
	if u.UserName != "" {
		t.byUserName[foldKey(u.UserName)] = rec
	}
	if u.ExternalID != "" {
		t.byUserExt[u.ExternalID] = insertBySeq(t.byUserExt[u.ExternalID], rec)
	}
	for _, k := range emailKeys(u) {
		t.byEmail[k] = insertBySeq(t.byEmail[k], rec)
	}
	t.userUnique.add(rec.unique, u.ID)
}

func (t *tenant) unindexUser(rec *userRec) {
	u := rec.u
	if u.UserName != "" {
		if k := foldKey(u.UserName); t.byUserName[k] == rec {
			delete(t.byUserName, k)
		}
	}
	if u.ExternalID != "" {
		removeRec(t.byUserExt, u.ExternalID, rec)
	}
	for _, k := range emailKeys(u) {
		removeRec(t.byEmail, k, rec)
	}
	t.userUnique.remove(rec.unique, u.ID)
}

// emailKeys returns the distinct fold keys of u's email values, in time
// linear in their number (a user may have thousands).
func emailKeys(u *scim.User) []string {
	ks := make([]string, 0, len(u.Emails))
	var seen map[string]struct{}
	if len(u.Emails) > 8 {
		seen = make(map[string]struct{}, len(u.Emails))
	}
	for _, e := range u.Emails {
		if e.Value == "" {
			continue
		}
		k := foldKey(e.Value)
		if seen != nil {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
		} else if slices.Contains(ks, k) {
			continue
		}
		ks = append(ks, k)
	}
	return ks
}

// seqRec is a record with a creation sequence.
type seqRec interface {
	*userRec | *groupRec
	sequence() uint64
}

func (r *userRec) sequence() uint64  { return r.seq }
func (r *groupRec) sequence() uint64 { return r.seq }

// insertBySeq inserts r into rs, which is in creation order.
func insertBySeq[R seqRec](rs []R, r R) []R {
	i, _ := slices.BinarySearchFunc(rs, r.sequence(), func(x R, seq uint64) int { return cmp.Compare(x.sequence(), seq) })
	return slices.Insert(rs, i, r)
}

// removeRec removes r from the index list m[k].
func removeRec[R seqRec](m map[string][]R, k string, r R) {
	rs := slices.DeleteFunc(m[k], func(x R) bool { return x == r })
	if len(rs) == 0 {
		delete(m, k)
		return
	}
	m[k] = rs
}

// userOut returns a copy of u for a caller, with Groups filled when groups
// is set.
func (t *tenant) userOut(u *scim.User, groups bool) *scim.User {
	c := u.Clone()
	c.Groups = nil
	if groups {
		c.Groups = t.groupRefs(u.ID)
	}
	return c
}

// groupRefs returns the groups member id is a direct member of, in group
// creation order; nil for none.
func (t *tenant) groupRefs(id string) []scim.GroupRef {
	if len(t.memberOf) == 0 {
		return nil // no group has members: no need to fold and hash id
	}
	set := t.memberOf[foldKey(id)]
	if len(set) == 0 {
		return nil
	}
	gs := make([]*groupRec, 0, len(set))
	for g := range set {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *groupRec) int { return cmp.Compare(a.seq, b.seq) })
	refs := make([]scim.GroupRef, len(gs))
	for i, g := range gs {
		refs[i] = scim.GroupRef{Value: g.g.ID, Display: g.g.DisplayName, Type: "direct"}
	}
	return refs
}

// ListUsers returns the users that match q.Filter, sorted by q.SortBy (or
// in creation order) and paged. It never returns ErrUnsupported.
func (s *Store) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return listUsers(s, ctx, q, func(t *tenant, _ *userRec, u *scim.User, groups bool) *scim.User { return t.userOut(u, groups) })
}

// ListUsersShared is ListUsers without the copies (see
// [scim.SharedUserReader]). The caller must not modify the users.
func (s *Store) ListUsersShared(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return listUsers(s, ctx, q, (*tenant).sharedOut)
}

// sharedOut is a user of ListUsersShared's page: the record's view when
// the page is of records (rec not nil) and shows groups, as GetUserShared
// hands it out.
func (t *tenant) sharedOut(rec *userRec, u *scim.User, groups bool) *scim.User {
	if rec != nil && groups {
		return t.viewOf(rec).u
	}
	return t.userShared(u, groups)
}

// userOutFunc makes a user of a list's page from its record (nil when the
// page is of sorted users) and the user.
type userOutFunc[T any] func(t *tenant, rec *userRec, u *scim.User, groups bool) T

// listUsers is ListUsers, handing out each user of the page as out makes it.
func listUsers[T any](s *Store, ctx context.Context, q scim.Query, out userOutFunc[T]) (scim.Page[T], error) {
	if err := ctx.Err(); err != nil {
		return scim.Page[T]{}, err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	wantGroups := q.Want.Wants("groups")
	if q.Filter == nil && q.SortBy.Name == "" {
		// Every user in creation order: the page is found, not scanned to.
		page := scim.Page[T]{TotalResults: len(t.userList) - t.userDead, Resources: []T{}}
		for _, rec := range t.livePage(q.StartIndex, q.Count) {
			page.Resources = append(page.Resources, out(t, rec, rec.u, wantGroups))
		}
		return page, nil
	}
	cands, ok := t.userCandidates(q.Filter)
	if !ok {
		cands = t.userList
	}
	if q.SortBy.Name == "" {
		return listWindow(ctx, t, q, cands, wantGroups, out)
	}
	// User.Groups is not stored; fill it only when the filter or the sort
	// reads it.
	needGroups := mentions(q.Filter, "groups") || strings.EqualFold(q.SortBy.Name, "groups")
	var matches []*scim.User
	err := t.eachMatch(ctx, cands, q.Filter, needGroups, func(_ *userRec, u *scim.User) {
		matches = append(matches, u)
	})
	if err != nil {
		return scim.Page[T]{}, err
	}
	scim.SortUsers(matches, q.SortBy, q.Descending)
	page := scim.Page[T]{TotalResults: len(matches), Resources: []T{}}
	for _, u := range pageOf(matches, q.StartIndex, q.Count) {
		page.Resources = append(page.Resources, out(t, nil, u, wantGroups))
	}
	return page, nil
}

// listWindow is a list in creation order: it evaluates the filter on every
// candidate, for TotalResults, but keeps only the users of the page, so
// that a page late in the results costs no more memory than the first.
func listWindow[T any](ctx context.Context, t *tenant, q scim.Query, cands []*userRec, wantGroups bool, out userOutFunc[T]) (scim.Page[T], error) {
	start := max(q.StartIndex, 1) - 1
	page := scim.Page[T]{Resources: []T{}}
	f := q.Filter
	if indexExact(f) {
		f = nil // the candidates are the matches
	}
	// The page's first user waits in first until a second joins it: a
	// page of one (Entra ID's match) may be a view's own slice.
	var first *userRec
	n := 0
	err := t.eachMatch(ctx, cands, f, mentions(f, "groups"), func(rec *userRec, _ *scim.User) {
		if page.TotalResults >= start && n < q.Count {
			switch n {
			case 0:
				first = rec
			case 1:
				page.Resources = append(page.Resources, out(t, first, first.u, wantGroups))
				fallthrough
			default:
				page.Resources = append(page.Resources, out(t, rec, rec.u, wantGroups))
			}
			n++
		}
		page.TotalResults++
	})
	if err != nil {
		return scim.Page[T]{}, err
	}
	if n == 1 {
		page.Resources = onePage(t, first, wantGroups, out)
	}
	return page, nil
}

// onePage is the Resources of a page of rec alone: for ListUsersCached's
// view of rec, the view's own slice (its capacity is one, so that an
// append cannot write into the view).
func onePage[T any](t *tenant, rec *userRec, groups bool, out userOutFunc[T]) []T {
	v := out(t, rec, rec.u, groups)
	if c, ok := any(v).(scim.Cached[*scim.User]); ok {
		if view := rec.view.Load(); view != nil && view.one[0] == c {
			return any(view.one[:]).([]T)
		}
	}
	return []T{v}
}

// eachMatch calls fn, in order, for each live candidate that f matches
// (every live candidate when f is nil), with the stored user and the user
// f saw (a copy with its groups filled in when needGroups, since
// User.Groups is not stored). It checks ctx every scanCheck candidates, so
// that a long scan ends with its request.
func (t *tenant) eachMatch(ctx context.Context, cands []*userRec, f scim.Filter, needGroups bool, fn func(rec *userRec, u *scim.User)) error {
	for i, rec := range cands {
		if i%scanCheck == scanCheck-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if rec.dead {
			continue
		}
		u := rec.u
		if needGroups {
			v := *u
			v.Groups = t.groupRefs(u.ID)
			u = &v
		}
		if f == nil || scim.MatchUser(f, u) {
			fn(rec, u)
		}
	}
	return nil
}

// userBlock is the size of the blocks of userList whose live users
// tenant.userLive counts: finding the nth live user costs at most
// len(userList)/userBlock block counts and userBlock records.
const userBlock = 1024

// countLive adds d to the live count of the block of position pos.
func (t *tenant) countLive(pos, d int) {
	b := pos / userBlock
	for len(t.userLive) <= b {
		t.userLive = append(t.userLive, 0)
	}
	t.userLive[b] += d
}

// livePage returns the live users that a 1-based startIndex and a count
// select, in creation order.
func (t *tenant) livePage(startIndex, count int) []*userRec {
	k := max(startIndex, 1) - 1
	if count <= 0 || k >= len(t.userList)-t.userDead {
		return nil
	}
	i := len(t.userList)
	for b, n := range t.userLive {
		if k < n {
			for i = b * userBlock; ; i++ {
				if !t.userList[i].dead {
					if k == 0 {
						break
					}
					k--
				}
			}
			break
		}
		k -= n
	}
	rs := make([]*userRec, 0, min(count, len(t.userList)-i))
	for ; i < len(t.userList) && len(rs) < count; i++ {
		if i%userBlock == 0 && t.userLive[i/userBlock] == 0 {
			i += userBlock - 1 // a block of tombstones
			continue
		}
		if r := t.userList[i]; !r.dead {
			rs = append(rs, r)
		}
	}
	return rs
}

// scanCheck is how many records a scan evaluates between looks at its
// context: often enough to stop within milliseconds, rarely enough to cost
// nothing.
const scanCheck = 1024

// pageOf returns the part of rs that a 1-based startIndex and a count
// select.
func pageOf[T any](rs []T, startIndex, count int) []T {
	start := max(startIndex, 1) - 1
	if count <= 0 || start >= len(rs) {
		return nil
	}
	return rs[start:min(len(rs), start+count)]
}

// userCandidates returns, in creation order, the users an index says may
// match f: a superset of the matches. ok is false when no index applies and
// every user is a candidate.
func (t *tenant) userCandidates(f scim.Filter) (rs []*userRec, ok bool) {
	switch e := f.(type) {
	case *scim.AttrExpr:
		if e == nil {
			return nil, false
		}
		text, ok := eqText(e, scim.UserSchema)
		if !ok {
			return nil, false
		}
		switch {
		case text == "":
			return nil, true // eq "" matches no value
		case e.Path.Sub != "":
			if strings.EqualFold(e.Path.Name, "emails") && strings.EqualFold(e.Path.Sub, "value") {
				return t.byEmail[foldKey(text)], true
			}
		case strings.EqualFold(e.Path.Name, "id"):
			if r := t.users[text]; r != nil {
				return r.self[:], true
			}
			return nil, true
		case strings.EqualFold(e.Path.Name, "userName"):
			if r := t.byUserName[foldKey(text)]; r != nil {
				return r.self[:], true
			}
			return nil, true
		case strings.EqualFold(e.Path.Name, "externalId"):
			return t.byUserExt[text], true
		case strings.EqualFold(e.Path.Name, "emails"):
			return t.byEmail[foldKey(text)], true
		}
	case *scim.ValuePathExpr:
		// emails[type eq "work" and value eq "x"], Entra ID's email match.
		if e != nil && isCore(e.Path, scim.UserSchema) && strings.EqualFold(e.Path.Name, "emails") {
			return t.userCandidates(valueTerm(e.Filter))
		}
	case *scim.LogicalExpr:
		if e != nil {
			return combine(e, t.userCandidates)
		}
	}
	return nil, false
}

// indexExact reports whether the candidates userCandidates finds for f
// are exactly f's matches among the live users, so that evaluating f on
// them again would only repeat the index's answer: f is `userName eq`
// a string, Entra ID's match and test connection. The index's key is
// scim.FoldCase, under which two strings are equal exactly when
// strings.EqualFold, the evaluator's eq for a case-insensitive string,
// says they are (scim's TestFoldCaseAgreesWithEqualFold checks every
// rune, and FuzzUserNameIndexAgreesWithFilter the two paths here).
func indexExact(f scim.Filter) bool {
	e, ok := f.(*scim.AttrExpr)
	return ok && e != nil && e.Op == scim.OpEq && e.Value.Kind == scim.KindString && e.Path.Sub == "" &&
		isCore(e.Path, scim.UserSchema) && strings.EqualFold(e.Path.Name, "userName")
}

// valueTerm rewrites the "value eq x" terms of a value path's filter as
// "emails.value eq x" for the candidate search; other terms become nil,
// which no index answers.
func valueTerm(f scim.Filter) scim.Filter {
	switch e := f.(type) {
	case *scim.AttrExpr:
		if e != nil && e.Path.URN == "" && e.Path.Sub == "" && strings.EqualFold(e.Path.Name, "value") {
			return &scim.AttrExpr{Path: scim.AttrPath{Name: "emails", Sub: "value"}, Op: e.Op, Value: e.Value}
		}
	case *scim.LogicalExpr:
		if e != nil {
			return &scim.LogicalExpr{Op: e.Op, Left: valueTerm(e.Left), Right: valueTerm(e.Right)}
		}
	}
	return nil
}

// combine takes the candidates of a logical expression from those of its
// sides: an "and" needs one indexed side (the smaller is taken), an "or"
// needs both (their union).
func combine[R seqRec](e *scim.LogicalExpr, cand func(scim.Filter) ([]R, bool)) ([]R, bool) {
	l, lok := cand(e.Left)
	r, rok := cand(e.Right)
	switch e.Op {
	case scim.OpAnd:
		switch {
		case lok && rok:
			if len(r) < len(l) {
				return r, true
			}
			return l, true
		case lok:
			return l, true
		case rok:
			return r, true
		}
	case scim.OpOr:
		if lok && rok {
			u := append(slices.Clip(l), r...)
			slices.SortFunc(u, func(a, b R) int { return cmp.Compare(a.sequence(), b.sequence()) })
			return slices.Compact(u), true
		}
	}
	return nil, false
}

// eqText returns the value of an equality on a core attribute that an
// index can answer: op eq, a string (or a number, which the evaluator
// compares as text with a string attribute), and a path unqualified or
// qualified by the core schema urn.
func eqText(e *scim.AttrExpr, urn string) (string, bool) {
	if e.Op != scim.OpEq || (e.Value.Kind != scim.KindString && e.Value.Kind != scim.KindNumber) || !isCore(e.Path, urn) {
		return "", false
	}
	return e.Value.Text, true
}

func isCore(p scim.AttrPath, urn string) bool {
	return p.URN == "" || strings.EqualFold(p.URN, urn)
}

// mentions reports whether f names the top-level attribute name anywhere
// (at most a false positive for a same-named extension attribute, which
// only costs loading it).
func mentions(f scim.Filter, name string) bool {
	switch e := f.(type) {
	case *scim.AttrExpr:
		return e != nil && strings.EqualFold(e.Path.Name, name)
	case *scim.ValuePathExpr:
		return e != nil && strings.EqualFold(e.Path.Name, name)
	case *scim.LogicalExpr:
		return e != nil && (mentions(e.Left, name) || mentions(e.Right, name))
	case *scim.NotExpr:
		return e != nil && mentions(e.Filter, name)
	}
	return false
}

// ---- groups ----

// CreateGroup stores a copy of g with a new ID and Meta. It returns
// ErrConflict when another group of the tenant has the same displayName
// under case folding.
func (s *Store) CreateGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("memstore: CreateGroup: nil group")
	}
	key := s.tenantOf(ctx)
	c := g.Clone()
	members := c.Members
	c.Members = nil
	unique := s.groupUniqueValues(c)
	t := s.tenant(key, true)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.checkDisplayName(c.DisplayName, nil); err != nil {
		return nil, err
	}
	if err := t.groupUnique.check(unique, ""); err != nil {
		return nil, err
	}
	c.ID = t.newID()
	now := s.stamp(time.Time{})
	c.Meta = scim.Meta{Created: now, LastModified: now, Version: s.nextVersion()}
	t.seq++
	rec := &groupRec{g: c, seq: t.seq, index: map[string]int{}, unique: unique}
	t.groups[c.ID] = rec
	t.groupList = append(t.groupList, rec)
	t.indexGroup(rec)
	t.setMembers(rec, members)
	return groupOut(rec, true), nil
}

// GetGroup returns a copy of the group, with its members when want asks
// for them, or ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t == nil || t.groups[id] == nil {
		return nil, notFound("group", id)
	}
	return groupOut(t.groups[id], want.Wants("members")), nil
}

// ReplaceGroup replaces the stored group g.ID with a copy of g, members
// included, keeping ID and Meta.Created. It returns ErrNotFound,
// ErrVersionMismatch when g.Meta.Version is set and stale, and ErrConflict
// for a displayName another group has; then nothing changes.
func (s *Store) ReplaceGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("memstore: ReplaceGroup: nil group")
	}
	key := s.tenantOf(ctx)
	c := g.Clone()
	t := s.tenant(key, false)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t == nil || t.groups[c.ID] == nil {
		return nil, notFound("group", c.ID)
	}
	rec := t.groups[c.ID]
	if v := c.Meta.Version; v != "" && v != rec.g.Meta.Version {
		return nil, versionMismatch("group", c.ID, v, rec.g.Meta.Version)
	}
	if err := s.commitGroup(t, rec, c); err != nil {
		return nil, err
	}
	return groupOut(rec, true), nil
}

// UpdateGroup calls update on a copy of the group with its members and
// stores the result atomically, keeping ID and Meta.Created. If update
// returns an error, nothing is stored and the error is returned. It returns
// ErrNotFound for an unknown id and ErrConflict for a displayName another
// group has. update runs with the Store locked and must not call the Store.
func (s *Store) UpdateGroup(ctx context.Context, id string, update func(*scim.Group) error) (*scim.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t == nil || t.groups[id] == nil {
		return nil, notFound("group", id)
	}
	rec := t.groups[id]
	work := groupOut(rec, true)
	if err := update(work); err != nil {
		return nil, err
	}
	c := work.Clone()
	c.ID = id
	if err := s.commitGroup(t, rec, c); err != nil {
		return nil, err
	}
	return groupOut(rec, true), nil
}

// commitGroup stores c, members included, as the new state of rec, or
// returns ErrConflict and changes nothing.
func (s *Store) commitGroup(t *tenant, rec *groupRec, c *scim.Group) error {
	if err := t.checkDisplayName(c.DisplayName, rec); err != nil {
		return err
	}
	unique := s.groupUniqueValues(c)
	if err := t.groupUnique.check(unique, rec.g.ID); err != nil {
		return err
	}
	members := c.Members
	c.Members = nil
	c.Meta = scim.Meta{
		Created:      rec.g.Meta.Created,
		LastModified: s.stamp(rec.g.Meta.LastModified),
		Version:      s.nextVersion(),
	}
	if c.DisplayName != rec.g.DisplayName {
		// The members' groups show the displayName.
		for k := range rec.index {
			t.groupsChanged(k)
		}
	}
	t.unindexGroup(rec)
	rec.g, rec.unique = c, unique
	t.indexGroup(rec)
	t.setMembers(rec, members)
	return nil
}

// setMembers makes ms, without duplicates, the members of rec, updating
// the reverse index for the members that come and go.
func (t *tenant) setMembers(rec *groupRec, ms []scim.Member) {
	old := rec.index
	rec.slots = rec.slots[:0]
	rec.index = make(map[string]int, len(ms))
	rec.live = 0
	for _, m := range ms {
		k := foldKey(m.Value)
		if _, dup := rec.index[k]; dup {
			continue
		}
		rec.index[k] = len(rec.slots)
		rec.slots = append(rec.slots, memberSlot{m: m})
		rec.live++
		if _, had := old[k]; !had {
			t.addMemberOf(k, rec)
		}
	}
	for k := range old {
		if _, kept := rec.index[k]; !kept {
			t.removeMemberOf(k, rec)
		}
	}
}

func (t *tenant) addMemberOf(k string, rec *groupRec) {
	set := t.memberOf[k]
	if set == nil {
		set = map[*groupRec]struct{}{}
		t.memberOf[k] = set
	}
	set[rec] = struct{}{}
	t.groupsChanged(k)
}

func (t *tenant) removeMemberOf(k string, rec *groupRec) {
	if set := t.memberOf[k]; set != nil {
		delete(set, rec)
		if len(set) == 0 {
			delete(t.memberOf, k)
		}
	}
	t.groupsChanged(k)
}

// removeSlot removes the member with fold key k from rec, if it is one,
// compacting the slots when tombstones outnumber members.
func (r *groupRec) removeSlot(k string) bool {
	i, ok := r.index[k]
	if !ok {
		return false
	}
	delete(r.index, k)
	r.slots[i] = memberSlot{dead: true}
	r.live--
	if dead := len(r.slots) - r.live; dead > 16 && dead > r.live {
		live := r.slots[:0]
		for _, s := range r.slots {
			if !s.dead {
				r.index[foldKey(s.m.Value)] = len(live)
				live = append(live, s)
			}
		}
		clear(r.slots[len(live):])
		r.slots = live
	}
	return true
}

// touchGroup records a write to rec that changed only its members.
func (s *Store) touchGroup(rec *groupRec) {
	rec.g.Meta.LastModified = s.stamp(rec.g.Meta.LastModified)
	rec.g.Meta.Version = s.nextVersion()
}

// PatchMembers adds the members of add that are not members yet, then
// removes the members whose values are in remove, in time proportional to
// len(add)+len(remove). Values compare case-insensitively, as the Group
// schema says for members.value. Adding a member twice or removing a
// non-member is not an error. When the membership changed, Meta.LastModified
// and Meta.Version change. It returns the group without its members, or
// ErrNotFound, or ErrVersionMismatch when version is set and stale.
func (s *Store) PatchMembers(ctx context.Context, groupID string, p scim.MemberPatch) (scim.MemberPatchResult, error) {
	var res scim.MemberPatchResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t == nil || t.groups[groupID] == nil {
		return res, notFound("group", groupID)
	}
	rec := t.groups[groupID]
	if p.Version != "" && p.Version != rec.g.Meta.Version {
		return res, versionMismatch("group", groupID, p.Version, rec.g.Meta.Version)
	}
	for _, m := range p.Add {
		k := foldKey(m.Value)
		if _, ok := rec.index[k]; ok {
			continue
		}
		rec.index[k] = len(rec.slots)
		rec.slots = append(rec.slots, memberSlot{m: m})
		rec.live++
		t.addMemberOf(k, rec)
		res.Added = append(res.Added, m.Value)
	}
	for _, v := range p.Remove {
		k := foldKey(v)
		if rec.removeSlot(k) {
			t.removeMemberOf(k, rec)
			res.Removed = append(res.Removed, v)
		}
	}
	if len(res.Added) > 0 || len(res.Removed) > 0 {
		s.touchGroup(rec)
	}
	res.Group = groupOut(rec, false)
	return res, nil
}

// DeleteGroup deletes the group and removes it from the groups it is a
// member of, or returns ErrNotFound.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t == nil || t.groups[id] == nil {
		return notFound("group", id)
	}
	rec := t.groups[id]
	t.setMembers(rec, nil)
	t.unindexGroup(rec)
	delete(t.groups, id)
	rec.dead = true
	t.groupDead++
	if t.groupDead > 64 && t.groupDead > len(t.groupList)/2 {
		t.groupList = slices.DeleteFunc(t.groupList, func(r *groupRec) bool { return r.dead })
		t.groupDead = 0
	}
	s.leaveGroups(t, id)
	return nil
}

func (t *tenant) checkDisplayName(name string, self *groupRec) error {
	if name == "" {
		return nil
	}
	if other := t.byDisplay[foldKey(name)]; other != nil && other != self {
		return &scim.ConflictError{Attribute: "displayName", Value: name}
	}
	return nil
}

func (t *tenant) indexGroup(rec *groupRec) {
	g := rec.g
	if g.DisplayName != "" {
		t.byDisplay[foldKey(g.DisplayName)] = rec
	}
	if g.ExternalID != "" {
		t.byGroupExt[g.ExternalID] = insertBySeq(t.byGroupExt[g.ExternalID], rec)
	}
	t.groupUnique.add(rec.unique, g.ID)
}

func (t *tenant) unindexGroup(rec *groupRec) {
	g := rec.g
	if g.DisplayName != "" {
		if k := foldKey(g.DisplayName); t.byDisplay[k] == rec {
			delete(t.byDisplay, k)
		}
	}
	if g.ExternalID != "" {
		removeRec(t.byGroupExt, g.ExternalID, rec)
	}
	t.groupUnique.remove(rec.unique, g.ID)
}

// groupOut returns a copy of rec's group for a caller: with its members
// (never nil) when members is set, with Members nil otherwise.
func groupOut(rec *groupRec, members bool) *scim.Group {
	c := rec.g.Clone()
	if members {
		c.Members = rec.members()
	}
	return c
}

// ListGroups returns the groups that match q.Filter, sorted by q.SortBy
// (or in creation order) and paged, with members only when q.Want asks for
// them. It never returns ErrUnsupported.
func (s *Store) ListGroups(ctx context.Context, q scim.Query) (scim.Page[*scim.Group], error) {
	if err := ctx.Err(); err != nil {
		return scim.Page[*scim.Group]{}, err
	}
	key := s.tenantOf(ctx)
	t := s.tenant(key, false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t == nil {
		return scim.Page[*scim.Group]{Resources: []*scim.Group{}}, nil
	}
	cands, ok := t.groupCandidates(q.Filter)
	if !ok {
		cands = t.groupList
	}
	sortMembers := strings.EqualFold(q.SortBy.Name, "members")
	var matches []*groupRec
	var views []*scim.Group // the groups to sort, when sorting
	for i, rec := range cands {
		if i%scanCheck == scanCheck-1 {
			if err := ctx.Err(); err != nil {
				return scim.Page[*scim.Group]{}, err
			}
		}
		if rec.dead || !matchGroup(q.Filter, rec) {
			continue
		}
		matches = append(matches, rec)
		if q.SortBy.Name != "" {
			g := rec.g
			if sortMembers {
				v := *g
				v.Members = rec.members()
				g = &v
			}
			views = append(views, g)
		}
	}
	if q.SortBy.Name != "" {
		scim.SortGroups(views, q.SortBy, q.Descending)
		for i, g := range views {
			matches[i] = t.groups[g.ID]
		}
	}
	page := scim.Page[*scim.Group]{TotalResults: len(matches), Resources: []*scim.Group{}}
	wantMembers := q.Want.Wants("members")
	for _, rec := range pageOf(matches, q.StartIndex, q.Count) {
		page.Resources = append(page.Resources, groupOut(rec, wantMembers))
	}
	return page, nil
}

// groupCandidates is userCandidates for groups: id, displayName,
// externalId, and members (the groups a member is in).
func (t *tenant) groupCandidates(f scim.Filter) ([]*groupRec, bool) {
	switch e := f.(type) {
	case *scim.AttrExpr:
		if e == nil {
			return nil, false
		}
		text, ok := eqText(e, scim.GroupSchema)
		if !ok {
			return nil, false
		}
		name := e.Path.Name
		switch {
		case text == "":
			return nil, true
		case isMembersValue(e.Path):
			set := t.memberOf[foldKey(text)]
			rs := make([]*groupRec, 0, len(set))
			for g := range set {
				rs = append(rs, g)
			}
			slices.SortFunc(rs, func(a, b *groupRec) int { return cmp.Compare(a.seq, b.seq) })
			return rs, true
		case e.Path.Sub != "":
		case strings.EqualFold(name, "id"):
			if r := t.groups[text]; r != nil {
				return []*groupRec{r}, true
			}
			return nil, true
		case strings.EqualFold(name, "displayName"):
			if r := t.byDisplay[foldKey(text)]; r != nil {
				return []*groupRec{r}, true
			}
			return nil, true
		case strings.EqualFold(name, "externalId"):
			return t.byGroupExt[text], true
		}
	case *scim.LogicalExpr:
		if e != nil {
			return combine(e, t.groupCandidates)
		}
	}
	return nil, false
}

// isMembersValue reports whether p is members or members.value of the
// Group schema.
func isMembersValue(p scim.AttrPath) bool {
	return isCore(p, scim.GroupSchema) && strings.EqualFold(p.Name, "members") &&
		(p.Sub == "" || strings.EqualFold(p.Sub, "value"))
}

// matchGroup is scim.MatchGroup(f, group) without loading the group's
// members for the membership tests `members eq "<id>"` (and ne), which the
// member index answers; any other expression that reads members gets them.
func matchGroup(f scim.Filter, rec *groupRec) bool {
	var full *scim.Group
	var eval func(scim.Filter) bool
	eval = func(f scim.Filter) bool {
		switch e := f.(type) {
		case *scim.LogicalExpr:
			if e != nil {
				switch e.Op {
				case scim.OpAnd:
					return eval(e.Left) && eval(e.Right)
				case scim.OpOr:
					return eval(e.Left) || eval(e.Right)
				}
			}
		case *scim.NotExpr:
			if e != nil {
				return !eval(e.Filter)
			}
		case *scim.AttrExpr:
			if e != nil && isMembersValue(e.Path) && e.Value.Text != "" &&
				(e.Value.Kind == scim.KindString || e.Value.Kind == scim.KindNumber) {
				_, member := rec.index[foldKey(e.Value.Text)]
				switch e.Op {
				case scim.OpEq:
					return member
				case scim.OpNe:
					return !member
				}
			}
		}
		if !mentions(f, "members") {
			return scim.MatchGroup(f, rec.g)
		}
		if full == nil {
			v := *rec.g
			v.Members = rec.members()
			full = &v
		}
		return scim.MatchGroup(f, full)
	}
	return eval(f)
}

// ---- case folding ----

// foldKey is the key of case-insensitive indexes: scim.FoldCase, so that
// uniqueness and lookups agree with the filter evaluator.
func foldKey(s string) string { return scim.FoldCase(s) }
