package scim_test

import (
	"context"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// The tenant WithTenant puts in a context is found under contexts derived
// from it, the innermost one when tenants are nested, and the context
// still passes on other values, cancellation and deadlines.
func TestWithTenantContext(t *testing.T) {
	type otherKey struct{}
	type innerKey struct{}
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), otherKey{}, "v"), time.Hour)
	ctx := scim.WithTenant(parent, scim.Tenant{ID: "acme", Client: "app"})
	derived, stop := context.WithCancel(context.WithValue(ctx, innerKey{}, 1))
	defer stop()
	if got, ok := scim.TenantFrom(derived); !ok || got != (scim.Tenant{ID: "acme", Client: "app"}) {
		t.Errorf("TenantFrom(derived) = %+v, %v", got, ok)
	}
	if got, _ := scim.TenantFrom(scim.WithTenant(derived, scim.Tenant{ID: "globex"})); got.ID != "globex" {
		t.Errorf("nested tenant: got %q, want the innermost, globex", got.ID)
	}
	if _, ok := scim.TenantFrom(parent); ok {
		t.Error("a tenant found in a context without one")
	}
	if ctx.Value(otherKey{}) != "v" {
		t.Error("the tenant's context hides its parent's values")
	}
	if _, ok := ctx.Deadline(); !ok {
		t.Error("the tenant's context lost its parent's deadline")
	}
	cancel()
	select {
	case <-derived.Done():
	case <-time.After(time.Second):
		t.Fatal("cancelling the parent did not reach a context derived from the tenant's")
	}
}

// WithTenant refuses a nil parent at once, as context.WithValue does,
// rather than fail later on Done or a lookup.
func TestWithTenantNilParent(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("WithTenant(nil, ...) did not panic")
		}
	}()
	//lint:ignore SA1012 the nil parent is what is tested
	scim.WithTenant(nil, scim.Tenant{ID: "acme"}) //nolint:staticcheck
}
