package admin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/memstore"
)

// fixture is an admin handler for workspace acme behind a tenant-setting
// wrapper, as a host mounts it.
type fixture struct {
	s   *admin.Settings
	h   http.Handler
	jar []*http.Cookie
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	m := new(admin.Memory)
	s := &admin.Settings{Tokens: m, Sync: m, Domains: m, Log: admin.NewMemoryLog(0)}
	ah, err := admin.NewHandler(s, admin.Options{BaseURL: "https://app.example.com/scim/v2", Store: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ah.ServeHTTP(w, r.WithContext(scim.WithTenant(r.Context(), scim.Tenant{ID: "acme"})))
	})
	return &fixture{s: s, h: h}
}

func (f *fixture) do(t *testing.T, method, path, contentType, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range f.jar {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if cs := rec.Result().Cookies(); len(cs) > 0 {
		f.jar = cs
	}
	return rec
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf loads the page and returns its form token.
func (f *fixture) csrf(t *testing.T) string {
	t.Helper()
	rec := f.do(t, "GET", "/", "", "", nil)
	m := csrfField.FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		t.Fatalf("page: %d, no CSRF field", rec.Code)
	}
	return m[1]
}

func (f *fixture) post(t *testing.T, path string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	return f.do(t, "POST", path, "application/x-www-form-urlencoded", form.Encode(), header)
}

func TestPageShowsTokenOnce(t *testing.T) {
	f := newFixture(t)
	tok := f.csrf(t)
	rec := f.post(t, "/tokens", url.Values{"csrf": {tok}, "name": {"Entra"}}, nil)
	if rec.Code != 200 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	secret := regexp.MustCompile(`scim_[0-9a-f]{64}`).FindString(rec.Body.String())
	if secret == "" {
		t.Fatal("the answer to create does not show the token")
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Location") != "" {
		t.Errorf("the token's page may be cached or redirected: %v", rec.Header())
	}
	if tn, err := f.s.Lookup(t.Context(), secret); err != nil || tn.ID != "acme" {
		t.Fatalf("the shown token does not authenticate: %v %v", tn, err)
	}
	again := f.do(t, "GET", "/", "", "", nil).Body.String()
	if strings.Contains(again, secret) || !strings.Contains(again, secret[:13]) {
		t.Error("the page shows the token again, or not its prefix")
	}
	api := f.do(t, "GET", "/api/settings", "", "", nil).Body.String()
	if strings.Contains(api, secret) || strings.Contains(api, "hash") {
		t.Errorf("the API shows the token or its hash: %s", api)
	}
}

func TestFormsNeedCSRF(t *testing.T) {
	f := newFixture(t)
	tok := f.csrf(t)
	// The wrong token differs from the right one in its first character
	// whatever that character is: a fixed "x" matched one token in 64.
	wrong := "A" + tok[1:]
	if tok[0] == 'A' {
		wrong = "B" + tok[1:]
	}
	tests := []struct {
		name   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"no token", url.Values{"sync": {"off"}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"sync": {"off"}, "csrf": {wrong}}, nil, http.StatusForbidden},
		{"cross-site", url.Values{"sync": {"off"}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other origin", url.Values{"sync": {"off"}, "csrf": {tok}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same site", url.Values{"sync": {"off"}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := f.post(t, "/sync", tt.form, tt.header); rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
	if off, _ := f.s.Sync.SyncDisabled(t.Context(), "acme"); !off {
		t.Error("the accepted form did not switch sync off")
	}
	if rec := f.do(t, "PUT", "/api/sync", "text/plain", `{"enabled":true}`, nil); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("API write as text/plain: %d, want 415", rec.Code)
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "POST", "/api/tokens", "application/json", `{"name":"okta"}`, nil)
	var created admin.CreatedToken
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &created) != nil || !strings.HasPrefix(created.Token, "scim_") {
		t.Fatalf("create token: %d %s", rec.Code, rec.Body)
	}
	steps := []struct {
		name, method, path, body string
		want                     int
	}{
		{"add domain", "POST", "/api/domains", `{"name":"Example.COM."}`, 201},
		{"add it again", "POST", "/api/domains", `{"name":"example.com"}`, 409},
		{"add a non-domain", "POST", "/api/domains", `{"name":"not a domain"}`, 400},
		{"sync off", "PUT", "/api/sync", `{"enabled":false}`, 200},
		{"sync without a value", "PUT", "/api/sync", `{}`, 400},
		{"unknown field", "PUT", "/api/sync", `{"enable":true}`, 400},
		{"revoke", "DELETE", "/api/tokens/" + created.Record.ID, "", 204},
		{"revoke unknown", "DELETE", "/api/tokens/nope", "", 404},
		{"remove domain", "DELETE", "/api/domains/example.com", "", 204},
		{"remove it again", "DELETE", "/api/domains/example.com", "", 404},
		{"log", "GET", "/api/log?failures=1&resource=User", "", 200},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ct := ""
			if st.body != "" {
				ct = "application/json"
			}
			if rec := f.do(t, st.method, st.path, ct, st.body, nil); rec.Code != st.want {
				t.Errorf("%s %s: %d, want %d: %s", st.method, st.path, rec.Code, st.want, rec.Body)
			}
		})
	}
	var o admin.Overview
	if err := json.Unmarshal(f.do(t, "GET", "/api/settings", "", "", nil).Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	if o.SyncEnabled || len(o.Tokens) != 1 || o.Tokens[0].Active() || o.Counts == nil || o.BaseURL != "https://app.example.com/scim/v2" {
		t.Errorf("settings after the steps: %+v", o)
	}
}

func TestNoTenantIs500(t *testing.T) {
	m := new(admin.Memory)
	h, err := admin.NewHandler(&admin.Settings{Tokens: m, Sync: m, Domains: m}, admin.Options{BaseURL: "https://x.example/scim"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Errorf("no tenant: %d", rec.Code)
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Example.COM", "example.com", true},
		{" example.com. ", "example.com", true},
		{"ceo@Acme.io", "acme.io", true},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", true},
		{"bücher.example", "", false},
		{"localhost", "", false},
		{"-bad.example", "", false},
		{"a..example", "", false},
		{"under_score.example", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := admin.NormalizeDomain(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("NormalizeDomain(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

// TestPageWithoutScript: the page needs no JavaScript (it has none, and its
// Content-Security-Policy allows none), and every POST form carries the
// CSRF token.
func TestPageWithoutScript(t *testing.T) {
	f := newFixture(t)
	tok := f.csrf(t)
	if _, err := f.s.AddDomain(t.Context(), "acme", "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.CreateToken(t.Context(), "acme", ""); err != nil {
		t.Fatal(err)
	}
	rec := f.do(t, "GET", "/", "", "", nil)
	page := rec.Body.String()
	if strings.Contains(strings.ToLower(page), "<script") || regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
		t.Error("the page has a script or an event handler")
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q allows scripts", csp)
	}
	forms := regexp.MustCompile(`(?s)<form method="post".*?</form>`).FindAllString(page, -1)
	if len(forms) < 6 {
		t.Fatalf("found %d POST forms, want the sync, token create and revoke, domain add, verify and remove forms", len(forms))
	}
	for _, form := range forms {
		if !strings.Contains(form, `name="csrf" value="`+tok+`"`) {
			t.Errorf("a form lacks the CSRF token: %s", form)
		}
	}
}

func TestMemoryLogRing(t *testing.T) {
	l := admin.NewMemoryLog(3)
	base := time.Now()
	for i := range 5 {
		if err := l.Record(t.Context(), []scim.LogEntry{{Tenant: "acme", Time: base.Add(time.Duration(i) * time.Second), Status: 200 + i}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.ListLog(t.Context(), "acme", admin.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []int
	for _, e := range got {
		statuses = append(statuses, e.Status)
	}
	if !slices.Equal(statuses, []int{204, 203, 202}) {
		t.Errorf("a ring of 3 after 5 entries holds %v, want the newest three, newest first", statuses)
	}
}

// TestNoOAuthWithoutOptions: without Options.OAuth the page has no OAuth
// section, the API no OAuth routes and api/settings no "oauth".
func TestNoOAuthWithoutOptions(t *testing.T) {
	f := newFixture(t)
	tok := f.csrf(t)
	if page := f.do(t, "GET", "/", "", "", nil).Body.String(); strings.Contains(page, "OAuth") {
		t.Error("the page shows an OAuth section")
	}
	if rec := f.do(t, "GET", "/api/oauth/clients", "", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET api/oauth/clients: %d, want 404", rec.Code)
	}
	if rec := f.post(t, "/oauth/clients", url.Values{"csrf": {tok}}, nil); rec.Code != http.StatusNotFound {
		t.Errorf("POST oauth/clients: %d, want 404", rec.Code)
	}
	if body := f.do(t, "GET", "/api/settings", "", "", nil).Body.String(); strings.Contains(body, `"oauth"`) {
		t.Errorf("api/settings has oauth: %s", body)
	}
}
