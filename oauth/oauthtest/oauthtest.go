// Package oauthtest checks that an [oauth.Storage] keeps its contract, as
// storetest does for a scim.Store: a host that keeps OAuth clients in its
// own database tests its implementation with one call,
//
//	func TestStorage(t *testing.T) {
//		oauthtest.Run(t, func(t *testing.T) oauth.Storage {
//			return mystorage.New(openTestDB(t)) // empty, or shared: see Run
//		})
//	}
//
// and gets one subtest per rule, named after it.
//
// What Run checks: clients round-trip every field (Federation included,
// times to the microsecond); CreateClient refuses what
// oauth.Client.Validate refuses; ErrExists for a second client or secret with
// an id; ErrNotFound from Client, UpdateClient, DeleteClient, AddSecret
// (for a missing client), RevokeSecret and DeleteSecret; that UpdateClient
// keeps Tenant and Created; that DeleteClient deletes the client's
// secrets; that Clients lists one tenant's clients only, oldest first; that
// secrets list oldest first with revocations kept at their first time; that
// values returned are copies; and that concurrent AddSecret and
// RevokeSecret calls lose nothing.
package oauthtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/oauth"
)

// Run runs the contract checks as subtests of t. newStorage is called once
// per check, with that check's *testing.T. The storage it returns may hold
// other data (a database shared between tests): every check uses client ids
// and tenant ids of its own, random, so checks of several runs do not see
// each other's clients.
func Run(t *testing.T, newStorage func(t *testing.T) oauth.Storage) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStorage(t))
		})
	}
}

type check struct {
	name string
	run  func(t *testing.T, s oauth.Storage)
}

var checks = []check{
	{"ClientRoundTrip", clientRoundTrip},
	{"ClientIDUnique", clientIDUnique},
	{"ClientNotFound", clientNotFound},
	{"InvalidClientRefused", invalidClient},
	{"UpdateClientKeepsTenantAndCreated", updateClient},
	{"DeleteClientDeletesSecrets", deleteClient},
	{"ClientsOfOneTenantOldestFirst", clientsOfTenant},
	{"ReturnedValuesAreCopies", copies},
	{"SecretRoundTrip", secretRoundTrip},
	{"SecretIDUniquePerClient", secretIDUnique},
	{"SecretOfMissingClient", secretOfMissingClient},
	{"RevokeSecretKeepsFirstTime", revokeSecret},
	{"DeleteSecret", deleteSecret},
	{"ConcurrentSecretChanges", concurrentSecrets},
}

func rnd(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// at returns a fixed time plus d, in UTC to the microsecond, the precision
// a Storage must keep.
func at(d time.Duration) time.Time {
	return time.Date(2026, 9, 1, 12, 0, 0, 123456000, time.UTC).Add(d)
}

func newClient(tenant string, created time.Time) oauth.Client {
	return oauth.Client{
		ID: rnd("client"), Tenant: tenant, Name: "Entra ID, production", Created: created,
		Federation: &oauth.Federation{
			Issuer:   "https://login.microsoftonline.com/" + rnd("tid") + "/v2.0",
			JWKSURL:  "https://login.microsoftonline.com/t/discovery/v2.0/keys",
			Subject:  rnd("sub"),
			Audience: "api://" + rnd("app"),
		},
	}
}

func newSecret(clientID string, created time.Time) oauth.Secret {
	return oauth.Secret{
		ID: rnd("s"), ClientID: clientID, Hash: scim.HashToken(rnd("secret")),
		Created: created, Expires: created.Add(oauth.DefaultSecretLifetime),
	}
}

func create(t *testing.T, s oauth.Storage, c oauth.Client) {
	t.Helper()
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	t.Cleanup(func() { _ = s.DeleteClient(context.Background(), c.ID) })
}

func sameClient(t *testing.T, got, want oauth.Client) {
	t.Helper()
	if !got.Created.Equal(want.Created) {
		t.Errorf("Created = %v, want %v", got.Created, want.Created)
	}
	got.Created, want.Created = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("client = %+v (federation %+v), want %+v (federation %+v)", got, got.Federation, want, want.Federation)
	}
}

func sameSecrets(t *testing.T, got, want []oauth.Secret) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d secrets, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Created.Equal(w.Created) || !g.Expires.Equal(w.Expires) || !g.Revoked.Equal(w.Revoked) {
			t.Errorf("secret %d times = %v %v %v, want %v %v %v", i, g.Created, g.Expires, g.Revoked, w.Created, w.Expires, w.Revoked)
		}
		if g.ID != w.ID || g.ClientID != w.ClientID || g.Hash != w.Hash {
			t.Errorf("secret %d = %s/%s, want %s/%s", i, g.ClientID, g.ID, w.ClientID, w.ID)
		}
	}
}

