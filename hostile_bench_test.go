package scim_test

// Benchmarks of hostile requests beside the plain request each limit
// guards (issue 11); the README reports their ratios:
//
//	go test -run '^$' -bench 'Hostile' -benchmem -count 5 -cpu 1 . > hostile.txt
//	benchstat hostile.txt

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// tenantOf100k is a handler over a memstore tenant of 100,000 users like
// Entra ID's, built once.
var tenantOf100k = sync.OnceValues(func() (*scim.Handler, error) {
	s := memstore.New()
	for i := range 100_000 {
		name := fmt.Sprintf("user%06d", i)
		_, err := s.CreateUser(context.Background(), &scim.User{
			UserName: name + "@contoso.com", ExternalID: name, DisplayName: "User " + name, Title: "Engineer", Active: true,
			Name:   scim.Name{GivenName: "User", FamilyName: name},
			Emails: []scim.MultiValue{{Value: name + "@contoso.com", Type: "work", Primary: true}},
		})
		if err != nil {
			return nil, err
		}
	}
	return scim.NewHandler(s, scim.Options{BaseURL: base})
})

// costliestFilters are filters at the default MaxFilterCost (20), each of a
// kind that no index answers and that matches no user, so every clause is
// evaluated on every user.
var costliestFilters = []struct{ name, filter string }{
	{"20-eq", balancedOr(strings.Split(orOf(20, func(i int) string { return fmt.Sprintf(`title eq "x%d"`, i) }), " or "))},
	{"10-co", balancedOr(strings.Split(orOf(10, func(i int) string { return fmt.Sprintf(`emails co "x%d"`, i) }), " or "))},
	{"5-value-paths", balancedOr(strings.Split(orOf(5, func(i int) string { return fmt.Sprintf(`emails[type eq "work" and value co "x%d"]`, i) }), " or "))},
	{"20-dateTime-gt", balancedOr(strings.Split(orOf(20, func(int) string { return `meta.lastModified gt "2099-01-01T00:00:00Z"` }), " or "))},
}

func BenchmarkHostileFilter(b *testing.B) {
	h, err := tenantOf100k()
	if err != nil {
		b.Fatal(err)
	}
	run := func(name, filter string, status int) {
		filter, extra, _ := strings.Cut(filter, "&")
		b.Run(name, func(b *testing.B) {
			path := "/Users?count=100&filter=" + urlQueryEscape(filter) + "&" + extra
			b.ReportAllocs()
			for b.Loop() {
				if rec := serve(b, h, request{method: "GET", path: path}); rec.Code != status {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
	run("plain=userName-eq", `userName eq "user050000@contoso.com"`, http.StatusOK)
	run("plain=one-clause-scan", `title eq "x"`, http.StatusOK)
	for _, f := range costliestFilters {
		run("costliest="+f.name, f.filter, http.StatusOK)
	}
	// Every clause evaluated, every user matching, then sorted.
	all := strings.Split(orOf(19, func(i int) string { return fmt.Sprintf(`title eq "x%d"`, i) }), " or ")
	run("costliest=20-eq-all-match-sortBy", balancedOr(append(all, `title eq "Engineer"`))+"&sortBy=name.familyName&sortOrder=descending", http.StatusOK)
	run("refused=21-eq", orOf(21, func(i int) string { return fmt.Sprintf(`title eq "x%d"`, i) }), http.StatusBadRequest)
}

// BenchmarkHostilePatch is the 1,000-operation PATCH on a user with
// 10,000 emails beside the incremental-cycle PATCH Entra ID sends on a
// typical user: refused by MaxPatchCost (the default) and, with the bound
// raised past it, answered.
func BenchmarkHostilePatch(b *testing.B) {
	patch := func(b *testing.B, h http.Handler, id, body string, status int) {
		b.ReportAllocs()
		for b.Loop() {
			if rec := serve(b, h, request{method: "PATCH", path: "/Users/" + id, body: body}); rec.Code != status {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	}
	b.Run("plain=entra-patch", func(b *testing.B) {
		h := newHandler(b, memstore.New(), scim.Options{})
		id := mustCreate(b, h, "/Users", entraUserBody("bjensen"))["id"].(string)
		patch(b, h, id, entraPatchDefault, http.StatusOK)
	})
	hostile := valuePathPatch("big", 1000)
	for _, c := range []struct {
		name   string
		limit  int
		status int
	}{
		{"hostile=refused", 0, http.StatusRequestEntityTooLarge},
		{"hostile=answered", 20_000_000, http.StatusOK},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHandler(b, memstore.New(), scim.Options{MaxPatchCost: c.limit, MaxBodyBytes: 4 << 20})
			id := mustCreate(b, h, "/Users", bigUserBody("big", 10000))["id"].(string)
			patch(b, h, id, hostile, c.status)
		})
	}
}

// BenchmarkHostileOtherTenant is one tenant's GET /Users/{id} while
// another tenant sends the 1,000-operation PATCH on a 10,000-email user
// back to back, answered (MaxPatchCost raised past it, the worst case: the
// PATCH computes for most of a second) or refused (the default). It
// reports the slowest GET as max-ms: the stall the other tenant sees.
func BenchmarkHostileOtherTenant(b *testing.B) {
	for _, c := range []struct {
		name  string
		limit int
		load  bool
	}{
		{"plain=get-alone", 0, false},
		{"get-during-refused-patch", 0, true},
		{"get-during-answered-patch", 20_000_000, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			var tokens scim.Tokens
			tokens.Add("attacker", scim.HashToken("scim_attacker"))
			tokens.Add("victim", scim.HashToken("scim_victim"))
			h := scim.BearerAuth(tokens.Lookup)(newHandler(b, memstore.New(), scim.Options{MaxPatchCost: c.limit, MaxBodyBytes: 4 << 20}))
			as := func(token string, r request) request {
				r.header = map[string]string{"Authorization": "Bearer " + token}
				return r
			}
			rec := serve(b, h, as("scim_attacker", request{method: "POST", path: "/Users", body: bigUserBody("big", 10000)}))
			bigID := decode(b, rec)["id"].(string)
			rec = serve(b, h, as("scim_victim", request{method: "POST", path: "/Users", body: entraUserBody("bjensen")}))
			victimGet := as("scim_victim", request{method: "GET", path: "/Users/" + decode(b, rec)["id"].(string)})
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if c.load {
				body := valuePathPatch("big", 1000)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						serve(b, h, as("scim_attacker", request{method: "PATCH", path: "/Users/" + bigID, body: body}))
					}
				}()
			}
			var slowest time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if rec := serve(b, h, victimGet); rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				slowest = max(slowest, time.Since(t0))
			}
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(slowest)/float64(time.Millisecond), "max-ms")
		})
	}
}

