package oauth

import (
	"sync"
	"time"
)

// failures counts the failed token requests of each client in fixed
// windows. Secrets from [NewSecret] have 256 bits and no rate of guessing
// finds one; the bound is for secrets a host chose itself, and keeps a
// client that keeps failing (a stale secret in Entra ID) from filling the
// log at the rate it retries.
type failures struct {
	mu sync.Mutex
	m  map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	n     int
}

func newFailures() *failures { return &failures{m: map[string]*failureWindow{}} }

// blocked returns how long the client must wait when it has failed max
// times in the current window, else 0.
func (f *failures) blocked(id string, now time.Time, max int, window time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[id]
	if w == nil {
		return 0
	}
	if end := w.start.Add(window); now.Before(end) {
		if w.n >= max {
			return end.Sub(now)
		}
		return 0
	}
	delete(f.m, id)
	return 0
}

// fail counts a failure of the client.
func (f *failures) fail(id string, now time.Time, window time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[id]
	if w == nil || !now.Before(w.start.Add(window)) {
		w = &failureWindow{start: now}
		f.m[id] = w
	}
	w.n++
}
