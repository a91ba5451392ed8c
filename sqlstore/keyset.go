package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

// Keyset listing for RFC 9865 cursors. A resource's key is its created
// time (to the microsecond, as both dialects store it) and its id, the
// order ListUsers already pages in, served by the (tenant, created, id)
// indexes: a page is an index seek past the key, so the last page of a walk
// costs what the first does, and a walk returns every resource that exists
// for all of it exactly once. TotalResults is a COUNT over the filter, as
// ListUsers counts it.

var (
	_ scim.UserKeysetLister  = (*Store)(nil)
	_ scim.GroupKeysetLister = (*Store)(nil)
)

// ListUsersKeyset implements scim.UserKeysetLister.
func (s *Store) ListUsersKeyset(ctx context.Context, q scim.Query, k scim.Keyset) (_ scim.KeysetPage[*scim.User], err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return scim.KeysetPage[*scim.User]{}, err
	}
	q.SortBy, q.Descending, q.StartIndex = scim.AttrPath{}, false, 1
	sel, fin := s.userSelection(tenant, q)
	withGroups := q.Want.Wants("groups") && s.db.childrenInPage(sel)
	page, err := keysetList(ctx, s.db, s.db.db, userTable, sel, k, s.db.userReader(withGroups), s.db.userReader(false), fin,
		func(u *scim.User) (time.Time, string) { return u.Meta.Created, u.ID })
	if err != nil {
		return scim.KeysetPage[*scim.User]{}, err
	}
	if !withGroups {
		if err := s.userGroupsWanted(ctx, tenant, q, page.Resources); err != nil {
			return scim.KeysetPage[*scim.User]{}, err
		}
	}
	return page, nil
}

// ListGroupsKeyset implements scim.GroupKeysetLister.
func (s *Store) ListGroupsKeyset(ctx context.Context, q scim.Query, k scim.Keyset) (_ scim.KeysetPage[*scim.Group], err error) {
	ctx, end := s.db.begin(ctx)
	defer end(&err)
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return scim.KeysetPage[*scim.Group]{}, err
	}
	q.SortBy, q.Descending, q.StartIndex = scim.AttrPath{}, false, 1
	sel, fin := s.groupSelection(tenant, q)
	var page scim.KeysetPage[*scim.Group]
	err = s.listGroupsWith(ctx, tenant, q, sel, func(rq querier, rd rowReader[*scim.Group]) error {
		var err error
		page, err = keysetList(ctx, s.db, rq, groupTable, sel, k, rd, s.db.groupReader(false), fin,
			func(g *scim.Group) (time.Time, string) { return g.Meta.Created, g.ID })
		return err
	}, func() []*scim.Group { return page.Resources })
	if err != nil {
		return scim.KeysetPage[*scim.Group]{}, err
	}
	return page, nil
}

// keysetList lists up to sel.count resources of table t that match the
// selection and follow (or, backward, precede) the key k, in key order. It
// runs the selection twice through list: narrowed by the key, for the page
// (one more than asked, to tell whether more follow), and whole, for
// TotalResults. Where the SQL is not exact, list finishes both with the
// evaluator, as it does for ListUsers.
//
// pageRead reads the page's rows, whole's the rows the evaluator examines
// for the total (none when the SQL is exact, which only counts).
func keysetList[T any](ctx context.Context, db *DB, rq querier, t *table, sel selection, k scim.Keyset, pageRead, wholeRead rowReader[T], fin finisher[T], keyOf func(T) (time.Time, string)) (scim.KeysetPage[T], error) {
	page := scim.KeysetPage[T]{Resources: []T{}}
	count := sel.count
	seek := sel
	seek.args = slices.Clone(sel.args)
	seek.offset, seek.count, seek.sorted = 0, count+1, true
	cmp, dir := ">", "ASC"
	if k.Backward {
		cmp, dir = "<", "DESC"
	}
	a := t.alias
	seek.order = a + ".created " + dir + ", " + a + ".id " + dir
	if k.Key != "" {
		created, id, err := parseKey(k.Key)
		if err != nil {
			return page, err
		}
		// A row-value comparison, which both databases turn into a range
		// of the index: written as created > ? OR (created = ? AND id > ?)
		// it was a filter on the tenant's whole range, read from its start
		// on every page, so that a walk of n users cost O(n²).
		seek.where += " AND (" + a + ".created, " + a + ".id) " + cmp + " (?, ?)"
		seek.args = append(seek.args, db.timeArg(created), id)
	}
	items, _, err := list(ctx, db, rq, seek, pageRead, fin)
	if err != nil {
		return page, err
	}
	if len(items) > count {
		items, page.More = items[:count], true
	}
	if k.Backward {
		slices.Reverse(items)
	}
	page.Resources = items
	if len(items) > 0 {
		page.First = formatKey(keyOf(items[0]))
		page.Last = formatKey(keyOf(items[len(items)-1]))
	}
	whole := sel
	whole.offset, whole.count = 0, 0
	if _, page.TotalResults, err = list(ctx, db, rq, whole, wholeRead, fin); err != nil {
		return page, err
	}
	return page, nil
}

// formatKey writes a key: the created time in microseconds, a colon, the
// id.
func formatKey(created time.Time, id string) string {
	return strconv.FormatInt(created.UnixMicro(), 10) + ":" + id
}

func parseKey(k string) (time.Time, string, error) {
	micros, id, ok := strings.Cut(k, ":")
	n, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", fmt.Errorf("sqlstore: keyset key %q is not one of this store's", k)
	}
	return time.UnixMicro(n).UTC(), id, nil
}
