package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scimhost/scim"
)

// keysetChecks check the optional capability scim.UserKeysetLister; a
// store without it skips them, unless it declared [UserKeysetLister].
var keysetChecks = []check{
	{"WalkSeesEveryLivingUserOnce", UserKeysetLister, testKeysetWalk},
	{"BackwardRetracesForward", UserKeysetLister, testKeysetBackward},
}

// keysetWalkUsers is how many users live through the walk.
const keysetWalkUsers = 20000

// testKeysetWalk walks 20,000 users by key, 100 a page, while other
// goroutines create users and delete others: every user that existed for
// the whole walk is returned exactly once, and no user twice.
func testKeysetWalk(t *testing.T, s scim.Store, _ *config) {
	k := s.(scim.UserKeysetLister)
	ctx := t.Context()
	stable := make(map[string]bool, keysetWalkUsers)
	var doomed []string
	for i := range keysetWalkUsers + 2000 {
		u, err := s.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("walk%05d@example.com", i), Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if i%11 == 5 && len(doomed) < 2000 {
			doomed = append(doomed, u.ID)
		} else {
			stable[u.ID] = true
		}
	}
	// The churn runs beside the walk, paced by it: after each page the
	// deleter removes the next ten doomed users (in creation order, so
	// around the walk's position, behind it and ahead) and the creator adds
	// ten users, so a walk that counts positions instead of seeking keys
	// skips users.
	var done atomic.Bool
	var wg sync.WaitGroup
	var churnErr atomic.Value
	pageDone := [2]chan struct{}{make(chan struct{}, 1000), make(chan struct{}, 1000)}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range pageDone[0] {
			for range 10 {
				if len(doomed) == 0 {
					break
				}
				if err := s.DeleteUser(ctx, doomed[0]); err != nil {
					churnErr.Store(err)
					return
				}
				doomed = doomed[1:]
			}
		}
	}()
	go func() {
		defer wg.Done()
		n := 0
		for range pageDone[1] {
			for range 10 {
				if _, err := s.CreateUser(ctx, &scim.User{UserName: fmt.Sprintf("new%05d@example.com", n), Active: true}); err != nil {
					churnErr.Store(err)
					return
				}
				n++
			}
		}
	}()
	stop := func() {
		if !done.Swap(true) {
			close(pageDone[0])
			close(pageDone[1])
			wg.Wait()
		}
	}
	defer stop()
	seen := make(map[string]int, keysetWalkUsers+7000)
	pos := scim.Keyset{}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		p, err := k.ListUsersKeyset(ctx, scim.Query{Count: 100}, pos)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if len(p.Resources) > 100 {
			t.Fatalf("page %d has %d users, more than Count", pages, len(p.Resources))
		}
		for _, u := range p.Resources {
			seen[u.ID]++
		}
		if !p.More {
			break
		}
		if len(p.Resources) == 0 || p.Last == "" {
			t.Fatalf("page %d: More with no users or no Last key", pages)
		}
		pos = scim.Keyset{Key: p.Last}
		pageDone[0] <- struct{}{}
		pageDone[1] <- struct{}{}
	}
	stop()
	if err, _ := churnErr.Load().(error); err != nil {
		t.Fatalf("creating or deleting during the walk: %v", err)
	}
	missing := 0
	for id := range stable {
		if seen[id] == 0 {
			missing++
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("user %s returned %d times", id, n)
		}
	}
	if missing > 0 {
		t.Errorf("%d of the %d users that lived through the walk were not returned", missing, len(stable))
	}
}

// testKeysetBackward: pages read backward from the end, each before the
// First of the last, return the users in the order a forward walk does.
func testKeysetBackward(t *testing.T, s scim.Store, _ *config) {
	k := s.(scim.UserKeysetLister)
	ctx := t.Context()
	for i := range 25 {
		createUser(t, s, &scim.User{UserName: fmt.Sprintf("back%02d@example.com", i), Active: true})
	}
	var forward []string
	pos := scim.Keyset{}
	for {
		p, err := k.ListUsersKeyset(ctx, scim.Query{Count: 7}, pos)
		if err != nil {
			t.Fatal(err)
		}
		if p.TotalResults != 25 {
			t.Errorf("TotalResults %d, want 25", p.TotalResults)
		}
		for _, u := range p.Resources {
			forward = append(forward, u.ID)
		}
		if !p.More {
			break
		}
		pos = scim.Keyset{Key: p.Last}
	}
	var backward []string
	pos = scim.Keyset{Backward: true}
	for {
		p, err := k.ListUsersKeyset(ctx, scim.Query{Count: 7}, pos)
		if err != nil {
			t.Fatal(err)
		}
		backward = append(append([]string(nil), idsOf(p.Resources)...), backward...)
		if !p.More {
			break
		}
		pos = scim.Keyset{Key: p.First, Backward: true}
	}
	if len(forward) != 25 || fmt.Sprint(forward) != fmt.Sprint(backward) {
		t.Errorf("forward %v\nbackward %v", forward, backward)
	}
	// A filter narrows the walk and the total.
	p, err := k.ListUsersKeyset(ctx, scim.Query{Count: 10, Filter: &scim.AttrExpr{Path: scim.AttrPath{Name: "userName"}, Op: scim.OpEq, Value: scim.Value{Kind: scim.KindString, Text: "back03@example.com"}}}, scim.Keyset{})
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalResults != 1 || len(p.Resources) != 1 || p.More || p.Resources[0].UserName != "back03@example.com" {
		t.Errorf("filtered page %+v", p)
	}
}

func idsOf(us []*scim.User) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}
