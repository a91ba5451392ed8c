package check

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// concurrentPatches is how many member PATCHes Entra ID sends to one group
// at a time during the initial sync of a large group, as reported by a
// SCIM server's maintainers (Captain-P-Goldfish/SCIM-SDK#646).
const concurrentPatches = 5

// concurrentMembers is how many members the concurrency check adds.
const concurrentMembers = 25

func init() {
	register("concurrency",
		check{name: "parallel-member-patches", reproduces: fmt.Sprintf("the initial sync of a large group: %d users added to one group by one-member PATCHes, %d at a time, then %d removed the same way; no membership lost", concurrentMembers, concurrentPatches, concurrentMembers/2), run: parallelMemberPatches},
	)
}

func parallelMemberPatches(t *T) error {
	var us []string
	for range concurrentMembers {
		u, err := t.setupUser(nil)
		if err != nil {
			return err
		}
		us = append(us, u.id)
	}
	g, err := t.setupGroup()
	if err != nil {
		return err
	}
	run := func(ids []string, opName string) error {
		var (
			mu    sync.Mutex
			first error
			wg    sync.WaitGroup
		)
		sem := make(chan struct{}, concurrentPatches)
		for _, id := range ids {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				var body patchBody
				if opName == "Add" {
					body = patchOp(op("Add", "members", members(id)))
				} else {
					body = patchOp(op("Remove", "members", members(id)))
				}
				r, err := t.do("PATCH", "/Groups/"+g.id, body)
				if err == nil {
					err = expect(r, fmt.Sprintf("Entra sends up to %d member PATCHes to one group at a time; each must succeed (answer 429 with Retry-After only under real overload)", concurrentPatches), http.StatusOK, http.StatusNoContent)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return first
	}
	if err := run(us, "Add"); err != nil {
		return err
	}
	r, m, err := t.read("/Groups/"+g.id, "counting the members")
	if err != nil {
		return err
	}
	if got := memberIDs(m); !sameSet(got, us) {
		return failf(on(r), "after %d concurrent one-member adds (%d at a time) the group has %d members, want %d: concurrent PATCHes of one group lose updates; apply each PATCH atomically (a transaction or a per-group lock) against the current members", concurrentMembers, concurrentPatches, len(got), concurrentMembers)
	}
	removed, kept := us[:concurrentMembers/2], us[concurrentMembers/2:]
	if err := run(removed, "Remove"); err != nil {
		return err
	}
	r, m, err = t.read("/Groups/"+g.id, "counting the members")
	if err != nil {
		return err
	}
	if got := memberIDs(m); !sameSet(got, kept) {
		extra := 0
		for _, id := range got {
			if slices.Contains(removed, id) {
				extra++
			}
		}
		return failf(on(r), "after %d concurrent one-member removals the group has %d members (%d of them removed), want %d: concurrent PATCHes of one group lose updates", len(removed), len(got), extra, len(kept))
	}
	return nil
}
