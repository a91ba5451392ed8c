package scim_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// wrongListGroups has every GroupStore method but ListGroups, whose result
// is a slice instead of a scim.Page: a slip that turns groups off.
type wrongListGroups struct{ s *memstore.Store }

func (w wrongListGroups) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	return w.s.CreateUser(ctx, u)
}
func (w wrongListGroups) GetUser(ctx context.Context, id string, want scim.Projection) (*scim.User, error) {
	return w.s.GetUser(ctx, id, want)
}
func (w wrongListGroups) ReplaceUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	return w.s.ReplaceUser(ctx, u)
}
func (w wrongListGroups) DeleteUser(ctx context.Context, id string) error {
	return w.s.DeleteUser(ctx, id)
}
func (w wrongListGroups) ListUsers(ctx context.Context, q scim.Query) (scim.Page[*scim.User], error) {
	return w.s.ListUsers(ctx, q)
}
func (w wrongListGroups) CreateGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	return w.s.CreateGroup(ctx, g)
}
func (w wrongListGroups) GetGroup(ctx context.Context, id string, want scim.Projection) (*scim.Group, error) {
	return w.s.GetGroup(ctx, id, want)
}
func (w wrongListGroups) ReplaceGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	return w.s.ReplaceGroup(ctx, g)
}
func (w wrongListGroups) DeleteGroup(ctx context.Context, id string) error {
	return w.s.DeleteGroup(ctx, id)
}
func (w wrongListGroups) ListGroups(ctx context.Context, q scim.Query) ([]*scim.Group, error) {
	page, err := w.s.ListGroups(ctx, q)
	return page.Resources, err
}

func TestNewHandlerReportsCapabilities(t *testing.T) {
	const wrong = "ListGroups has signature func(context.Context, scim.Query) ([]*scim.Group, error), want func(context.Context, scim.Query) (scim.Page[*github.com/scimhost/scim.Group], error)"
	cases := []struct {
		name    string
		store   scim.Store
		require bool
		wantErr string   // NewHandler's error, when it must fail
		logs    []string // what the log must say
		notLogs []string
	}{
		{"memstore", memstore.New(), false, "", []string{
			"level=INFO", "scim: store capabilities", "store=*memstore.Store", "GroupStore=true", "UserUpdater=true", "GroupUpdater=true", "MemberPatcher=true",
		}, []string{"groups are off", "WARN"}},
		{"memstore, groups required", memstore.New(), true, "", []string{"GroupStore=true"}, nil},
		{"wrong ListGroups", wrongListGroups{memstore.New()}, false, "", []string{
			"level=WARN", "implements part of scim.GroupStore", wrong,
			"GroupStore=false", "UserUpdater=false", "GroupUpdater=false", "MemberPatcher=false",
			"level=INFO msg=\"scim: groups are off",
		}, nil},
		{"wrong ListGroups, groups required", wrongListGroups{memstore.New()}, true,
			"scim: NewHandler: Options.RequireGroups is set, but scim_test.wrongListGroups does not implement scim.GroupStore: " + wrong, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			_, err := scim.NewHandler(tc.store, scim.Options{Logger: log, RequireGroups: tc.require})
			switch {
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("NewHandler: error %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatalf("NewHandler: %v", err)
			}
			for _, want := range tc.logs {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("the log lacks %q:\n%s", want, buf.String())
				}
			}
			for _, bad := range tc.notLogs {
				if strings.Contains(buf.String(), bad) {
					t.Errorf("the log has %q:\n%s", bad, buf.String())
				}
			}
		})
	}
}
