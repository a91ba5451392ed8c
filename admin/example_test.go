package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/memstore"
)

// A host wires the SCIM endpoint to the admin's settings: tokens from the
// token store, emails on verified domains only, every request in the log.
// The admin page itself (admin.NewHandler) is mounted behind the host's
// own admin login.
func Example() {
	ctx := context.Background()
	m := new(admin.Memory)
	settings := &admin.Settings{Tokens: m, Sync: m, Domains: m, Log: admin.NewMemoryLog(0)}
	queue := scim.NewLogQueue(settings.Log, 0)
	h, err := scim.NewHandler(memstore.New(memstore.WithTenant(func(ctx context.Context) string {
		t, _ := scim.TenantFrom(ctx)
		return t.ID
	})), scim.Options{AllowDomain: settings.AllowDomain, Log: queue})
	if err != nil {
		panic(err)
	}
	scimEndpoint := scim.BearerAuthLog(settings.Lookup, queue)(h)

	// What the admin does on the page: create a token, add a domain.
	token, _, err := settings.CreateToken(ctx, "acme", "Entra ID")
	if err != nil {
		panic(err)
	}
	if _, err := settings.AddDomain(ctx, "acme", "acme.example"); err != nil {
		panic(err)
	}

	// What Entra ID does with the token.
	send := func(method, path string) int {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("User-Agent", "Azure AD Provisioning")
		w := httptest.NewRecorder()
		scimEndpoint.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println("query:", send(http.MethodGet, `/Users?filter=userName+eq+%2200000000-0000-4000-8000-000000000001%22`))
	if err := m.SetSyncDisabled(ctx, "acme", true); err != nil {
		panic(err)
	}
	fmt.Println("sync off:", send(http.MethodGet, "/Users"))

	// What the admin reads in the log.
	if err := queue.Flush(ctx); err != nil {
		panic(err)
	}
	entries, err := settings.Log.ListLog(ctx, "acme", admin.LogFilter{})
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		fmt.Println(e.Method, e.Path, e.Status, e.Probe, e.Detail)
	}
	// Output:
	// query: 200
	// sync off: 403
	// GET /Users 403 false SCIM provisioning is switched off for this workspace; a workspace admin can switch it back on
	// GET /Users 200 true
}
