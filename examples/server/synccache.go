package main

import (
	"context"
	"sync"
	"time"

	"github.com/scimhost/scim/admin"
)

// syncCache keeps each workspace's sync switch in memory for at most
// syncCacheFor, so that a SCIM request does not read it from the SQL
// database: every request checks it, and the read was a fifth of the
// demo's CPU time on SQLite. A switch changed through the cache (the
// admin page of this process) takes effect at once; one changed by
// another process sharing the database, within syncCacheFor.
type syncCache struct {
	admin.SyncStore
	now func() time.Time

	mu  sync.RWMutex
	off map[string]syncCached // tenant →
	// gen counts the changes made through the cache: a read that began
	// before one does not store what it read.
	gen uint64
}

// syncCacheFor bounds how long a switch is answered from memory.
const syncCacheFor = time.Second

type syncCached struct {
	off bool
	at  time.Time
}

func newSyncCache(s admin.SyncStore) *syncCache {
	return &syncCache{SyncStore: s, now: time.Now, off: map[string]syncCached{}}
}

// SyncDisabled implements [admin.SyncStore].
func (c *syncCache) SyncDisabled(ctx context.Context, tenant string) (bool, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.off[tenant]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Sub(e.at) < syncCacheFor && !now.Before(e.at) {
		return e.off, nil
	}
	off, err := c.SyncStore.SyncDisabled(ctx, tenant)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.off[tenant] = syncCached{off: off, at: now}
	}
	c.mu.Unlock()
	return off, nil
}

// SetSyncDisabled implements [admin.SyncStore]: the next read asks the
// store again, whether the change succeeded or not.
func (c *syncCache) SetSyncDisabled(ctx context.Context, tenant string, disabled bool) error {
	err := c.SyncStore.SetSyncDisabled(ctx, tenant, disabled)
	c.mu.Lock()
	c.gen++
	delete(c.off, tenant)
	c.mu.Unlock()
	return err
}
