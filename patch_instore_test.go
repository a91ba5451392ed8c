package scim_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// readCounter counts the handler's reads of a user besides the store's
// atomic update.
type readCounter struct {
	*memstore.Store
	reads atomic.Int32
}

func (s *readCounter) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	s.reads.Add(1)
	return s.Store.GetUser(ctx, id, want)
}

func (s *readCounter) GetUserShared(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	s.reads.Add(1)
	return s.Store.GetUserShared(ctx, id, want)
}

// TestPatchRunsInsideTheStoresUpdate: a cheap PATCH on a host without user
// policies is one call of the store's UserUpdater, which checks If-Match
// on the version it holds; with a policy, or when it is costly, the handler
// reads first, as for a PUT.
func TestPatchRunsInsideTheStoresUpdate(t *testing.T) {
	const rename = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"B"}]}`
	policy := func(context.Context, *scim.User, *scim.User) error { return nil }
	for _, tt := range []struct {
		name      string
		opts      scim.Options
		body      string
		wantReads int32
	}{
		{"no policies", scim.Options{}, rename, 0},
		{"a user policy", scim.Options{UserPolicies: []scim.UserPolicy{policy}}, rename, 1},
		{"costly", scim.Options{MaxPatchCost: 20_000_000}, valuePathPatch("big", 200), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &readCounter{Store: memstore.New()}
			h := newHandler(t, store, tt.opts)
			created := mustCreate(t, h, "/Users", bigUserBody("big", 2000))
			id := created["id"].(string)
			store.reads.Store(0)
			rec := serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: tt.body})
			if rec.Code != http.StatusOK {
				t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
			}
			if got := store.reads.Load(); got != tt.wantReads {
				t.Errorf("the handler read the user %d times besides the update, want %d", got, tt.wantReads)
			}
			stale := request{method: "PATCH", path: "/Users/" + id, body: tt.body, header: map[string]string{"If-Match": `W/"1"`}}
			if rec := serve(t, h, stale); rec.Code != http.StatusPreconditionFailed {
				t.Errorf("PATCH with a stale If-Match: %d %s", rec.Code, rec.Body)
			}
		})
	}
}
