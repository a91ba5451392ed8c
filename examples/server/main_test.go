package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServer runs the demo on a free port over the store db (a -db value)
// and returns its base URL. The server stops when t ends.
func startServer(t *testing.T, db string, args ...string) string {
	t.Helper()
	base, _ := startStoppable(t, db, args...)
	return base
}

// testClient is the tests' HTTP client: it keeps no connection open
// between requests. The tests run in parallel, each stopping its own
// server; a connection dialed but never used holds up a server's graceful
// shutdown for 5 s, and when each stop closed the idle connections of one
// shared client, another test's request on a connection being reused
// failed ("http: CloseIdleConnections called").
var testClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// startStoppable is startServer that also returns a function stopping the
// server and waiting until it has closed its store.
func startStoppable(t *testing.T, db string, args ...string) (base string, stop func()) {
	t.Helper()
	base, _, stop = startPrinting(t, db, args...)
	return base, stop
}

// startPrinting is startStoppable that also returns what the demo printed
// once it listened (its URLs, token and OAuth credentials).
func startPrinting(t *testing.T, db string, args ...string) (base, printedOut string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	out := &syncWriter{w: &bytes.Buffer{}}
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-token", "secret", "-db", db}, args...), out, ready)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case addr := <-ready:
		out.mu.Lock()
		defer out.mu.Unlock()
		return "http://" + addr + "/scim/v2", out.w.(*bytes.Buffer).String(), stop
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start in 30s")
	}
	return "", "", nil
}

// backend is a store the tests run the demo on.
type backend struct {
	name string
	// db returns a -db value naming a fresh, empty store.
	db func(t testing.TB) string
}

var backends = []backend{
	{"memory", func(testing.TB) string { return "memory" }},
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "scim.db") }},
	{"postgres", func(t testing.TB) string { return postgresSchema(t, "scimhost_server") }},
}

// The PostgreSQL tests use the server at $SCIMHOST_POSTGRES_URL (default
// below); when it is unreachable they skip, or fail when CI=true.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// postgresSchema creates a schema of its own for t (prefix plus random hex,
// dropped when t ends) and returns a postgres:// URL whose search_path is
// that schema, for -db.
func postgresSchema(t testing.TB, prefix string) string {
	t.Helper()
	raw := os.Getenv("SCIMHOST_POSTGRES_URL")
	if raw == "" {
		raw = defaultPostgresURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("SCIMHOST_POSTGRES_URL must be a postgres:// URL for these tests")
	}
	admin, err := sql.Open("pgx", raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable at %s (set SCIMHOST_POSTGRES_URL): %v", u.Redacted(), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// eachBackend runs f as a parallel subtest per backend, with the -db value
// of a fresh store.
func eachBackend(t *testing.T, f func(t *testing.T, db string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b.db(t))
		})
	}
}

// syncWriter serialises the server's concurrent log writes.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Content-Type") != "application/scim+json" {
		t.Errorf("%s %s: Content-Type %q", method, url, resp.Header.Get("Content-Type"))
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, url, raw)
		}
	}
	return resp.StatusCode, m
}

func TestDemoAnswersEntraTestConnection(t *testing.T) {
	base := startServer(t, "memory")
	status, body := call(t, "GET", base+"/Users?filter=userName+eq+%22e2b4a6d1-58a4-4a63-9a0a-7c3c1c1f0b11%22", "secret", "")
	if status != 200 {
		t.Fatalf("status %d, body %v", status, body)
	}
	if body["totalResults"] != float64(0) {
		t.Errorf("totalResults = %v", body["totalResults"])
	}
	if res, ok := body["Resources"].([]any); !ok || len(res) != 0 {
		t.Errorf("Resources = %#v, want []", body["Resources"])
	}
	if status, _ := call(t, "GET", base+"/Users", "wrong", ""); status != 401 {
		t.Errorf("wrong token: status %d, want 401", status)
	}
}

