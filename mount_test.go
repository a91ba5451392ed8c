package scim_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// readmeMount is the README's mount: the handler, made with
// Options.Prefix, behind BearerAuth on the host's http.ServeMux under
// /scim/v2/, the mux wrapped in CleanPaths; or, with strip, the handler
// under http.StripPrefix, as hosts mounted it before Options.Prefix.
func readmeMount(t *testing.T, strip bool) (http.Handler, *http.ServeMux) {
	t.Helper()
	opts := scim.Options{BaseURL: "https://app.example.com/scim/v2", Prefix: "/scim/v2"}
	if strip {
		opts.Prefix = ""
	}
	h := newHandler(t, memstore.New(), opts)
	var tokens scim.Tokens
	if err := tokens.Add("workspace-42", scim.HashToken("scim_demo")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if strip {
		mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))
	} else {
		mux.Handle("/scim/v2/", scim.BearerAuth(tokens.Lookup)(h))
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	return scim.CleanPaths("/scim/v2", mux), mux
}

func TestCleanPathsThroughServeMux(t *testing.T) {
	t.Run("Prefix", func(t *testing.T) { testCleanPathsThroughServeMux(t, false) })
	t.Run("StripPrefix", func(t *testing.T) { testCleanPathsThroughServeMux(t, true) })
}