// BenchmarkHostileCreate is memstore's create of a user with 10,000 emails
// (linear in their number) beside Entra ID's create of a typical user.
func BenchmarkHostileCreate(b *testing.B) {
	for _, c := range []struct {
		name string
		body func(i int) string
	}{
		{"plain=entra-create", func(i int) string { return entraUserBody(fmt.Sprintf("u%d", i)) }},
		{"emails=2500", func(i int) string { return bigUserBody(fmt.Sprintf("u%d", i), 2500) }},
		{"emails=10000", func(i int) string { return bigUserBody(fmt.Sprintf("u%d", i), 10000) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHandler(b, memstore.New(), scim.Options{MaxBodyBytes: 4 << 20})
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				if rec := serve(b, h, request{method: "POST", path: "/Users", body: c.body(i)}); rec.Code != http.StatusCreated {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkHostileList is a page of users with 10,000 emails each (half a
// megabyte apiece), asked for with count=1000 and cut at the default
// MaxResponseBytes, beside a page of 100 users as Entra ID creates them.
// B/op is the point: without the budget the same page of 60 users would be
// 30 MB.
func BenchmarkHostileList(b *testing.B) {
	for _, c := range []struct {
		name string
		n    int
		body func(i int) string
	}{
		{"plain=100-entra-users", 100, func(i int) string { return entraUserBody(fmt.Sprintf("u%d", i)) }},
		{"hostile=60-users-of-10000-emails", 60, func(i int) string { return bigUserBody(fmt.Sprintf("u%d", i), 10000) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHandler(b, memstore.New(), scim.Options{MaxBodyBytes: 4 << 20})
			for i := range c.n {
				mustCreate(b, h, "/Users", c.body(i))
			}
			var size int
			b.ReportAllocs()
			for b.Loop() {
				rec := serve(b, h, request{method: "GET", path: "/Users?count=1000"})
				if rec.Code != http.StatusOK || rec.Body.Len() > scim.DefaultMaxResponseBytes {
					b.Fatalf("%d, %d bytes", rec.Code, rec.Body.Len())
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "resp-bytes")
		})
	}
}

// BenchmarkHostileHTTPCreate is Entra ID's create over a real loopback
// connection, where the body read deadline (one SetReadDeadline call) is
// in force; compare it with the same benchmark on a commit without the
// deadline to see what the guard costs.
func BenchmarkHostileHTTPCreate(b *testing.B) {
	h := newHandler(b, memstore.New(), scim.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := srv.Client()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		resp, err := c.Post(srv.URL+"/Users", "application/scim+json", strings.NewReader(entraUserBody(fmt.Sprintf("h%d", i))))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatal(resp.StatusCode)
		}
	}
}
