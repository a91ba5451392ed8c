package main

import (
	"context"
	"sync"
	"testing"
	"time"
)

// countingSync is a SyncStore that counts its reads.
type countingSync struct {
	mu    sync.Mutex
	off   map[string]bool
	reads int
}

func (s *countingSync) SyncDisabled(_ context.Context, tenant string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.off[tenant], nil
}

func (s *countingSync) SetSyncDisabled(_ context.Context, tenant string, disabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.off[tenant] = disabled
	return nil
}

func TestSyncCache(t *testing.T) {
	ctx := context.Background()
	store := &countingSync{off: map[string]bool{}}
	c := newSyncCache(store)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	read := func(tenant string, want bool) {
		t.Helper()
		if off, err := c.SyncDisabled(ctx, tenant); err != nil || off != want {
			t.Fatalf("SyncDisabled(%s) = %v, %v; want %v", tenant, off, err, want)
		}
	}

	for range 3 {
		read("demo", false)
	}
	if store.reads != 1 {
		t.Errorf("three reads within a second asked the store %d times, want 1", store.reads)
	}
	// Through the cache, a change takes effect at once.
	if err := c.SetSyncDisabled(ctx, "demo", true); err != nil {
		t.Fatal(err)
	}
	read("demo", true)
	read("other", false)
	// A change another process made shows once the second is over.
	store.SetSyncDisabled(ctx, "demo", false)
	read("demo", true)
	now = now.Add(syncCacheFor)
	read("demo", false)
	// A clock that went back does not keep an old answer.
	store.SetSyncDisabled(ctx, "demo", true)
	now = now.Add(-time.Hour)
	read("demo", true)
}

// A read that began before a change made through the cache does not
// store the switch as it was.
func TestSyncCacheReadRacingAChange(t *testing.T) {
	ctx := context.Background()
	store := &countingSync{off: map[string]bool{}}
	c := newSyncCache(store)
	slow := &slowSync{countingSync: store, reading: make(chan struct{}), release: make(chan struct{})}
	c.SyncStore = slow
	done := make(chan bool)
	go func() {
		off, _ := c.SyncDisabled(ctx, "demo")
		done <- off
	}()
	<-slow.reading
	if err := c.SetSyncDisabled(ctx, "demo", true); err != nil {
		t.Fatal(err)
	}
	close(slow.release)
	if <-done {
		t.Fatal("the racing read saw the change it began before")
	}
	if off, _ := c.SyncDisabled(ctx, "demo"); !off {
		t.Error("the read that raced the change was kept: sync is still on")
	}
}

// slowSync's first read returns what the store held when it began, once
// released.
type slowSync struct {
	*countingSync
	once    sync.Once
	reading chan struct{}
	release chan struct{}
}

func (s *slowSync) SyncDisabled(ctx context.Context, tenant string) (bool, error) {
	off, err := s.countingSync.SyncDisabled(ctx, tenant)
	first := false
	s.once.Do(func() { first = true })
	if first {
		s.reading <- struct{}{}
		<-s.release
	}
	return off, err
}
