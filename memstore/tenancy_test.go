package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// TestDefaultTenancyIsTenantFrom: without WithTenant, a Store is scoped by
// the tenant scim.BearerAuth puts in the context, and a context without one
// is a tenant of its own.
func TestDefaultTenancyIsTenantFrom(t *testing.T) {
	s := memstore.New()
	acme := scim.WithTenant(t.Context(), scim.Tenant{ID: "acme"})
	globex := scim.WithTenant(t.Context(), scim.Tenant{ID: "globex"})
	u, err := s.CreateUser(acme, &scim.User{UserName: "bjensen@example.com", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(acme, u.ID, scim.Projection{}); err != nil {
		t.Errorf("GetUser in its own tenant: %v", err)
	}
	for name, ctx := range map[string]context.Context{"another tenant": globex, "no tenant": t.Context()} {
		if _, err := s.GetUser(ctx, u.ID, scim.Projection{}); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("GetUser from %s: %v, want ErrNotFound", name, err)
		}
		if _, err := s.CreateUser(ctx, &scim.User{UserName: "bjensen@example.com"}); err != nil {
			t.Errorf("CreateUser with acme's userName in %s: %v, want it free", name, err)
		}
	}
	// Single-tenant use: no tenant anywhere, one tenant.
	single := memstore.New()
	v, err := single.CreateUser(t.Context(), &scim.User{UserName: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := single.GetUser(context.Background(), v.ID, scim.Projection{}); err != nil {
		t.Errorf("single-tenant GetUser: %v", err)
	}
	// WithTenant still overrides the default.
	fixed := memstore.New(memstore.WithTenant(func(context.Context) string { return "one" }))
	w, err := fixed.CreateUser(acme, &scim.User{UserName: "c@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixed.GetUser(globex, w.ID, scim.Projection{}); err != nil {
		t.Errorf("WithTenant(constant): another scim.Tenant is the same store tenant, got %v", err)
	}
}

// TestTenantLocksAreIndependent holds one tenant's write lock (inside
// UpdateUser's callback) while another tenant reads and writes: with a
// store-wide lock those calls would wait for the callback, which waits for
// them.
func TestTenantLocksAreIndependent(t *testing.T) {
	s := memstore.New()
	acme := scim.WithTenant(t.Context(), scim.Tenant{ID: "acme"})
	globex := scim.WithTenant(t.Context(), scim.Tenant{ID: "globex"})
	ua, err := s.CreateUser(acme, &scim.User{UserName: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ub, err := s.CreateUser(globex, &scim.User{UserName: "b@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateUser(acme, ua.ID, func(u *scim.User) error {
		done := make(chan error, 1)
		go func() {
			if _, err := s.GetUser(globex, ub.ID, scim.Projection{}); err != nil {
				done <- err
				return
			}
			_, err := s.CreateUser(globex, &scim.User{UserName: "c@example.com"})
			done <- err
		}()
		select {
		case err := <-done:
			u.DisplayName = "updated"
			return err
		case <-time.After(10 * time.Second):
			return errors.New("another tenant's requests waited for this tenant's write lock")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentTenants runs writers and readers in several tenants at
// once (under -race, the per-tenant locks and the shared version counter
// are checked): nothing is lost and versions stay unique across tenants.
func TestConcurrentTenants(t *testing.T) {
	s := memstore.New()
	const tenants, perTenant = 4, 50
	var wg sync.WaitGroup
	versions := make(chan string, tenants*perTenant*2)
	for i := range tenants {
		ctx := scim.WithTenant(t.Context(), scim.Tenant{ID: fmt.Sprint("t", i)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perTenant {
				u, err := s.CreateUser(ctx, &scim.User{UserName: fmt.Sprint("u", j)})
				if err != nil {
					t.Error(err)
					return
				}
				versions <- u.Meta.Version
				u2, err := s.UpdateUser(ctx, u.ID, func(u *scim.User) error { u.DisplayName = "x"; return nil })
				if err != nil {
					t.Error(err)
					return
				}
				versions <- u2.Meta.Version
				if _, err := s.ListUsers(ctx, scim.Query{StartIndex: 1, Count: 10}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	close(versions)
	seen := map[string]bool{}
	for v := range versions {
		if seen[v] {
			t.Errorf("version %s handed out twice", v)
		}
		seen[v] = true
	}
	for i := range tenants {
		ctx := scim.WithTenant(t.Context(), scim.Tenant{ID: fmt.Sprint("t", i)})
		page, err := s.ListUsers(ctx, scim.Query{StartIndex: 1, Count: 1})
		if err != nil || page.TotalResults != perTenant {
			t.Errorf("tenant %d: %d users, %v; want %d", i, page.TotalResults, err, perTenant)
		}
	}
}
