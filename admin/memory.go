package admin

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/scimhost/scim"
)

// Memory keeps tokens, sync switches and domains in memory: for tests, the
// demo, and a host that loads them from its own storage. It implements
// [TokenStore], [SyncStore] and [DomainStore].
//
// The zero value is empty and ready to use. A Memory is safe for
// concurrent use and must not be copied after first use.
type Memory struct {
	mu       sync.RWMutex
	tokens   map[string]*Token         // by ID
	byHash   map[scim.TokenHash]string // hash → ID
	disabled map[string]bool
	domains  map[string]map[string]Domain // tenant → name → domain
}

var (
	_ TokenStore  = (*Memory)(nil)
	_ SyncStore   = (*Memory)(nil)
	_ DomainStore = (*Memory)(nil)
)

// AddToken implements [TokenStore].
func (m *Memory) AddToken(_ context.Context, t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tokens[t.ID]; ok {
		return fmt.Errorf("admin: token %q: %w", t.ID, scim.ErrConflict)
	}
	if _, ok := m.byHash[t.Hash]; ok {
		return fmt.Errorf("admin: token hash: %w", scim.ErrConflict)
	}
	if m.tokens == nil {
		m.tokens, m.byHash = make(map[string]*Token), make(map[scim.TokenHash]string)
	}
	m.tokens[t.ID] = &t
	m.byHash[t.Hash] = t.ID
	return nil
}

