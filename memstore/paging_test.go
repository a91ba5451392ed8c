package memstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// Pages of all users, and of a filter no index answers, are the users in
// creation order however many were deleted before, between or after them.
func TestPagingAfterDeletes(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	var live []string // ids in creation order
	rng := rand.New(rand.NewPCG(1, 2))
	filter, err := scim.ParseFilter(`active eq true`)
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, round int) {
		for _, f := range []scim.Filter{nil, filter} {
			for _, start := range []int{0, 1, 2, 1023, 1024, 1025, len(live) - 3, len(live), len(live) + 1} {
				for _, count := range []int{0, 1, 7, 1000} {
					page, err := s.ListUsers(ctx, scim.Query{Filter: f, StartIndex: start, Count: count})
					if err != nil {
						t.Fatal(err)
					}
					if page.TotalResults != len(live) {
						t.Fatalf("round %d, filter %v: TotalResults %d, want %d", round, f, page.TotalResults, len(live))
					}
					from := min(max(start, 1)-1, len(live))
					want := live[from:min(len(live), from+count)]
					if len(page.Resources) != len(want) {
						t.Fatalf("round %d, filter %v, startIndex %d, count %d: %d users, want %d", round, f, start, count, len(page.Resources), len(want))
					}
					for i, u := range page.Resources {
						if u.ID != want[i] {
							t.Fatalf("round %d, filter %v, startIndex %d, count %d: user %d is %s, want %s", round, f, start, count, i, u.ID, want[i])
						}
					}
				}
			}
		}
	}
	for round := range 6 {
		for i := range 1500 {
			u, err := s.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("r%d-%d", round, i), Active: true})
			if err != nil {
				t.Fatal(err)
			}
			live = append(live, u.ID)
		}
		// Delete a run (whole blocks of tombstones) and scattered users;
		// some rounds delete more than half, which compacts the list.
		n := 900 + 400*(round%2)
		lo := rng.IntN(len(live) - n)
		for _, id := range live[lo : lo+n/2] {
			if err := s.DeleteUser(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		live = append(live[:lo], live[lo+n/2:]...)
		for range n / 2 {
			j := rng.IntN(len(live))
			if err := s.DeleteUser(ctx, live[j]); err != nil {
				t.Fatal(err)
			}
			live = append(live[:j], live[j+1:]...)
		}
		check(t, round)
	}
}

// BenchmarkPage lists one page of 100 out of 100,000 users at the start and
// at the end, without a filter and with one no index answers: a late page
// costs what the first does (plus, with a filter, the evaluation every
// match count needs).
func BenchmarkPage(b *testing.B) {
	const users = 100_000
	ctx := context.Background()
	s := memstore.New()
	for i := range users {
		if _, err := s.CreateUser(ctx, &scim.User{UserName: "u" + strconv.Itoa(i), Active: true,
			Emails: []scim.MultiValue{{Value: "u" + strconv.Itoa(i) + "@contoso.com", Type: "work", Primary: true}}}); err != nil {
			b.Fatal(err)
		}
	}
	active, err := scim.ParseFilter(`active eq true`)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []struct {
		name   string
		filter scim.Filter
	}{{"none", nil}, {"active", active}} {
		for _, start := range []int{1, users - 99} {
			b.Run(fmt.Sprintf("filter=%s/startIndex=%d", f.name, start), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					page, err := s.ListUsers(ctx, scim.Query{Filter: f.filter, StartIndex: start, Count: 100})
					if err != nil || len(page.Resources) != 100 || page.TotalResults != users {
						b.Fatalf("%d users of %d, %v", len(page.Resources), page.TotalResults, err)
					}
				}
			})
		}
	}
}