func TestDemoUserAndGroupLifecycle(t *testing.T) {
	eachBackend(t, testLifecycle)
}

func testLifecycle(t *testing.T, db string) {
	base := startServer(t, db, "-domains", "contoso.com")
	status, u := call(t, "POST", base+"/Users", "secret",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@contoso.com","active":true,"emails":[{"primary":true,"type":"work","value":"ada@contoso.com"}]}`)
	if status != 201 {
		t.Fatalf("create user: %d %v", status, u)
	}
	id, _ := u["id"].(string)
	if status, got := call(t, "GET", base+"/Users/"+id, "secret", ""); status != 200 || got["userName"] != "ada@contoso.com" {
		t.Errorf("get user: %d %v", status, got)
	}
	if status, got := call(t, "GET", base+"/Users?filter=userName+eq+%22ADA@contoso.com%22", "secret", ""); status != 200 || got["totalResults"] != float64(1) {
		t.Errorf("filter user: %d %v", status, got)
	}
	if status, got := call(t, "POST", base+"/Users", "secret", `{"userName":"eve@unverified.example"}`); status != 400 || !strings.Contains(got["detail"].(string), "unverified.example") {
		t.Errorf("unverified domain: %d %v", status, got)
	}
	if status, got := call(t, "PUT", base+"/Users/"+id, "secret", `{"userName":"ada@contoso.com","displayName":"Ada","active":false}`); status != 200 || got["active"] != false {
		t.Errorf("replace user: %d %v", status, got)
	}
	status, g := call(t, "POST", base+"/Groups", "secret", `{"displayName":"Engineering","members":[{"value":"`+id+`"}]}`)
	if status != 201 {
		t.Fatalf("create group: %d %v", status, g)
	}
	gid, _ := g["id"].(string)
	if status, got := call(t, "GET", base+"/Groups?filter=displayName+eq+%22Engineering%22&excludedAttributes=members", "secret", ""); status != 200 || got["totalResults"] != float64(1) {
		t.Errorf("filter group: %d %v", status, got)
	}
	if status, _ := call(t, "DELETE", base+"/Groups/"+gid, "secret", ""); status != 204 {
		t.Errorf("delete group: %d", status)
	}
	if status, _ := call(t, "DELETE", base+"/Users/"+id, "secret", ""); status != 204 {
		t.Errorf("delete user: %d", status)
	}
	if status, _ := call(t, "GET", base+"/Users/"+id, "secret", ""); status != 404 {
		t.Errorf("get deleted user: %d, want 404", status)
	}
}

// TestDemoRestartKeepsData: Entra ID comes back every 40 minutes and
// expects the ids it was given; a restart of the demo on the same database
// must lose nothing.
func TestDemoRestartKeepsData(t *testing.T) {
	for _, b := range backends {
		if b.name == "memory" {
			continue // lost on exit, as documented
		}
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.db(t)
			base, stop := startStoppable(t, db)
			status, u := call(t, "POST", base+"/Users", "secret",
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@contoso.com","externalId":"e-1","active":true}`)
			if status != 201 {
				t.Fatalf("create user: %d %v", status, u)
			}
			id, _ := u["id"].(string)
			status, g := call(t, "POST", base+"/Groups", "secret", `{"displayName":"Navy","members":[{"value":"`+id+`"}]}`)
			if status != 201 {
				t.Fatalf("create group: %d %v", status, g)
			}
			stop()

			base = startServer(t, db)
			status, got := call(t, "GET", base+"/Users/"+id, "secret", "")
			if status != 200 {
				t.Fatalf("GET the user after the restart: %d %v", status, got)
			}
			if got["userName"] != "grace@contoso.com" || got["externalId"] != "e-1" {
				t.Errorf("user after the restart: %v", got)
			}
			if before, after := u["meta"].(map[string]any), got["meta"].(map[string]any); before["version"] != after["version"] || before["created"] != after["created"] {
				t.Errorf("meta before the restart %v, after %v", before, after)
			}
			if groups, _ := got["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["value"] != g["id"] {
				t.Errorf("groups after the restart: %v, want [%v]", got["groups"], g["id"])
			}
			// Entra ID's lookup of the user it provisioned.
			status, list := call(t, "GET", base+"/Users?filter=userName+eq+%22GRACE@contoso.com%22", "secret", "")
			if res, _ := list["Resources"].([]any); status != 200 || len(res) != 1 || res[0].(map[string]any)["id"] != id {
				t.Errorf("filter after the restart: %d %v", status, list)
			}
		})
	}
}