// ListTokens implements [TokenStore].
func (m *Memory) ListTokens(_ context.Context, tenant string) ([]Token, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []Token{}
	for _, t := range m.tokens {
		if t.Tenant == tenant {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b Token) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RevokeToken implements [TokenStore].
func (m *Memory) RevokeToken(_ context.Context, tenant, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[id]
	if !ok || t.Tenant != tenant {
		return fmt.Errorf("admin: token %q: %w", id, scim.ErrNotFound)
	}
	if t.Revoked.IsZero() {
		t.Revoked = at
	}
	return nil
}

// FindToken implements [TokenStore].
func (m *Memory) FindToken(_ context.Context, h scim.TokenHash) (Token, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.byHash[h]
	if !ok {
		return Token{}, fmt.Errorf("admin: token: %w", scim.ErrNotFound)
	}
	return *m.tokens[id], nil
}

// TouchToken implements [TokenStore].
func (m *Memory) TouchToken(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens[id]; ok && at.After(t.LastUsed) {
		t.LastUsed = at
	}
	return nil
}

// SyncDisabled implements [SyncStore].
func (m *Memory) SyncDisabled(_ context.Context, tenant string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.disabled[tenant], nil
}

// SetSyncDisabled implements [SyncStore].
func (m *Memory) SetSyncDisabled(_ context.Context, tenant string, disabled bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !disabled {
		delete(m.disabled, tenant)
		return nil
	}
	if m.disabled == nil {
		m.disabled = make(map[string]bool)
	}
	m.disabled[tenant] = true
	return nil
}

// AddDomain implements [DomainStore].
func (m *Memory) AddDomain(_ context.Context, d Domain) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.domains[d.Tenant][d.Name]; ok {
		return fmt.Errorf("admin: domain %q: %w", d.Name, scim.ErrConflict)
	}
	if m.domains == nil {
		m.domains = make(map[string]map[string]Domain)
	}
	if m.domains[d.Tenant] == nil {
		m.domains[d.Tenant] = make(map[string]Domain)
	}
	m.domains[d.Tenant][d.Name] = d
	return nil
}

// ListDomains implements [DomainStore].
func (m *Memory) ListDomains(_ context.Context, tenant string) ([]Domain, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []Domain{}
	for _, d := range m.domains[tenant] {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Domain) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// GetDomain implements [DomainStore].
func (m *Memory) GetDomain(_ context.Context, tenant, name string) (Domain, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.domains[tenant][name]
	if !ok {
		return Domain{}, fmt.Errorf("admin: domain %q: %w", name, scim.ErrNotFound)
	}
	return d, nil
}

// UpdateDomain implements [DomainStore].
func (m *Memory) UpdateDomain(_ context.Context, d Domain) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.domains[d.Tenant][d.Name]
	if !ok {
		return fmt.Errorf("admin: domain %q: %w", d.Name, scim.ErrNotFound)
	}
	cur.Verified, cur.Checked, cur.CheckError = d.Verified, d.Checked, d.CheckError
	m.domains[d.Tenant][d.Name] = cur
	return nil
}

// RemoveDomain implements [DomainStore].
func (m *Memory) RemoveDomain(_ context.Context, tenant, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.domains[tenant][name]; !ok {
		return fmt.Errorf("admin: domain %q: %w", name, scim.ErrNotFound)
	}
	delete(m.domains[tenant], name)
	return nil
}

// DefaultMemoryLogSize is how many entries per tenant a [MemoryLog] keeps
// when NewMemoryLog is given 0.
const DefaultMemoryLogSize = 1000

// MemoryLog is a [LogStore] that keeps the newest entries of each tenant
// in a ring: when a tenant's ring is full, its oldest entry goes.
//
// A MemoryLog is safe for concurrent use. Make one with [NewMemoryLog].
type MemoryLog struct {
	size int
	mu   sync.RWMutex
	ring map[string]*ring
}

var _ LogStore = (*MemoryLog)(nil)

// ring is one tenant's entries; next is where the next entry goes.
type ring struct {
	entries []scim.LogEntry
	next    int
}

// NewMemoryLog returns a log keeping the newest size entries of each tenant
// (0 means [DefaultMemoryLogSize]; a negative size is treated as 0).
func NewMemoryLog(size int) *MemoryLog {
	if size <= 0 {
		size = DefaultMemoryLogSize
	}
	return &MemoryLog{size: size, ring: make(map[string]*ring)}
}

// Record implements [scim.LogSink]; it never fails.
func (l *MemoryLog) Record(_ context.Context, entries []scim.LogEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entries {
		r := l.ring[e.Tenant]
		if r == nil {
			r = &ring{}
			l.ring[e.Tenant] = r
		}
		if len(r.entries) < l.size {
			r.entries = append(r.entries, e)
			continue
		}
		r.entries[r.next] = e
		r.next = (r.next + 1) % l.size
	}
	return nil
}

// newestFirst calls yield with the tenant's entries, newest first, until it
// returns false. The caller holds l.mu.
func (l *MemoryLog) newestFirst(tenant string, yield func(*scim.LogEntry) bool) {
	r := l.ring[tenant]
	if r == nil {
		return
	}
	n := len(r.entries)
	for i := range n {
		// The newest entry is just before next (or last, while filling).
		j := (r.next - 1 - i + 2*n) % n
		if !yield(&r.entries[j]) {
			return
		}
	}
}

// ListLog implements [LogStore].
func (l *MemoryLog) ListLog(_ context.Context, tenant string, f LogFilter) ([]scim.LogEntry, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out, limit := []scim.LogEntry{}, f.EffectiveLimit()
	l.newestFirst(tenant, func(e *scim.LogEntry) bool {
		if f.Matches(e) {
			c := *e
			c.Events = slices.Clone(e.Events)
			out = append(out, c)
		}
		return len(out) < limit
	})
	// A ring is in arrival order; entries that arrived out of time order
	// (a slow request ends after a fast later one) are put in time order.
	slices.SortStableFunc(out, func(a, b scim.LogEntry) int { return b.Time.Compare(a.Time) })
	return out, nil
}

// LogClients implements [LogStore].
func (l *MemoryLog) LogClients(_ context.Context, tenant string) ([]string, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	seen := map[string]bool{}
	l.newestFirst(tenant, func(e *scim.LogEntry) bool {
		if c := cmp.Or(e.Client, e.UserAgent); c != "" {
			seen[c] = true
		}
		return len(seen) < maxLogClients
	})
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}

// maxLogClients caps LogClients.
const maxLogClients = 50
