package sqlstore

import (
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/admin/admintest"
)

// TestAdminStores runs the admin package's conformance kit on both
// dialects.
func TestAdminStores(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		admintest.Run(t, func(t *testing.T) admintest.Stores {
			s := db.AdminStore()
			return admintest.Stores{Tokens: s, Sync: s, Domains: s, Log: db.ProvisioningLog(0)}
		})
	})
}

// TestProvisioningLogRetention: Record deletes what is older than the
// retention, and Prune does on demand.
func TestProvisioningLogRetention(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		tenant := "retention-" + randomHex()
		now := time.Now().UTC()
		l := db.ProvisioningLog(time.Hour)
		t.Cleanup(func() { _ = l.DeleteTenant(ctx, tenant) })
		entry := func(age time.Duration, path string) scim.LogEntry {
			return scim.LogEntry{Tenant: tenant, Time: now.Add(-age), Method: "GET", Path: path, Status: 200}
		}
		if err := l.Record(ctx, []scim.LogEntry{entry(2*time.Hour, "/old"), entry(time.Minute, "/new\x00\xff")}); err != nil {
			t.Fatal(err)
		}
		got, err := l.ListLog(ctx, tenant, admin.LogFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Path != "/new\uFFFD\uFFFD" {
			t.Fatalf("after Record with a retention of an hour: %+v", got)
		}
		if _, err := l.Prune(ctx, now); err != nil {
			t.Fatal(err)
		}
		if got, _ := l.ListLog(ctx, tenant, admin.LogFilter{}); len(got) != 0 {
			t.Errorf("after Prune: %+v", got)
		}
	})
}