// TestDemoDefaultStore: without -db the demo keeps its data in scim.db in
// the working directory, so `go run ./examples/server` needs no setup.
func TestDemoDefaultStore(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out syncWriter
	out.w = &bytes.Buffer{}
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &out, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("server stopped with %v", err)
	}
	if _, err := os.Stat("scim.db"); err != nil {
		t.Errorf("no scim.db in the working directory: %v", err)
	}
	out.mu.Lock()
	printed := out.w.(*bytes.Buffer).String()
	out.mu.Unlock()
	for _, want := range []string{"SCIM Bearer Token: scim_", "Store:             SQLite scim.db", "-token"} {
		if !strings.Contains(printed, want) {
			t.Errorf("the start message does not say %q:\n%s", want, printed)
		}
	}
}

func TestOpenStoreRefuses(t *testing.T) {
	tests := []struct {
		name, db, want string
	}{
		{"empty", "", "give a file name"},
		{"SQLite in memory", ":memory:", `"memory"`},
		{"another scheme", "mysql://u@h/db", "mysql:// is not supported"},
		{"unparsable PostgreSQL URL, password kept out", "postgres://u:s3cret@h:port/db", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, _, closeDB, err := openStore(t.Context(), tt.db)
			if err == nil {
				if closeDB != nil {
					closeDB()
				}
				t.Fatalf("openStore(%q) = %T, want an error", tt.db, store)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("openStore(%q): %v, want an error saying %q (and no password)", tt.db, err, tt.want)
			}
		})
	}
}

// TestDemoConcurrentCreates: 20 clients create one userName at once (Entra
// ID retries a create whose response it did not see while another worker
// sends it again): exactly one 201, and 19 409s with scimType uniqueness.
func TestDemoConcurrentCreates(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		base := startServer(t, db)
		const n = 20
		statuses := make([]int, n)
		types := make([]string, n)
		errs := make([]error, n)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				name := "race@contoso.com"
				if i%2 == 1 {
					name = "RACE@contoso.com"
				}
				statuses[i], types[i], errs[i] = post(base+"/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","active":true}`)
			}()
		}
		start.Done()
		wg.Wait()
		created := 0
		for i := range n {
			switch {
			case errs[i] != nil:
				t.Errorf("request %d: %v", i, errs[i])
			case statuses[i] == 201:
				created++
			case statuses[i] != 409 || types[i] != "uniqueness":
				t.Errorf("request %d: %d scimType %q, want 201 or 409 uniqueness", i, statuses[i], types[i])
			}
		}
		if created != 1 {
			t.Errorf("%d of %d concurrent creates succeeded, want 1", created, n)
		}
		status, list := call(t, "GET", base+"/Users?filter=userName+eq+%22race@contoso.com%22&count=0", "secret", "")
		if status != 200 || list["totalResults"] != float64(1) {
			t.Errorf("users named race@contoso.com: %d %v, want 1", status, list)
		}
	})
}

// post sends a SCIM POST from any goroutine and returns the status and the
// scimType of an error body.
func post(url, body string) (status int, scimType string, err error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := testClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var e struct {
		ScimType string `json:"scimType"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return resp.StatusCode, "", fmt.Errorf("status %d, body not JSON: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, e.ScimType, nil
}
