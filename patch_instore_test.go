package scim_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestPatchWithAllowDomainRunsInsideTheStoresUpdate: with AllowDomain set,
// a PATCH whose result introduces no address (Entra ID's title or active)
// is still one call of the store's update; one that adds an email is done
// again outside it, where the hook, which may query the store, is asked,
// and refuses or allows as it would have.
func TestPatchWithAllowDomainRunsInsideTheStoresUpdate(t *testing.T) {
	store := &readCounter{Store: memstore.New()}
	var asked []string
	var underLock bool
	allow := func(ctx context.Context, domain string) error {
		// A hook that reads the store, as admin's does through its
		// database, would wait for ever under memstore's update lock.
		read := make(chan error, 1)
		go func() {
			_, err := store.Store.ListUsers(ctx, scim.Query{Count: 1})
			read <- err
		}()
		select {
		case err := <-read:
			if err != nil {
				return err
			}
		case <-time.After(5 * time.Second):
			underLock = true
			return errors.New("the store did not answer")
		}
		asked = append(asked, domain)
		if domain != "contoso.com" {
			return scim.ErrDomainNotAllowed
		}
		return nil
	}
	h := newHandler(t, store, scim.Options{AllowDomain: allow})
	created := mustCreate(t, h, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@contoso.com","emails":[{"value":"ann@contoso.com"}]}`)
	id := created["id"].(string)
	patch := func(op string) *httptest.ResponseRecorder {
		return serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`})
	}
	for _, tt := range []struct {
		name      string
		op        string
		wantCode  int
		wantReads int32
		wantAsked []string
	}{
		{"title", `{"op":"replace","path":"title","value":"Boss"}`, http.StatusOK, 0, nil},
		{"active", `{"op":"replace","path":"active","value":false}`, http.StatusOK, 0, nil},
		{"an email on the same domain again", `{"op":"replace","path":"emails[value eq \"ann@contoso.com\"].type","value":"work"}`, http.StatusOK, 0, nil},
		{"an email on an allowed domain", `{"op":"add","path":"emails","value":[{"value":"ann2@contoso.com"}]}`, http.StatusOK, 1, []string{"contoso.com"}},
		{"an email on a refused domain", `{"op":"add","path":"emails","value":[{"value":"ann@fabrikam.com"}]}`, http.StatusBadRequest, 1, []string{"fabrikam.com"}},
		{"a userName on a refused domain", `{"op":"replace","path":"userName","value":"ann@fabrikam.com"}`, http.StatusBadRequest, 1, []string{"fabrikam.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store.reads.Store(0)
			asked, underLock = nil, false
			rec := patch(tt.op)
			if underLock {
				t.Fatal("AllowDomain was asked under the store's lock")
			}
			if rec.Code != tt.wantCode {
				t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
			}
			if got := store.reads.Load(); got != tt.wantReads {
				t.Errorf("the handler read the user %d times besides the update, want %d", got, tt.wantReads)
			}
			if !slices.Equal(asked, tt.wantAsked) {
				t.Errorf("AllowDomain was asked %q, want %q", asked, tt.wantAsked)
			}
		})
	}
	got := serve(t, h, request{method: "GET", path: "/Users/" + id}).Body.String()
	if !strings.Contains(got, "ann2@contoso.com") || strings.Contains(got, "fabrikam") || !strings.Contains(got, `"title":"Boss"`) {
		t.Errorf("the user after the PATCHes: %s", got)
	}
}
