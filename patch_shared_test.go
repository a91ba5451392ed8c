package scim_test

import (
	"context"
	"fmt"
	"net/http"
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
