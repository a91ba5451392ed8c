package check

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// testToken is the bearer token of the servers under test.
const testToken = "scimcheck-test-token"

// server is a SCIM server under test: the library's Handler over memstore,
// behind BearerAuth, with middleware in front that may break one
// behaviour.
type server struct {
	*httptest.Server
	store *memstore.Store
	mux   http.Handler
}

// newServer starts a server at /scim/v2 whose handler is wrapped by
// middleware (none: the clean handler). It also accepts the tokens in
// extra.
func newServer(t *testing.T, opts scim.Options, middleware func(http.Handler) http.Handler, extra ...string) *server {
	t.Helper()
	store := memstore.New(memstore.WithTenant(func(ctx context.Context) string { tn, _ := scim.TenantFrom(ctx); return tn.ID }))
	h, err := scim.NewHandler(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	var tokens scim.Tokens
	for _, tok := range append([]string{testToken}, extra...) {
		if err := tokens.Add("acme", scim.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
	}
	var inner http.Handler = http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h))
	if middleware != nil {
		inner = middleware(inner)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", inner)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &server{Server: srv, store: store, mux: mux}
}

// config returns a Config for s with the suites given (all but
// concurrency when none).
func (s *server) config(suites ...string) Config {
	return Config{URL: s.URL + "/scim/v2", Token: testToken, Suites: suites, Client: s.Client()}
}

// count returns the totalResults of GET /coll on s, read in process.
func (s *server) count(t *testing.T, coll string) int {
	t.Helper()
	req := httptest.NewRequest("GET", "/scim/v2/"+coll+"?count=0", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	var body struct{ TotalResults int }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET /%s: %v: %s", coll, err, rec.Body)
	}
	return body.TotalResults
}

// result returns the result of the check id in rep.
func result(t *testing.T, rep *Report, id string) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.ID() == id {
			return r
		}
	}
	t.Fatalf("no result for %s; the report has %d results", id, len(rep.Results))
	return Result{}
}

// describe writes the results that are not PASS, for a test's failure.
func describe(rep *Report) string {
	var b bytes.Buffer
	for _, r := range rep.Results {
		if r.Status != Pass {
			_ = WriteLine(&b, r)
		}
	}
	return b.String()
}

