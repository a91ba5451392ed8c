package scim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// eventLog records OnChange calls.
type eventLog struct {
	mu     sync.Mutex
	events []scim.Event
}

func (l *eventLog) record(_ context.Context, e scim.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// take returns the events recorded since the last take, reduced to what the
// tests compare.
func (l *eventLog) take() []scim.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	for i := range out {
		out[i].User, out[i].Group = nil, nil
	}
	return out
}

func TestEventsFireOncePerChange(t *testing.T) {
	var log eventLog
	h := newHandler(t, memstore.New(), scim.Options{
		OnChange: log.record,
		AllowDomain: func(_ context.Context, d string) error {
			return map[string]error{"bad.example": fmt.Errorf("%w: no", scim.ErrDomainNotAllowed)}[d]
		},
	})
	// Events carry the tenant the request acts for.
	ctx := scim.WithTenant(context.Background(), scim.Tenant{ID: "t1"})
	tenantH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r.WithContext(ctx)) })
	do := func(r request) int { return serve(t, tenantH, r).Code }
	u := mustCreate(t, tenantH, "/Users", `{"userName":"ada","title":"Engineer"}`)
	uid := u["id"].(string)
	if evs := log.take(); len(evs) != 1 || evs[0].Kind != scim.UserCreated || evs[0].Tenant != "t1" || evs[0].ID != uid {
		t.Fatalf("create: events %+v", evs)
	}
	steps := []struct {
		name   string
		req    request
		status int
		want   []scim.Event
	}{
		{"replace with the same content changes nothing",
			request{method: "PUT", path: "/Users/" + uid, body: `{"userName":"ada","title":"Engineer"}`}, 200, nil},
		{"deactivate",
			request{method: "PUT", path: "/Users/" + uid, body: `{"userName":"ada","title":"Engineer","active":false}`}, 200,
			[]scim.Event{{Kind: scim.UserDeactivated, Tenant: "t1", ResourceType: "User", ID: uid, Changed: []string{"active"}}}},
		{"reactivate and retitle",
			request{method: "PUT", path: "/Users/" + uid, body: `{"userName":"ada","title":"CTO"}`}, 200,
			[]scim.Event{{Kind: scim.UserReactivated, Tenant: "t1", ResourceType: "User", ID: uid, Changed: []string{"active", "title"}}}},
		{"a refused write raises nothing",
			request{method: "PUT", path: "/Users/" + uid, body: `{"userName":"ada","emails":[{"value":"ada@bad.example"}]}`}, 400, nil},
		{"a failed create raises nothing",
			request{method: "POST", path: "/Users", body: `{"userName":"ADA"}`}, 409, nil},
		{"create a group with a member",
			request{method: "POST", path: "/Groups", body: `{"displayName":"Ops","members":[{"value":"` + uid + `"}]}`}, 201,
			nil /* checked below: the id is new */},
	}
	for _, s := range steps {
		if got := do(s.req); got != s.status {
			t.Fatalf("%s: status %d, want %d", s.name, got, s.status)
		}
		evs := log.take()
		if s.name == "create a group with a member" {
			if len(evs) != 2 || evs[0].Kind != scim.GroupCreated || evs[1].Kind != scim.MembersAdded || !slices.Equal(evs[1].Members, []string{uid}) {
				t.Errorf("%s: events %+v", s.name, evs)
			}
			continue
		}
		if diff := cmp.Diff(s.want, evs, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", s.name, diff)
		}
	}
	if got := do(request{method: "DELETE", path: "/Users/" + uid}); got != 204 {
		t.Fatalf("delete: %d", got)
	}
	evs := log.take()
	if len(evs) != 1 || evs[0].Kind != scim.UserDeleted || evs[0].ID != uid {
		t.Errorf("delete events: %+v", evs)
	}
	if got := do(request{method: "DELETE", path: "/Users/" + uid}); got != 404 || len(log.take()) != 0 {
		t.Errorf("deleting a deleted user: %d, events raised", got)
	}
}

