// Package admintest checks implementations of the admin package's stores
// against their contracts, as storetest does for a scim.Store: a SQL or
// host-written [admin.TokenStore], [admin.SyncStore], [admin.DomainStore]
// and [admin.LogStore] run [Run] in their own tests.
package admintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
)

// Stores are the implementations under test. A nil field skips its checks.
type Stores struct {
	Tokens  admin.TokenStore
	Sync    admin.SyncStore
	Domains admin.DomainStore
	Log     admin.LogStore
}

// Run checks the stores newStores returns; it calls newStores once per
// subtest. The stores may hold other data: Run's tenants are named after
// the subtest with a random suffix, so a database shared between runs and
// packages serves.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Run("Tokens", func(t *testing.T) {
		s := newStores(t)
		if s.Tokens == nil {
			t.Skip("no TokenStore")
		}
		testTokens(t, s.Tokens)
	})
	t.Run("Sync", func(t *testing.T) {
		s := newStores(t)
		if s.Sync == nil {
			t.Skip("no SyncStore")
		}
		testSync(t, s.Sync)
	})
	t.Run("Domains", func(t *testing.T) {
		s := newStores(t)
		if s.Domains == nil {
			t.Skip("no DomainStore")
		}
		testDomains(t, s.Domains)
	})
	t.Run("Log", func(t *testing.T) {
		s := newStores(t)
		if s.Log == nil {
			t.Skip("no LogStore")
		}
		testLog(t, s.Log)
	})
	t.Run("Settings", func(t *testing.T) {
		s := newStores(t)
		if s.Tokens == nil || s.Sync == nil {
			t.Skip("no TokenStore or SyncStore")
		}
		testSettings(t, s)
	})
}

// tenant returns a tenant id no other test or run uses.
func tenant(t *testing.T, n string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return t.Name() + "/" + n + "-" + hex.EncodeToString(b[:])
}

// base is a recent whole hour: log stores may drop old entries.
var base = time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)

// at is a time at millisecond precision, which every store keeps.
func at(minute int) time.Time { return base.Add(time.Duration(minute) * time.Minute) }

func testTokens(t *testing.T, s admin.TokenStore) {
	ctx := t.Context()
	acme, globex := tenant(t, "acme"), tenant(t, "globex")
	mk := func(ten, name string, created time.Time) admin.Token {
		secret, h := scim.NewToken()
		return admin.Token{ID: scim.NewID(), Tenant: ten, Name: name, Prefix: secret[:13], Hash: h, Created: created}
	}
	a1, a2, g1 := mk(acme, "first", at(1)), mk(acme, "", at(2)), mk(globex, "théâtre", at(3))
	for _, tk := range []admin.Token{a2, a1, g1} {
		if err := s.AddToken(ctx, tk); err != nil {
			t.Fatalf("AddToken: %v", err)
		}
	}
	dupHash := mk(acme, "dup", at(4))
	dupHash.Hash = a1.Hash
	if err := s.AddToken(ctx, dupHash); !errors.Is(err, scim.ErrConflict) {
		t.Errorf("AddToken with a stored hash: %v, want ErrConflict", err)
	}
	dupID := mk(acme, "dup", at(4))
	dupID.ID = a1.ID
	if err := s.AddToken(ctx, dupID); !errors.Is(err, scim.ErrConflict) {
		t.Errorf("AddToken with a stored ID: %v, want ErrConflict", err)
	}

	list, err := s.ListTokens(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != a1.ID || list[1].ID != a2.ID {
		t.Fatalf("ListTokens(acme) = %+v, want a1 then a2 (oldest first), not globex's", list)
	}
	if got := list[0]; got.Name != "first" || got.Prefix != a1.Prefix || got.Hash != a1.Hash || !got.Created.Equal(a1.Created) || !got.LastUsed.IsZero() || !got.Active() || got.Tenant != acme {
		t.Errorf("ListTokens round trip: %+v, want %+v", got, a1)
	}
	if none, err := s.ListTokens(ctx, tenant(t, "nobody")); err != nil || none == nil || len(none) != 0 {
		t.Errorf("ListTokens of a tenant without tokens = %v, %v; want an empty, non-nil list", none, err)
	}

	got, err := s.FindToken(ctx, g1.Hash)
	if err != nil || got.ID != g1.ID || got.Tenant != globex || got.Name != "théâtre" {
		t.Errorf("FindToken = %+v, %v", got, err)
	}
	if _, err := s.FindToken(ctx, scim.HashToken("unknown")); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("FindToken(unknown) = %v, want ErrNotFound", err)
	}

	if err := s.TouchToken(ctx, a1.ID, at(10)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx, a1.ID, at(5)); err != nil { // earlier: ignored
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx, "unknown", at(5)); err != nil {
		t.Errorf("TouchToken(unknown) = %v, want nil", err)
	}
	if got, _ := s.FindToken(ctx, a1.Hash); !got.LastUsed.Equal(at(10)) {
		t.Errorf("LastUsed = %v, want %v (the later touch)", got.LastUsed, at(10))
	}

	if err := s.RevokeToken(ctx, globex, a1.ID, at(11)); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("RevokeToken of another tenant's token = %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, acme, a1.ID, at(11)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, acme, a1.ID, at(12)); err != nil {
		t.Errorf("revoking twice = %v, want nil", err)
	}
	got, err = s.FindToken(ctx, a1.Hash)
	if err != nil || got.Active() || !got.Revoked.Equal(at(11)) {
		t.Errorf("after RevokeToken, FindToken = %+v, %v; want it revoked at the first revocation's time", got, err)
	}
	if err := s.RevokeToken(ctx, acme, "unknown", at(11)); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("RevokeToken(unknown) = %v, want ErrNotFound", err)
	}
	if got, _ := s.FindToken(ctx, a2.Hash); !got.Active() {
		t.Error("revoking one token revoked another")
	}
}

