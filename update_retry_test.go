package scim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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
