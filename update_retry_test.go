package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// staleReads is a store whose reads always carry a version the store no
// longer holds, as if another process wrote between every read and every
// write: each of the handler's read-modify-writes loses its race.
type staleReads struct {
	*memstore.Store
}

func (s staleReads) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	u, err := s.Store.GetUser(ctx, id, want)
	if u != nil {
		u.Meta.Version = "stale"
	}
	return u, err
}

// TestUpdateRetriesEnd: a PATCH that loses every race gives up with 409
// once its retries are spent (a count and a time; a count alone ran out
// within one burst of another process's in-store writes), and a request
// whose context ends stops retrying then, without waiting out the rest.
func TestUpdateRetriesEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the retries, about ten seconds")
	}
	ms := memstore.New()
	store := struct {
		scim.UserStore
		scim.UserUpdater
	}{staleReads{ms}, ms}
	policy := func(context.Context, *scim.User, *scim.User) error { return nil } // the read-first path
	h := newHandler(t, store, scim.Options{UserPolicies: []scim.UserPolicy{policy}})
	created := serve(t, h, request{method: "POST", path: "/Users", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com"}`})
	if created.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Code, created.Body)
	}
	var u struct{ ID string }
	if err := json.Unmarshal(created.Body.Bytes(), &u); err != nil || u.ID == "" {
		t.Fatalf("create: %v %s", err, created.Body)
	}
	id := u.ID
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Boss"}]}`

	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		r := httptest.NewRequest("PATCH", "/Users/"+id, strings.NewReader(patch)).WithContext(ctx)
		r.Header.Set("Content-Type", "application/scim+json")
		start := time.Now()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("the PATCH went on for %v after its context ended at 300ms", took)
		}
		if w.Code == http.StatusOK {
			t.Errorf("a PATCH that lost every race answered 200: %s", w.Body)
		}
	})
	t.Run("409", func(t *testing.T) {
		w := serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: patch})
		if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "being changed by other requests") {
			t.Fatalf("got %d %s, want 409 naming the contention", w.Code, w.Body)
		}
	})
	got, err := ms.GetUser(t.Context(), id, scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "" {
		t.Errorf("a refused PATCH stored title %q", got.Title)
	}
}

// racedGroups is a store on which a group's read-modify-write outside the
// store's lock loses its race: after each read of the group, up to rivals
// times, another writer (another process, say) renames it. Its UpdateGroup
// runs the update function under a lock of its own, not memstore's, so that
// the function may read the store, as a ReentrantReader's may; its
// ReentrantReads answers reentrant.
type racedGroups struct {
	*memstore.Store
	reentrant bool

	mu     sync.Mutex // UpdateGroup's atomic step
	rivals int        // renames still to come
	reads  int        // reads of the group outside UpdateGroup
}

func (s *racedGroups) ReentrantReads() bool { return s.reentrant }

func (s *racedGroups) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	g, err := s.Store.GetGroup(ctx, id, want)
	if err != nil {
		return g, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.rivals > 0 {
		s.rivals--
		rival, err := s.Store.GetGroup(ctx, id, scim.Projection{})
		if err != nil {
			return nil, err
		}
		rival.DisplayName = fmt.Sprintf("renamed %d", s.reads)
		if _, err := s.Store.ReplaceGroup(ctx, rival); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (s *racedGroups) UpdateGroup(ctx context.Context, id string, update func(*scim.Group) error) (*scim.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.Store.GetGroup(ctx, id, scim.Projection{})
	if err != nil {
		return nil, err
	}
	if err := update(g); err != nil {
		return nil, err
	}
	return s.Store.ReplaceGroup(ctx, g) // carries the version read: nobody wrote since
}

// TestUpdateLockedAfterLostRaces: a group PATCH on a host with group
// policies reads first and loses its race to another writer after every
// read. On a ReentrantReader it stops racing after 8 lost races and runs
// the change and the policy inside the store's atomic step, where the
// policy still reads the store; the result keeps the other writer's
// rename. When the store's reads are not reentrant the handler keeps
// racing, and wins once the other writer stops.
func TestUpdateLockedAfterLostRaces(t *testing.T) {
	const rivals = 20
	for _, tc := range []struct {
		reentrant bool
		reads     int // the handler's reads outside UpdateGroup
	}{
		{true, 8},
		{false, rivals + 1},
	} {
		t.Run(fmt.Sprintf("reentrant=%v", tc.reentrant), func(t *testing.T) {
			store := &racedGroups{Store: memstore.New(), reentrant: tc.reentrant}
			var seen []string // the displayName each policy call saw
			var policyErr error
			opts := scim.Options{GroupPolicies: []scim.GroupPolicy{func(ctx context.Context, old, g *scim.Group) error {
				if old == nil {
					return nil // the create
				}
				seen = append(seen, old.DisplayName)
				for _, m := range g.Members {
					if _, err := store.GetUser(ctx, m.Value, scim.Projection{}); err != nil {
						policyErr = err
						return err
					}
				}
				return nil
			}}}
			h := newHandler(t, store, opts)
			member := mustCreate(t, h, "/Users", `{"userName":"ada"}`)["id"].(string)
			id := mustCreate(t, h, "/Groups", `{"displayName":"Staff"}`)["id"].(string)
			store.mu.Lock()
			store.rivals, store.reads = rivals, 0
			store.mu.Unlock()

			rec := serve(t, h, request{method: "PATCH", path: "/Groups/" + id, body: patchOf(
				`{"op":"add","path":"members","value":[{"value":"`+member+`"}]}`,
				`{"op":"replace","path":"externalId","value":"staff-1"}`)})
			if rec.Code != http.StatusNoContent {
				t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
			}
			if policyErr != nil {
				t.Errorf("the policy's read of the store: %v", policyErr)
			}
			if store.reads != tc.reads {
				t.Errorf("the handler read the group %d times, want %d", store.reads, tc.reads)
			}
			g, err := store.Store.GetGroup(t.Context(), id, scim.Projection{})
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("renamed %d", min(tc.reads, rivals))
			if g.DisplayName != want || g.ExternalID != "staff-1" || len(g.Members) != 1 || g.Members[0].Value != member {
				t.Errorf("stored %q externalId %q members %v, want %q, staff-1 and %s", g.DisplayName, g.ExternalID, g.Members, want, member)
			}
			if last := seen[len(seen)-1]; last != want {
				t.Errorf("the last policy call saw %q, want %q: the change was not computed on the stored group", last, want)
			}
		})
	}
}
