package scim_test

// Tests of the limits that keep one client, token or request from taking
// the service from the others (issue 11): the filter cost budget, the PATCH
// cost bound, the response byte budget, the body read deadline and the
// per-tenant rate limit.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// orOf joins n terms with "or".
func orOf(n int, term func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = term(i)
	}
	return strings.Join(parts, " or ")
}

// balancedOr joins n terms as a balanced tree of "or", the shape that
// reaches the most clauses within MaxFilterDepth.
func balancedOr(terms []string) string {
	if len(terms) == 1 {
		return terms[0]
	}
	mid := len(terms) / 2
	return "(" + balancedOr(terms[:mid]) + ") or (" + balancedOr(terms[mid:]) + ")"
}

func TestFilterCostBudget(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	co := func(i int) string { return fmt.Sprintf(`emails co "x%d"`, i) }
	eq := func(i int) string { return fmt.Sprintf(`title eq "x%d"`, i) }
	coTerms := make([]string, 190)
	for i := range coTerms {
		coTerms[i] = `emails co "x"`
	}
	for _, c := range []struct {
		name, filter string
		ok           bool
	}{
		{"Entra's Test connection", `userName eq "8a0b1f0e-3a8d-4a4c-9a47-5f0f8b3a2f10"`, true},
		{"Entra's membership check", `id eq "g" and members eq "u"`, true},
		{"Entra's email match", `emails[type eq "work" and value eq "a@example.com"]`, true},
		{"a long filter with not and a value path", `userType eq "Employee" and not (emails co "example.com" or emails.value co "example.org") or emails[type eq "work" and value co "@example.com"] and meta.lastModified gt "2011-05-13T04:42:34Z"`, true},
		{"20 comparisons: the limit", orOf(20, eq), true},
		{"10 substring comparisons: the limit", orOf(10, co), true},
		{"5 value paths of two comparisons, one a substring: the limit", orOf(5, func(i int) string { return fmt.Sprintf(`emails[type eq "w" and value co "x%d"]`, i) }), true},
		{"21 comparisons", orOf(21, eq), false},
		{"11 substring comparisons", orOf(11, co), false},
		{"7 value paths of two comparisons", orOf(7, func(i int) string { return fmt.Sprintf(`emails[type eq "w" and value eq "x%d"]`, i) }), false},
		{"the issue's balanced tree of 190 emails co", balancedOr(coTerms), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []request{
				{method: "GET", path: "/Users?filter=" + urlQueryEscape(c.filter)},
				{method: "POST", path: "/Users/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":` + strconv.Quote(c.filter) + `}`},
			} {
				rec := serve(t, h, r)
				if c.ok {
					if rec.Code != http.StatusOK {
						t.Errorf("%s %s: %d %s", r.method, r.path, rec.Code, rec.Body)
					}
					continue
				}
				wantError(t, rec, http.StatusBadRequest, "invalidFilter", "more than this server's limit of 20")
			}
		})
	}
	// The limit is the host's to raise.
	raised := newHandler(t, memstore.New(), scim.Options{MaxFilterCost: 100})
	if rec := serve(t, raised, request{method: "GET", path: "/Users?filter=" + urlQueryEscape(balancedOr(strings.Split(orOf(50, co), " or ")))}); rec.Code != http.StatusOK {
		t.Errorf("MaxFilterCost 100, a filter of cost 100: %d %s", rec.Code, rec.Body)
	}
	if _, err := scim.NewHandler(memstore.New(), scim.Options{MaxFilterCost: -1}); err == nil {
		t.Error("NewHandler with a negative MaxFilterCost: no error")
	}
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", " ", "+", `"`, "%22", "&", "%26", "#", "%23", "[", "%5B", "]", "%5D").Replace(s)
}

// bigUserBody is a user with n emails.
func bigUserBody(userName string, n int) string {
	var b strings.Builder
	b.WriteString(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName + `","emails":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"value":"%s.%d@example.com","type":"work"}`, userName, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// valuePathPatch is n value-path replaces on the emails of bigUserBody.
func valuePathPatch(userName string, n int) string {
	var b strings.Builder
	b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"op":"replace","path":"emails[value eq \"%s.%d@example.com\"].type","value":"home"}`, userName, i*7)
	}
	b.WriteString(`]}`)
	return b.String()
}

func TestPatchCostBound(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{})
	u := mustCreate(t, h, "/Users", bigUserBody("big", 10000))
	id := u["id"].(string)
	before := serve(t, h, request{method: "GET", path: "/Users/" + id}).Body.String()

	rec := serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: valuePathPatch("big", 1000)})
	wantError(t, rec, http.StatusRequestEntityTooLarge, "", "more than this server's limit of 1000000")
	if after := serve(t, h, request{method: "GET", path: "/Users/" + id}).Body.String(); after != before {
		t.Error("a refused PATCH changed the user")
	}
	// What Entra ID sends on the same user passes.
	rec = serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: valuePathPatch("big", 10)})
	if rec.Code != http.StatusOK {
		t.Errorf("10 value-path operations on 10,000 emails: %d %s", rec.Code, rec.Body)
	}
	// Values added by an earlier operation count for the later ones.
	small := mustCreate(t, h, "/Users", `{"userName":"small"}`)
	var b strings.Builder
	b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[`)
	for i := range 5000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"value":"s%d@example.com"}`, i)
	}
	b.WriteString(`]}`)
	for i := range 400 {
		fmt.Fprintf(&b, `,{"op":"remove","path":"emails[value eq \"s%d@example.com\"]"}`, i)
	}
	b.WriteString(`]}`)
	rec = serve(t, h, request{method: "PATCH", path: "/Users/" + small["id"].(string), body: b.String()})
	wantError(t, rec, http.StatusRequestEntityTooLarge, "", "one of them on 5399 values")

	// A group's membership fast path is not a read-modify-write: it has
	// no cost to bound.
	g := mustCreate(t, h, "/Groups", `{"displayName":"G"}`)
	var ops []string
	for i := range 1000 {
		ops = append(ops, fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":"m%d"}]}`, i))
	}
	rec = serve(t, h, request{method: "PATCH", path: "/Groups/" + g["id"].(string), body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`})
	if rec.Code != http.StatusNoContent {
		t.Errorf("1000 member adds on the fast path: %d %s", rec.Code, rec.Body)
	}
}

// listed is a ListResponse's counts and size.
type listed struct {
	total, itemsPerPage, resources, bytes int
}

func list(t *testing.T, h http.Handler, path string) (listed, *httptest.ResponseRecorder) {
	t.Helper()
	rec := serve(t, h, request{method: "GET", path: path})
	if rec.Code != http.StatusOK {
		return listed{}, rec
	}
	var lr struct {
		TotalResults int
		ItemsPerPage int
		Resources    []json.RawMessage
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return listed{lr.TotalResults, lr.ItemsPerPage, len(lr.Resources), rec.Body.Len()}, rec
}

func TestResponseByteBudget(t *testing.T) {
	const budget = 256 << 10
	store := memstore.New()
	h := newHandler(t, store, scim.Options{MaxResponseBytes: budget})
	for i := range 40 {
		mustCreate(t, h, "/Users", bigUserBody("u"+strconv.Itoa(i), 300)) // about 16 KiB each
	}
	// Whatever the page size, the body stays within the budget and
	// itemsPerPage counts what it holds; paging by it reaches every user.
	for _, count := range []int{1, 5, 15, 16, 17, 39, 40, 1000} {
		seen := 0
		for start := 1; start <= 40; {
			got, rec := list(t, h, fmt.Sprintf("/Users?startIndex=%d&count=%d", start, count))
			if rec.Code != http.StatusOK {
				t.Fatalf("count=%d startIndex=%d: %d %s", count, start, rec.Code, rec.Body)
			}
			if got.bytes > budget {
				t.Errorf("count=%d: %d bytes, over the budget of %d", count, got.bytes, budget)
			}
			if got.itemsPerPage != got.resources || got.resources == 0 || got.resources > count || got.total != 40 {
				t.Fatalf("count=%d startIndex=%d: %+v", count, start, got)
			}
			seen += got.resources
			start += got.resources
		}
		if seen != 40 {
			t.Errorf("count=%d: paging saw %d users, want 40", count, seen)
		}
	}
	// POST /.search, across users and groups, keeps the same budget.
	rec := serve(t, h, request{method: "POST", path: "/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":1000}`})
	var sr struct{ ItemsPerPage, TotalResults int }
	if err := json.Unmarshal(rec.Body.Bytes(), &sr); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("POST /.search: %d %s", rec.Code, rec.Body)
	}
	if rec.Body.Len() > budget || sr.ItemsPerPage == 0 || sr.ItemsPerPage >= 40 || sr.TotalResults != 40 {
		t.Errorf("POST /.search: %d bytes, %+v", rec.Body.Len(), sr)
	}
	// A page that holds every user it was asked for is not cut.
	if got, _ := list(t, h, "/Users?count=10&excludedAttributes=emails"); got.resources != 10 {
		t.Errorf("a small page: %+v", got)
	}
	// One resource larger than the budget is an error that says how to
	// ask for less, on a list and on a read, never a truncated body.
	huge := mustCreate(t, h, "/Users", bigUserBody("huge", 6000))
	id := huge["id"].(string)
	wantError(t, serve(t, h, request{method: "GET", path: "/Users/" + id}), http.StatusBadRequest, "tooMany", "response limit of 262144 bytes")
	rec = serve(t, h, request{method: "GET", path: "/Users?filter=userName+eq+%22huge%22"})
	wantError(t, rec, http.StatusBadRequest, "tooMany", "excludedAttributes")
	if rec.Header().Get("ETag") != "" {
		t.Error("the error carries an ETag")
	}
	if got, _ := list(t, h, "/Users?filter=userName+eq+%22huge%22&excludedAttributes=emails"); got.resources != 1 {
		t.Errorf("the huge user without its emails: %+v", got)
	}
	if rec := serve(t, h, request{method: "GET", path: "/Users/" + id + "?attributes=userName"}); rec.Code != http.StatusOK {
		t.Errorf("the huge user's userName: %d", rec.Code)
	}
}