func testSync(t *testing.T, s admin.SyncStore) {
	ctx := t.Context()
	acme, globex := tenant(t, "acme"), tenant(t, "globex")
	if off, err := s.SyncDisabled(ctx, acme); err != nil || off {
		t.Errorf("a new tenant's sync: disabled=%v, %v; want on", off, err)
	}
	steps := []struct {
		set, want bool
	}{{true, true}, {true, true}, {false, false}, {true, true}}
	for _, st := range steps {
		if err := s.SetSyncDisabled(ctx, acme, st.set); err != nil {
			t.Fatal(err)
		}
		if off, err := s.SyncDisabled(ctx, acme); err != nil || off != st.want {
			t.Errorf("after SetSyncDisabled(%v): %v, %v", st.set, off, err)
		}
	}
	if off, _ := s.SyncDisabled(ctx, globex); off {
		t.Error("one tenant's switch changed another's")
	}
}

func testDomains(t *testing.T, s admin.DomainStore) {
	ctx := t.Context()
	acme, globex := tenant(t, "acme"), tenant(t, "globex")
	for _, d := range []admin.Domain{
		{Name: "b.example", Tenant: acme, Token: "t1", Added: at(1)},
		{Name: "a.example", Tenant: acme, Token: "t2", Added: at(2)},
		{Name: "a.example", Tenant: globex, Token: "t3", Added: at(3)},
	} {
		if err := s.AddDomain(ctx, d); err != nil {
			t.Fatalf("AddDomain(%s, %s): %v", d.Tenant, d.Name, err)
		}
	}
	if err := s.AddDomain(ctx, admin.Domain{Name: "a.example", Tenant: acme, Token: "t4", Added: at(4)}); !errors.Is(err, scim.ErrConflict) {
		t.Errorf("AddDomain twice = %v, want ErrConflict", err)
	}
	list, err := s.ListDomains(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "a.example" || list[1].Name != "b.example" || list[0].Token != "t2" || !list[0].Added.Equal(at(2)) || list[0].IsVerified() || list[0].Tenant != acme {
		t.Fatalf("ListDomains = %+v, want a.example then b.example of acme", list)
	}
	if none, err := s.ListDomains(ctx, tenant(t, "nobody")); err != nil || none == nil || len(none) != 0 {
		t.Errorf("ListDomains of a tenant without domains = %v, %v; want an empty list", none, err)
	}
	d := list[0]
	d.Checked, d.CheckError = at(5), "no TXT record"
	if err := s.UpdateDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Verified, d.Checked, d.CheckError = at(6), at(6), ""
	if err := s.UpdateDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDomain(ctx, acme, "a.example")
	if err != nil || !got.Verified.Equal(at(6)) || !got.Checked.Equal(at(6)) || got.CheckError != "" || got.Token != "t2" {
		t.Errorf("after UpdateDomain: %+v, %v", got, err)
	}
	if other, _ := s.GetDomain(ctx, globex, "a.example"); other.IsVerified() {
		t.Error("verifying acme's domain verified globex's")
	}
	if _, err := s.GetDomain(ctx, acme, "c.example"); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("GetDomain(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.UpdateDomain(ctx, admin.Domain{Name: "c.example", Tenant: acme}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("UpdateDomain(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.RemoveDomain(ctx, acme, "a.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDomain(ctx, acme, "a.example"); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("RemoveDomain twice = %v, want ErrNotFound", err)
	}
	if _, err := s.GetDomain(ctx, globex, "a.example"); err != nil {
		t.Errorf("removing acme's domain removed globex's: %v", err)
	}
}

func testLog(t *testing.T, s admin.LogStore) {
	ctx := t.Context()
	acme, globex := tenant(t, "acme"), tenant(t, "globex")
	entry := func(ten string, minute, status int, rt, client, ua string) scim.LogEntry {
		return scim.LogEntry{
			Time: at(minute), Tenant: ten, Client: client, UserAgent: ua, Method: "GET", Path: "/" + rt + "s",
			Status: status, ResourceType: rt, Duration: time.Duration(minute) * time.Millisecond,
		}
	}
	full := scim.LogEntry{
		Time: at(7).Add(123 * time.Millisecond), Tenant: acme, UserAgent: "Azure AD Provisioning", Method: "POST",
		Path: "/Users", Query: "attributes", Status: 400, Type: scim.InvalidValue,
		Detail: `the email domain "x.example" is not verified`, ResourceType: "User", ResourceID: "u1",
		Events: []scim.EventKind{scim.UserCreated, scim.UserUpdated}, Duration: 1500 * time.Microsecond,
	}
	probe := entry(acme, 8, 200, "User", "", "Azure AD Provisioning")
	probe.Probe = true
	batch := []scim.LogEntry{
		entry(acme, 1, 200, "User", "", "Okta SCIM Client"),
		entry(acme, 2, 409, "Group", "entra-app", "Azure AD Provisioning"),
		entry(globex, 3, 500, "User", "", "Okta SCIM Client"),
		full, probe,
	}
	if err := s.Record(ctx, batch[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, batch[2:]); err != nil {
		t.Fatal(err)
	}
	times := func(es []scim.LogEntry) []int {
		var m []int
		for _, e := range es {
			m = append(m, int(e.Time.Sub(base)/time.Minute))
		}
		return m
	}
	tests := []struct {
		name string
		f    admin.LogFilter
		want []int
	}{
		{"all, newest first", admin.LogFilter{}, []int{8, 7, 2, 1}},
		{"failures only", admin.LogFilter{FailuresOnly: true}, []int{7, 2}},
		{"probes only", admin.LogFilter{ProbesOnly: true}, []int{8}},
		{"groups", admin.LogFilter{ResourceType: "Group"}, []int{2}},
		{"by OAuth client", admin.LogFilter{Client: "entra-app"}, []int{2}},
		{"by User-Agent", admin.LogFilter{Client: "Okta SCIM Client"}, []int{1}},
		{"before", admin.LogFilter{Before: at(7)}, []int{2, 1}},
		{"limit", admin.LogFilter{Limit: 2}, []int{8, 7}},
		{"combined", admin.LogFilter{FailuresOnly: true, ResourceType: "User", Client: "Azure AD Provisioning"}, []int{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListLog(ctx, acme, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(times(got), tt.want) {
				t.Errorf("ListLog(%+v) minutes = %v, want %v", tt.f, times(got), tt.want)
			}
		})
	}
	got, err := s.ListLog(ctx, acme, admin.LogFilter{FailuresOnly: true, Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListLog: %v, %v", got, err)
	}
	if g := got[0]; !g.Time.Equal(full.Time) || g.Tenant != full.Tenant || g.UserAgent != full.UserAgent || g.Method != full.Method ||
		g.Path != full.Path || g.Query != full.Query || g.Status != full.Status || g.Type != full.Type || g.Detail != full.Detail ||
		g.ResourceType != full.ResourceType || g.ResourceID != full.ResourceID || !slices.Equal(g.Events, full.Events) ||
		g.Duration != full.Duration || g.Probe || g.Client != "" {
		t.Errorf("round trip:\n got %+v\nwant %+v", g, full)
	}
	// Text that a store's encoding of a batch could take for something
	// else: quotes, backslashes, braces, commas, the word NULL, empty
	// strings, non-ASCII.
	odd := tenant(t, "odd")
	awkward := scim.LogEntry{
		Time: at(30), Tenant: odd, Client: `a,b`, UserAgent: `Agent "quoted" \ back\slash`, Method: "PATCH",
		Path: `/Users/{x},{y}`, Query: "NULL", Status: 400, Type: scim.InvalidSyntax, Detail: `{"a": "\"b\""} — é ✓ NULL`,
		ResourceType: "User", ResourceID: `""`, Duration: time.Nanosecond,
	}
	plain := scim.LogEntry{Time: at(31), Tenant: odd, Method: "GET", Path: "/", Status: 200}
	if err := s.Record(ctx, []scim.LogEntry{awkward, plain}); err != nil {
		t.Fatal(err)
	}
	got, err = s.ListLog(ctx, odd, admin.LogFilter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("ListLog: %+v, %v", got, err)
	}
	if g := got[1]; g.Client != awkward.Client || g.UserAgent != awkward.UserAgent || g.Path != awkward.Path ||
		g.Query != awkward.Query || g.Detail != awkward.Detail || g.ResourceID != awkward.ResourceID ||
		g.Type != awkward.Type || g.Duration != awkward.Duration || !g.Time.Equal(awkward.Time) {
		t.Errorf("round trip of awkward text:\n got %+v\nwant %+v", g, awkward)
	}
	if g := got[0]; g.Client != "" || g.UserAgent != "" || g.Query != "" || g.Detail != "" || g.Events != nil || g.Path != "/" {
		t.Errorf("round trip of empty text: got %+v", g)
	}

	other, err := s.ListLog(ctx, globex, admin.LogFilter{})
	if err != nil || len(other) != 1 || other[0].Status != 500 {
		t.Errorf("globex's log = %+v, %v; want its one entry only", other, err)
	}
	clients, err := s.LogClients(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Azure AD Provisioning", "Okta SCIM Client", "entra-app"}; !slices.Equal(clients, want) {
		t.Errorf("LogClients = %q, want %q", clients, want)
	}

	// Concurrent writers lose nothing.
	conc := tenant(t, "concurrent")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				e := entry(conc, 20, 200, "User", fmt.Sprint(w), "")
				e.Time = e.Time.Add(time.Duration(w*10+i) * time.Millisecond)
				if err := s.Record(context.Background(), []scim.LogEntry{e}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if all, err := s.ListLog(ctx, conc, admin.LogFilter{}); err != nil || len(all) != 40 {
		t.Errorf("after 40 concurrent Records, ListLog has %d entries, %v", len(all), err)
	}
}

// testSettings runs the Settings operations over the stores: what a host
// relies on when it serves BearerAuth from them.
func testSettings(t *testing.T, st Stores) {
	ctx := t.Context()
	s := &admin.Settings{Tokens: st.Tokens, Sync: st.Sync, Domains: st.Domains}
	acme := tenant(t, "acme")
	secret, rec, err := s.CreateToken(ctx, acme, "rotation")
	if err != nil {
		t.Fatal(err)
	}
	tn, err := s.Lookup(ctx, secret)
	if err != nil || tn.ID != acme || tn.Disabled {
		t.Fatalf("Lookup of a new token = %+v, %v", tn, err)
	}
	if got, _ := st.Tokens.FindToken(ctx, rec.Hash); got.LastUsed.IsZero() {
		t.Error("Lookup did not record the token's use")
	}
	if err := st.Sync.SetSyncDisabled(ctx, acme, true); err != nil {
		t.Fatal(err)
	}
	if tn, err := s.Lookup(ctx, secret); err != nil || !tn.Disabled {
		t.Errorf("Lookup with sync off = %+v, %v; want Disabled", tn, err)
	}
	if err := s.RevokeToken(ctx, acme, rec.ID); err != nil {
		t.Fatal(err)
	}
	tn, err = s.Lookup(ctx, secret)
	if !errors.Is(err, scim.ErrUnknownToken) || tn.ID != acme {
		t.Errorf("Lookup of a revoked token = %+v, %v; want acme with ErrUnknownToken", tn, err)
	}
	if _, err := s.Lookup(ctx, "scim_nonsense"); !errors.Is(err, scim.ErrUnknownToken) {
		t.Errorf("Lookup of an unknown token = %v", err)
	}
}