func TestGroupReplaceEvents(t *testing.T) {
	var log eventLog
	h := newHandler(t, memstore.New(), scim.Options{OnChange: log.record})
	g := mustCreate(t, h, "/Groups", `{"displayName":"Ops","members":[{"value":"u1"},{"value":"u2"}]}`)
	gid := g["id"].(string)
	log.take()
	rec := serve(t, h, request{method: "PUT", path: "/Groups/" + gid, body: `{"displayName":"SRE","externalId":"x","members":[{"value":"u2"},{"value":"u3"}]}`})
	if rec.Code != 200 {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	want := []scim.Event{
		{Kind: scim.GroupRenamed, ResourceType: "Group", ID: gid, Changed: []string{"displayName"}},
		{Kind: scim.GroupUpdated, ResourceType: "Group", ID: gid, Changed: []string{"externalId"}},
		{Kind: scim.MembersAdded, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u3"}},
		{Kind: scim.MembersRemoved, ResourceType: "Group", ID: gid, Changed: []string{"members"}, Members: []string{"u1"}},
	}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestPolicies(t *testing.T) {
	active := 0
	h := newHandler(t, memstore.New(), scim.Options{UserPolicies: []scim.UserPolicy{
		scim.RequireEmail,
		scim.SeatLimit(seats(1), func(context.Context) (int, error) { return active, nil }),
	}})
	wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"noemail"}`}), 400, "invalidValue", "requires an email")
	u := mustCreate(t, h, "/Users", `{"userName":"first","emails":[{"value":"first@example.com"}]}`)
	active = 1
	wantError(t, serve(t, h, request{method: "POST", path: "/Users", body: `{"userName":"second","emails":[{"value":"second@example.com"}]}`}), 403, "", "seat limit of 1 reached")
	// Updating an active user is never refused by the seat limit.
	if rec := serve(t, h, request{method: "PUT", path: "/Users/" + u["id"].(string), body: `{"userName":"first","emails":[{"value":"first@example.com"}],"title":"x"}`}); rec.Code != 200 {
		t.Errorf("update at the seat limit: %d %s", rec.Code, rec.Body)
	}
	// A failing count is the host's failure, not the client's.
	h2 := newHandler(t, memstore.New(), scim.Options{UserPolicies: []scim.UserPolicy{
		scim.SeatLimit(seats(1), func(context.Context) (int, error) { return 0, errors.New("db down: secret dsn") }),
	}})
	rec := serve(t, h2, request{method: "POST", path: "/Users", body: `{"userName":"x"}`})
	wantError(t, rec, 503, "", "could not check the user against its policies; try again later")
	if strings.Contains(rec.Body.String(), "secret dsn") {
		t.Errorf("the cause reached the client: %s", rec.Body)
	}
}

// seats is a SeatLimit limit function: n seats in every tenant.
func seats(n int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { return n, nil }
}

// TestPolicyMayQueryTheStore: SeatLimit counts active users through the
// store while a reactivation is being written, which must not deadlock on
// the store's own lock (memstore's UpdateUser holds it).
func TestPolicyMayQueryTheStore(t *testing.T) {
	store := memstore.New()
	countActive := func(ctx context.Context) (int, error) {
		active, _ := scim.ParseFilter("active eq true")
		page, err := store.ListUsers(ctx, scim.Query{Filter: active, StartIndex: 1})
		return page.TotalResults, err
	}
	h := newHandler(t, store, scim.Options{UserPolicies: []scim.UserPolicy{scim.SeatLimit(seats(1), countActive)}})
	a := mustCreate(t, h, "/Users", `{"userName":"a","active":false}`)["id"].(string)
	b := mustCreate(t, h, "/Users", `{"userName":"b","active":false}`)["id"].(string)
	done := make(chan [3]int, 1)
	go func() {
		done <- [3]int{
			serve(t, h, request{method: "PUT", path: "/Users/" + a, body: `{"userName":"a","active":true}`}).Code,
			serve(t, h, request{method: "PATCH", path: "/Users/" + b, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`}).Code,
			serve(t, h, request{method: "PATCH", path: "/Users/" + a, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`}).Code,
		}
	}()
	select {
	case got := <-done:
		// a takes the one seat; b is refused; deactivating a is always allowed.
		if got != [3]int{200, 403, 200} {
			t.Errorf("statuses %v, want [200 403 200]", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a policy that queries the store deadlocked the write")
	}
}

// TestHookFailuresAre503: a hook that could not decide (its lookup failed)
// answers 503 with a generic detail and logs the cause; it never refuses
// as if it had decided.
func TestHookFailuresAre503(t *testing.T) {
	errLookup := errors.New("lookup failed: secret dsn")
	cases := []struct {
		name   string
		opts   scim.Options
		path   string
		body   string
		detail string
	}{
		{"AllowDomain", scim.Options{AllowDomain: func(context.Context, string) error { return errLookup }},
			"/Users", `{"userName":"ada@contoso.com"}`, "could not check the email domain of userName"},
		{"AllowDomain wrapping", scim.Options{AllowDomain: func(context.Context, string) error { return fmt.Errorf("domains: %w", errLookup) }},
			"/Users", `{"userName":"ada","emails":[{"value":"ada@contoso.com"}]}`, "could not check the email domain of emails.value"},
		{"UserPolicy", scim.Options{UserPolicies: []scim.UserPolicy{func(context.Context, *scim.User, *scim.User) error { return errLookup }}},
			"/Users", `{"userName":"ada"}`, "could not check the user against its policies"},
		{"GroupPolicy", scim.Options{GroupPolicies: []scim.GroupPolicy{func(context.Context, *scim.Group, *scim.Group) error { return errLookup }}},
			"/Groups", `{"displayName":"Sales"}`, "could not check the group against its policies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.opts.Logger = slog.New(slog.NewTextHandler(&buf, nil))
			h := newHandler(t, memstore.New(), tc.opts)
			rec := serve(t, h, request{method: "POST", path: tc.path, body: tc.body})
			wantError(t, rec, 503, "", tc.detail)
			if strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("the cause reached the client: %s", rec.Body)
			}
			if !strings.Contains(buf.String(), "lookup failed: secret dsn") || !strings.Contains(buf.String(), "level=ERROR") {
				t.Errorf("the cause was not logged:\n%s", buf.String())
			}
		})
	}
}
