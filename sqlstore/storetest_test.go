package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/storetest"
)

// TestStoretest runs the Store contract of package storetest on both
// dialects: on PostgreSQL every check gets a fresh tenant of the shared test
// schema, on SQLite a fresh database file. The tenant isolation checks get
// two fresh tenants of one database: one a store bound to its tenant
// (DB.Tenant), the other a store that reads the tenant from the context
// (DB.ByContext), as behind scim.BearerAuth. Each dialect runs the kit a
// second time with a user cache (WithUserCache).
func TestStoretest(t *testing.T) {
	all := dialects
	if !raceEnabled {
		// With a user cache too. Under the race detector the kit's
		// keyset walk alone takes minutes on SQLite; the cache's paths
		// are raced by the concurrency tests' cached variants.
		all = append(all, cachingDialects()...)
	}
	for _, d := range all {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			var shared *DB
			if strings.HasPrefix(d.name, "postgres") {
				shared = d.open(t) // skips or fails here when unreachable
			}
			open := func(t *testing.T) *DB {
				if shared != nil {
					return shared
				}
				return d.open(t)
			}
			declared := storetest.Groups | storetest.UserUpdater | storetest.GroupUpdater | storetest.MemberPatcher | storetest.UserGroups
			if strings.HasSuffix(d.name, "+cache") {
				declared |= storetest.EncodingCache
			}
			storetest.Run(t, func(t *testing.T) scim.Store { return newStore(t, open(t)) },
				storetest.Declare(declared),
				storetest.Tenants(func(t *testing.T) (a, b storetest.Tenant) {
					db := open(t)
					byContext := db.ByContext(func(ctx context.Context) string {
						tn, _ := scim.TenantFrom(ctx)
						return tn.ID
					})
					return storetest.Tenant{Store: newStore(t, db)},
						storetest.Tenant{Store: byContext, Context: storetest.InTenant(randomTenant(t, db))}
				}))
		})
	}
}
