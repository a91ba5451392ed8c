package oauth

import (
	"cmp"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is a [Storage] in memory, for tests, demos and a single process
// that loads its clients at start-up. What it holds is lost on exit, and
// replicas do not share it: a host with several replicas uses
// github.com/scimhost/scim/oauth/oauthsql or its own Storage.
//
// The zero value is empty and ready to use. A Memory is safe for concurrent
// use and must not be copied after first use. Values are copied in and out:
// changing a returned Client's Federation changes nothing stored.
type Memory struct {
	mu      sync.RWMutex
	clients map[string]Client
	secrets map[string][]Secret // client id → its secrets, oldest first
}

var _ Storage = (*Memory)(nil)

var errEmptyID = errors.New("oauth: empty id")

func copyClient(c Client) Client {
	if c.Federation != nil {
		f := *c.Federation
		c.Federation = &f
	}
	return c
}

// CreateClient implements [ClientStorage].
func (m *Memory) CreateClient(_ context.Context, c Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[c.ID]; ok {
		return ErrExists
	}
	if m.clients == nil {
		m.clients = make(map[string]Client)
	}
	m.clients[c.ID] = copyClient(c)
	return nil
}

// Client implements [ClientStorage].
func (m *Memory) Client(_ context.Context, id string) (Client, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.clients[id]
	if !ok {
		return Client{}, ErrNotFound
	}
	return copyClient(c), nil
}

// UpdateClient implements [ClientStorage].
func (m *Memory) UpdateClient(_ context.Context, c Client) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.clients[c.ID]
	if !ok {
		return ErrNotFound
	}
	c.Tenant, c.Created = old.Tenant, old.Created
	m.clients[c.ID] = copyClient(c)
	return nil
}

// DeleteClient implements [ClientStorage].
func (m *Memory) DeleteClient(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[id]; !ok {
		return ErrNotFound
	}
	delete(m.clients, id)
	delete(m.secrets, id)
	return nil
}

// Clients implements [ClientStorage].
func (m *Memory) Clients(_ context.Context, tenant string) ([]Client, error) {
	m.mu.RLock()
	var out []Client
	for _, c := range m.clients {
		if c.Tenant == tenant {
			out = append(out, copyClient(c))
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Client) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// AddSecret implements [SecretStorage].
func (m *Memory) AddSecret(_ context.Context, s Secret) error {
	if s.ID == "" {
		return errEmptyID
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[s.ClientID]; !ok {
		return ErrNotFound
	}
	for _, o := range m.secrets[s.ClientID] {
		if o.ID == s.ID {
			return ErrExists
		}
	}
	if m.secrets == nil {
		m.secrets = make(map[string][]Secret)
	}
	all := append(m.secrets[s.ClientID], s)
	slices.SortStableFunc(all, func(a, b Secret) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	m.secrets[s.ClientID] = all
	return nil
}

// Secrets implements [SecretStorage].
func (m *Memory) Secrets(_ context.Context, clientID string) ([]Secret, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.secrets[clientID]), nil
}

// RevokeSecret implements [SecretStorage].
func (m *Memory) RevokeSecret(_ context.Context, clientID, secretID string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.secrets[clientID] {
		if s.ID == secretID {
			if s.Revoked.IsZero() {
				m.secrets[clientID][i].Revoked = at
			}
			return nil
		}
	}
	return ErrNotFound
}

// DeleteSecret implements [SecretStorage].
func (m *Memory) DeleteSecret(_ context.Context, clientID, secretID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := m.secrets[clientID]
	for i, s := range all {
		if s.ID == secretID {
			m.secrets[clientID] = slices.Delete(slices.Clone(all), i, i+1)
			return nil
		}
	}
	return ErrNotFound
}

// isLoopback reports whether host (without port) names this machine:
// "localhost" or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
