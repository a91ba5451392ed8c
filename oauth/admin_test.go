package oauth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
)

// adminFixture is the admin package's handler with AdminClients over the
// token fixture's storage; the workspace is the X-Tenant header, as a
// host's admin login would set it.
type adminFixture struct {
	*fixture
	h   http.Handler
	jar []*http.Cookie
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	f := newFixture(t, Options{TokenURL: testIssuer + "/oauth2/token"})
	ac, err := AdminClients(f.store, f.srv)
	if err != nil {
		t.Fatal(err)
	}
	m := new(admin.Memory)
	ah, err := admin.NewHandler(&admin.Settings{Tokens: m, Sync: m, Domains: m},
		admin.Options{BaseURL: "https://app.example.com/scim/v2", OAuth: ac})
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ah.ServeHTTP(w, r.WithContext(scim.WithTenant(r.Context(), scim.Tenant{ID: r.Header.Get("X-Tenant")})))
	})
	return &adminFixture{fixture: f, h: h}
}

// call sends an admin request as tenant and returns the status and body.
func (a *adminFixture) call(t *testing.T, tenant, method, path, contentType, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	req.Header.Set("X-Tenant", tenant)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, c := range a.jar {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, req)
	if cs := w.Result().Cookies(); len(cs) > 0 {
		a.jar = cs
	}
	return w.Code, w.Body.String()
}

func (a *adminFixture) json(t *testing.T, tenant, method, path, body string) (int, string) {
	t.Helper()
	ct := "application/json"
	if body == "" {
		ct = ""
	}
	return a.call(t, tenant, method, path, ct, body)
}

func (a *adminFixture) clients(t *testing.T, tenant string) []admin.OAuthClient {
	t.Helper()
	code, body := a.json(t, tenant, "GET", "/api/oauth/clients", "")
	if code != 200 {
		t.Fatalf("GET api/oauth/clients: %d %s", code, body)
	}
	var o admin.OAuthOverview
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatal(err)
	}
	if o.TokenURL != testIssuer+"/oauth2/token" {
		t.Errorf("tokenURL %q", o.TokenURL)
	}
	return o.Clients
}

