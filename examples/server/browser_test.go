package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"
)

// txtServer is a DNS server on loopback answering TXT queries from its map.
type txtServer struct {
	mu      sync.Mutex
	records map[string][]string // FQDN → TXT strings
	addr    string
}

func startTXTServer(t *testing.T) *txtServer {
	t.Helper()
	ts := &txtServer{records: map[string][]string{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = pc.LocalAddr().String()
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		ts.mu.Lock()
		for _, question := range q.Question {
			vals, ok := ts.records[strings.ToLower(question.Name)]
			if !ok {
				m.Rcode = dns.RcodeNameError
				continue
			}
			if question.Qtype == dns.TypeTXT {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: vals})
			}
		}
		ts.mu.Unlock()
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ts
}

func (ts *txtServer) set(name, value string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.records[dns.Fqdn(strings.ToLower(name))] = []string{value}
}

// chromium returns the path of Debian's chromium, skipping the test when it
// is missing (failing it when CI=true).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SCIMHOST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); the browser test is skipped")
	return ""
}

// screenshotDir is where the page's screenshots go: $SCIMHOST_SCREENSHOTS,
// else a temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("SCIMHOST_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestAdminPageInBrowser walks the admin page in headless Chromium through
// the scenario: a token that works until revoked, the sync switch,
// a domain refused until its TXT record is published and verified, and
// the refusals in the log.
//
// It runs once per backend, one after the other (a browser each is enough
// load for a small machine); the page's settings and log are in the same
// store as the data. Screenshots go to a directory per backend.
func TestAdminPageInBrowser(t *testing.T) {
	exe := chromium(t)
	dir := screenshotDir(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			shots := filepath.Join(dir, b.name)
			if err := os.MkdirAll(shots, 0o755); err != nil {
				t.Fatal(err)
			}
			adminScenario(t, exe, b.db(t), shots)
		})
	}
}

func adminScenario(t *testing.T, exe, db, shots string) {
	txt := startTXTServer(t)
	b := startAdminBrowser(t, exe, shots, "-db", db, "-dns", txt.addr)
	site, scimBase, password := b.site, b.scimBase, b.password
	step, read, shot, pageText, scimStatus := b.step, b.read, b.shot, b.text, b.scimStatus

	// Log in.
	step("open the login page", chromedp.Navigate(site+"/admin/"), chromedp.WaitVisible(chromedp.ID("password")))
	shot("01-login")
	step("log in", chromedp.SendKeys(chromedp.ID("password"), password), chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("base-url")))
	base := read("read the Base URL", chromedp.Value(chromedp.ID("base-url")))
	if base != scimBase {
		t.Errorf("the page's Base URL is %q, want %q", base, scimBase)
	}
	shot("02-settings-empty")

	// A token: created, shown once, working, revoked.
	step("create a token", chromedp.SendKeys(chromedp.ID("token-name"), "Entra ID"),
		chromedp.Click(`//button[text()="Create token"]`), chromedp.WaitVisible(chromedp.ID("token")))
	token := read("read the token", chromedp.Value(chromedp.ID("token")))
	shot("03-token-created")
	if !regexp.MustCompile(`^scim_[0-9a-f]{64}$`).MatchString(token) {
		t.Fatalf("the page shows %q as the token", token)
	}
	if got := scimStatus("GET", `/Users?filter=userName+eq+%2200000000-0000-4000-8000-000000000000%22`, token, ""); got != 200 {
		t.Fatalf("a request with the new token: %d, want 200", got)
	}
	step("back to the settings", chromedp.Click(`//a[text()="Done, I have copied it"]`), chromedp.WaitVisible(chromedp.ID("base-url")))
	if strings.Contains(pageText(), token) {
		t.Error("the page shows the token again")
	}
	step("revoke the token", chromedp.Click(`//button[starts-with(@aria-label, "Revoke token")]`), chromedp.WaitVisible(`//p[contains(., "token is revoked")]`))
	shot("04-token-revoked")
	if got := scimStatus("GET", "/Users", token, ""); got != 401 {
		t.Fatalf("a request with the revoked token: %d, want 401", got)
	}

	// The sync switch.
	step("create a second token", chromedp.Click(`//button[text()="Create token"]`), chromedp.WaitVisible(chromedp.ID("token")))
	token = read("read the second token", chromedp.Value(chromedp.ID("token")))
	step("back to the settings", chromedp.Click(`//a[text()="Done, I have copied it"]`), chromedp.WaitVisible(chromedp.ID("base-url")))
	step("switch sync off", chromedp.Click(`//button[text()="Switch SCIM sync off"]`), chromedp.WaitVisible(`//p[contains(., "SCIM sync is off")]`))
	shot("05-sync-off")
	if got := scimStatus("GET", "/Users", token, ""); got != 403 {
		t.Fatalf("a request with sync off: %d, want 403", got)
	}
	step("switch sync on", chromedp.Click(`//button[text()="Switch SCIM sync on"]`), chromedp.WaitVisible(`//p[contains(., "SCIM sync is on")]`))
	if got := scimStatus("GET", "/Users", token, ""); got != 200 {
		t.Fatalf("a request with sync back on: %d, want 200", got)
	}

	// A domain: refused until its TXT record is published and verified.
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@acme.test","active":true}`
	step("add a domain", chromedp.SendKeys(chromedp.ID("domain"), "Acme.test"), chromedp.Click(`//button[text()="Add domain"]`),
		chromedp.WaitVisible(`//td[text()="acme.test"]`))
	if got := scimStatus("POST", "/Users", token, user); got != 400 {
		t.Fatalf("a user on the unverified domain: %d, want 400", got)
	}
	value := read("read the TXT value", chromedp.Text(`//td[contains(., "scim-domain-verification=")]/code[2]`))
	step("verify without the record", chromedp.Click(`//button[@aria-label="Verify acme.test"]`), chromedp.WaitVisible(`//span[contains(., "no TXT record")]`))
	shot("06-domain-unverified")
	if got := scimStatus("POST", "/Users", token, user); got != 400 {
		t.Fatalf("a user on a domain whose check failed: %d, want 400", got)
	}
	txt.set("_scim-verification.acme.test", value)
	step("verify with the record", chromedp.Click(`//button[@aria-label="Verify acme.test"]`), chromedp.WaitVisible(`//p[contains(., "Domain verified")]`))
	shot("07-domain-verified")
	if got := scimStatus("POST", "/Users", token, user); got != 201 {
		t.Fatalf("a user on the verified domain: %d, want 201", got)
	}

	// The log: the refusals with their reasons, filtered to failures.
	// The filter form is a GET: its URL is what pressing Filter with
	// "Failures only" checked loads.
	step("filter the log to failures", chromedp.Navigate(site+"/admin/?failures=1&resource=&client="),
		chromedp.WaitVisible(`//table//td[contains(., "not a verified domain")]`))
	shot("08-log-failures")
	text := pageText()
	for _, want := range []string{"invalid bearer token", "switched off", `"acme.test"`, "Browser-Test SCIM Client", "→ 200 passed", "1 user (1 active), 0 groups"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(text, "user.created") {
		t.Error("the failures-only log shows a successful create")
	}
	t.Logf("screenshots in %s", shots)
}

