package admin

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/scimhost/scim"
)

// CacheDomains returns a [DomainStore] over s that keeps each tenant's
// list of domains in memory for at most ttl, so that
// [Settings.AllowDomain], which runs on every created or changed user
// with an email, costs no query while nothing changed: GetDomain and
// ListDomains answer from the list, read once per ttl and tenant.
//
// A change made through the returned store (AddDomain, UpdateDomain,
// RemoveDomain, which [Settings.AddDomain], [Settings.VerifyDomain] and
// [Settings.RemoveDomain] call) takes effect at once; one made on s
// directly, or by another process sharing s's database, within ttl: until
// then a domain removed elsewhere is still allowed, and one verified
// elsewhere still refused. A ttl of 0 or less returns s itself.
func CacheDomains(s DomainStore, ttl time.Duration) DomainStore {
	if ttl <= 0 {
		return s
	}
	return &domainCache{DomainStore: s, lists: newTTLCache[string, []Domain](ttl)}
}

type domainCache struct {
	DomainStore
	lists *ttlCache[string, []Domain] // tenant →
}

// list returns the tenant's domains from memory, reading them when they
// are older than the ttl. The caller must not modify them.
func (c *domainCache) list(ctx context.Context, tenant string) ([]Domain, error) {
	return c.lists.get(tenant, func() ([]Domain, error) { return c.DomainStore.ListDomains(ctx, tenant) })
}

func (c *domainCache) ListDomains(ctx context.Context, tenant string) ([]Domain, error) {
	ds, err := c.list(ctx, tenant)
	return slices.Clone(ds), err
}

func (c *domainCache) GetDomain(ctx context.Context, tenant, name string) (Domain, error) {
	ds, err := c.list(ctx, tenant)
	if err != nil {
		return Domain{}, err
	}
	for _, d := range ds {
		if d.Name == name {
			return d, nil
		}
	}
	return Domain{}, fmt.Errorf("admin: domain %q: %w", name, scim.ErrNotFound)
}

func (c *domainCache) AddDomain(ctx context.Context, d Domain) error {
	defer c.forget(d.Tenant)
	return c.DomainStore.AddDomain(ctx, d)
}

func (c *domainCache) UpdateDomain(ctx context.Context, d Domain) error {
	defer c.forget(d.Tenant)
	return c.DomainStore.UpdateDomain(ctx, d)
}

func (c *domainCache) RemoveDomain(ctx context.Context, tenant, name string) error {
	defer c.forget(tenant)
	return c.DomainStore.RemoveDomain(ctx, tenant, name)
}

// forget makes the next read of the tenant's list ask the store, whether
// the change succeeded or not.
func (c *domainCache) forget(tenant string) {
	c.lists.forget(func(k string, _ []Domain) bool { return k == tenant })
}

// CacheTokens returns a [TokenStore] over s that keeps the tokens
// FindToken found in memory for at most ttl, so that [Settings.Lookup],
// which runs on every request, costs no query for a token seen within ttl.
// A token that is not found is not kept: a new token works at once, and
// guessed tokens fill no memory.
//
// A token revoked through the returned store ([Settings.RevokeToken]) is
// refused from the revocation's return; one revoked on s directly, or by
// another process sharing s's database, keeps working for at most ttl. A
// ttl of 0 or less returns s itself.
func CacheTokens(s TokenStore, ttl time.Duration) TokenStore {
	if ttl <= 0 {
		return s
	}
	return &tokenCache{TokenStore: s, found: newTTLCache[scim.TokenHash, Token](ttl)}
}

type tokenCache struct {
	TokenStore
	found *ttlCache[scim.TokenHash, Token]
}

func (c *tokenCache) FindToken(ctx context.Context, h scim.TokenHash) (Token, error) {
	return c.found.get(h, func() (Token, error) { return c.TokenStore.FindToken(ctx, h) })
}

func (c *tokenCache) RevokeToken(ctx context.Context, tenant, id string, at time.Time) error {
	defer c.found.forget(func(_ scim.TokenHash, t Token) bool { return t.ID == id && t.Tenant == tenant })
	return c.TokenStore.RevokeToken(ctx, tenant, id, at)
}

// TouchToken forgets the token, so that FindToken shows its LastUsed; it
// runs once a minute per token ([Settings.Lookup]).
func (c *tokenCache) TouchToken(ctx context.Context, id string, at time.Time) error {
	defer c.found.forget(func(_ scim.TokenHash, t Token) bool { return t.ID == id })
	return c.TokenStore.TouchToken(ctx, id, at)
}

// ttlCache keeps values by key for at most ttl. A change calls forget,
// which also stops every read that began before it from storing what it
// read (it may predate the change).
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	now func() time.Time // replaced by tests

	mu  sync.RWMutex
	m   map[K]ttlEntry[V]
	gen uint64 // counts the calls of forget
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

// maxTTLEntries bounds a cache's map: past it, the map is emptied rather
// than grown, which costs a query per key once.
const maxTTLEntries = 10_000

func newTTLCache[K comparable, V any](ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, now: time.Now, m: map[K]ttlEntry[V]{}}
}

// get returns the value of key, from memory when it was read less than ttl
// ago, else from load, whose errors are returned and not kept.
func (c *ttlCache[K, V]) get(key K, load func() (V, error)) (V, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[key]
	gen := c.gen
	c.mu.RUnlock()
	if ok && !now.Before(e.at) && now.Sub(e.at) < c.ttl {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= maxTTLEntries {
			clear(c.m)
		}
		c.m[key] = ttlEntry[V]{v: v, at: now}
	}
	c.mu.Unlock()
	return v, nil
}

// forget drops the entries drop selects.
func (c *ttlCache[K, V]) forget(drop func(K, V) bool) {
	c.mu.Lock()
	c.gen++
	for k, e := range c.m {
		if drop(k, e.v) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}