// TestAdminClientsAPI walks the API: a client and a secret made, the secret
// getting a token that SCIM accepts, listed without its value, revoked,
// and then refused at the token endpoint and on SCIM.
func TestAdminClientsAPI(t *testing.T) {
	a := newAdminFixture(t)
	code, body := a.json(t, "globex", "POST", "/api/oauth/clients", `{"name":"Entra ID gallery"}`)
	if code != 201 {
		t.Fatalf("create client: %d %s", code, body)
	}
	var c admin.OAuthClient
	if err := json.Unmarshal([]byte(body), &c); err != nil || c.ID == "" || c.Name != "Entra ID gallery" {
		t.Fatalf("created client %s (%v)", body, err)
	}
	code, body = a.json(t, "globex", "POST", "/api/oauth/clients/"+c.ID+"/secrets", `{"lifetimeDays":730}`)
	if code != 201 {
		t.Fatalf("create secret: %d %s", code, body)
	}
	var cs admin.CreatedOAuthSecret
	if err := json.Unmarshal([]byte(body), &cs); err != nil || !regexp.MustCompile(`^scimcs_[0-9a-f]{64}$`).MatchString(cs.Secret) {
		t.Fatalf("created secret %s (%v)", body, err)
	}
	if got := cs.Record.Expires.Sub(cs.Record.Created); got != 730*24*3600e9 {
		t.Errorf("the secret lives %v, want 730 days", got)
	}

	res := a.post(t, secretForm(c.ID, cs.Secret), "")
	if res.status != 200 || res.token() == "" {
		t.Fatalf("token request with the new secret: %d %s", res.status, res.raw)
	}
	scimH, _ := a.scimEndpoint(t)
	if got := scimGet(scimH, res.token()); got != 200 {
		t.Fatalf("SCIM with the access token: %d", got)
	}

	list := a.clients(t, "globex")
	if len(list) != 1 || list[0].ID != c.ID || len(list[0].Secrets) != 1 || list[0].Secrets[0].ID != cs.Record.ID {
		t.Fatalf("globex's clients: %+v", list)
	}
	_, settings := a.json(t, "globex", "GET", "/api/settings", "")
	for name, b := range map[string]string{"api/oauth/clients": mustJSON(t, list), "api/settings": settings} {
		if strings.Contains(b, cs.Secret) || strings.Contains(b, strings.TrimPrefix(cs.Secret, SecretPrefix)[:16]) {
			t.Errorf("%s shows the secret", name)
		}
	}
	if !strings.Contains(settings, `"tokenURL":"https://app.example.com/oauth2/token"`) || !strings.Contains(settings, c.ID) {
		t.Errorf("api/settings lacks the Token URL or the client: %s", settings)
	}

	if code, body := a.json(t, "globex", "DELETE", "/api/oauth/clients/"+c.ID+"/secrets/"+cs.Record.ID, ""); code != 204 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if res := a.post(t, secretForm(c.ID, cs.Secret), ""); res.status != 401 || res.code() != "invalid_client" {
		t.Errorf("token request with the revoked secret: %d %s, want 401 invalid_client", res.status, res.raw)
	}
	if got := scimGet(scimH, res.token()); got != 401 {
		t.Errorf("SCIM with a token of the revoked secret: %d, want 401", got)
	}
	if list := a.clients(t, "globex"); list[0].Secrets[0].Revoked.IsZero() {
		t.Error("the list does not show the secret revoked")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAdminClientsOtherTenant: acme's client-1 is invisible and
// unchangeable from the workspace globex.
func TestAdminClientsOtherTenant(t *testing.T) {
	a := newAdminFixture(t)
	if list := a.clients(t, "globex"); len(list) != 0 {
		t.Fatalf("globex sees %+v", list)
	}
	id, sid := a.client.ID, a.sec.ID
	for _, tc := range []struct{ name, method, path, body string }{
		{"create a secret", "POST", "/api/oauth/clients/" + id + "/secrets", `{}`},
		{"revoke a secret", "DELETE", "/api/oauth/clients/" + id + "/secrets/" + sid, ""},
		{"set federation", "PUT", "/api/oauth/clients/" + id + "/federation", `{"issuer":"https://evil.example","jwksURL":"https://evil.example/keys","subject":"s","audience":"a"}`},
		{"clear federation", "DELETE", "/api/oauth/clients/" + id + "/federation", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := a.json(t, "globex", tc.method, tc.path, tc.body); code != 404 {
				t.Errorf("%d %s, want 404", code, body)
			}
		})
	}
	// The forms too.
	a.call(t, "globex", "GET", "/", "", "")
	csrf := a.jar[0].Value
	code, _ := a.call(t, "globex", "POST", "/oauth/secrets/revoke", "application/x-www-form-urlencoded",
		url.Values{"csrf": {csrf}, "client": {id}, "secret": {sid}}.Encode())
	if code != 400 {
		t.Errorf("revoke form from globex: %d, want 400 (not found)", code)
	}

	c, err := a.store.Client(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	ss, _ := a.store.Secrets(t.Context(), id)
	if c.Federation == nil || c.Federation.Issuer != a.client.Federation.Issuer || len(ss) != 1 || !ss[0].Revoked.IsZero() {
		t.Errorf("acme's client changed: %+v %+v", c, ss)
	}
	if list := a.clients(t, "acme"); len(list) != 1 || list[0].ID != id {
		t.Errorf("acme's clients: %+v", list)
	}
}

// TestAdminClientsRefused: input refused with 400 and a reason, changing
// nothing; a valid federation is normalised.
func TestAdminClientsRefused(t *testing.T) {
	a := newAdminFixture(t)
	id := a.client.ID
	fed := func(iss, jwks, sub, aud string) string {
		return mustJSON(t, admin.OAuthFederation{Issuer: iss, JWKSURL: jwks, Subject: sub, Audience: aud})
	}
	for _, tc := range []struct {
		name, method, path, body, want string
	}{
		{"a name too long", "POST", "/api/oauth/clients", `{"name":"` + strings.Repeat("x", 101) + `"}`, "at most 100"},
		{"a lifetime under a year", "POST", "/api/oauth/clients/" + id + "/secrets", `{"lifetimeDays":30}`, "1 to 3 years"},
		{"a lifetime over three years", "POST", "/api/oauth/clients/" + id + "/secrets", `{"lifetimeDays":1100}`, "1 to 3 years"},
		{"an unknown field", "POST", "/api/oauth/clients/" + id + "/secrets", `{"secret":"mine"}`, "not the JSON expected"},
		{"no issuer", "PUT", "/api/oauth/clients/" + id + "/federation", fed("", "https://idp.example/keys", "s", "a"), "issuer is empty"},
		{"http JWKS", "PUT", "/api/oauth/clients/" + id + "/federation", fed("https://idp.example", "http://idp.example/keys", "s", "a"), "must be https"},
		{"no audience", "PUT", "/api/oauth/clients/" + id + "/federation", fed("https://idp.example", "https://idp.example/keys", "s", "/.default"), "audience is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := a.json(t, "acme", tc.method, tc.path, tc.body)
			if code != 400 || !strings.Contains(body, tc.want) {
				t.Errorf("%d %s, want 400 with %q", code, body, tc.want)
			}
		})
	}
	if list := a.clients(t, "acme"); len(list) != 1 || len(list[0].Secrets) != 1 || list[0].Federation.Issuer != a.client.Federation.Issuer {
		t.Errorf("refused input changed acme's clients: %+v", list)
	}

	code, body := a.json(t, "acme", "PUT", "/api/oauth/clients/"+id+"/federation", fed("https://idp.example", "https://idp.example/keys", "sub-1", "api://app/.default"))
	var c admin.OAuthClient
	if code != 200 || json.Unmarshal([]byte(body), &c) != nil || c.Federation == nil || c.Federation.Audience != "api://app" {
		t.Fatalf("set federation: %d %s", code, body)
	}
	if code, _ := a.json(t, "acme", "DELETE", "/api/oauth/clients/"+id+"/federation", ""); code != 204 {
		t.Fatalf("clear federation: %d", code)
	}
	if stored, _ := a.store.Client(t.Context(), id); stored.Federation != nil {
		t.Errorf("federation not cleared: %+v", stored.Federation)
	}
}

// TestAdminClientsPage: the page shows the Token URL and the client, a
// secret made with the form is in that answer only, and the forms need the
// CSRF token.
func TestAdminClientsPage(t *testing.T) {
	a := newAdminFixture(t)
	code, page := a.call(t, "acme", "GET", "/", "", "")
	if code != 200 || !strings.Contains(page, `value="https://app.example.com/oauth2/token"`) || !strings.Contains(page, a.client.ID) || !strings.Contains(page, a.sec.ID) {
		t.Fatalf("the page lacks the Token URL, the client or its secret: %d", code)
	}
	csrf := a.jar[0].Value
	forms := regexp.MustCompile(`(?s)<form method="post" action="[^"]*oauth/.*?</form>`).FindAllString(page, -1)
	if len(forms) < 4 { // create a secret, revoke it, federation, create a client
		t.Fatalf("found %d OAuth forms, want at least 4", len(forms))
	}
	for _, form := range forms {
		if !strings.Contains(form, `name="csrf" value="`+csrf+`"`) {
			t.Errorf("a form lacks the CSRF token: %s", form)
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a script")
	}
	form := url.Values{"client": {a.client.ID}, "years": {"3"}}
	if code, _ := a.call(t, "acme", "POST", "/oauth/secrets", "application/x-www-form-urlencoded", form.Encode()); code != 403 {
		t.Errorf("a form without the CSRF token: %d, want 403", code)
	}
	form.Set("csrf", csrf)
	code, page = a.call(t, "acme", "POST", "/oauth/secrets", "application/x-www-form-urlencoded", form.Encode())
	m := regexp.MustCompile(`id="oauth-secret"[^>]*value="(scimcs_[0-9a-f]{64})"`).FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("create secret form: %d, no secret on the page", code)
	}
	if res := a.post(t, secretForm(a.client.ID, m[1]), ""); res.status != 200 {
		t.Errorf("token request with the page's secret: %d %s", res.status, res.raw)
	}
	if _, page = a.call(t, "acme", "GET", "/", "", ""); strings.Contains(page, m[1]) {
		t.Error("the page shows the secret again")
	}
	form.Set("years", "5")
	if code, page := a.call(t, "acme", "POST", "/oauth/secrets", "application/x-www-form-urlencoded", form.Encode()); code != 400 || !strings.Contains(page, "1 to 3 years") {
		t.Errorf("a five-year secret: %d", code)
	}
}
