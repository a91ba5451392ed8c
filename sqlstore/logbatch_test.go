package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/internal/sqldialect"
)

// logModel is what a provisioning log must answer: every entry recorded,
// in the order of recording.
type logModel []scim.LogEntry

// list is ListLog's answer by definition: the matching entries, newest
// first, ties by recording order (newer first), at most the limit.
func (m logModel) list(tenant string, f admin.LogFilter) []scim.LogEntry {
	if !f.Before.IsZero() {
		f.Before = f.Before.UTC().Truncate(time.Microsecond)
	}
	type ranked struct {
		e scim.LogEntry
		i int
	}
	var rs []ranked
	for i, e := range m {
		if e.Tenant == tenant && f.Matches(&e) {
			rs = append(rs, ranked{e, i})
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := b.e.Time.Compare(a.e.Time); c != 0 {
			return c
		}
		return b.i - a.i
	})
	limit := f.EffectiveLimit()
	out := []scim.LogEntry{}
	for i := 0; i < len(rs) && i < limit; i++ {
		out = append(out, rs[i].e)
	}
	return out
}

// stored is e as the log gives it back: UTC, to the microsecond.
func stored(e scim.LogEntry) scim.LogEntry {
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	return e
}

func checkList(t *testing.T, l *ProvisioningLog, m logModel, tenant string, f admin.LogFilter) {
	t.Helper()
	got, err := l.ListLog(t.Context(), tenant, f)
	if err != nil {
		t.Fatalf("ListLog(%+v): %v", f, err)
	}
	want := m.list(tenant, f)
	if len(got) != len(want) {
		t.Fatalf("ListLog(%+v): %d entries, want %d", f, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("ListLog(%+v): entry %d is\n%+v\nwant\n%+v", f, i, got[i], want[i])
		}
	}
}

