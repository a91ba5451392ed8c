package admin

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// countingMemory is a Memory that counts the reads a cache saves, and can
// run a function in the middle of a FindToken.
type countingMemory struct {
	Memory
	lists, finds atomic.Int64
	failList     atomic.Bool
	duringFind   func()
}

func (m *countingMemory) ListDomains(ctx context.Context, tenant string) ([]Domain, error) {
	m.lists.Add(1)
	if m.failList.Load() {
		return nil, errors.New("database down")
	}
	return m.Memory.ListDomains(ctx, tenant)
}

func (m *countingMemory) FindToken(ctx context.Context, h scim.TokenHash) (Token, error) {
	m.finds.Add(1)
	t, err := m.Memory.FindToken(ctx, h)
	if m.duringFind != nil {
		m.duringFind()
	}
	return t, err
}

// fakeClock is a settable time for a cache and a Settings.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestCacheDomains(t *testing.T) {
	ctx := scim.WithTenant(t.Context(), scim.Tenant{ID: "acme"})
	store := new(countingMemory)
	clock := &fakeClock{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	cached := CacheDomains(store, time.Second)
	cached.(*domainCache).lists.now = clock.now
	s := &Settings{Tokens: store, Sync: store, Domains: cached, Now: clock.now}
	allowed := func(domain string, want bool) {
		t.Helper()
		err := s.AllowDomain(ctx, domain)
		if got := err == nil; got != want {
			t.Fatalf("AllowDomain(%s) = %v; want allowed %v", domain, err, want)
		}
		if !want && !errors.Is(err, scim.ErrDomainNotAllowed) {
			t.Fatalf("AllowDomain(%s) = %v; want ErrDomainNotAllowed", domain, err)
		}
	}

	for range 3 {
		allowed("example.com", false)
	}
	if n := store.lists.Load(); n != 1 {
		t.Errorf("three checks within a second read the domains %d times, want 1", n)
	}
	// Through the cache, an added and verified domain is allowed at once.
	d, err := s.AddDomain(ctx, "acme", "example.com")
	if err != nil {
		t.Fatal(err)
	}
	allowed("example.com", false) // added, not verified
	d.Verified = clock.t
	if err := cached.UpdateDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	allowed("example.com", true)
	if got, err := cached.GetDomain(ctx, "acme", "example.com"); err != nil || !got.IsVerified() {
		t.Errorf("GetDomain = %+v, %v; want the verified domain", got, err)
	}
	// A list handed out is the caller's: changing it changes no later answer.
	ds, _ := cached.ListDomains(ctx, "acme")
	ds[0].Verified = time.Time{}
	allowed("example.com", true)

	// A removal made past the cache shows once the second is over.
	if err := store.RemoveDomain(ctx, "acme", "example.com"); err != nil {
		t.Fatal(err)
	}
	allowed("example.com", true)
	clock.t = clock.t.Add(time.Second)
	allowed("example.com", false)
	if _, err := cached.GetDomain(ctx, "acme", "example.com"); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("GetDomain of a removed domain = %v; want ErrNotFound", err)
	}

	// A failing store is an error, not a refusal, and is not kept.
	clock.t = clock.t.Add(time.Second)
	store.failList.Store(true)
	if err := s.AllowDomain(ctx, "example.com"); err == nil || errors.Is(err, scim.ErrDomainNotAllowed) {
		t.Errorf("AllowDomain with the store down = %v; want the store's error", err)
	}
	store.failList.Store(false)
	allowed("example.com", false)
}

func TestCacheTokens(t *testing.T) {
	ctx := t.Context()
	store := new(countingMemory)
	clock := &fakeClock{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	cached := CacheTokens(store, time.Second)
	cached.(*tokenCache).found.now = clock.now
	s := &Settings{Tokens: cached, Sync: store, Domains: store, Now: clock.now}
	works := func(secret string, want bool) {
		t.Helper()
		tn, err := s.Lookup(ctx, secret)
		switch {
		case want && (err != nil || tn.ID != "acme"):
			t.Fatalf("Lookup = %+v, %v; want acme", tn, err)
		case !want && !errors.Is(err, scim.ErrUnknownToken):
			t.Fatalf("Lookup = %+v, %v; want ErrUnknownToken", tn, err)
		}
	}

	first, rec1, err := s.CreateToken(ctx, "acme", "first")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		works(first, true)
	}
	// The first Lookup reads the token, records its use (which forgets
	// it, so that FindToken shows LastUsed) and the second reads it again.
	if n := store.finds.Load(); n != 2 {
		t.Errorf("three lookups within a second read the token %d times, want 2", n)
	}
	if got, _ := cached.FindToken(ctx, rec1.Hash); got.LastUsed.IsZero() {
		t.Error("FindToken through the cache does not show the token's use")
	}

	// Revoked through the cache: refused from the revocation's return.
	if err := s.RevokeToken(ctx, "acme", rec1.ID); err != nil {
		t.Fatal(err)
	}
	works(first, false)

	// Revoked past the cache: refused once the second is over.
	second, rec2, err := s.CreateToken(ctx, "acme", "second")
	if err != nil {
		t.Fatal(err)
	}
	works(second, true)
	works(second, true)
	if err := store.RevokeToken(ctx, "acme", rec2.ID, clock.t); err != nil {
		t.Fatal(err)
	}
	works(second, true)
	clock.t = clock.t.Add(time.Second)
	works(second, false)

	// A read that began before a revocation through the cache does not
	// keep what it read.
	third, rec3, err := s.CreateToken(ctx, "acme", "third")
	if err != nil {
		t.Fatal(err)
	}
	works(third, true) // records the use, so the next lookup only reads
	store.duringFind = func() {
		store.duringFind = nil
		if err := s.RevokeToken(ctx, "acme", rec3.ID); err != nil {
			t.Error(err)
		}
	}
	works(third, true) // read before the revocation
	works(third, false)

	// An unknown token is not kept: one created afterwards works at once.
	if _, err := s.Lookup(ctx, "scim_unknown"); !errors.Is(err, scim.ErrUnknownToken) {
		t.Errorf("Lookup of an unknown token = %v", err)
	}
	if n := len(cached.(*tokenCache).found.m); n > 3 {
		t.Errorf("the cache holds %d tokens, want at most the 3 that exist", n)
	}
}

func TestCacheZeroTTL(t *testing.T) {
	m := new(Memory)
	if CacheDomains(m, 0) != DomainStore(m) || CacheTokens(m, -1) != TokenStore(m) {
		t.Error("a ttl of 0 or less should return the store itself")
	}
}
