package sqlstore

import (
	"context"
	"database/sql"
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
func (s *Store) ListUsersKeyset(ctx context.Context, q scim.Query, k scim.Keyset) (scim.KeysetPage[*scim.User], error) {
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return scim.KeysetPage[*scim.User]{}, err
	}
	var page scim.KeysetPage[*scim.User]
	page, err = keysetList(ctx, s.db, s.db.db, userTable, tenant, q, k, userCols, scanUsers, func(u *scim.User) (time.Time, string) { return u.Meta.Created, u.ID })
	if err != nil {
		return scim.KeysetPage[*scim.User]{}, err
	}
	if q.Want.Wants("groups") {
		if err := s.loadUserGroups(ctx, s.db.db, tenant, page.Resources); err != nil {
			return scim.KeysetPage[*scim.User]{}, err
		}
	}
	return page, nil
}

// ListGroupsKeyset implements scim.GroupKeysetLister.
func (s *Store) ListGroupsKeyset(ctx context.Context, q scim.Query, k scim.Keyset) (scim.KeysetPage[*scim.Group], error) {
	tenant, err := s.tenantOf(ctx)
	if err != nil {
		return scim.KeysetPage[*scim.Group]{}, err
	}
	var page scim.KeysetPage[*scim.Group]
	run := func(rq querier) error {
		var err error
		page, err = keysetList(ctx, s.db, rq, groupTable, tenant, q, k, groupCols, scanGroups, func(g *scim.Group) (time.Time, string) { return g.Meta.Created, g.ID })
		return err
	}
	if !q.Want.Wants("members") {
		err = run(s.db.db)
	} else {
		err = s.db.read(ctx, func(rq querier) error {
			if err := run(rq); err != nil {
				return err
			}
			return s.loadMembers(ctx, rq, tenant, page.Resources)
		})
	}
	if err != nil {
		return scim.KeysetPage[*scim.Group]{}, err
	}
	return page, nil
}

// keysetList selects up to q.Count rows of t in tenant that match q.Filter
// and follow (or, backward, precede) the key k, in key order.
func keysetList[T any](ctx context.Context, db *DB, rq querier, t *table, tenant string, q scim.Query, k scim.Keyset, cols string, scan func(*sql.Rows) ([]T, error), keyOf func(T) (time.Time, string)) (scim.KeysetPage[T], error) {
	page := scim.KeysetPage[T]{Resources: []T{}}
	q.SortBy, q.Descending, q.StartIndex = scim.AttrPath{}, false, 1
	sel, err := db.selectFor(t, tenant, q)
	if err != nil {
		return page, err
	}
	where, args := sel.where, slices.Clone(sel.args)
	cmp, dir := ">", "ASC"
	if k.Backward {
		cmp, dir = "<", "DESC"
	}
	if k.Key != "" {
		created, id, err := parseKey(k.Key)
		if err != nil {
			return page, err
		}
		a := t.alias
		where += " AND (" + a + ".created " + cmp + " ? OR (" + a + ".created = ? AND " + a + ".id " + cmp + " ?))"
		args = append(args, db.timeArg(created), db.timeArg(created), id)
	}
	count := max(q.Count, 0)
	rows, err := db.query(ctx, rq, "SELECT "+cols+" FROM "+sel.from+" WHERE "+where+" ORDER BY "+t.alias+".created "+dir+", "+t.alias+".id "+dir+" LIMIT ?",
		append(args, count+1)...)
	if err != nil {
		return page, err
	}
	items, err := scan(rows)
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
	if err := db.queryRow(ctx, rq, "SELECT count(*) FROM "+sel.from+" WHERE "+sel.where, sel.args, &page.TotalResults); err != nil {
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