// TestProvisioningLogAcrossBatches: 200 batches whose times overlap, with
// ties within and across batches, and failures, probes, groups and one
// client in a few of them only; every filter, limit and Before gives what
// one table of entries would.
func TestProvisioningLogAcrossBatches(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		tenant := "batches-" + randomHex()
		l := db.ProvisioningLog(0)
		t.Cleanup(func() { _ = l.DeleteTenant(context.Background(), tenant) })
		rng := rand.New(rand.NewPCG(1, 2))
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
		var m logModel
		for b := range 200 {
			n := 1 + rng.IntN(25)
			batch := make([]scim.LogEntry, n)
			for i := range batch {
				// Batch b's entries lie within 40 ms of b*10 ms: each
				// overlaps the next few, and many times repeat.
				e := scim.LogEntry{Tenant: tenant, Time: base.Add(time.Duration(b*10+rng.IntN(40)) * time.Millisecond),
					UserAgent: "Entra", Method: "GET", Path: fmt.Sprintf("/Users/%d-%d", b, i), Status: 200,
					ResourceType: "User", Duration: time.Duration(rng.IntN(1000))}
				if rng.IntN(3) == 0 {
					e.Time = e.Time.Add(time.Duration(rng.IntN(1000)) * time.Nanosecond) // dropped: to the µs
				}
				switch b {
				case 17, 120, 188:
					e.Status, e.Type, e.Detail = 409, scim.ErrorType("uniqueness"), "taken"
				case 50, 51:
					e.Probe = true
				case 90:
					e.ResourceType, e.Path = "Group", "/Groups"
				case 5, 160:
					e.Client = "okta-client"
				}
				batch[i] = e
				m = append(m, stored(e))
			}
			if err := l.Record(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		mid := m[len(m)/2].Time // a time some entries share
		for _, f := range []admin.LogFilter{
			{}, {Limit: 1}, {Limit: 7}, {Limit: 333}, {Limit: admin.MaxLogLimit}, {Limit: admin.MaxLogLimit + 1},
			{FailuresOnly: true}, {FailuresOnly: true, Limit: 2}, {ProbesOnly: true}, {ResourceType: "Group"},
			{ResourceType: "User", Limit: 50}, {Client: "okta-client"}, {Client: "Entra", Limit: 40},
			{Before: mid}, {Before: mid.Add(time.Nanosecond)}, {Before: mid.Add(time.Microsecond), Limit: 13},
			{Before: base.Add(300 * time.Millisecond), Limit: 1000}, {Before: base}, {Before: mid, FailuresOnly: true},
			{Before: mid, Client: "okta-client", Limit: 3}, {ProbesOnly: true, ResourceType: "Group"},
		} {
			checkList(t, l, m, tenant, f)
		}
		// Paging with Before walks the log to its end.
		seen := 0
		for f := (admin.LogFilter{Limit: 97}); ; {
			page, err := l.ListLog(ctx, tenant, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			checkList(t, l, m, tenant, f)
			seen += len(page)
			f.Before = page[len(page)-1].Time
		}
		if seen == 0 || seen > len(m) {
			t.Errorf("paging saw %d of %d entries", seen, len(m))
		}
	})
}

// TestProvisioningLogPrune: Prune deletes the rows older than its time
// whole, rewrites the rows on both sides of it, and counts the entries.
func TestProvisioningLogPrune(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		tenant := "prune-" + randomHex()
		// Far in the past, so that no other test's entries are as old
		// (Prune is for every tenant); the retention keeps Record from
		// pruning them first.
		l := db.ProvisioningLog(60 * 365 * 24 * time.Hour)
		t.Cleanup(func() { _ = l.DeleteTenant(context.Background(), tenant) })
		cut := time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC)
		var m logModel
		record := func(offsets ...time.Duration) {
			t.Helper()
			var batch []scim.LogEntry
			for i, o := range offsets {
				e := scim.LogEntry{Tenant: tenant, Time: cut.Add(o), Method: "PATCH", Path: "/Users/x", Status: 200 + 300*(i%2),
					Probe: i%3 == 0, Events: []scim.EventKind{"user.updated"}}
				batch = append(batch, e)
				m = append(m, stored(e))
			}
			if err := l.Record(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		record(-3*time.Hour, -2*time.Hour, -time.Hour)              // old: goes whole
		record(-time.Minute, time.Minute, -time.Microsecond, 0, -2) // straddles: three go
		record(time.Hour, 0)                                        // new
		record(-time.Second)                                        // old
		n, err := l.Prune(ctx, cut.Add(500*time.Nanosecond))        // the same as cut, to the µs
		if err != nil {
			t.Fatal(err)
		}
		if n != 7 {
			t.Errorf("Prune removed %d entries, want 7", n)
		}
		m = slices.DeleteFunc(m, func(e scim.LogEntry) bool { return e.Time.Before(cut) })
		for _, f := range []admin.LogFilter{{}, {FailuresOnly: true}, {ProbesOnly: true}, {Before: cut.Add(time.Minute)}} {
			checkList(t, l, m, tenant, f)
		}
		var rows, entries int
		if err := db.queryRow(ctx, db.db, "SELECT count(*), sum(n) FROM scim_log_batches WHERE tenant = ?", []any{tenant}, &rows, &entries); err != nil {
			t.Fatal(err)
		}
		if rows != 2 || entries != 4 {
			t.Errorf("after Prune: %d rows of %d entries, want 2 of 4", rows, entries)
		}
		// The rewritten row's summary counts its kept entries only: two
		// failures (of three), one probe (of two).
		var failures, probes int
		var oldest time.Time
		if err := db.queryRow(ctx, db.db, "SELECT failures, probes, oldest FROM scim_log_batches WHERE tenant = ? AND n = 2 AND newest = ?",
			[]any{tenant, db.timeArg(cut.Add(time.Minute))}, &failures, &probes, timeCol{&oldest}); err != nil {
			t.Fatal(err)
		}
		if failures != 2 || probes != 1 || !oldest.Equal(cut) {
			t.Errorf("the rewritten row has %d failures, %d probes, oldest %v; want 2, 1, %v", failures, probes, oldest, cut)
		}
		if n, err := l.Prune(ctx, cut); err != nil || n != 0 {
			t.Errorf("Prune again: %d, %v; want 0", n, err)
		}
		if n, err := l.Prune(ctx, cut.Add(2*time.Hour)); err != nil || n != 4 {
			t.Errorf("Prune of everything: %d, %v; want 4", n, err)
		}
		if got, _ := l.ListLog(ctx, tenant, admin.LogFilter{}); len(got) != 0 {
			t.Errorf("after pruning everything: %+v", got)
		}
	})
}