// tokenEndpoint is a test double of an OAuth 2.0 token endpoint: it
// issues token, with expiresIn, to the client "scimcheck" with the secret
// "s3cret", authenticated in the form body or with HTTP Basic.
func tokenEndpoint(t *testing.T, token string, expiresIn int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"unsupported_grant_type"}`)
			return
		}
		id, secret, basic := r.BasicAuth()
		if !basic {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if id != "scimcheck" || secret != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"unknown client or wrong secret"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": expiresIn, "scope": "scim"})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCleanHandlerPassesEveryCheck runs every suite, concurrency and the
// credentials test included, against the library's handler over memstore:
// every check passes, and nothing the checks created is left.
func TestCleanHandlerPassesEveryCheck(t *testing.T) {
	for _, auth := range []string{"post", "basic"} {
		t.Run(auth, func(t *testing.T) {
			srv := newServer(t, scim.Options{}, nil, "issued-token")
			te := tokenEndpoint(t, "issued-token", 3600)
			cfg := srv.config(Suites...)
			cfg.Token = "" // the SCIM requests use the issued token
			cfg.TokenURL, cfg.ClientID, cfg.ClientSecret, cfg.ClientAuth = te.URL, "scimcheck", "s3cret", auth
			rep, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(rep.Results); n != len(List(Suites...)) {
				t.Errorf("%d results, want one per check (%d)", n, len(List(Suites...)))
			}
			for _, r := range rep.Results {
				if r.Status != Pass {
					t.Errorf("%s", describe(&Report{Results: []Result{r}}))
				}
			}
			if rep.Failed() {
				t.Error("the report says failed")
			}
			if users, groups := srv.count(t, "Users"), srv.count(t, "Groups"); users != 0 || groups != 0 {
				t.Errorf("after the run the server holds %d users and %d groups, want none: %s", users, groups, rep.Cleanup)
			}
			if !strings.HasPrefix(rep.Cleanup, "deleted the ") {
				t.Errorf("cleanup: %s", rep.Cleanup)
			}
			if rep.Requests < 300 || rep.Duration <= 0 || rep.Slowest == "" {
				t.Errorf("totals: %d requests in %s, slowest %q", rep.Requests, rep.Duration, rep.Slowest)
			}
		})
	}
}

// rewriteJSON replaces the body of r with what edit makes of its JSON.
func rewriteJSON(t *testing.T, r *http.Request, edit func(map[string]any)) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if json.Unmarshal(raw, &body) == nil {
		edit(body)
		raw, _ = json.Marshal(body)
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	r.Header.Set("Content-Length", strconv.Itoa(len(raw)))
}

// operations returns a PATCH body's operations.
func operations(body map[string]any) []map[string]any {
	var out []map[string]any
	for _, o := range body["Operations"].([]any) {
		out = append(out, o.(map[string]any))
	}
	return out
}

// writeSCIMError answers a SCIM error.
func writeSCIMError(w http.ResponseWriter, status int, scimType, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"schemas": []string{errorURN}, "status": strconv.Itoa(status), "scimType": scimType, "detail": detail})
}

// TestBrokenServersFailTheRightCheck runs the checks against servers that
// each break one behaviour Entra ID depends on: the check that reproduces
// it fails, saying what the client expects.
func TestBrokenServersFailTheRightCheck(t *testing.T) {
	tests := []struct {
		name   string
		broken func(t *testing.T) func(http.Handler) http.Handler
		suites []string
		// fails are the checks that must fail, each with a phrase its
		// message must contain.
		fails map[string]string
		// others, when not empty, is a phrase in the message of any
		// other check that fails for the same broken behaviour.
		others string
	}{
		{
			name: "404 for a filter that matches nothing",
			broken: func(t *testing.T) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method != "GET" || r.URL.Query().Get("filter") == "" {
							next.ServeHTTP(w, r)
							return
						}
						rec := httptest.NewRecorder()
						next.ServeHTTP(rec, r)
						if rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), `"totalResults":0`) {
							writeSCIMError(w, http.StatusNotFound, "", "no such user")
							return
						}
						for k, v := range rec.Header() {
							w.Header()[k] = v
						}
						w.WriteHeader(rec.Code)
						w.Write(rec.Body.Bytes())
					})
				}
			},
			suites: []string{"entra"},
			fails: map[string]string{
				"entra/test-connection-users":  "quarantines the provisioning job",
				"entra/test-connection-groups": "404",
				"entra/create-user":            "Entra matches by userName before it creates a user and got 404",
				"entra/create-group":           "Entra matches a group by displayName before it creates it and got 404",
				"entra/delete-user":            "got 404",
			},
			others: "expects 200 with an empty ListResponse for a filter that matches nothing",
		},
		{
			name: "Remove members with a value list empties the group",
			broken: func(t *testing.T) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method == "PATCH" && strings.Contains(r.URL.Path, "/Groups/") {
							rewriteJSON(t, r, func(body map[string]any) {
								for _, o := range operations(body) {
									if strings.EqualFold(o["op"].(string), "remove") && strings.EqualFold(o["path"].(string), "members") {
										delete(o, "value") // RFC 7644 §3.5.2.2 read literally
									}
								}
							})
						}
						next.ServeHTTP(w, r)
					})
				}
			},
			suites: []string{"entra"},
			fails:  map[string]string{"entra/members-remove-with-value": "emptied the group"},
		},
		{
			name: `refuses "False"`,
			broken: func(t *testing.T) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method == "PATCH" {
							raw, _ := io.ReadAll(r.Body)
							if bytes.Contains(raw, []byte(`"False"`)) || bytes.Contains(raw, []byte(`"True"`)) {
								writeSCIMError(w, http.StatusBadRequest, "invalidValue", "active: expected a boolean")
								return
							}
							r.Body = io.NopCloser(bytes.NewReader(raw))
						}
						next.ServeHTTP(w, r)
					})
				}
			},
			suites: []string{"entra"},
			fails:  map[string]string{"entra/disable-re-enable-default": `"True" and "False" where the schema says boolean`},
		},
		{
			name: "loses the manager",
			broken: func(t *testing.T) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method == "PATCH" && strings.Contains(r.URL.Path, "/Users/") {
							dropped := false
							rewriteJSON(t, r, func(body map[string]any) {
								var kept []any
								for _, o := range operations(body) {
									if p, _ := o["path"].(string); strings.Contains(strings.ToLower(p), "manager") {
										dropped = true
										continue
									}
									kept = append(kept, o)
								}
								body["Operations"] = kept
							})
							if dropped {
								// Accept the PATCH, write nothing.
								w.WriteHeader(http.StatusNoContent)
								return
							}
						}
						next.ServeHTTP(w, r)
					})
				}
			},
			suites: []string{"entra", "gallery"},
			fails: map[string]string{
				"entra/manager-set-and-change": "lost the manager",
				"gallery/SCIM_Update_Manager":  "lost the manager",
			},
		},
		{
			name: "pages repeat a user",
			broken: func(t *testing.T) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						q := r.URL.Query()
						si, _ := strconv.Atoi(q.Get("startIndex"))
						if r.Method != "GET" || !strings.HasSuffix(r.URL.Path, "/Users") || si <= 1 {
							next.ServeHTTP(w, r)
							return
						}
						// Each page starts one too early, and says it
						// did not.
						q.Set("startIndex", strconv.Itoa(si-1))
						r.URL.RawQuery = q.Encode()
						rec := httptest.NewRecorder()
						next.ServeHTTP(rec, r)
						body := strings.Replace(rec.Body.String(), `"startIndex":`+strconv.Itoa(si-1), `"startIndex":`+strconv.Itoa(si), 1)
						w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
						w.WriteHeader(rec.Code)
						io.WriteString(w, body)
					})
				}
			},
			suites: []string{"gallery"},
			fails:  map[string]string{"gallery/SCIM_User_Pagination": "pages must not overlap"},
		},
		{
			name: "cursor pages repeat a user",
			broken: func(t *testing.T) func(http.Handler) http.Handler {
				var mu sync.Mutex
				var last any // the last user of the previous cursor page
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method != "GET" || !strings.HasSuffix(r.URL.Path, "/Users") || !r.URL.Query().Has("cursor") {
							next.ServeHTTP(w, r)
							return
						}
						rec := httptest.NewRecorder()
						next.ServeHTTP(rec, r)
						var body map[string]any
						if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
							w.WriteHeader(rec.Code)
							w.Write(rec.Body.Bytes())
							return
						}
						// Each page after the first starts with the
						// last user of the page before.
						res, _ := body["Resources"].([]any)
						mu.Lock()
						if r.URL.Query().Get("cursor") != "" && last != nil && len(res) > 0 {
							res[0] = last
						}
						if len(res) > 0 {
							last = res[len(res)-1]
						}
						mu.Unlock()
						w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
						json.NewEncoder(w).Encode(body)
					})
				}
			},
			suites: []string{"rfc"},
			fails:  map[string]string{"rfc/cursor-pagination": "each resource is returned exactly once (RFC 9865, https://www.rfc-editor.org/rfc/rfc9865)"},
		},
		{
			name: "emails as one object refused",
			broken: func(t *testing.T) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/Users") {
							raw, _ := io.ReadAll(r.Body)
							var body map[string]any
							if json.Unmarshal(raw, &body) == nil {
								if _, single := body["emails"].(map[string]any); single {
									writeSCIMError(w, http.StatusBadRequest, "invalidValue", "emails: expected an array")
									return
								}
							}
							r.Body = io.NopCloser(bytes.NewReader(raw))
						}
						next.ServeHTTP(w, r)
					})
				}
			},
			suites: []string{"clients"},
			fails:  map[string]string{"clients/onelogin-single-object-emails": "https://developers.onelogin.com/scim"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, scim.Options{}, tt.broken(t))
			rep, err := Run(t.Context(), srv.config(tt.suites...))
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Failed() {
				t.Error("the report does not say failed")
			}
			for id, phrase := range tt.fails {
				r := result(t, rep, id)
				if r.Status != Fail {
					t.Errorf("%s: %s, want FAIL", id, r.Status)
					continue
				}
				if !strings.Contains(r.Message, phrase) {
					t.Errorf("%s: the message does not say %q:\n%s", id, phrase, r.Message)
				}
				if len(r.Exchanges) == 0 || !strings.Contains(r.Exchanges[0], "> ") || !strings.Contains(r.Exchanges[0], "< ") {
					t.Errorf("%s: the failure shows no exchange: %q", id, r.Exchanges)
				}
			}
			// The broken behaviour fails its own checks, not the
			// others of the suite.
			for _, r := range rep.Results {
				if _, want := tt.fails[r.ID()]; r.Status == Fail && !want && (tt.others == "" || !strings.Contains(r.Message, tt.others)) {
					t.Errorf("unexpected failure:\n%s", describe(&Report{Results: []Result{r}}))
				}
			}
			if users := srv.count(t, "Users"); users != 0 {
				t.Errorf("%d users left after the run: %s", users, rep.Cleanup)
			}
		})
	}
}

// TestStrictHandlerFailsEntrasDefaultShapes checks the checks against the
// library's strict mode, which refuses what Entra ID sends without
// ?aadOptscim062020: exactly the default-shape checks fail.
func TestStrictHandlerFailsEntrasDefaultShapes(t *testing.T) {
	srv := newServer(t, scim.Options{Strict: true}, nil)
	rep, err := Run(t.Context(), srv.config("entra"))
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, r := range rep.Results {
		if r.Status == Fail {
			failed = append(failed, r.ID())
		}
	}
	for _, id := range []string{"entra/disable-re-enable-default", "entra/members-remove-with-value", "entra/manager-set-and-change", "entra/update-user-aadOptscim062020"} {
		if !slices.Contains(failed, id) {
			t.Errorf("%s passed against the strict handler", id)
		}
	}
	for _, id := range []string{"entra/test-connection-users", "entra/create-user", "entra/disable-re-enable-aadOptscim062020", "entra/members-remove-aadOptscim062020"} {
		if slices.Contains(failed, id) {
			t.Errorf("%s failed against the strict handler:\n%s", id, describe(rep))
		}
	}
}

// TestSlowRequestFails checks that a request slower than the limit fails
// its check, saying so.
func TestSlowRequestFails(t *testing.T) {
	srv := newServer(t, scim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/ResourceTypes") {
				select {
				case <-time.After(5 * time.Second):
				case <-r.Context().Done():
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	cfg := srv.config("rfc")
	cfg.Limit = 500 * time.Millisecond
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := result(t, rep, "rfc/resource-types")
	if r.Status != Fail || !strings.Contains(r.Message, "took longer than 500ms") {
		t.Errorf("rfc/resource-types: %s %q, want a failure for the slow request", r.Status, r.Message)
	}
	if len(r.Exchanges) != 1 || !strings.Contains(r.Exchanges[0], "no answer") {
		t.Errorf("the slow request's exchange does not say it got no answer: %q", r.Exchanges)
	}
}

// TestInterruptCleansUp cancels a run halfway: the report says so, and
// what the checks created so far is deleted.
func TestInterruptCleansUp(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var n atomic.Int32
	srv := newServer(t, scim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 40 {
				cancel()
			}
			next.ServeHTTP(w, r)
		})
	})
	rep, err := Run(ctx, srv.config("entra"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || !rep.Failed() {
		t.Errorf("Interrupted %v, Failed %v, want both", rep.Interrupted, rep.Failed())
	}
	if len(rep.Results) == 0 || len(rep.Results) >= len(List("entra")) {
		t.Errorf("%d results, want some but not all", len(rep.Results))
	}
	if users, groups := srv.count(t, "Users"), srv.count(t, "Groups"); users != 0 || groups != 0 {
		t.Errorf("after the interrupted run the server holds %d users and %d groups: %s", users, groups, rep.Cleanup)
	}
}

// TestKeep leaves what the checks created, and says where.
func TestKeep(t *testing.T) {
	srv := newServer(t, scim.Options{}, nil)
	cfg := srv.config("entra")
	cfg.Keep, cfg.Prefix = true, "scimcheck-keep"
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if srv.count(t, "Users") == 0 || !strings.Contains(rep.Cleanup, "kept") || !strings.Contains(rep.Cleanup, "scimcheck-keep") {
		t.Errorf("with Keep: %d users left, cleanup %q", srv.count(t, "Users"), rep.Cleanup)
	}
}

// TestCredentials checks the gallery's credentials test against token
// endpoints that get it wrong.
func TestCredentials(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int
		secret    string
		token     string // Config.Token, the fallback
		want      string // in the message; "" for a pass
		runErr    string // Run's error, when there is no token at all
	}{
		{name: "an hour", expiresIn: 3600},
		{name: "six hours", expiresIn: 21600},
		{name: "one minute", expiresIn: 60, want: "60 to 360 minutes"},
		{name: "a day", expiresIn: 86400, want: "60 to 360 minutes"},
		{name: "wrong secret, static token", expiresIn: 3600, secret: "wrong", token: testToken, want: "invalid_client"},
		{name: "wrong secret, no token", expiresIn: 3600, secret: "wrong", runErr: "issued no token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, scim.Options{}, nil, "issued")
			te := tokenEndpoint(t, "issued", tt.expiresIn)
			cfg := srv.config("gallery")
			cfg.Token = tt.token
			cfg.TokenURL, cfg.ClientID, cfg.ClientSecret = te.URL, "scimcheck", "s3cret"
			if tt.secret != "" {
				cfg.ClientSecret = tt.secret
			}
			rep, err := Run(t.Context(), cfg)
			if tt.runErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.runErr) {
					t.Fatalf("Run: %v, want an error saying %q", err, tt.runErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := result(t, rep, "gallery/Validate_Credentials")
			switch {
			case tt.want == "" && r.Status != Pass:
				t.Errorf("%s: %s", r.Status, r.Message)
			case tt.want != "" && (r.Status != Fail || !strings.Contains(r.Message, tt.want)):
				t.Errorf("%s %q, want a failure saying %q", r.Status, r.Message, tt.want)
			}
		})
	}
	t.Run("SCIM endpoint refuses the token", func(t *testing.T) {
		srv := newServer(t, scim.Options{}, nil)
		te := tokenEndpoint(t, "not-accepted", 3600)
		cfg := srv.config("gallery")
		cfg.TokenURL, cfg.ClientID, cfg.ClientSecret = te.URL, "scimcheck", "s3cret"
		rep, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if r := result(t, rep, "gallery/Validate_Credentials"); r.Status != Fail || !strings.Contains(r.Message, "refused the token") {
			t.Errorf("%s %q, want a failure saying the endpoint refused the token", r.Status, r.Message)
		}
	})
}

// TestBaseURLQueryIsKept checks that a Tenant URL's query string
// (?aadOptscim062020) is sent with every request.
func TestBaseURLQueryIsKept(t *testing.T) {
	var missing atomic.Int32
	srv := newServer(t, scim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := r.URL.Query()["aadOptscim062020"]; !ok {
				missing.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	cfg := srv.config("entra")
	cfg.URL += "/?aadOptscim062020"
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		t.Errorf("failed:\n%s", describe(rep))
	}
	if n := missing.Load(); n != 0 {
		t.Errorf("%d requests without the base URL's query", n)
	}
}

func TestReports(t *testing.T) {
	rep := &Report{URL: "http://x/scim/v2", Results: []Result{
		{Suite: "entra", Name: "a", Status: Pass, Requests: 1},
		{Suite: "entra", Name: "b", Status: Fail, Message: "it broke", Exchanges: []string{"> GET /scim/v2/Users\n< 404 Not Found"}},
		{Suite: "rfc", Name: "c", Status: Skip, Message: "not supported"},
		{Suite: "rfc", Name: "d", Status: Warn, Message: "hmm", Optional: true},
	}, Cleanup: "deleted"}
	var text, js, junit bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PASS entra/a", "FAIL entra/b", "     it broke", "     | > GET /scim/v2/Users", "SKIP rfc/c", "WARN rfc/d", "4 checks: 1 passed, 1 failed, 1 warnings, 1 skipped", "cleanup: deleted"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []struct{ Status string }
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != 4 || back.Results[1].Status != "FAIL" {
		t.Errorf("JSON report: %v %+v", err, back)
	}
	if err := WriteJUnit(&junit, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<testsuites name="scimcheck http://x/scim/v2" tests="4" failures="1" skipped="1"`, `<testsuite name="entra" tests="2" failures="1"`, `<failure message="it broke">`, `<skipped message="not supported">`, "WARN: hmm"} {
		if !strings.Contains(junit.String(), want) {
			t.Errorf("the JUnit report lacks %q:\n%s", want, junit.String())
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{Token: "t"}, "no SCIM base URL"},
		{"not http", Config{URL: "ftp://x/scim", Token: "t"}, "not an http"},
		{"unknown suite", Config{URL: "http://x/scim", Token: "t", Suites: []string{"entar"}}, `unknown suite "entar"`},
		{"no credential", Config{URL: "http://x/scim"}, "no credential"},
		{"token URL without a client", Config{URL: "http://x/scim", TokenURL: "http://x/token"}, "client id"},
		{"client auth", Config{URL: "http://x/scim", Token: "t", ClientAuth: "jwt"}, `"jwt"`},
		{"nothing listening", Config{URL: "http://127.0.0.1:1/scim/v2", Token: "t"}, "cannot reach the SCIM server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(t.Context(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestSchemaDiscoverabilityAttributes checks that the app's own mapped
// attributes are looked up in the schema they name.
func TestSchemaDiscoverabilityAttributes(t *testing.T) {
	srv := newServer(t, scim.Options{}, nil)
	tests := []struct {
		attrs   []string
		missing string // "" for a pass
	}{
		{[]string{"nickName", `phoneNumbers[type eq "home"].value`, enterpriseURN + ":costCenter", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Division"}, ""},
		{[]string{"nickName", "badge"}, "badge"},
		{[]string{"urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge"}, "urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.attrs, ","), func(t *testing.T) {
			cfg := srv.config("gallery")
			cfg.Attributes = tt.attrs
			rep, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := result(t, rep, "gallery/Schema_Discoverability")
			switch {
			case tt.missing == "" && r.Status != Pass:
				t.Errorf("%s: %s", r.Status, r.Message)
			case tt.missing != "" && (r.Status != Fail || !strings.Contains(r.Message, "does not describe "+tt.missing+",")):
				t.Errorf("%s %q, want a failure naming %s", r.Status, r.Message, tt.missing)
			}
		})
	}
}

// TestLostUpdatesFailConcurrency puts a server in front whose group PATCH
// is a read, a pause and a write of the whole group, as a naive store's
// would be: concurrent member PATCHes lose members, and the concurrency
// check says so.
func TestLostUpdatesFailConcurrency(t *testing.T) {
	srv := newServer(t, scim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != "PATCH" || !strings.Contains(r.URL.Path, "/Groups/") {
				next.ServeHTTP(w, r)
				return
			}
			var patch map[string]any
			if err := json.NewDecoder(r.Body).Decode(&patch); err != nil {
				writeSCIMError(w, 400, "invalidSyntax", "bad body")
				return
			}
			get := httptest.NewRequest("GET", r.URL.Path, nil)
			get.Header = r.Header.Clone()
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, get)
			var g map[string]any
			json.Unmarshal(rec.Body.Bytes(), &g)
			ms, _ := g["members"].([]any)
			for _, o := range operations(patch) {
				for _, v := range o["value"].([]any) {
					id := v.(map[string]any)["value"].(string)
					if strings.EqualFold(o["op"].(string), "add") {
						ms = append(ms, map[string]any{"value": id})
					} else {
						ms = slices.DeleteFunc(ms, func(m any) bool { return m.(map[string]any)["value"] == id })
					}
				}
			}
			time.Sleep(5 * time.Millisecond) // the window in which another PATCH reads the same members
			raw, _ := json.Marshal(map[string]any{"schemas": []string{groupURN}, "displayName": g["displayName"], "members": ms})
			put := httptest.NewRequest("PUT", r.URL.Path, bytes.NewReader(raw))
			put.Header = r.Header.Clone()
			put.Header.Set("Content-Type", "application/scim+json")
			rec = httptest.NewRecorder()
			next.ServeHTTP(rec, put)
			w.WriteHeader(http.StatusNoContent)
		})
	})
	rep, err := Run(t.Context(), srv.config("concurrency"))
	if err != nil {
		t.Fatal(err)
	}
	r := result(t, rep, "concurrency/parallel-member-patches")
	if r.Status != Fail || !strings.Contains(r.Message, "concurrent PATCHes of one group lose updates") {
		t.Errorf("%s %q, want a failure for the lost members", r.Status, r.Message)
	}
	for _, id := range []string{"concurrency/parallel-user-patches", "concurrency/parallel-duplicate-creates"} {
		if r := result(t, rep, id); r.Status != Pass {
			t.Errorf("%s: %s %s", id, r.Status, r.Message)
		}
	}
}