func clientRoundTrip(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	withFed := newClient(rnd("tenant"), at(0))
	without := newClient(withFed.Tenant, at(time.Second))
	without.Federation, without.Disabled, without.Name = nil, true, ""
	for _, c := range []oauth.Client{withFed, without} {
		create(t, s, c)
		got, err := s.Client(ctx, c.ID)
		if err != nil {
			t.Fatalf("Client: %v", err)
		}
		sameClient(t, got, c)
	}
}

func clientIDUnique(t *testing.T, s oauth.Storage) {
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	other := c
	other.Tenant = rnd("tenant")
	if err := s.CreateClient(t.Context(), other); !errors.Is(err, oauth.ErrExists) {
		t.Errorf("a second client with the id: %v, want ErrExists", err)
	}
	if got, _ := s.Client(t.Context(), c.ID); got.Tenant != c.Tenant {
		t.Errorf("the refused create changed the client: tenant %q", got.Tenant)
	}
}

func clientNotFound(t *testing.T, s oauth.Storage) {
	ctx, id := t.Context(), rnd("missing")
	if _, err := s.Client(ctx, id); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("Client: %v", err)
	}
	if err := s.UpdateClient(ctx, oauth.Client{ID: id, Tenant: "t"}); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("UpdateClient: %v", err)
	}
	if err := s.DeleteClient(ctx, id); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("DeleteClient: %v", err)
	}
	if got, err := s.Secrets(ctx, id); err != nil || len(got) != 0 {
		t.Errorf("Secrets of a missing client = %v, %v; want none", got, err)
	}
}

func invalidClient(t *testing.T, s oauth.Storage) {
	for _, c := range []oauth.Client{
		{ID: "", Tenant: "t"},
		{ID: rnd("with:colon"), Tenant: "t"},
		{ID: rnd("nl") + "\n", Tenant: "t"},
		{ID: rnd("no-tenant")},
	} {
		if err := s.CreateClient(t.Context(), c); err == nil {
			_ = s.DeleteClient(context.Background(), c.ID)
			t.Errorf("CreateClient(%q, tenant %q) = nil error", c.ID, c.Tenant)
		}
		if c.ID != "" {
			if _, err := s.Client(t.Context(), c.ID); !errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("the refused client %q was stored: %v", c.ID, err)
			}
		}
	}
}

func updateClient(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	u := c
	u.Tenant, u.Created = rnd("other"), at(time.Hour)
	u.Name, u.Disabled = "renamed", true
	u.Federation = &oauth.Federation{Issuer: "i", JWKSURL: "https://example.com/k", Subject: "s", Audience: "a"}
	if err := s.UpdateClient(ctx, u); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	got, _ := s.Client(ctx, c.ID)
	want := u
	want.Tenant, want.Created = c.Tenant, c.Created
	sameClient(t, got, want)
	u.Federation = nil
	if err := s.UpdateClient(ctx, u); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	if got, _ := s.Client(ctx, c.ID); got.Federation != nil {
		t.Errorf("Federation not removed: %+v", got.Federation)
	}
}

func deleteClient(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	if err := s.AddSecret(ctx, newSecret(c.ID, at(0))); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx, c.ID); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if _, err := s.Client(ctx, c.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("Client after delete: %v", err)
	}
	if got, _ := s.Secrets(ctx, c.ID); len(got) != 0 {
		t.Errorf("secrets after delete: %+v", got)
	}
	// A client made again with the id starts without the old secrets.
	create(t, s, c)
	if got, _ := s.Secrets(ctx, c.ID); len(got) != 0 {
		t.Errorf("a new client with the id has the old secrets: %+v", got)
	}
}

func clientsOfTenant(t *testing.T, s oauth.Storage) {
	ctx, tenant := t.Context(), rnd("tenant")
	var want []oauth.Client
	for i := range 3 {
		c := newClient(tenant, at(time.Duration(3-i)*time.Minute))
		create(t, s, c)
		want = append([]oauth.Client{c}, want...)
	}
	create(t, s, newClient(rnd("other"), at(0)))
	got, err := s.Clients(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d clients, want %d", len(got), len(want))
	}
	for i := range got {
		sameClient(t, got[i], want[i])
	}
	if none, err := s.Clients(ctx, rnd("empty")); err != nil || len(none) != 0 {
		t.Errorf("Clients of an empty tenant = %v, %v", none, err)
	}
}