// TestProvisioningLogTenants: one Record of entries of several tenants
// stores one row for each in one transaction, and each tenant sees its
// own entries only, in order.
func TestProvisioningLogTenants(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		l := db.ProvisioningLog(0)
		tenants := []string{"t1-" + randomHex(), "t2-" + randomHex(), "t3-" + randomHex()}
		for _, tn := range tenants {
			t.Cleanup(func() { _ = l.DeleteTenant(context.Background(), tn) })
		}
		base := time.Now().UTC().Truncate(time.Microsecond)
		var batch []scim.LogEntry
		for i := range 30 {
			batch = append(batch, scim.LogEntry{Tenant: tenants[i%3], Time: base.Add(time.Duration(i/5) * time.Millisecond),
				Client: tenants[i%3], Method: "GET", Path: fmt.Sprintf("/Users/%d", i), Status: 200})
		}
		queries := logQueries(db)
		if err := l.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if ins := touching(queries.take(), "INSERT INTO scim_log_batches"); len(ins) != 3 {
			t.Errorf("%d INSERTs for 3 tenants, want 3", len(ins))
		}
		m := logModel(batch)
		for _, tn := range tenants {
			checkList(t, l, m, tn, admin.LogFilter{})
			if cs, err := l.LogClients(ctx, tn); err != nil || !slices.Equal(cs, []string{tn}) {
				t.Errorf("LogClients(%s) = %q, %v", tn, cs, err)
			}
		}
		if err := l.DeleteTenant(ctx, tenants[0]); err != nil {
			t.Fatal(err)
		}
		checkList(t, l, nil, tenants[0], admin.LogFilter{})
		checkList(t, l, m, tenants[1], admin.LogFilter{})
	})
}

// TestProvisioningLogText: every string field round-trips whatever it
// holds, in a batch's JSON and in a row that Prune rewrote.
func TestProvisioningLogText(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		tenant := "text-" + randomHex()
		l := db.ProvisioningLog(0)
		t.Cleanup(func() { _ = l.DeleteTenant(context.Background(), tenant) })
		texts := []string{`"`, `\`, `\"`, `{}`, `{"a":1}`, `[1,2]`, `,`, `a,b`, "NULL", "null", "", " ", "héllo ✓ 😀 中文",
			"line\nbreak\ttab\r\x01\x1f\x7f", `\u0000`, "</script>", "\u2028\u2029", "]", "'", `\\n`}
		base := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
		var batch []scim.LogEntry
		for i, s := range texts {
			batch = append(batch, scim.LogEntry{Tenant: tenant, Time: base.Add(time.Duration(i) * time.Microsecond),
				Client: s, UserAgent: s + "ua", Method: s, Path: "/" + s, Query: s, Status: 400 + i, Type: scim.ErrorType(s),
				Detail: s, ResourceType: s, ResourceID: s, Events: []scim.EventKind{scim.EventKind(strings.ReplaceAll(s, ",", ";") + "x"), "b"}, // kinds hold no comma
				Probe: i%2 == 0, Duration: time.Duration(i) * time.Hour * 1000})
		}
		if err := l.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
		m := logModel(batch)
		checkList(t, l, m, tenant, admin.LogFilter{})
		for _, s := range texts {
			if s != "" {
				checkList(t, l, m, tenant, admin.LogFilter{Client: s})
			}
			checkList(t, l, m, tenant, admin.LogFilter{ResourceType: s})
		}
		// Rewritten by Prune (only this tenant's entries are this new).
		if _, err := l.Prune(ctx, base.Add(3*time.Microsecond)); err != nil {
			t.Fatal(err)
		}
		checkList(t, l, m[3:], tenant, admin.LogFilter{})
	})
}

