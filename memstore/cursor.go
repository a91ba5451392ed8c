package memstore

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/scimhost/scim"
)

// Keyset paging for RFC 9865 cursors. A resource's key is its creation
// sequence number, which never changes and is never reused, and the lists
// of a tenant keep creation order: a page is a binary search for the key
// and a scan of at most the page (plus the look-ahead that tells whether
// there is more), so the last page of a walk costs what the first does,
// and a walk sees every resource that lives through it exactly once.

var (
	_ scim.UserKeysetLister  = (*Store)(nil)
	_ scim.GroupKeysetLister = (*Store)(nil)
)

// ListUsersKeyset returns the users that match q.Filter in creation order
// from k, as scim.UserKeysetLister says. It never returns ErrUnsupported.
func (s *Store) ListUsersKeyset(ctx context.Context, q scim.Query, k scim.Keyset) (scim.KeysetPage[*scim.User], error) {
	page := scim.KeysetPage[*scim.User]{Resources: []*scim.User{}}
	if err := ctx.Err(); err != nil {
		return page, err
	}
	at, err := parseKey(k.Key)
	if err != nil {
		return page, err
	}
	t := s.tenant(s.tenantOf(ctx), false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	cands, ok := t.userCandidates(q.Filter)
	if !ok {
		cands = t.userList
	}
	needGroups := mentions(q.Filter, "groups")
	match := func(rec *userRec) bool {
		if rec.dead {
			return false
		}
		u := rec.u
		if needGroups {
			v := *u
			v.Groups = t.groupRefs(u.ID)
			u = &v
		}
		return scim.MatchUser(q.Filter, u)
	}
	if q.Filter == nil {
		page.TotalResults = len(t.userList) - t.userDead
	} else {
		for _, rec := range cands {
			if match(rec) {
				page.TotalResults++
			}
		}
	}
	recs, more := keysetScan(cands, at, k.Backward, q.Count, match)
	page.More = more
	wantGroups := q.Want.Wants("groups")
	for _, rec := range recs {
		page.Resources = append(page.Resources, t.userOut(rec.u, wantGroups))
	}
	if len(recs) > 0 {
		page.First, page.Last = formatKey(recs[0].seq), formatKey(recs[len(recs)-1].seq)
	}
	return page, nil
}

// ListGroupsKeyset is ListUsersKeyset for groups.
func (s *Store) ListGroupsKeyset(ctx context.Context, q scim.Query, k scim.Keyset) (scim.KeysetPage[*scim.Group], error) {
	page := scim.KeysetPage[*scim.Group]{Resources: []*scim.Group{}}
	if err := ctx.Err(); err != nil {
		return page, err
	}
	at, err := parseKey(k.Key)
	if err != nil {
		return page, err
	}
	t := s.tenant(s.tenantOf(ctx), false)
	t.mu.RLock()
	defer t.mu.RUnlock()
	cands, ok := t.groupCandidates(q.Filter)
	if !ok {
		cands = t.groupList
	}
	match := func(rec *groupRec) bool { return !rec.dead && matchGroup(q.Filter, rec) }
	if q.Filter == nil {
		page.TotalResults = len(t.groupList) - t.groupDead
	} else {
		for _, rec := range cands {
			if match(rec) {
				page.TotalResults++
			}
		}
	}
	recs, more := keysetScan(cands, at, k.Backward, q.Count, match)
	page.More = more
	wantMembers := q.Want.Wants("members")
	for _, rec := range recs {
		page.Resources = append(page.Resources, groupOut(rec, wantMembers))
	}
	if len(recs) > 0 {
		page.First, page.Last = formatKey(recs[0].seq), formatKey(recs[len(recs)-1].seq)
	}
	return page, nil
}

// keysetScan returns, in sequence order, up to count records of rs (sorted
// by sequence) that match and lie after at (before it when backward; at 0
// is the start, or the end when backward), and whether more match beyond.
func keysetScan[R seqRec](rs []R, at uint64, backward bool, count int, match func(R) bool) (out []R, more bool) {
	if !backward {
		i := sort.Search(len(rs), func(i int) bool { return rs[i].sequence() > at })
		for ; i < len(rs); i++ {
			if !match(rs[i]) {
				continue
			}
			if len(out) == count {
				return out, true
			}
			out = append(out, rs[i])
		}
		return out, false
	}
	end := len(rs)
	if at != 0 {
		end = sort.Search(len(rs), func(i int) bool { return rs[i].sequence() >= at })
	}
	for i := end - 1; i >= 0; i-- {
		if !match(rs[i]) {
			continue
		}
		if len(out) == count {
			more = true
			break
		}
		out = append(out, rs[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, more
}

func formatKey(seq uint64) string { return strconv.FormatUint(seq, 10) }

// parseKey reads a key of formatKey's; "" is 0.
func parseKey(k string) (uint64, error) {
	if k == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memstore: keyset key %q is not one of this store's", k)
	}
	return n, nil
}
