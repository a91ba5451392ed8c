package sqlstore

import (
	"sync"
	"time"

	"github.com/scimhost/scim"
)

// WithUserCache keeps up to n users as this process last read or wrote
// them, so that a PATCH of one of them (UpdateUser) can skip its read: the
// update runs on the kept copy, and its UPDATE is conditional on the row
// still holding that version and those groups, which every other process's
// write and membership change would have changed. The store's statements
// and guarantees are otherwise those without the cache (see "The user
// cache" in the package documentation). n <= 0 keeps none, the default. A
// kept user costs its stored document and a few strings, about 560 bytes
// for a user as Entra ID sends it; when the cache is full a kept user is
// dropped, any one.
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
// the document and the groups column's text, all immutable once kept.
type cachedUser struct {
	id, userName, externalID string
	active                   bool
	created, modified        time.Time
	version                  int64
	doc, groups              []byte
}

// userCache is WithUserCache's; nil when the store keeps none.
type userCache struct {
	mu  sync.Mutex
	max int
	m   map[userKey]*cachedUser
}

// put keeps c for the tenant, unless a later version is kept already.
func (uc *userCache) put(tenant string, c *cachedUser) {
	if uc == nil {
		return
	}
	k := userKey{tenant, c.id}
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if old := uc.m[k]; old != nil {
		if old.version > c.version {
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

// writtenUser is the row the write of u left, to keep: u as userWritten
// filled it, the document written and the groups column returned.
func writtenUser(u *scim.User, version int64, doc, groups []byte) *cachedUser {
	return &cachedUser{id: u.ID, userName: u.UserName, externalID: u.ExternalID, active: u.Active,
		created: u.Meta.Created, modified: u.Meta.LastModified, version: version, doc: doc, groups: groups}
}

// user decodes a fresh copy of the kept user, with its groups, as readUser
// would have returned it.
func (c *cachedUser) user() (*scim.User, error) {
	r := userRow{withGroups: true, version: c.version, doc: c.doc, groups: c.groups}
	r.u.ID, r.u.UserName, r.u.ExternalID, r.u.Active = c.id, c.userName, c.externalID, c.active
	r.u.Meta.Created, r.u.Meta.LastModified = c.created, c.modified
	return r.user()
}