// TestProvisioningLogLargeBatch: a batch of 1,200 entries, more than one
// row holds, is two rows, read back whole across them; LogClients reads
// the newest 10,000 entries only, across rows, and at most 50 clients.
func TestProvisioningLogLargeBatch(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		tenant := "large-" + randomHex()
		l := db.ProvisioningLog(0)
		t.Cleanup(func() { _ = l.DeleteTenant(context.Background(), tenant) })
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
		var m logModel
		batch := func(n int, client func(i int) string) []scim.LogEntry {
			b := make([]scim.LogEntry, n)
			for i := range b {
				b[i] = scim.LogEntry{Tenant: tenant, Time: base.Add(time.Duration(len(m)) * time.Microsecond), Client: client(len(m)),
					Method: "GET", Path: "/Users", Status: 200, Duration: time.Duration(len(m))}
				m = append(m, b[i])
			}
			return b
		}
		// The oldest 800 entries' clients fall out of the newest 10,000.
		queries := logQueries(db)
		if err := l.Record(ctx, batch(1200, func(i int) string {
			if i < 800 {
				return "a-old"
			}
			return ""
		})); err != nil {
			t.Fatal(err)
		}
		if ins := touching(queries.take(), "INSERT INTO scim_log_batches"); len(ins) != 2 {
			t.Errorf("a batch of 1,200 entries ran %d INSERTs, want 2", len(ins))
		}
		checkList(t, l, m, tenant, admin.LogFilter{Limit: admin.MaxLogLimit})
		checkList(t, l, m, tenant, admin.LogFilter{Limit: admin.MaxLogLimit, Before: m[1100].Time})
		checkList(t, l, m, tenant, admin.LogFilter{Limit: 10, Before: m[1001].Time})
		for range 8 {
			if err := l.Record(ctx, batch(1200, func(i int) string { return fmt.Sprintf("c%03d", i%60) })); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := l.LogClients(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := range 50 {
			want = append(want, fmt.Sprintf("c%03d", i))
		}
		if !slices.Equal(cs, want) {
			t.Errorf("LogClients = %q, want %q", cs, want)
		}
		// With fewer than 50 clients, "a-old" would show if it were among
		// the newest 10,000.
		if err := l.DeleteTenant(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		m = nil
		if err := l.Record(ctx, batch(1200, func(i int) string {
			if i < 800 {
				return "a-old"
			}
			return "b-new"
		})); err != nil {
			t.Fatal(err)
		}
		for range 8 {
			if err := l.Record(ctx, batch(1200, func(i int) string { return "b-new" })); err != nil {
				t.Fatal(err)
			}
		}
		if cs, err := l.LogClients(ctx, tenant); err != nil || !slices.Equal(cs, []string{"b-new"}) {
			t.Errorf("LogClients = %q, %v; want only b-new (a-old is older than the newest 10,000)", cs, err)
		}
	})
}

// TestProvisioningLogUpgrade: a database with the table of one row per
// entry (migration 0050), opened by this package, lists the same entries,
// in the same order, and records after them.
func TestProvisioningLogUpgrade(t *testing.T) {
	setups := []struct {
		name  string
		d     Dialect
		fresh func(t *testing.T) *sql.DB
	}{
		{"postgres", PostgreSQL, func(t *testing.T) *sql.DB { return freshPostgresSchema(t, "scimhost_upgrade_") }},
		{"sqlite", SQLite, func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(t.TempDir(), "u.db")))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	}
	for _, st := range setups {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			raw := st.fresh(t)
			ms, err := loadMigrations(st.d)
			if err != nil {
				t.Fatal(err)
			}
			ms = slices.DeleteFunc(ms, func(m sqldialect.Migration) bool { return m.Version > 50 })
			if err := sqldialect.Apply(ctx, raw, st.d, "scim_schema_migrations", ms, time.Now()); err != nil {
				t.Fatal(err)
			}
			tx, err := raw.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := tx.PrepareContext(ctx, st.d.Rebind("INSERT INTO scim_log ("+
				"tenant, at, client, user_agent, method, path, query, status, scim_type, detail, resource_type, resource_id, events, probe, duration_ns"+
				") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
			texts := []string{"", `"`, `\`, "{x,y}", "NULL", "é✓😀", "a\nb"}
			var m logModel
			for i := range 2500 {
				e := scim.LogEntry{Tenant: []string{"up-a", "up-a", "up-b"}[i%3], Time: base.Add(time.Duration(rng.IntN(500)) * time.Millisecond),
					Client: texts[i%len(texts)], UserAgent: "ua" + texts[(i+1)%len(texts)], Method: "POST", Path: fmt.Sprintf("/Users/%d", i),
					Query: texts[(i+2)%len(texts)], Status: []int{200, 201, 404, 409}[i%4], Detail: texts[(i+3)%len(texts)],
					ResourceType: []string{"User", "Group"}[i%2], ResourceID: texts[(i+4)%len(texts)], Probe: i%7 == 0,
					Duration: time.Duration(i) * time.Millisecond}
				if e.Failed() {
					e.Type = "invalidValue"
				}
				if i%5 == 0 {
					e.Events = []scim.EventKind{"user.created", "group.members"}
				}
				var at any = e.Time
				if st.d == SQLite {
					at = e.Time.UnixMicro()
				}
				if _, err := ins.ExecContext(ctx, e.Tenant, at, e.Client, e.UserAgent, e.Method, e.Path, e.Query, e.Status, string(e.Type),
					e.Detail, e.ResourceType, e.ResourceID, joinEvents(e.Events), e.Probe, int64(e.Duration)); err != nil {
					t.Fatal(err)
				}
				m = append(m, e)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			db, err := Open(ctx, raw, st.d)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.ExecContext(ctx, "SELECT count(*) FROM scim_log"); err == nil {
				t.Error("scim_log is still there")
			}
			l := db.ProvisioningLog(0)
			for _, tenant := range []string{"up-a", "up-b"} {
				for _, f := range []admin.LogFilter{{}, {Limit: admin.MaxLogLimit}, {FailuresOnly: true, Limit: 500}, {ProbesOnly: true},
					{ResourceType: "Group", Limit: 900}, {Client: `"`}, {Client: "uaNULL"}, {Before: m[1234].Time, Limit: admin.MaxLogLimit}} {
					checkList(t, l, m, tenant, f)
				}
			}
			// A new entry as old as the newest is the newer for being
			// recorded after.
			newest := l.mustNewest(t, "up-a")
			e := scim.LogEntry{Tenant: "up-a", Time: newest, Method: "GET", Path: "/new", Status: 200}
			if err := l.Record(ctx, []scim.LogEntry{e}); err != nil {
				t.Fatal(err)
			}
			m = append(m, e)
			checkList(t, l, m, "up-a", admin.LogFilter{Limit: 20})
		})
	}
}