// TestThrottledRequestsAreRetried puts a rate limiter in front that
// answers the first request to every path 429: the checks retry after
// Retry-After and pass, noting it.
func TestThrottledRequestsAreRetried(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := newServer(t, scim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			first := !seen[r.Method+r.URL.Path]
			seen[r.Method+r.URL.Path] = true
			mu.Unlock()
			if first {
				w.Header().Set("Retry-After", "0")
				writeSCIMError(w, http.StatusTooManyRequests, "", "slow down")
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	rep, err := Run(t.Context(), srv.config("entra"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		t.Errorf("failed:\n%s", describe(rep))
	}
	if r := result(t, rep, "entra/create-user"); !strings.Contains(r.Message, "answered 429 and was retried after 0s") {
		t.Errorf("entra/create-user does not note the 429: %q", r.Message)
	}
}

// TestTestConnectionSendsNoUserAgent checks that Test connection's
// requests carry no User-Agent, as some of Entra's do, while the others
// name scimcheck.
func TestTestConnectionSendsNoUserAgent(t *testing.T) {
	var mu sync.Mutex
	agents := map[string][]string{} // path and filter → User-Agent headers
	srv := newServer(t, scim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			agents[r.URL.Path] = append(agents[r.URL.Path], strings.Join(r.Header.Values("User-Agent"), ","))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	if _, err := Run(t.Context(), srv.config("entra")); err != nil {
		t.Fatal(err)
	}
	// The first requests to /Users and to /Groups are Test connection's.
	if got := agents["/scim/v2/Users"][0]; got != "" {
		t.Errorf("Test connection sent User-Agent %q, want none", got)
	}
	if got := agents["/scim/v2/Groups"][0]; got != "" {
		t.Errorf("the /Groups probe sent User-Agent %q, want none", got)
	}
	if got := agents["/scim/v2/ServiceProviderConfig"][0]; got != userAgent {
		t.Errorf("other requests send User-Agent %q, want %q", got, userAgent)
	}
}

// TestTokenExchangeIsRedacted checks that neither the client secret nor
// the issued token appears in the exchange log or a failure's exchanges.
func TestTokenExchangeIsRedacted(t *testing.T) {
	srv := newServer(t, scim.Options{}, nil, "issued-token-value")
	te := tokenEndpoint(t, "issued-token-value", 60) // too short: the check fails and shows the exchange
	var log bytes.Buffer
	cfg := srv.config("gallery")
	cfg.TokenURL, cfg.ClientID, cfg.ClientSecret = te.URL, "scimcheck", "s3cret"
	cfg.Exchanges = &log
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := result(t, rep, "gallery/Validate_Credentials")
	shown := log.String() + strings.Join(r.Exchanges, "\n")
	if r.Status != Fail || len(r.Exchanges) == 0 {
		t.Fatalf("%s %q: want a failure showing the token exchange", r.Status, r.Message)
	}
	for _, secret := range []string{"s3cret", "issued-token-value"} {
		if strings.Contains(shown, secret) {
			t.Errorf("%q is shown:\n%s", secret, shown)
		}
	}
	if !strings.Contains(shown, "client_secret=%28redacted%29") || !strings.Contains(shown, `"access_token": "(redacted)"`) {
		t.Errorf("the token exchange is not shown redacted:\n%s", r.Exchanges)
	}
}

// TestStrictHandlerFailsLeniencyChecks runs the checks of the leniencies
// against the library's strict mode, which turns them off: OneLogin's
// shapes fail, the reference tests' shapes only warn (they are optional),
// and application/json, which RFC 7644 §3.8 asks for, still passes.
func TestStrictHandlerFailsLeniencyChecks(t *testing.T) {
	want := map[string]Status{
		"clients/onelogin-single-object-emails":         Fail,
		"clients/onelogin-legacy-enterprise-urn":        Fail,
		"clients/onelogin-manager-id":                   Fail,
		"clients/onelogin-accept-application-json":      Pass,
		"entra/reference-tests-lowercase-endpoint":      Warn,
		"entra/reference-tests-attributes-value-filter": Warn,
		"entra/reference-tests-member-bare-id":          Warn,
		"rfc/cursor-pagination":                         Pass,
	}
	srv := newServer(t, scim.Options{Strict: true}, nil)
	cfg := srv.config("entra", "clients", "rfc")
	cfg.Match = func(id string) bool { _, ok := want[id]; return ok }
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(want) {
		t.Errorf("%d results, want %d", len(rep.Results), len(want))
	}
	for _, r := range rep.Results {
		if r.Status != want[r.ID()] {
			t.Errorf("%s: %s, want %s: %s", r.ID(), r.Status, want[r.ID()], r.Message)
		}
		if r.Status != Pass && !strings.Contains(r.Message, "https://") {
			t.Errorf("%s: the message cites no public source: %s", r.ID(), r.Message)
		}
	}
	if users, groups := srv.count(t, "Users"), srv.count(t, "Groups"); users != 0 || groups != 0 {
		t.Errorf("%d users and %d groups left: %s", users, groups, rep.Cleanup)
	}
}

// TestCursorCheckSkipsWithoutCursorPaging checks that a server whose
// ServiceProviderConfig does not advertise cursor paging skips the cursor
// check rather than failing it.
func TestCursorCheckSkipsWithoutCursorPaging(t *testing.T) {
	srv := newServer(t, scim.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
			w.WriteHeader(rec.Code)
			io.WriteString(w, strings.Replace(rec.Body.String(), `"cursor":true`, `"cursor":false`, 1))
		})
	})
	cfg := srv.config("rfc")
	cfg.Match = func(id string) bool { return id == "rfc/cursor-pagination" }
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := result(t, rep, "rfc/cursor-pagination"); r.Status != Skip || r.Requests != 1 {
		t.Errorf("%s after %d requests, want SKIP after reading ServiceProviderConfig: %s", r.Status, r.Requests, r.Message)
	}
}
