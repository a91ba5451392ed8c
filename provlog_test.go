package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// collectSink keeps every entry it is given.
type collectSink struct {
	mu      sync.Mutex
	entries []scim.LogEntry
}

func (s *collectSink) Record(_ context.Context, es []scim.LogEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, es...)
	return nil
}

func (s *collectSink) all() []scim.LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

// logged serves reqs through BearerAuthLog and a handler sharing one queue,
// and returns the entries the sink received.
func logged(t *testing.T, opts scim.Options, lookup scim.TokenLookup, reqs []request) ([]scim.LogEntry, []*httptest.ResponseRecorder) {
	t.Helper()
	sink := new(collectSink)
	q := scim.NewLogQueue(sink, 0)
	opts.Log = q
	h := scim.BearerAuthLog(lookup, q)(newHandler(t, memstore.New(), opts))
	var recs []*httptest.ResponseRecorder
	for _, r := range reqs {
		recs = append(recs, serve(t, h, r))
	}
	if err := q.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sink.all(), recs
}

func TestProvisioningLog(t *testing.T) {
	var tokens scim.Tokens
	tok, hash := scim.NewToken()
	if err := tokens.Add("acme", hash); err != nil {
		t.Fatal(err)
	}
	auth := map[string]string{"Authorization": "Bearer " + tok, "User-Agent": "Azure AD Provisioning"}
	opts := scim.Options{AllowDomain: func(_ context.Context, d string) error {
		if d != "acme.com" {
			return fmt.Errorf("%w: not verified", scim.ErrDomainNotAllowed)
		}
		return nil
	}}
	entries, recs := logged(t, opts, tokens.Lookup, []request{
		{method: "GET", path: `/Users?filter=userName+eq+%2200000000-0000-4000-8000-000000000001%22`, header: auth},
		{method: "POST", path: "/Users", header: auth, body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ceo@acme.com","active":true}`},
		{method: "POST", path: "/Users", header: auth, body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"mallory@evil.example","active":true,"password":"hunter2"}`},
		{method: "GET", path: "/Users?filter=userName+eq+%22ceo@acme.com%22", header: auth},
		{method: "GET", path: "/Users/nope", header: auth},
	})
	if recs[1].Code != http.StatusCreated {
		t.Fatalf("create: %d %s", recs[1].Code, recs[1].Body)
	}
	if len(entries) != 5 {
		t.Fatalf("want 5 entries, got %d: %+v", len(entries), entries)
	}
	created := decode(t, recs[1])["id"].(string)

	tests := []struct {
		name  string
		got   scim.LogEntry
		check func(e scim.LogEntry) bool
	}{
		{"a connection test is a probe", entries[0], func(e scim.LogEntry) bool {
			return e.Probe && e.Status == 200 && e.Path == "/Users" && e.Query == "filter" && e.ResourceType == "User"
		}},
		{"a create names the user and its event", entries[1], func(e scim.LogEntry) bool {
			return e.Status == 201 && e.ResourceID == created && slices.Equal(e.Events, []scim.EventKind{scim.UserCreated}) && !e.Probe
		}},
		{"a refused domain keeps its detail", entries[2], func(e scim.LogEntry) bool {
			return e.Status == 400 && e.Type == scim.InvalidValue && strings.Contains(e.Detail, "evil.example") && e.Failed() && len(e.Events) == 0
		}},
		{"a query that finds a user is no probe", entries[3], func(e scim.LogEntry) bool { return !e.Probe && e.Status == 200 }},
		{"a read names its id", entries[4], func(e scim.LogEntry) bool {
			return e.Status == 404 && e.ResourceID == "nope" && e.Path == "/Users/nope"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.check(tt.got) {
				t.Errorf("entry: %+v", tt.got)
			}
		})
	}
	for _, e := range entries {
		if e.Tenant != "acme" || e.UserAgent != "Azure AD Provisioning" || e.Method == "" || e.Time.IsZero() || e.Duration <= 0 {
			t.Errorf("entry lacks the request's facts: %+v", e)
		}
		// Only a detail may name a person, and only the one it refuses.
		request := strings.Join([]string{e.Path, e.Query, e.UserAgent, e.Client}, " ")
		for _, secret := range []string{tok, "ceo@acme.com", "hunter2", "mallory"} {
			if strings.Contains(request, secret) || secret != "mallory" && strings.Contains(e.Detail, secret) {
				t.Errorf("entry carries %q: %+v", secret, e)
			}
		}
	}
}

// revokedLookup knows one revoked token of acme, and one disabled tenant.
func revokedLookup(_ context.Context, token string) (scim.Tenant, error) {
	switch token {
	case "revoked":
		return scim.Tenant{ID: "acme"}, scim.ErrUnknownToken
	case "off":
		return scim.Tenant{ID: "globex", Disabled: true}, nil
	case "oauth":
		return scim.Tenant{ID: "acme", Client: "entra-app"}, nil
	}
	return scim.Tenant{}, scim.ErrUnknownToken
}

func TestBearerAuthLogRefusals(t *testing.T) {
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	entries, recs := logged(t, scim.Options{}, revokedLookup, []request{
		{method: "GET", path: "/Users?filter=x", header: bearer("revoked")},
		{method: "GET", path: "/Users//42/", header: bearer("off")},
		{method: "GET", path: "/Users", header: bearer("stranger")},
		{method: "GET", path: "/Users"},
		{method: "GET", path: "/Groups", header: bearer("oauth")},
	})
	for i, want := range []int{401, 403, 401, 401, 200} {
		if recs[i].Code != want {
			t.Errorf("request %d: status %d, want %d", i, recs[i].Code, want)
		}
	}
	if len(entries) != 3 {
		t.Fatalf("want the revoked, the disabled and the OAuth request logged (strangers have no tenant), got %+v", entries)
	}
	if e := entries[0]; e.Tenant != "acme" || e.Status != 401 || e.Detail != "invalid bearer token" || e.Query != "filter" {
		t.Errorf("revoked token: %+v", e)
	}
	if e := entries[1]; e.Tenant != "globex" || e.Status != 403 || !strings.Contains(e.Detail, "switched off") || e.Path != "/Users/42" {
		t.Errorf("sync off: %+v", e)
	}
	if e := entries[2]; e.Client != "entra-app" || e.Status != 200 {
		t.Errorf("OAuth client: %+v", e)
	}
}

// blockingSink holds every Record until release is closed, or returns err.
type blockingSink struct {
	release chan struct{}
	err     error
	panics  bool
}

func (s *blockingSink) Record(ctx context.Context, _ []scim.LogEntry) error {
	if s.panics {
		panic("sink is broken")
	}
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	}
	return s.err
}

// TestSlowOrFailingSink: a sink that never returns, fails or panics
// changes no answer and holds up no request.
func TestSlowOrFailingSink(t *testing.T) {
	sinks := []struct {
		name string
		sink *blockingSink
	}{
		{"stuck", &blockingSink{release: make(chan struct{})}},
		{"failing", &blockingSink{err: errors.New("database is down")}},
		{"panicking", &blockingSink{panics: true}},
	}
	for _, tt := range sinks {
		t.Run(tt.name, func(t *testing.T) {
			q := scim.NewLogQueue(tt.sink, 16)
			h := newHandler(t, memstore.New(), scim.Options{Log: q})
			ctx := scim.WithTenant(t.Context(), scim.Tenant{ID: "acme"})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range 200 {
					req := httptest.NewRequestWithContext(ctx, "POST", "/Users", strings.NewReader(`{"userName":"u`+string(rune('a'+i%26))+strings.Repeat("x", i)+`"}`))
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusCreated {
						t.Errorf("request %d: %d %s", i, rec.Code, rec.Body)
					}
				}
			}()
			// The stuck sink is still stuck here: had a request waited for
			// it, the loop would not end.
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("requests wait for the sink")
			}
			if tt.sink.release != nil {
				if q.Dropped() == 0 {
					t.Error("a full queue dropped nothing")
				}
				close(tt.sink.release)
			}
			if err := q.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			if tt.sink.release == nil && q.Failed() == 0 {
				t.Error("the sink's failures are not counted")
			}
		})
	}
}

// TestFlushWithoutEntries: Flush returns at once on a queue that never had
// an entry, and a nil queue ignores entries.
func TestFlushWithoutEntries(t *testing.T) {
	q := scim.NewLogQueue(new(collectSink), 0)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := q.Flush(ctx); err != nil {
		t.Fatalf("Flush of an empty queue: %v", err)
	}
	var nilQueue *scim.LogQueue
	nilQueue.Add(scim.LogEntry{}) // does nothing, does not panic
}