// mustNewest returns the time of the tenant's newest entry.
func (l *ProvisioningLog) mustNewest(t *testing.T, tenant string) time.Time {
	t.Helper()
	es, err := l.ListLog(t.Context(), tenant, admin.LogFilter{Limit: 1})
	if err != nil || len(es) != 1 {
		t.Fatalf("ListLog: %v, %v", es, err)
	}
	return es[0].Time
}

// TestProvisioningLogTieAtTheCut: a row read after the reader holds its
// limit of entries, whose newest entry is as old as the last one kept,
// still counts: recorded later, its entry of that time comes first.
func TestProvisioningLogTieAtTheCut(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		tenant := "tie-" + randomHex()
		l := db.ProvisioningLog(0)
		t.Cleanup(func() { _ = l.DeleteTenant(context.Background(), tenant) })
		at := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
		var m logModel
		record := func(offsets ...time.Duration) {
			t.Helper()
			var batch []scim.LogEntry
			for _, o := range offsets {
				e := scim.LogEntry{Tenant: tenant, Time: at.Add(o), Method: "GET", Path: fmt.Sprintf("/Users/%d", len(m)), Status: 200}
				batch = append(batch, e)
				m = append(m, e)
			}
			if err := l.Record(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		// A first page of rows (logPage) holds limit entries, the last
		// of them at the time of the next row's only entry.
		for i := 1; i < logPage; i++ {
			record(time.Duration(i) * time.Millisecond)
		}
		record(time.Duration(logPage)*time.Millisecond, 0)
		record(0)
		checkList(t, l, m, tenant, admin.LogFilter{Limit: logPage + 1})
		checkList(t, l, m, tenant, admin.LogFilter{Limit: logPage + 2})
	})
}

