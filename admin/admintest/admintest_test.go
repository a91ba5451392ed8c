package admintest_test

import (
	"testing"

	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/admin/admintest"
)

func TestMemory(t *testing.T) {
	admintest.Run(t, func(t *testing.T) admintest.Stores {
		m := new(admin.Memory)
		return admintest.Stores{Tokens: m, Sync: m, Domains: m, Log: admin.NewMemoryLog(0)}
	})
}
