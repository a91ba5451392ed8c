package scim_test

// Benchmarks of hostile requests beside the plain request each limit
// guards (issue 11); the README reports their ratios:
//
//	go test -run '^$' -bench 'Hostile' -benchmem -count 5 -cpu 1 . > hostile.txt
//	benchstat hostile.txt

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

// costliestFilters are filters at the default MaxFilterCost (32), each of a
// kind that no index answers and that matches no user, so every clause is
// evaluated on every user.
var costliestFilters = []struct{ name, filter string }{
	{"32-eq", balancedOr(strings.Split(orOf(32, func(i int) string { return fmt.Sprintf(`title eq "x%d"`, i) }), " or "))},
	{"16-co", balancedOr(strings.Split(orOf(16, func(i int) string { return fmt.Sprintf(`emails co "x%d"`, i) }), " or "))},
	{"8-value-paths", balancedOr(strings.Split(orOf(8, func(i int) string { return fmt.Sprintf(`emails[type eq "work" and value co "x%d"]`, i) }), " or "))},
	{"32-dateTime-gt", balancedOr(strings.Split(orOf(32, func(int) string { return `meta.lastModified gt "2099-01-01T00:00:00Z"` }), " or "))},
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
	all := strings.Split(orOf(31, func(i int) string { return fmt.Sprintf(`title eq "x%d"`, i) }), " or ")
	run("costliest=32-eq-all-match-sortBy", balancedOr(append(all, `title eq "Engineer"`))+"&sortBy=name.familyName&sortOrder=descending", http.StatusOK)
	run("refused=33-eq", orOf(33, func(i int) string { return fmt.Sprintf(`title eq "x%d"`, i) }), http.StatusBadRequest)
}
