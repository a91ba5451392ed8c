package storetest_test

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// seqIDs is a store whose ids are counted per tenant ("1", "2", ...), as a
// table with a (tenant, id) key gives them, over a multi-tenant memstore:
// both tenants of the isolation checks then have the same ids, which is
// where a join that forgets the tenant leaks. With leakJoin it fills
// members' display values by joining on the id alone.
type seqIDs struct {
	s        *memstore.Store
	leakJoin bool

	mu      sync.Mutex
	next    map[string]int    // tenant → last id given
	toStore map[string]string // tenant + "/" + id → memstore's id
	toSeq   map[string]string // memstore's id → id
	display map[string]string // id → a user's displayName, of any tenant
}

func newSeqIDs(leakJoin bool) *seqIDs {
	return &seqIDs{s: memstore.New(memstore.WithTenant(tenantOf)), leakJoin: leakJoin,
		next: map[string]int{}, toStore: map[string]string{}, toSeq: map[string]string{}, display: map[string]string{}}
}

// assign gives memstore's new id a sequential id in ctx's tenant.
func (q *seqIDs) assign(ctx context.Context, storeID string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := tenantOf(ctx)
	q.next[t]++
	id := strconv.Itoa(q.next[t])
	q.toStore[t+"/"+id], q.toSeq[storeID] = storeID, id
	return id
}

// in maps an id of ctx's tenant to memstore's; an unknown id stays as it is
// (memstore does not know it either, unless it is a member id the store
// was given as it is).
func (q *seqIDs) in(ctx context.Context, id string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s, ok := q.toStore[tenantOf(ctx)+"/"+id]; ok {
		return s
	}
	return "unknown:" + id
}

// inMember is in for member values, which may be ids the store never gave.
func (q *seqIDs) inMember(ctx context.Context, id string) string {
	if s := q.in(ctx, id); !strings.HasPrefix(s, "unknown:") {
		return s
	}
	return id
}

func (q *seqIDs) out(storeID string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if id, ok := q.toSeq[storeID]; ok {
		return id
	}
	return storeID
}

func (q *seqIDs) userOut(u *scim.User) *scim.User {
	if u == nil {
		return nil
	}
	u.ID = q.out(u.ID)
	for i := range u.Groups {
		u.Groups[i].Value = q.out(u.Groups[i].Value)
	}
	q.mu.Lock()
	q.display[u.ID] = u.DisplayName // the join's table: ids of every tenant
	q.mu.Unlock()
	return u
}

func (q *seqIDs) groupOut(g *scim.Group) *scim.Group {
	if g == nil {
		return nil
	}
	g.ID = q.out(g.ID)
	for i := range g.Members {
		m := &g.Members[i]
		m.Value = q.out(m.Value)
		if q.leakJoin && m.Display == "" {
			q.mu.Lock()
			m.Display = q.display[m.Value] // JOIN accounts ON id, without the tenant
			q.mu.Unlock()
		}
	}
	return g
}

func (q *seqIDs) membersIn(ctx context.Context, g *scim.Group) *scim.Group {
	g = g.Clone()
	for i := range g.Members {
		g.Members[i].Value = q.inMember(ctx, g.Members[i].Value)
	}
	return g
}

// filterIn maps the ids a filter compares.
func (q *seqIDs) filterIn(ctx context.Context, f scim.Filter) scim.Filter {
	switch x := f.(type) {
	case *scim.AttrExpr:
		name := strings.ToLower(x.Path.Name)
		if x.Op == scim.OpPr || (name != "id" && name != "members") || (name == "members" && x.Path.Sub != "" && !strings.EqualFold(x.Path.Sub, "value")) {
			return f
		}
		c := *x
		if name == "id" {
			c.Value.Text = q.in(ctx, x.Value.Text)
		} else {
			c.Value.Text = q.inMember(ctx, x.Value.Text)
		}
		return &c
	case *scim.LogicalExpr:
		return &scim.LogicalExpr{Op: x.Op, Left: q.filterIn(ctx, x.Left), Right: q.filterIn(ctx, x.Right)}
	case *scim.NotExpr:
		return &scim.NotExpr{Filter: q.filterIn(ctx, x.Filter)}
	}
	return f
}

func (q *seqIDs) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	got, err := q.s.CreateUser(ctx, u)
	if err != nil {
		return nil, err
	}
	q.assign(ctx, got.ID)
	return q.userOut(got), nil
}

func (q *seqIDs) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	u, err := q.s.GetUser(ctx, q.in(ctx, id), want)
	return q.userOut(u), err
}

func (q *seqIDs) ReplaceUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	c := u.Clone()
	c.ID = q.in(ctx, u.ID)
	got, err := q.s.ReplaceUser(ctx, c)
	return q.userOut(got), err
}

func (q *seqIDs) DeleteUser(ctx context.Context, id string) error {
	return q.s.DeleteUser(ctx, q.in(ctx, id))
}

func (q *seqIDs) ListUsers(ctx context.Context, qu scim.Query) (scim.Page[*scim.User], error) {
	qu.Filter = q.filterIn(ctx, qu.Filter)
	page, err := q.s.ListUsers(ctx, qu)
	for _, u := range page.Resources {
		q.userOut(u)
	}
	return page, err
}

func (q *seqIDs) CreateGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	got, err := q.s.CreateGroup(ctx, q.membersIn(ctx, g))
	if err != nil {
		return nil, err
	}
	q.assign(ctx, got.ID)
	return q.groupOut(got), nil
}

func (q *seqIDs) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	g, err := q.s.GetGroup(ctx, q.in(ctx, id), want)
	return q.groupOut(g), err
}

func (q *seqIDs) ReplaceGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	c := q.membersIn(ctx, g)
	c.ID = q.in(ctx, g.ID)
	got, err := q.s.ReplaceGroup(ctx, c)
	return q.groupOut(got), err
}

func (q *seqIDs) DeleteGroup(ctx context.Context, id string) error {
	return q.s.DeleteGroup(ctx, q.in(ctx, id))
}

func (q *seqIDs) ListGroups(ctx context.Context, qu scim.Query) (scim.Page[*scim.Group], error) {
	qu.Filter = q.filterIn(ctx, qu.Filter)
	page, err := q.s.ListGroups(ctx, qu)
	for _, g := range page.Resources {
		q.groupOut(g)
	}
	return page, err
}