// adminBrowser is the demo server, started with run and the given flags,
// and a headless Chromium to drive its admin page.
type adminBrowser struct {
	t              *testing.T
	bctx           context.Context
	shots          string
	site, scimBase string
	password       string
	printed        string // what the server printed at its start
}

// startAdminBrowser starts the demo with -token static-secret and args, and
// a browser; both stop when t ends.
func startAdminBrowser(t *testing.T, exe, shots string, args ...string) *adminBrowser {
	t.Helper()
	// The demo, capturing what it prints for the admin password.
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var printed bytes.Buffer
	out := &syncWriter{w: &printed}
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-token", "static-secret"}, args...), out, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	out.mu.Lock()
	b := &adminBrowser{t: t, shots: shots, site: "http://" + addr, scimBase: "http://" + addr + "/scim/v2", printed: printed.String()}
	out.mu.Unlock()
	password := regexp.MustCompile(`password (\S+),`).FindStringSubmatch(b.printed)
	if password == nil {
		t.Fatal("no admin password in the output")
	}
	b.password = password[1]

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	bctx, tcancel := context.WithTimeout(bctx, 120*time.Second)
	t.Cleanup(tcancel)
	b.bctx = bctx

	// The first run starts the browser, which lives as long as its context.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return b
}

// step runs actions, failing the test with a screenshot when one fails.
func (b *adminBrowser) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.bctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		if png, serr := chromedp.Run(b.bctx, chromedp.FullScreenshot(100)); serr == nil {
			_ = os.WriteFile(filepath.Join(b.shots, "failed.png"), png, 0o644)
		}
		b.t.Fatalf("%s: %v (screenshot failed.png in %s)", name, err, b.shots)
	}
}