func copies(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	issuer := c.Federation.Issuer
	c.Federation.Issuer = "changed after create"
	got, _ := s.Client(ctx, c.ID)
	if got.Federation == nil || got.Federation.Issuer != issuer {
		t.Fatalf("changing the created value changed the stored one: %+v", got.Federation)
	}
	got.Federation.Issuer = "changed after read"
	again, _ := s.Client(ctx, c.ID)
	if again.Federation.Issuer != issuer {
		t.Errorf("changing a returned value changed the stored one")
	}
}

func secretRoundTrip(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	var want []oauth.Secret
	for i := range 3 {
		sec := newSecret(c.ID, at(time.Duration(3-i)*time.Hour))
		if err := s.AddSecret(ctx, sec); err != nil {
			t.Fatalf("AddSecret: %v", err)
		}
		want = append([]oauth.Secret{sec}, want...)
	}
	got, err := s.Secrets(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameSecrets(t, got, want)
}

func secretIDUnique(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	a, b := newClient(rnd("tenant"), at(0)), newClient(rnd("tenant"), at(0))
	create(t, s, a)
	create(t, s, b)
	sec := newSecret(a.ID, at(0))
	if err := s.AddSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	again := sec
	again.Hash = scim.HashToken("other")
	if err := s.AddSecret(ctx, again); !errors.Is(err, oauth.ErrExists) {
		t.Errorf("a second secret with the id: %v, want ErrExists", err)
	}
	// Another client may use the same secret id.
	again.ClientID = b.ID
	if err := s.AddSecret(ctx, again); err != nil {
		t.Errorf("the id of another client's secret: %v", err)
	}
}

func secretOfMissingClient(t *testing.T, s oauth.Storage) {
	if err := s.AddSecret(t.Context(), newSecret(rnd("missing"), at(0))); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("AddSecret for a missing client: %v, want ErrNotFound", err)
	}
}

func revokeSecret(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	sec, other := newSecret(c.ID, at(0)), newSecret(c.ID, at(time.Second))
	for _, x := range []oauth.Secret{sec, other} {
		if err := s.AddSecret(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeSecret(ctx, c.ID, sec.ID, at(time.Hour)); err != nil {
		t.Fatalf("RevokeSecret: %v", err)
	}
	if err := s.RevokeSecret(ctx, c.ID, sec.ID, at(2*time.Hour)); err != nil {
		t.Fatalf("RevokeSecret again: %v", err)
	}
	sec.Revoked = at(time.Hour)
	got, _ := s.Secrets(ctx, c.ID)
	sameSecrets(t, got, []oauth.Secret{sec, other})
	if err := s.RevokeSecret(ctx, c.ID, rnd("missing"), at(0)); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("RevokeSecret of a missing secret: %v", err)
	}
	if err := s.RevokeSecret(ctx, rnd("missing"), sec.ID, at(0)); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("RevokeSecret of another client's secret: %v", err)
	}
}

func deleteSecret(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	sec, other := newSecret(c.ID, at(0)), newSecret(c.ID, at(time.Second))
	for _, x := range []oauth.Secret{sec, other} {
		if err := s.AddSecret(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteSecret(ctx, c.ID, sec.ID); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	got, _ := s.Secrets(ctx, c.ID)
	sameSecrets(t, got, []oauth.Secret{other})
	if err := s.DeleteSecret(ctx, c.ID, sec.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("DeleteSecret twice: %v", err)
	}
}

func concurrentSecrets(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	c := newClient(rnd("tenant"), at(0))
	create(t, s, c)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	secrets := make([]oauth.Secret, n)
	for i := range n {
		secrets[i] = newSecret(c.ID, at(time.Duration(i)*time.Second))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.AddSecret(ctx, secrets[i]); err != nil {
				errs <- fmt.Errorf("AddSecret %d: %w", i, err)
				return
			}
			if i%2 == 0 {
				if err := s.RevokeSecret(ctx, c.ID, secrets[i].ID, at(time.Hour)); err != nil {
					errs <- fmt.Errorf("RevokeSecret %d: %w", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Secrets(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d secrets after %d concurrent adds", len(got), n)
	}
	for i, g := range got {
		if g.ID != secrets[i].ID || g.Revoked.IsZero() != (i%2 == 1) {
			t.Errorf("secret %d: id %s revoked %v", i, g.ID, g.Revoked)
		}
	}
}
