package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/storetest"
)

// defective wraps memstore with one deliberate bug, to check that the kit
// notices it.
type defective struct {
	*memstore.Store
	defect string

	mu     sync.Mutex
	shared map[string]*scim.User
}

func (d *defective) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	switch d.defect {
	case "ignoreFilter":
		if f, ok := q.Filter.(*scim.AttrExpr); ok && strings.EqualFold(f.Path.Name, "externalId") {
			q.Filter = nil
		}
	case "supersetForContains":
		if f, ok := q.Filter.(*scim.AttrExpr); ok && f.Op == scim.OpCo {
			q.Filter = nil
		}
	case "ignorePaging":
		q.StartIndex, q.Count = 1, 1<<20
	case "countZeroReturnsAll":
		if q.Count == 0 {
			q.Count = 1 << 20
		}
	}
	return d.Store.ListUsers(ctx, q)
}

func (d *defective) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	if d.defect != "sharedMemory" {
		return d.Store.GetUser(ctx, id, want)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if u := d.shared[id]; u != nil {
		return u, nil
	}
	u, err := d.Store.GetUser(ctx, id, want)
	if err == nil {
		d.shared[id] = u
	}
	return u, err
}

func (d *defective) ReplaceUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	switch d.defect {
	case "ignoreVersion":
		u = u.Clone()
		u.Meta.Version = ""
	case "resetCreated":
		got, err := d.Store.ReplaceUser(ctx, u)
		if got != nil {
			got.Meta.Created = time.Now()
		}
		return got, err
	}
	return d.Store.ReplaceUser(ctx, u)
}

func (d *defective) DeleteUser(ctx context.Context, id string) error {
	if d.defect != "keepMemberships" {
		return d.Store.DeleteUser(ctx, id)
	}
	u, err := d.Store.GetUser(ctx, id, scim.Projection{})
	if err != nil {
		return err
	}
	if err := d.Store.DeleteUser(ctx, id); err != nil {
		return err
	}
	for _, g := range u.Groups {
		if _, err := d.Store.PatchMembers(ctx, g.Value, scim.MemberPatch{Add: []scim.Member{{Value: id}}}); err != nil {
			return err
		}
	}
	return nil
}

func (d *defective) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	g, err := d.Store.GetGroup(ctx, id, want)
	if d.defect == "neverMembers" && g != nil {
		g.Members = nil
	}
	return g, err
}

func (d *defective) PatchMembers(ctx context.Context, groupID string, p scim.MemberPatch) (scim.MemberPatchResult, error) {
	if d.defect == "patchNotIdempotent" {
		g, err := d.Store.GetGroup(ctx, groupID, scim.Projection{})
		if err != nil {
			return scim.MemberPatchResult{}, err
		}
		for _, a := range p.Add {
			for _, m := range g.Members {
				if m.Value == a.Value {
					return scim.MemberPatchResult{}, errors.New("already a member")
				}
			}
		}
	}
	res, err := d.Store.PatchMembers(ctx, groupID, p)
	if d.defect == "patchReportsReplays" {
		res.Added = memberValues(p.Add)
	}
	return res, err
}

func memberValues(ms []scim.Member) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.Value)
	}
	return ids
}

// usersOnly is a Store without groups.
type usersOnly struct{ s *memstore.Store }

func (u usersOnly) CreateUser(ctx context.Context, x *scim.User) (*scim.User, error) {
	return u.s.CreateUser(ctx, x)
}
func (u usersOnly) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	return u.s.GetUser(ctx, id, want)
}
func (u usersOnly) ReplaceUser(ctx context.Context, x *scim.User) (*scim.User, error) {
	return u.s.ReplaceUser(ctx, x)
}
func (u usersOnly) DeleteUser(ctx context.Context, id string) error { return u.s.DeleteUser(ctx, id) }
func (u usersOnly) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return u.s.ListUsers(ctx, q)
}

// TestDefectiveStore is run by TestRunCatchesDefects in a child process,
// with the defect in the environment.
func TestDefectiveStore(t *testing.T) {
	defect := os.Getenv("STORETEST_DEFECT")
	if defect == "" {
		t.Skip("run by TestRunCatchesDefects")
	}
	storetest.Run(t, func(*testing.T) scim.Store {
		if defect == "usersOnly" {
			return usersOnly{memstore.New()}
		}
		return &defective{Store: memstore.New(), defect: defect, shared: map[string]*scim.User{}}
	})
}

func TestRunCatchesDefects(t *testing.T) {
	if os.Getenv("STORETEST_DEFECT") != "" {
		t.Skip("in the child process")
	}
	cases := []struct {
		defect string
		fail   []string // checks that must fail; none: the run must pass
		skip   []string // checks that must be skipped
	}{
		{"ignoreFilter", []string{"UserFilters/MustAnswer/externalId_eq", "UserFilters/MustAnswer/externalId_eq_is_case-exact"}, nil},
		{"supersetForContains", []string{"UserFilters/MayRefuse/title_co_ignores_case"}, nil},
		{"ignorePaging", []string{"Paging/EveryUserExactlyOnce", "Paging/StartIndexPastTheEnd"}, nil},
		{"countZeroReturnsAll", []string{"Paging/CountZeroGivesTotalOnly"}, nil},
		{"sharedMemory", []string{"Users/ReturnedUsersAreCopies"}, nil},
		{"ignoreVersion", []string{"Users/ReplaceStaleVersionIsVersionMismatch"}, nil},
		{"resetCreated", []string{"Users/ReplaceKeepsIDAndCreated"}, nil},
		{"keepMemberships", []string{"Memberships/DeleteUserRemovesItFromGroups"}, nil},
		{"neverMembers", []string{"Groups/MembersReturnedWhenWanted", "Groups/CreateAssignsIDAndMeta"}, nil},
		{"patchNotIdempotent", []string{"Capabilities/PatchMembersIsIdempotent"}, nil},
		{"patchReportsReplays", []string{"Capabilities/PatchMembersIsIdempotent"}, nil},
		{"usersOnly", nil, []string{"Groups/CreateAssignsIDAndMeta", "Memberships/UserGroupsReflectMembership", "Capabilities/PatchMembersAddsAndRemoves", "Concurrency/FiftyMemberAddsToOneGroup"}},
	}
	for _, tc := range cases {
		t.Run(tc.defect, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDefectiveStore$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "STORETEST_DEFECT="+tc.defect)
			out, err := cmd.CombinedOutput()
			if len(tc.fail) == 0 && err != nil {
				t.Fatalf("the kit failed a correct store: %v\n%s", err, out)
			}
			if len(tc.fail) > 0 && err == nil {
				t.Fatalf("the kit passed a store with defect %q", tc.defect)
			}
			for _, name := range tc.fail {
				if !strings.Contains(string(out), "--- FAIL: TestDefectiveStore/"+name+" ") {
					t.Errorf("check %s did not fail for defect %q", name, tc.defect)
				}
			}
			for _, name := range tc.skip {
				if !strings.Contains(string(out), "--- SKIP: TestDefectiveStore/"+name+" ") {
					t.Errorf("check %s was not skipped for defect %q", name, tc.defect)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
