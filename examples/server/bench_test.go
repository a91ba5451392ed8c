package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkCreateUsersHTTP creates 100,000 users per iteration through the
// whole demo stack (BearerAuth, scim.Handler, sqlstore) over loopback HTTP,
// from 8 concurrent clients, as Entra ID's first provisioning cycle of a
// large tenant does, and reports users per second. Each run starts on an
// empty store: a fresh PostgreSQL schema, or a fresh SQLite file. It takes
// about a minute per store; see sqlstore/doc.go for the command and
// the figures.
func BenchmarkCreateUsersHTTP(b *testing.B) {
	for _, be := range backends {
		if be.name == "memory" {
			continue
		}
		b.Run(be.name, func(b *testing.B) { benchCreateUsers(b, be.db(b)) })
	}
}

func benchCreateUsers(b *testing.B, db string) {
	const users, clients = 100_000, 8
	store, _, closeDB, err := openStore(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeDB() })
	mux, err := newMux(store, "secret", "", nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	// Keep one connection per client: the default of 2 idle connections
	// per host would open a new one for most requests.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	b.Cleanup(client.CloseIdleConnections)
	url := srv.URL + "/scim/v2/Users"

	round := 0
	b.ReportAllocs()
	for b.Loop() {
		round++
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, clients)
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > users {
						return
					}
					if err := createUser(client, url, fmt.Sprintf("r%d-u%d", round, i)); err != nil {
						errs[c] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "users/s")
}

// createUser POSTs a user as Entra ID sends it.
func createUser(client *http.Client, url, name string) error {
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
		`"externalId":"` + name + `","userName":"` + name + `@contoso.com","active":true,"displayName":"User ` + name + `",` +
		`"emails":[{"primary":true,"type":"work","value":"` + name + `@contoso.com"}],` +
		`"name":{"formatted":"User ` + name + `","familyName":"` + name + `","givenName":"User"},` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: status %d", name, resp.StatusCode)
	}
	return nil
}
