package admintest_test

import (
	"testing"
	"time"

	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/admin/admintest"
)

func TestMemory(t *testing.T) {
	admintest.Run(t, func(t *testing.T) admintest.Stores {
		m := new(admin.Memory)
		return admintest.Stores{Tokens: m, Sync: m, Domains: m, Log: admin.NewMemoryLog(0)}
	})
}

// TestCached runs the contracts over the caching stores: a cache changes
// only what another writer's changes look like, never its own.
func TestCached(t *testing.T) {
	admintest.Run(t, func(t *testing.T) admintest.Stores {
		m := new(admin.Memory)
		return admintest.Stores{Tokens: admin.CacheTokens(m, time.Minute), Sync: m, Domains: admin.CacheDomains(m, time.Minute), Log: admin.NewMemoryLog(0)}
	})
}
