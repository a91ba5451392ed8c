package check

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
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
		check{name: "parallel-user-patches", reproduces: fmt.Sprintf("%d PATCHes of one user at once, each setting another attribute (a retried update racing the next cycle's): every one applied", len(userPatchAttrs)), run: parallelUserPatches},
		check{name: "parallel-duplicate-creates", reproduces: fmt.Sprintf("a create retried while the first is still running: %d POSTs of one userName at once give one user, and 409 for the others", concurrentPatches), run: parallelDuplicateCreates},
	)
}

// parallel runs f(i) for i in [0, n), concurrentPatches at a time, and
// returns the first error.
func parallel(n int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, concurrentPatches)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
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

// userPatchAttrs are the attributes parallelUserPatches sets, one PATCH
// each.
var userPatchAttrs = []struct{ path, value string }{
	{"displayName", "Ada"}, {"nickName", "Countess"}, {"title", "Analyst"}, {"userType", "Employee"},
	{"preferredLanguage", "en-GB"}, {enterpriseURN + ":employeeNumber", "1815"},
	{enterpriseURN + ":costCenter", "CC-1"}, {enterpriseURN + ":organization", "Engines"},
	{enterpriseURN + ":division", "Analytical"}, {enterpriseURN + ":department", "Notes"},
}

func parallelUserPatches(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	err = parallel(len(userPatchAttrs), func(i int) error {
		r, err := t.do("PATCH", "/Users/"+u.id, patchOp(op("replace", userPatchAttrs[i].path, userPatchAttrs[i].value)))
		if err != nil {
			return err
		}
		return expect(r, "concurrent PATCHes of one user must each succeed", http.StatusOK, http.StatusNoContent)
	})
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "reading the user")
	if err != nil {
		return err
	}
	var lost []string
	for _, a := range userPatchAttrs {
		path := []string{a.path}
		if rest, ok := strings.CutPrefix(a.path, enterpriseURN+":"); ok {
			path = []string{enterpriseURN, rest}
		}
		if str(m, path...) != a.value {
			lost = append(lost, a.path)
		}
	}
	if len(lost) > 0 {
		return failf(on(r), "after %d concurrent PATCHes of one user, each answered with success, %s lost its value: each PATCH must apply to the current user, not to a copy another request overwrites (a transaction, a version check with retry, or a per-user lock)", len(userPatchAttrs), strings.Join(lost, ", "))
	}
	return nil
}

func parallelDuplicateCreates(t *T) error {
	body := t.entraUser()
	var (
		mu      sync.Mutex
		created []*Response
		others  []*Response
	)
	err := parallel(concurrentPatches, func(int) error {
		r, err := t.do("POST", "/Users", body)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if r.Status == http.StatusCreated {
			created = append(created, r)
		} else {
			others = append(others, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(created) != 1 {
		return failf(created, "%d concurrent POSTs of one userName created %d users, want exactly one and 409 for the others: check uniqueness and insert in one atomic step (a unique index), or Entra's retried creates make duplicates it then cannot match", concurrentPatches, len(created))
	}
	for _, r := range others {
		if err := expect(r, "a create of a userName that exists, racing the first create, answers 409 (RFC 7644 §3.3)", http.StatusConflict); err != nil {
			return err
		}
	}
	return matchOne(t, "/Users?"+eqFilter("userName", body["userName"].(string)), str(created[0].JSON(), "id"), "one userName, one user")
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
		return parallel(len(ids), func(i int) error {
			r, err := t.do("PATCH", "/Groups/"+g.id, patchOp(op(opName, "members", members(ids[i]))))
			if err != nil {
				return err
			}
			return expect(r, fmt.Sprintf("Entra sends up to %d member PATCHes to one group at a time; each must succeed (answer 429 with Retry-After only under real overload)", concurrentPatches), http.StatusOK, http.StatusNoContent)
		})
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
