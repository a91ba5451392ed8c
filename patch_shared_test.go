package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// TestPatchConcurrentUserUpdates sends 200 PATCHes and 40 PUTs to one
// user at once, each adding its own email, while others read the user and
// list it, and a host's OnChange scribbles on the user of every event:
// every request succeeds, every read sees a whole user, and the store
// keeps none of the scribbles. It runs with memstore's
// SharedUserUpdater (inside the store's atomic step, and outside it when
// AllowDomain is set) and with only its UserUpdater; under -race a reader
// that saw a value being changed fails.
func TestPatchConcurrentUserUpdates(t *testing.T) {
	const patches, puts, reads = 200, 40, 100
	allow := func(context.Context, string) error { return nil }
	for _, tc := range []struct {
		name  string
		store func(*memstore.Store) scim.Store
		opts  scim.Options
	}{
		{"SharedUserUpdater", func(s *memstore.Store) scim.Store { return s }, scim.Options{}},
		{"SharedUserUpdater, outside the store", func(s *memstore.Store) scim.Store { return s }, scim.Options{AllowDomain: allow}},
		{"UserUpdater", func(s *memstore.Store) scim.Store {
			return struct {
				scim.UserStore
				scim.UserUpdater
				scim.SharedUserReader
			}{s, s, s}
		}, scim.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.OnChange = func(_ context.Context, e scim.Event) {
				if e.User != nil {
					e.User.UserName = "scribbled"
					if len(e.User.Emails) > 0 {
						e.User.Emails[0].Value = "scribbled"
					}
				}
			}
			h := newHandler(t, tc.store(memstore.New()), tc.opts)
			path := "/Users/" + mustCreate(t, h, "/Users", `{"userName":"ada","emails":[{"value":"ada@contoso.com"}]}`)["id"].(string)
			var wg sync.WaitGroup
			codes := make([]int, patches+puts)
			for i := range patches + puts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := request{method: "PATCH", path: path, body: patchOf(fmt.Sprintf(`{"op":"add","path":"emails","value":[{"value":"u%d@contoso.com"}]}`, i))}
					if i >= patches {
						r = request{method: "PUT", path: path, body: `{"userName":"ada","emails":[{"value":"ada@contoso.com"}]}`}
					}
					codes[i] = serve(t, h, r).Code
				}()
			}
			for i := range reads {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := request{method: "GET", path: path}
					if i%2 == 1 {
						r = request{method: "GET", path: "/Users?filter=userName%20eq%20%22ada%22"}
					}
					if rec := serve(t, h, r); rec.Code != http.StatusOK || decode(t, rec) == nil {
						t.Errorf("%s: %d %s", r.path, rec.Code, rec.Body)
					}
				}()
			}
			wg.Wait()
			for i, c := range codes {
				if c != http.StatusOK {
					t.Errorf("request %d: %d", i, c)
				}
			}
			u := decode(t, serve(t, h, request{method: "GET", path: path}))
			if u["userName"] != "ada" {
				t.Errorf("userName %v: an event's scribble reached the store", u["userName"])
			}
			for _, e := range u["emails"].([]any) {
				if v := e.(map[string]any)["value"]; v == "scribbled" {
					t.Errorf("an email is %v: an event's scribble reached the store", v)
				}
			}
		})
	}
}

// TestPatchConcurrentUserNoLostUpdate: 300 concurrent PATCHes, each adding
// its own email to one user, all land, with and without the host
// callbacks that move the PATCH outside the store's atomic step.
func TestPatchConcurrentUserNoLostUpdate(t *testing.T) {
	const n = 300
	for _, opts := range []scim.Options{{}, {AllowDomain: func(context.Context, string) error { return nil }}} {
		h := newHandler(t, memstore.New(), opts)
		path := "/Users/" + mustCreate(t, h, "/Users", `{"userName":"ada"}`)["id"].(string)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := patchOf(fmt.Sprintf(`{"op":"add","path":"emails","value":[{"value":"u%d@contoso.com"}]}`, i))
				if rec := serve(t, h, request{method: "PATCH", path: path, body: body}); rec.Code != http.StatusOK {
					t.Errorf("PATCH %d: %d %s", i, rec.Code, rec.Body)
				}
			}()
		}
		wg.Wait()
		u := decode(t, serve(t, h, request{method: "GET", path: path}))
		if got := len(u["emails"].([]any)); got != n {
			t.Errorf("AllowDomain=%v: %d emails, want %d", opts.AllowDomain != nil, got, n)
		}
	}
}

// TestPatchHiddenExtensionAttribute: a PATCH that changes only an
// extension attribute the representation never shows (returned "never",
// writeOnly) is a change: it is stored, with a new version, and its event
// names the extension. Comparing representations missed it.
func TestPatchHiddenExtensionAttribute(t *testing.T) {
	const urn = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
	ext := scim.Extension{Schema: urn, Resource: "User", Attributes: []scim.Attribute{
		{Name: "pin", Type: scim.TypeString, Mutability: scim.MutabilityWriteOnly, Returned: scim.ReturnedNever},
		{Name: "badge", Type: scim.TypeString},
	}}
	var changed [][]string
	store := memstore.New()
	h := newHandler(t, store, scim.Options{Extensions: []scim.Extension{ext}, OnChange: func(_ context.Context, e scim.Event) {
		changed = append(changed, e.Changed)
	}})
	created := mustCreate(t, h, "/Users", `{"userName":"ada","`+urn+`":{"pin":"1234","badge":"7"}}`)
	path := "/Users/" + created["id"].(string)
	etag := serve(t, h, request{method: "GET", path: path}).Header().Get("ETag")
	rec := serve(t, h, request{method: "PATCH", path: path, body: patchOf(`{"op":"replace","path":"` + urn + `:pin","value":"9999"}`)})
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("ETag") == etag {
		t.Error("the PATCH kept the version: it was taken for no change")
	}
	u, err := store.GetUser(t.Context(), created["id"].(string), scim.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(u.Extra[urn]); !strings.Contains(got, `"9999"`) {
		t.Errorf("stored extension %s, want the new pin", got)
	}
	if len(changed) != 2 || len(changed[1]) != 1 || changed[1][0] != urn {
		t.Errorf("events' changed attributes %v, want the create's and [%s]", changed, urn)
	}
}
