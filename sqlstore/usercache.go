package sqlstore

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/scimhost/scim"
)

// WithUserCache keeps up to n users as this process last read or wrote
// them, so that a PATCH of one of them (UpdateUser) can skip its read: the
// update runs on the kept copy, and its UPDATE is conditional on the row
// still holding that version and those groups, which every other process's
// write and membership change would have changed. The store's statements
// and guarantees are otherwise those without the cache (see "The user
// cache" in the package documentation). The cache also makes the store's
// shared reads (scim.SharedUserReader, scim.CachedUserReader) hand out,
// for a row read unchanged, the user decoded the last time and the
// handler's encoding of it, instead of decoding and encoding again; every
// read still runs its statement. n <= 0 keeps none, the default. A kept
// user costs its stored document and a few strings, about 560 bytes for a
// user as Entra ID sends it, and about 2.4 KB once a GET or a list has
// read it or an update has written it (the decoded user and its
// encoding); when the cache is full a kept user is dropped, any one.
func WithUserCache(n int) Option {
	return func(d *DB) {
		if n > 0 {
			d.users = &userCache{max: n, m: make(map[userKey]*cachedUser)}
		} else {
			d.users = nil
		}
	}
}

type userKey struct{ tenant, id string }

// cachedUser is a scim_users row as readUser's scan holds it: the columns,
// the document and the groups column's text, all immutable once kept;
// and, once a shared read has returned it, the user decoded from them.
type cachedUser struct {
	id, userName, externalID string
	active                   bool
	created, modified        time.Time
	version                  int64
	doc, groups              []byte

	shared atomic.Pointer[sharedUser]
}

// sharedUser is what the shared reads (GetUserShared, ListUsersShared)
// hand out for a kept row: the user decoded once, never modified, and the
// handler's cache of its encoding. epoch is the tenant's group epoch
// (userCache.epoch) when the read that made it began.
type sharedUser struct {
	u     *scim.User
	epoch uint64
	cache scim.EncodingCache
}

// userCache is WithUserCache's; nil when the store keeps none.
type userCache struct {
	mu  sync.Mutex
	max int
	m   map[userKey]*cachedUser
	// epochs counts, per tenant, the group writes that may have changed
	// kept users' groups without this process dropping them (see
	// groupsChanged): a word for each tenant that had one, kept when the
	// users are cleared, since a count that only grows is never wrong.
	epochs map[string]uint64
}

// put keeps c for the tenant, unless a later version is kept already.
func (uc *userCache) put(tenant string, c *cachedUser) {
	if uc == nil {
		return
	}
	k := userKey{tenant, c.id}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	uc.keepLocked(k, c)
}

// keepLocked is put with uc.mu held. A kept row that is c's stays, with
// the user a shared read decoded from it and its encoding cache.
func (uc *userCache) keepLocked(k userKey, c *cachedUser) {
	if old := uc.m[k]; old != nil {
		if old.version > c.version || old.sameRow(c) {
			return
		}
	} else if len(uc.m) >= uc.max {
		for k := range uc.m {
			delete(uc.m, k)
			break
		}
	}
	uc.m[k] = c
}

// putWritten keeps c, the row an update of u has just committed, with a
// copy of u as its shared user (see share), so that the next shared read
// of the row, and the next update's fresh copy, do not decode the document
// this write encoded from u: u is what a read of the row decodes (the
// store's tests hold every write's result equal to the read after it).
// epoch is the tenant's group epoch from before the write's statement, as
// a read's is. Creates keep their row without it (put): a user is read,
// and so decoded, before most of its updates, but not before its create,
// and the decoded user is most of a kept user's memory. A document that
// may hold a replacement character is the exception (mayHaveReplaced):
// the encoding turns invalid UTF-8 in u's strings into U+FFFD, so the
// read decodes another user than u, and the next read decodes it.
func (uc *userCache) putWritten(tenant string, c *cachedUser, u *scim.User, epoch uint64) {
	if uc == nil {
		return
	}
	if !mayHaveReplaced(c.doc) {
		c.shared.Store(&sharedUser{u: u.Clone(), epoch: epoch})
	}
	uc.put(tenant, c)
}

// mayHaveReplaced reports whether doc, a document encodeUser wrote, holds
// U+FFFD, escaped as encoding/json writes it for invalid UTF-8 or as it
// is, or is not valid UTF-8 itself: what a user whose strings were all
// valid UTF-8 does not write unless it had the character already.
func mayHaveReplaced(doc []byte) bool {
	return bytes.Contains(doc, []byte(`\ufffd`)) || bytes.Contains(doc, []byte(`\uFFFD`)) ||
		bytes.ContainsRune(doc, utf8.RuneError) || !utf8.Valid(doc)
}

// sameRow reports whether c and o are the same version of the row with the
// same groups: what the user cache's other uses trust too (every write of
// the row adds one to its version, and the groups column is read with it),
// so the document is not compared. It is not, byte for byte, when one of
// the two was kept from a write (our encoding) and the other read back
// (the database's, which for PostgreSQL's jsonb orders keys its own way).
func (c *cachedUser) sameRow(o *cachedUser) bool {
	return c.version == o.version && c.id == o.id && c.userName == o.userName && c.externalID == o.externalID &&
		c.active == o.active && c.created.Equal(o.created) && c.modified.Equal(o.modified) && bytes.Equal(c.groups, o.groups)
}

