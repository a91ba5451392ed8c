package scim_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// BenchmarkCursorPage reads the first and the last page (100 users each) of
// a walk over 100,000 users, by RFC 9865 cursor and, for contrast, by
// startIndex, through Handler and memstore. A cursor seeks to its key, so
// its last page costs what its first does; startIndex counts past every
// user before the page.
func BenchmarkCursorPage(b *testing.B) {
	const users, count = 100000, 100
	store := memstore.New()
	ctx := b.Context()
	for i := range users {
		if _, err := store.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("user%06d@contoso.com", i), Active: true}); err != nil {
			b.Fatal(err)
		}
	}
	h, err := scim.NewHandler(store, scim.Options{BaseURL: base})
	if err != nil {
		b.Fatal(err)
	}
	get := func(b *testing.B, target string) map[string]any {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		return decode(b, rec)
	}
	// Walk to the last page once, to hold its cursor.
	first := fmt.Sprintf("/Users?cursor&count=%d", count)
	last := first
	for {
		next, ok := get(b, last)["nextCursor"].(string)
		if !ok {
			break
		}
		last = fmt.Sprintf("/Users?count=%d&cursor=%s", count, url.QueryEscape(next))
	}
	// The setup's garbage must not be collected on the first case's time.
	runtime.GC()
	for _, bc := range []struct{ name, target string }{
		{"cursor=first", first},
		{"cursor=last", last},
		{"index=first", fmt.Sprintf("/Users?startIndex=1&count=%d", count)},
		{"index=last", fmt.Sprintf("/Users?startIndex=%d&count=%d", users-count+1, count)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.target, nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}