// FuzzAppendJSONString: the log's string encoder writes what
// encoding/json writes, for any valid UTF-8 (clean makes the rest valid).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "PATCH", "/Users/2819c223-7f76-453a-919d-413861904646", "Azure AD SCIM", "Okta/2024 (x86)",
		`a"b`, `back\slash`, "<script>&amp;", "tab\there", "new\nline", "del\x7f", "é", "\u2028\u2029", "\U0001F600", "\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = clean(s)
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, encoding/json writes %s", s, got[1:], want)
		}
	})
}

// BenchmarkEncodeLogEntries encodes a batch of 64 entries as Entra ID's
// requests leave them (what the log's goroutine writes every 10 ms at
// about 6,000 requests/s).
//
//	go test -run '^$' -bench EncodeLogEntries -benchmem ./sqlstore
func BenchmarkEncodeLogEntries(b *testing.B) {
	entries := make([]scim.LogEntry, 64)
	now := time.Now()
	for i := range entries {
		entries[i] = scim.LogEntry{Time: now.Add(time.Duration(i) * time.Millisecond), Tenant: "contoso", Client: "Entra ID",
			UserAgent: "Azure AD SCIM Client", Method: "PATCH", Path: "/Users/2819c223-7f76-453a-919d-413861904646",
			Query: "", Status: 200, ResourceType: "User", ResourceID: "2819c223-7f76-453a-919d-413861904646",
			Events: []scim.EventKind{scim.UserUpdated}, Duration: 900 * time.Microsecond}
	}
	for b.Loop() {
		encodeLogEntries(entries)
	}
}

// TestProvisioningLogCompression: on PostgreSQL, a batch's entries are
// stored compressed with lz4 when the server has it (migration
// 0052_log_entries_lz4), pglz otherwise, and read back the same either way.
func TestProvisioningLogCompression(t *testing.T) {
	db := openPostgres(t)
	ctx := t.Context()
	var lz4 bool
	if _, err := db.db.ExecContext(ctx, "CREATE TEMP TABLE lz4_probe (x text COMPRESSION lz4)"); err == nil {
		lz4 = true
		if _, err := db.db.ExecContext(ctx, "DROP TABLE lz4_probe"); err != nil {
			t.Fatal(err)
		}
	}
	tenant := "compressed-" + randomHex()
	l := db.ProvisioningLog(0)
	t.Cleanup(func() { _ = l.DeleteTenant(context.Background(), tenant) })
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	var m logModel
	for i := range 200 {
		m = append(m, scim.LogEntry{Tenant: tenant, Time: base.Add(time.Duration(i) * time.Millisecond),
			Client: "entra", UserAgent: "Azure Active Directory SCIM Client", Method: "PATCH",
			Path: "/Users/" + randomHex(), Status: 200, Duration: time.Duration(i) * time.Microsecond})
	}
	if err := l.Record(ctx, m); err != nil {
		t.Fatal(err)
	}
	var method sql.NullString
	if err := db.db.QueryRowContext(ctx, "SELECT pg_column_compression(entries) FROM scim_log_batches WHERE tenant = $1", tenant).Scan(&method); err != nil {
		t.Fatal(err)
	}
	want := "pglz"
	if lz4 {
		want = "lz4"
	}
	if method.String != want {
		t.Errorf("the batch's entries are compressed with %q, want %q (the server has lz4: %v)", method.String, want, lz4)
	}
	checkList(t, l, m, tenant, admin.LogFilter{Limit: admin.MaxLogLimit})
}
