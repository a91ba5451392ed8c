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

// TestProvisioningLogBatches: a backlog longer than one row's entries is
// written whole and in order, and Record inserts a batch of any size with
// the same statement on both dialects (see Record).
func TestProvisioningLogBatches(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		tenant := "batches-" + randomHex()
		l := db.ProvisioningLog(0)
		t.Cleanup(func() { _ = l.DeleteTenant(ctx, tenant) })
		queries := logQueries(db)
		sizes := []int{1, 2, 5, 40, logRowEntries + 3}
		base := time.Now().UTC()
		total := 0
		for _, n := range sizes {
			batch := make([]scim.LogEntry, n)
			for i := range batch {
				batch[i] = scim.LogEntry{Tenant: tenant, Time: base.Add(time.Duration(total) * time.Millisecond), Method: "GET",
					Path: "/Users", Status: 200, Duration: time.Duration(total)}
				total++
			}
			if err := l.Record(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		inserts := touching(queries.take(), "INSERT INTO scim_log_batches")
		if len(inserts) != len(sizes)+1 {
			t.Fatalf("%d batches (the last one over %d entries) ran %d INSERTs, want %d", len(sizes), logRowEntries, len(inserts), len(sizes)+1)
		}
		for _, q := range inserts[1:] {
			if q != inserts[0] {
				t.Fatalf("batches of different sizes ran different statements:\n%s\n%s", inserts[0], q)
			}
		}
		got, err := l.ListLog(ctx, tenant, admin.LogFilter{Limit: admin.MaxLogLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != min(total, admin.MaxLogLimit) {
			t.Fatalf("ListLog: %d entries, want %d", len(got), min(total, admin.MaxLogLimit))
		}
		for i, e := range got { // newest first
			if want := total - 1 - i; e.Duration != time.Duration(want) {
				t.Fatalf("entry %d: duration %v, want %v (entries out of order or lost)", i, e.Duration, time.Duration(want))
			}
		}
	})
}