func testCleanPathsThroughServeMux(t *testing.T, strip bool) {
	srv, mux := readmeMount(t, strip)
	auth := map[string]string{"Authorization": "Bearer scim_demo"}
	send := func(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
		return serve(t, h, request{method: method, path: path, body: body, header: auth})
	}

	// A Tenant URL pasted with a trailing slash: the create reaches the
	// handler and creates the user.
	rec := send(srv, "POST", "/scim/v2//Users", `{"userName":"bjensen@example.com"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /scim/v2//Users: %d %s", rec.Code, rec.Body)
	}
	id := decode(t, rec)["id"].(string)
	if loc := rec.Header().Get("Location"); loc != "https://app.example.com/scim/v2/Users/"+id {
		t.Errorf("Location = %q", loc)
	}
	clean := send(srv, "GET", "/scim/v2/Users/"+id, "")
	if clean.Code != http.StatusOK {
		t.Fatalf("GET the clean path: %d", clean.Code)
	}
	for _, path := range []string{
		"/scim/v2//Users/" + id,
		"/scim/v2/Users/" + id + "/",
		"//scim/v2/Users//" + id + "//",
	} {
		rec := send(srv, "GET", path, "")
		if rec.Code != http.StatusOK || rec.Body.String() != clean.Body.String() {
			t.Errorf("GET %s: %d %s; want the clean path's answer", path, rec.Code, rec.Body)
		}
	}
	for _, path := range []string{"/scim/v2/Users/", "/scim/v2//Users?filter=userName+eq+%22bjensen@example.com%22"} {
		rec := send(srv, "GET", path, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"totalResults":1`) {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	// The base URL itself, with or without a doubled slash, is the
	// handler's (a SCIM 404), not a redirect.
	for _, path := range []string{"/scim/v2/", "/scim/v2//"} {
		if rec := send(srv, "GET", path, ""); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no SCIM endpoint") {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	// Without CleanPaths the mux redirects before the handler runs: what
	// the wrapper is for.
	if rec := send(mux, "POST", "/scim/v2//Users", `{"userName":"x@example.com"}`); rec.Code < 300 || rec.Code > 399 {
		t.Errorf("the bare mux answered POST /scim/v2//Users with %d; CleanPaths may no longer be needed", rec.Code)
	}
	// Other routes, and paths that dot segments would move, are the mux's.
	if rec := send(srv, "GET", "/health", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /health: %d", rec.Code)
	}
	for _, path := range []string{"//health", "/scim/v2/../health", "/scim/v2//../health"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code/100 != 3 {
			t.Errorf("GET %s: %d, want the mux's redirect", path, rec.Code)
		}
	}
}

// prefixed is a Handler made with Options.Prefix "/scim/v2" and the
// Options given, behind BearerAuthLog on a ServeMux without StripPrefix,
// the mux under CleanPaths: the demo's mount. Its token is "scim_acme",
// for the tenant acme.
func prefixed(t *testing.T, store scim.Store, opts scim.Options, q *scim.LogQueue) (srv http.Handler, h *scim.Handler, tokens *scim.Tokens) {
	t.Helper()
	opts.Prefix = "/scim/v2"
	h = newHandler(t, store, opts)
	tokens = new(scim.Tokens)
	if err := tokens.Add("acme", scim.HashToken("scim_acme")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", scim.BearerAuthLog(tokens.Lookup, q)(h))
	return scim.CleanPaths("/scim/v2", mux), h, tokens
}

var acmeAuth = map[string]string{"Authorization": "Bearer scim_acme"}

// Under Options.Prefix the handler routes every endpoint below the prefix:
// Entra's Tenant URL with a trailing slash, doubled slashes, the endpoint
// case rule (off under Strict), the ServeMux's routes (groups, discovery)
// and their 405s; a path outside the prefix is a SCIM 404.
func TestPrefixRouting(t *testing.T) {
	srv, h, tokens := prefixed(t, memstore.New(), scim.Options{}, nil)
	authed := scim.BearerAuth(tokens.Lookup)(h) // without CleanPaths
	send := func(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
		return serve(t, h, request{method: method, path: path, body: body, header: acmeAuth})
	}
	rec := send(srv, "POST", "/scim/v2//Users", `{"userName":"bjensen@example.com"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /scim/v2//Users: %d %s", rec.Code, rec.Body)
	}
	id := decode(t, rec)["id"].(string)
	if loc := rec.Header().Get("Location"); loc != base+"/Users/"+id {
		t.Errorf("Location = %q", loc)
	}
	// The handler cleans the paths a router passes on as they came, and
	// spells an endpoint as RFC 7644 does.
	for _, path := range []string{"/scim/v2/Users/" + id, "/scim/v2//Users/" + id, "/scim/v2/users/" + id, "/scim/v2/USERS//" + id + "/"} {
		if rec := send(authed, "GET", path, ""); rec.Code != http.StatusOK || decode(t, rec)["id"] != id {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	g := send(srv, "POST", "/scim/v2/Groups", `{"displayName":"Admins"}`)
	if g.Code != http.StatusCreated {
		t.Fatalf("POST /scim/v2/Groups: %d %s", g.Code, g.Body)
	}
	gid := decode(t, g)["id"].(string)
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`
	if rec := send(srv, "PATCH", "/scim/v2/groups/"+gid, patch); rec.Code/100 != 2 {
		t.Errorf("PATCH /scim/v2/groups/%s: %d %s", gid, rec.Code, rec.Body)
	}
	for _, path := range []string{
		"/scim/v2/Groups?filter=displayName+eq+%22Admins%22",
		"/scim/v2/Groups/" + gid,
		"/scim/v2/ServiceProviderConfig",
		"/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
		"/scim/v2/ResourceTypes/User",
	} {
		if rec := send(srv, "GET", path, ""); rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if rec := send(srv, "POST", "/scim/v2/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"totalResults":2`) {
		t.Errorf("POST /scim/v2/.search: %d %s", rec.Code, rec.Body)
	}
	rec = send(srv, "DELETE", "/scim/v2/Users", "")
	wantError(t, rec, http.StatusMethodNotAllowed, "", "method DELETE is not allowed on /Users")
	if got := rec.Header().Get("Allow"); got != "GET, POST, HEAD" {
		t.Errorf("Allow = %q", got)
	}
	// An escaped slash stays in the id, as under http.StripPrefix.
	wantError(t, send(srv, "GET", "/scim/v2/Users/a%2Fb", ""), http.StatusNotFound, "", `User "a/b" not found`)
	wantError(t, send(srv, "GET", "/scim/v2/Widgets", ""), http.StatusNotFound, "", "no SCIM endpoint at /Widgets")
	wantError(t, send(srv, "GET", "/scim/v2/", ""), http.StatusNotFound, "", "no SCIM endpoint at /")
	// A router that hands the handler a path outside its prefix gets a
	// SCIM 404 that names the prefix.
	for _, path := range []string{"/Users", "/scim/v2x/Users", "/scim/Users", "/other/scim/v2/Users"} {
		wantError(t, send(h, "GET", path, ""), http.StatusNotFound, "", "no SCIM endpoint at "+path+": the SCIM base URL's path is /scim/v2")
	}
	strict := newHandler(t, memstore.New(), scim.Options{Prefix: "/scim/v2", Strict: true})
	wantError(t, serve(t, strict, request{method: "GET", path: "/scim/v2/users"}), http.StatusNotFound, "", "no SCIM endpoint at /users")
}

// Without BaseURL, the base a handler under Options.Prefix names in
// Location is the request's scheme and host and the path up to the
// endpoint: the prefix, after whatever an outer http.StripPrefix removed.
func TestPrefixDerivedBaseURL(t *testing.T) {
	h, err := scim.NewHandler(memstore.New(), scim.Options{Prefix: "/scim/v2/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mount  http.Handler
		target string
		want   string
	}{
		{h, "http://app.example.com/scim/v2/Users", "http://app.example.com/scim/v2/Users/"},
		{h, "http://app.example.com/scim/v2//Users/", "http://app.example.com/scim/v2/Users/"},
		{http.StripPrefix("/api", h), "http://app.example.com/api/scim/v2/Users", "http://app.example.com/api/scim/v2/Users/"},
	} {
		rec := serve(t, c.mount, request{method: "POST", path: c.target, body: `{"userName":"u` + strconv.Itoa(len(c.target)) + `@example.com"}`})
		if rec.Code != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", c.target, rec.Code, rec.Body)
		}
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, c.want) || len(loc) == len(c.want) {
			t.Errorf("POST %s: Location %q, want %s<id>", c.target, loc, c.want)
		}
	}
}

// NewHandler refuses a prefix that is not a plain path, which would also
// mean something else in a ServeMux pattern.
func TestPrefixInvalid(t *testing.T) {
	for _, p := range []string{"scim/v2", "/scim//v2", "/scim/{v}", "/scim/./v2", "/scim/../v2", "/scim v2", "/scim/v2?x", "//"} {
		if _, err := scim.NewHandler(memstore.New(), scim.Options{Prefix: p}); err == nil || !strings.Contains(err.Error(), "Prefix") {
			t.Errorf("Prefix %q: err = %v, want one naming Prefix", p, err)
		}
	}
	for _, p := range []string{"", "/", "/scim/v2", "/scim/v2/", "/a-b_c.d~e/V2"} {
		if _, err := scim.NewHandler(memstore.New(), scim.Options{Prefix: p}); err != nil {
			t.Errorf("Prefix %q: %v", p, err)
		}
	}
}

// BearerAuthLog hands the tenant to a Handler without a copy of the
// request: every store call, every OnChange, the request log and the
// provisioning log still see it, and the log names paths below the
// prefix, the refusals' too.
func TestPrefixTenantReachesEverything(t *testing.T) {
	var calls, missing atomic.Int64
	store := memstore.New(memstore.WithTenant(func(ctx context.Context) string {
		calls.Add(1)
		tn, ok := scim.TenantFrom(ctx)
		if !ok {
			missing.Add(1)
		}
		return tn.ID
	}))
	var logBuf strings.Builder
	var logMu sync.Mutex
	var changes, changesWithout atomic.Int64
	sink := new(collectSink)
	q := scim.NewLogQueue(sink, 0)
	srv, _, tokens := prefixed(t, store, scim.Options{
		Logger:    slog.New(slog.NewJSONHandler(lockedWriter{&logMu, &logBuf}, nil)),
		Log:       q,
		RateLimit: 1000,
		OnChange: func(ctx context.Context, e scim.Event) {
			changes.Add(1)
			if tn, ok := scim.TenantFrom(ctx); !ok || tn.ID != "acme" || e.Tenant != "acme" {
				changesWithout.Add(1)
			}
		},
	}, q)
	send := func(method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		rec := serve(t, srv, request{method: method, path: path, body: body, header: acmeAuth})
		if rec.Code/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec
	}
	id := decode(t, send("POST", "/scim/v2/Users", `{"userName":"ada@example.com"}`))["id"].(string)
	gid := decode(t, send("POST", "/scim/v2/Groups", `{"displayName":"Ops"}`))["id"].(string)
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Eng"}]}`
	send("PATCH", "/scim/v2/Users/"+id, patch)
	send("PUT", "/scim/v2/Users/"+id, `{"userName":"ada@example.com","active":false}`)
	send("GET", "/scim/v2/Users/"+id, "")
	send("GET", "/scim/v2/Users?filter=userName+eq+%22ada@example.com%22", "")
	send("PATCH", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`"}]}]}`)
	send("GET", "/scim/v2/Groups/"+gid, "")
	send("POST", "/scim/v2/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`)
	send("DELETE", "/scim/v2/Groups/"+gid, "")
	send("DELETE", "/scim/v2/Users/"+id, "")
	tokens.SetDisabled("acme", true)
	wantError(t, serve(t, srv, request{method: "GET", path: "/scim/v2//Users/" + id, header: acmeAuth}), http.StatusForbidden, "", "switched off")

	if calls.Load() == 0 || missing.Load() != 0 {
		t.Errorf("%d of %d store calls had no tenant", missing.Load(), calls.Load())
	}
	if changes.Load() == 0 || changesWithout.Load() != 0 {
		t.Errorf("%d of %d OnChange calls had no tenant acme", changesWithout.Load(), changes.Load())
	}
	logMu.Lock()
	lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	logMu.Unlock()
	requests := 0
	for _, l := range lines {
		var rec struct{ Msg, Path, Tenant string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if rec.Msg != "scim request" {
			continue
		}
		requests++
		if rec.Tenant != "acme" || strings.HasPrefix(rec.Path, "/scim") {
			t.Errorf("request line with tenant %q and path %q: %s", rec.Tenant, rec.Path, l)
		}
	}
	if requests != 11 {
		t.Errorf("%d request lines, want 11", requests)
	}
	if err := q.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.entries) != 12 {
		t.Fatalf("%d provisioning log entries, want 12", len(sink.entries))
	}
	for _, e := range sink.entries {
		if e.Tenant != "acme" || !strings.HasPrefix(e.Path, "/Users") && !strings.HasPrefix(e.Path, "/Groups") && e.Path != "/.search" {
			t.Errorf("entry %s %s of tenant %q", e.Method, e.Path, e.Tenant)
		}
	}
	if last := sink.entries[len(sink.entries)-1]; last.Status != http.StatusForbidden || last.Path != "/Users/"+id || last.ResourceType != "User" {
		t.Errorf("the refusal's entry: %d %s %s", last.Status, last.Path, last.ResourceType)
	}
	if scim.PooledWriterHeld() {
		t.Error("a pooled status writer still holds a request's writer or context")
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// BearerAuth's refusals under Options.Prefix are byte for byte those
// under http.StripPrefix.
func TestPrefixRefusalsUnchanged(t *testing.T) {
	viaPrefix, _ := readmeMount(t, false)
	viaStrip, _ := readmeMount(t, true)
	for _, auth := range []map[string]string{
		nil,
		{"Authorization": ""},
		{"Authorization": "Basic dXNlcjpwYXNz"},
		{"Authorization": "Bearer"},
		{"Authorization": "Bearer scim_wrong"},
	} {
		a := serve(t, viaPrefix, request{method: "GET", path: "/scim/v2/Users", header: auth})
		b := serve(t, viaStrip, request{method: "GET", path: "/scim/v2/Users", header: auth})
		if a.Code != http.StatusUnauthorized {
			t.Errorf("%v: status %d, want 401", auth, a.Code)
		}
		if a.Code != b.Code || a.Body.String() != b.Body.String() || !maps.EqualFunc(a.Header(), b.Header(), slices.Equal) {
			t.Errorf("%v: under Prefix %d %v %s; under StripPrefix %d %v %s", auth, a.Code, a.Header(), a.Body, b.Code, b.Header(), b.Body)
		}
	}
}

// Neither Options.Prefix nor BearerAuth copies the request: a Handler
// with the prefix allocates as much serving "/scim/v2/Users/<id>" as one
// without serving "/Users/<id>", and BearerAuth in front of it allocates
// one thing, the tenant's context. http.StripPrefix's copy or
// r.WithContext's would be one more.
func TestPrefixMountMakesNoRequestCopy(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts")
	}
	store := memstore.New()
	_, h, tokens := prefixed(t, store, scim.Options{}, nil)
	authed := scim.BearerAuth(tokens.Lookup)(h)
	rec := serve(t, authed, request{method: "POST", path: "/scim/v2/Users", body: `{"userName":"ada@example.com"}`, header: acmeAuth})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	id := decode(t, rec)["id"].(string)
	bare := newHandler(t, store, scim.Options{})
	allocs := func(h http.Handler, req *http.Request) float64 {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req) // warm the pools
		if w.code != http.StatusOK {
			t.Fatalf("GET %s: %d", req.URL.Path, w.code)
		}
		return testing.AllocsPerRun(200, func() {
			clear(w.h)
			h.ServeHTTP(w, req)
		})
	}
	tenant := scim.WithTenant(t.Context(), scim.Tenant{ID: "acme"})
	withAuth := httptest.NewRequest("GET", "/scim/v2/Users/"+id, nil)
	withAuth.Header.Set("Authorization", "Bearer scim_acme")
	under := httptest.NewRequestWithContext(tenant, "GET", "/scim/v2/Users/"+id, nil)
	rel := httptest.NewRequestWithContext(tenant, "GET", "/Users/"+id, nil)
	a, p, b := allocs(authed, withAuth), allocs(h, under), allocs(bare, rel)
	if p != b {
		t.Errorf("the Handler with Options.Prefix allocates %.0f times a request, without %.0f", p, b)
	}
	if a != p+1 {
		t.Errorf("BearerAuth in front of the Handler allocates %.0f times a request, the Handler %.0f: want one more, the tenant's context", a, p)
	}
}