// share returns the user a shared read hands out for the row c it just
// read, which began when the tenant's group epoch was epoch: the kept
// user's when the kept row is c's and was shared since that epoch,
// otherwise c's own, decoded, with c kept in place of the old unless a
// later version is kept already (then c's user is handed out unkept, and
// has no encoding cache). With no user cache, it decodes c.
func (uc *userCache) share(tenant string, c *cachedUser, epoch uint64) (*sharedUser, error) {
	if uc != nil {
		k := userKey{tenant, c.id}
		uc.mu.Lock()
		old := uc.m[k]
		if old != nil && old.sameRow(c) {
			c = old
		} else {
			uc.keepLocked(k, c)
		}
		uc.mu.Unlock()
	}
	if su := c.shared.Load(); su != nil && su.epoch >= epoch {
		return su, nil
	}
	u, err := c.user()
	if err != nil {
		return nil, err
	}
	su := &sharedUser{u: u, epoch: epoch}
	c.shared.Store(su)
	return su, nil
}

// encodingCache returns the encoding cache of u when u is the user a
// shared read handed out for the kept row of u.ID, and no group write has
// run in the tenant since that read began; otherwise nil.
func (uc *userCache) encodingCache(tenant string, u *scim.User) *scim.EncodingCache {
	if uc == nil || u == nil {
		return nil
	}
	uc.mu.Lock()
	c, epoch := uc.m[userKey{tenant, u.ID}], uc.epochs[tenant]
	uc.mu.Unlock()
	if c == nil {
		return nil
	}
	if su := c.shared.Load(); su != nil && su.u == u && su.epoch == epoch {
		return &su.cache
	}
	return nil
}

// epoch is the tenant's group epoch, for a shared read about to begin.
func (uc *userCache) epoch(tenant string) uint64 {
	if uc == nil {
		return 0
	}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	return uc.epochs[tenant]
}

// groupsChanged is called after a group write that may have changed the
// groups of users it does not drop from the cache (a group created with
// members, replaced, renamed, updated or deleted): every shared user of
// the tenant kept so far loses its encoding cache. A read still answers
// from the database, whose groups column differs from the kept one after
// such a write; the epoch is for UserEncodingCache, asked about a user
// without a read. PatchMembers, Entra ID's way to change memberships,
// drops the users it touches instead.
func (uc *userCache) groupsChanged(tenant string) {
	if uc == nil {
		return
	}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.epochs == nil {
		uc.epochs = make(map[string]uint64)
	}
	uc.epochs[tenant]++
}

// get returns the kept row of the user id, or nil.
func (uc *userCache) get(tenant, id string) *cachedUser {
	if uc == nil {
		return nil
	}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	return uc.m[userKey{tenant, id}]
}

// drop forgets the users ids (folded, as the memberships index holds
// them; the store's ids fold to themselves).
func (uc *userCache) drop(tenant string, ids ...string) {
	if uc == nil {
		return
	}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	for _, id := range ids {
		delete(uc.m, userKey{tenant, id})
	}
}

// clear forgets every user.
func (uc *userCache) clear() {
	if uc == nil {
		return
	}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	clear(uc.m)
}

// cached is the row r scanned, to keep; r must not have been decoded yet
// (user() fills the rest of r.u).
func (r *userRow) cached() *cachedUser {
	return &cachedUser{id: r.u.ID, userName: r.u.UserName, externalID: r.u.ExternalID, active: r.u.Active,
		created: r.u.Meta.Created, modified: r.u.Meta.LastModified, version: r.version, doc: r.doc, groups: r.groups}
}

// dest is what a scan of a row of userReader's columns with the groups
// fills, to keep as c.
func (c *cachedUser) dest() []any {
	return []any{&c.id, &c.userName, &c.externalID, &c.active, timeCol{&c.created}, timeCol{&c.modified}, &c.version, &c.doc, &c.groups}
}

// writtenUser is the row the write of u left, to keep: u as userWritten
// filled it, the document written and the groups column returned.
func writtenUser(u *scim.User, version int64, doc, groups []byte) *cachedUser {
	return &cachedUser{id: u.ID, userName: u.UserName, externalID: u.ExternalID, active: u.Active,
		created: u.Meta.Created, modified: u.Meta.LastModified, version: version, doc: doc, groups: groups}
}

// fresh returns a copy of the kept user the caller may modify: a deep
// copy of the user a shared read decoded from c, when there is one, which
// costs less than decoding again; otherwise c.user().
func (c *cachedUser) fresh() (*scim.User, error) {
	if su := c.shared.Load(); su != nil {
		return su.u.Clone(), nil
	}
	return c.user()
}

// user decodes a fresh copy of the kept user, with its groups, as readUser
// would have returned it.
func (c *cachedUser) user() (*scim.User, error) {
	r := userRow{withGroups: true, version: c.version, doc: c.doc, groups: c.groups}
	r.u.ID, r.u.UserName, r.u.ExternalID, r.u.Active = c.id, c.userName, c.externalID, c.active
	r.u.Meta.Created, r.u.Meta.LastModified = c.created, c.modified
	return r.user()
}