func (b *adminBrowser) read(name string, a chromedp.Action[string]) string {
	b.t.Helper()
	v, err := chromedp.Run(b.bctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// shot keeps a screenshot of the page as name.png.
func (b *adminBrowser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.bctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *adminBrowser) text() string {
	b.t.Helper()
	return b.read("read the page", chromedp.Text(chromedp.CSS("body")))
}

// scimStatus sends a SCIM request with the bearer token and returns its
// status.
func (b *adminBrowser) scimStatus(method, path, token, body string) int {
	t := b.t
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.scimBase+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "Browser-Test SCIM Client")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestAdminOAuthInBrowser walks the admin page's OAuth clients in headless
// Chromium with -oauth: the demo client is listed beside the Token URL; an
// admin creates a client and a secret, which is shown once and gets an
// access token that SCIM accepts; after the secret is revoked on the page
// the token endpoint refuses it (invalid_client) and SCIM refuses the
// access token it got. Federation settings are refused with their reason,
// then saved. The memory backend is enough: the OAuth clients live in
// memory in the demo whatever -db says.
func TestAdminOAuthInBrowser(t *testing.T) {
	exe := chromium(t)
	shots := filepath.Join(screenshotDir(t), "oauth")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b := startAdminBrowser(t, exe, shots, "-db", "memory", "-oauth")
	tokenURL := b.site + "/oauth2/token"

	b.step("open the login page", chromedp.Navigate(b.site+"/admin/"), chromedp.WaitVisible(chromedp.ID("password")))
	b.step("log in", chromedp.SendKeys(chromedp.ID("password"), b.password), chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("token-url")))
	if got := b.read("read the Token URL", chromedp.Value(chromedp.ID("token-url"))); got != tokenURL {
		t.Errorf("the page's Token URL is %q, want %q", got, tokenURL)
	}
	if text := b.text(); !strings.Contains(text, demoClientID) {
		t.Errorf("the page does not list the demo client %q", demoClientID)
	}
	b.shot("01-oauth-demo-client")

	// A client and its secret, shown once.
	b.step("create a client", chromedp.SendKeys(chromedp.ID("oauth-client-name"), "Entra gallery app"),
		chromedp.Click(`//button[text()="Create OAuth client"]`), chromedp.WaitVisible(`//p[contains(., "OAuth client created")]`))
	clientID := b.read("read the client id", chromedp.Text(`//article[h3[text()="Entra gallery app"]]//dd/code`))
	b.shot("02-oauth-client-created")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(clientID) {
		t.Fatalf("the page shows %q as the client id", clientID)
	}
	b.step("create a secret", chromedp.SetValue(`//select[@id="years-`+clientID+`"]`, "2"),
		chromedp.Click(`//button[@aria-label="Create a secret for `+clientID+`"]`), chromedp.WaitVisible(chromedp.ID("oauth-secret")))
	secret := b.read("read the secret", chromedp.Value(chromedp.ID("oauth-secret")))
	if got := b.read("read the client id beside it", chromedp.Value(chromedp.ID("oauth-client-id"))); got != clientID {
		t.Errorf("the new secret is shown with the client id %q, want %q", got, clientID)
	}
	b.shot("03-oauth-secret-created")
	if !regexp.MustCompile(`^scimcs_[0-9a-f]{64}$`).MatchString(secret) {
		t.Fatalf("the page shows %q as the secret", secret)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {"scim"}}
	status, body := tokenRequest(t, tokenURL, form, "")
	access, _ := body["access_token"].(string)
	if status != 200 || access == "" {
		t.Fatalf("a token request with the page's secret: %d %v", status, body)
	}
	if got := b.scimStatus("GET", "/Users", access, ""); got != 200 {
		t.Fatalf("a SCIM request with the access token: %d, want 200", got)
	}
	b.step("back to the settings", chromedp.Click(`//a[text()="Done, I have copied it"]`), chromedp.WaitVisible(chromedp.ID("token-url")))
	if strings.Contains(b.text(), secret) {
		t.Error("the page shows the secret again")
	}

	// Revoked on the page: refused at the token endpoint and on SCIM.
	b.step("revoke the secret", chromedp.Click(`//article[.//code[text()="`+clientID+`"]]//button[starts-with(@aria-label, "Revoke secret")]`),
		chromedp.WaitVisible(`//p[contains(., "client secret is revoked")]`))
	b.shot("04-oauth-secret-revoked")
	if status, body := tokenRequest(t, tokenURL, form, ""); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("a token request with the revoked secret: %d %v, want 401 invalid_client", status, body)
	}
	if got := b.scimStatus("GET", "/Users", access, ""); got != 401 {
		t.Errorf("a SCIM request with the revoked secret's access token: %d, want 401", got)
	}

	// Federation: refused with its reason, then saved.
	fed := func(jwks string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.ID("iss-"+clientID), "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"),
			chromedp.SetValue(chromedp.ID("jwks-"+clientID), jwks),
			chromedp.SetValue(chromedp.ID("sub-"+clientID), "66666666-7777-8888-9999-000000000000"),
			chromedp.SetValue(chromedp.ID("aud-"+clientID), "api://scimhost-demo/.default"),
			chromedp.Click(`//article[.//code[text()="` + clientID + `"]]//button[text()="Save federation"]`),
		}
	}
	b.step("open the federation form", chromedp.Click(`//article[.//code[text()="`+clientID+`"]]//summary`), chromedp.WaitVisible(chromedp.ID("iss-"+clientID)))
	b.step("save an http JWKS URL", append(fed("http://keys.example/jwks"), chromedp.WaitVisible(`//p[contains(., "must be https")]`))...)
	b.shot("05-oauth-federation-refused")
	if got := b.read("read the refused subject", chromedp.Value(chromedp.ID("sub-"+clientID))); got != "66666666-7777-8888-9999-000000000000" {
		t.Errorf("the refused form shows the subject %q, want what the admin entered", got)
	}
	b.step("save the federation", append(fed("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys"),
		chromedp.WaitVisible(`//p[contains(., "Federation saved")]`))...)
	if got := b.read("read the audience", chromedp.Value(chromedp.ID("aud-"+clientID))); got != "api://scimhost-demo" {
		t.Errorf("the stored audience is %q, want it without /.default", got)
	}
	b.shot("06-oauth-federation-saved")
	t.Logf("screenshots in %s", shots)
}