// TestBodyReadDeadline sends a body a byte at a time to a real server: the
// handler cuts it off with 408 once BodyReadTimeout passes.
func TestBodyReadDeadline(t *testing.T) {
	h := newHandler(t, memstore.New(), scim.Options{BodyReadTimeout: 300 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"userName":"dribble"}`
	fmt.Fprintf(conn, "POST /Users HTTP/1.1\r\nHost: x\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n", len(body))
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := range len(body) {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a dribbled body: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "did not arrive within 300ms") {
		t.Errorf("dribbled body: %d %s", resp.StatusCode, b)
	}
	if !resp.Close {
		t.Error("the connection stays open after a body that was not read to its end")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %v", d)
	}

	// A request whose body arrives in time is unaffected, and so is a slow
	// handler after it: the deadline is the body's only.
	c := srv.Client()
	for range 2 {
		resp, err := c.Post(srv.URL+"/Users", "application/scim+json", strings.NewReader(`{"userName":"prompt`+strconv.Itoa(int(time.Now().UnixNano()))+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("prompt body: %d", resp.StatusCode)
		}
		time.Sleep(400 * time.Millisecond) // past the deadline, on the same connection
	}
}

// TestBodyReadDeadlineLeavesContext: once the body is read, the deadline
// no longer applies (net/http clears it when its background read starts),
// so a store working past it keeps its request context.
func TestBodyReadDeadlineLeavesContext(t *testing.T) {
	slow := &slowStore{Store: memstore.New(), delay: 500 * time.Millisecond}
	h := newHandler(t, slow, scim.Options{BodyReadTimeout: 100 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+"/Users", "application/scim+json", strings.NewReader(`{"userName":"slow"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Errorf("a create slower than BodyReadTimeout: %d %s", resp.StatusCode, b)
	}
}

// slowStore creates users after a delay, minding its context.
type slowStore struct {
	*memstore.Store
	delay time.Duration
}

func (s *slowStore) CreateUser(ctx context.Context, u *scim.User) (*scim.User, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.CreateUser(ctx, u)
}

func TestRateLimitPerTenant(t *testing.T) {
	var tokens scim.Tokens
	tokens.Add("acme", scim.HashToken("scim_acme"))
	tokens.Add("globex", scim.HashToken("scim_globex"))
	get := func(h http.Handler, token string) *httptest.ResponseRecorder {
		return serve(t, h, request{method: "GET", path: "/Users?filter=userName+eq+%22x%22", header: map[string]string{"Authorization": "Bearer " + token}})
	}
	// Off by default.
	off := scim.BearerAuth(tokens.Lookup)(newHandler(t, memstore.New(), scim.Options{}))
	for i := range 100 {
		if rec := get(off, "scim_acme"); rec.Code != http.StatusOK {
			t.Fatalf("request %d without a rate limit: %d", i, rec.Code)
		}
	}
	h := scim.BearerAuth(tokens.Lookup)(newHandler(t, memstore.New(), scim.Options{RateLimit: 0.5, RateBurst: 3}))
	for i := range 3 {
		if rec := get(h, "scim_acme"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := get(h, "scim_acme")
	wantError(t, rec, http.StatusTooManyRequests, "", "this server allows 0.5 per second")
	if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After = %q, want 1 or 2 seconds", rec.Header().Get("Retry-After"))
	}
	// Another tenant has its own bucket.
	if rec := get(h, "scim_globex"); rec.Code != http.StatusOK {
		t.Errorf("another tenant after acme's limit: %d", rec.Code)
	}
	for _, o := range []scim.Options{{RateLimit: -1}, {RateLimit: 10, RateBurst: -1}} {
		if _, err := scim.NewHandler(memstore.New(), o); err == nil {
			t.Errorf("NewHandler(%+v): no error", o)
		}
	}
}

// timedUpdater times what runs inside UpdateUser's and UpdateUserShared's
// atomic step, where a store holds its lock.
type timedUpdater struct {
	*memstore.Store
	inside time.Duration
}

func (s *timedUpdater) UpdateUser(ctx context.Context, id string, update func(*scim.User) error) (*scim.User, error) {
	return s.Store.UpdateUser(ctx, id, func(u *scim.User) error {
		t0 := time.Now()
		err := update(u)
		s.inside += time.Since(t0)
		return err
	})
}

func (s *timedUpdater) UpdateUserShared(ctx context.Context, id string, update func(*scim.User) (*scim.User, error)) (*scim.User, error) {
	return s.Store.UpdateUserShared(ctx, id, func(u *scim.User) (*scim.User, error) {
		t0 := time.Now()
		next, err := update(u)
		s.inside += time.Since(t0)
		return next, err
	})
}

// TestPatchComputedOutsideStoreLock: the handler applies a PATCH before
// the store's atomic step and only swaps the result in there, so a costly
// PATCH holds a store's lock for a sliver of its time.
func TestPatchComputedOutsideStoreLock(t *testing.T) {
	store := &timedUpdater{Store: memstore.New()}
	h := newHandler(t, store, scim.Options{MaxPatchCost: 20_000_000})
	id := mustCreate(t, h, "/Users", bigUserBody("big", 10000))["id"].(string)
	t0 := time.Now()
	rec := serve(t, h, request{method: "PATCH", path: "/Users/" + id, body: valuePathPatch("big", 200)})
	total := time.Since(t0)
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	if store.inside*10 > total {
		t.Errorf("the update ran %v of the request's %v inside the store's atomic step", store.inside, total)
	}
	got := decode(t, rec)
	emails := got["emails"].([]any)
	if typ := emails[7].(map[string]any)["type"]; typ != "home" {
		t.Errorf("the PATCH did not reach the store: emails[7].type = %v", typ)
	}
}

// TestHeavyPatchDoesNotStallOtherTenants runs a PATCH of 300 value-path
// operations on a user with 10,000 emails in one tenant, answered
// (MaxPatchCost raised past it), while another tenant reads its user: the
// reads wait for no lock the PATCH holds. The bound is generous so that a
// loaded machine passes (with the race detector too);
// BenchmarkHostileOtherTenant measures the stall beside the 1,000-operation
// PATCH.
func TestHeavyPatchDoesNotStallOtherTenants(t *testing.T) {
	if testing.Short() {
		t.Skip("a second or more of PATCH")
	}
	var tokens scim.Tokens
	tokens.Add("attacker", scim.HashToken("scim_attacker"))
	tokens.Add("victim", scim.HashToken("scim_victim"))
	h := scim.BearerAuth(tokens.Lookup)(newHandler(t, memstore.New(), scim.Options{MaxPatchCost: 20_000_000}))
	as := func(token string, r request) request {
		r.header = map[string]string{"Authorization": "Bearer " + token}
		return r
	}
	bigID := decode(t, serve(t, h, as("scim_attacker", request{method: "POST", path: "/Users", body: bigUserBody("big", 10000)})))["id"].(string)
	victim := decode(t, serve(t, h, as("scim_victim", request{method: "POST", path: "/Users", body: `{"userName":"v@example.com"}`})))["id"].(string)
	done := make(chan int)
	go func() {
		rec := serve(t, h, as("scim_attacker", request{method: "PATCH", path: "/Users/" + bigID, body: valuePathPatch("big", 300)}))
		done <- rec.Code
	}()
	var slowest time.Duration
	reads := 0
	for patching := true; patching; {
		select {
		case code := <-done:
			if code != http.StatusOK {
				t.Errorf("the heavy PATCH: %d", code)
			}
			patching = false
		default:
			t0 := time.Now()
			if rec := serve(t, h, as("scim_victim", request{method: "GET", path: "/Users/" + victim})); rec.Code != http.StatusOK {
				t.Fatalf("the other tenant's GET: %d", rec.Code)
			}
			slowest = max(slowest, time.Since(t0))
			reads++
			time.Sleep(time.Millisecond)
		}
	}
	if slowest > time.Second {
		t.Errorf("another tenant's GET took %v during the heavy PATCH", slowest)
	}
	t.Logf("%d reads during the PATCH, the slowest %v", reads, slowest)
}

// TestErrorRetryAfter: an Error's RetryAfter is the Retry-After header, in
// whole seconds rounded up; none is sent without it, and a header already
// set (the rate limiter's) is kept.
func TestErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		after  time.Duration
		preset string
		want   string
	}{
		{"none", 0, "", ""},
		{"whole seconds", 5 * time.Second, "", "5"},
		{"rounded up", 1500 * time.Millisecond, "", "2"},
		{"set before", 5 * time.Second, "9", "9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if tt.preset != "" {
				rec.Header().Set("Retry-After", tt.preset)
			}
			scim.WriteError(rec, &scim.Error{Status: 503, Detail: "busy", RetryAfter: tt.after})
			if rec.Code != 503 || rec.Header().Get("Retry-After") != tt.want {
				t.Errorf("status %d, Retry-After %q; want 503, %q", rec.Code, rec.Header().Get("Retry-After"), tt.want)
			}
		})
	}
}
