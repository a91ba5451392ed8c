package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/sqlstore"
)

// The demo's admin page: the admin package's Handler at /admin/, behind
// the small password login a host replaces with its own admin
// authentication. The password is made at each start and printed; whoever
// types it gets a session cookie for this run.

// demoTenant is the demo's one workspace.
const demoTenant = "demo"

// adminSide is the demo's admin settings, log and login.
type adminSide struct {
	settings *admin.Settings
	queue    *scim.LogQueue
	password string
	sessions sync.Map // session id → struct{}
	// oauth, with -oauth, shows the demo workspace's OAuth clients on the
	// page.
	oauth admin.OAuthClients
}

// newAdminSide keeps the admin settings and the log beside store: in its
// database when it is a SQL store, else in memory. resolver (nil for the
// system's) checks domains' TXT records.
func newAdminSide(store scim.Store, resolver *net.Resolver) *adminSide {
	s := &admin.Settings{Resolver: resolver, CheckTimeout: 5 * time.Second}
	if ss, ok := store.(*sqlstore.Store); ok {
		as := ss.DB().AdminStore()
		s.Tokens, s.Sync, s.Domains, s.Log = as, newSyncCache(as), as, ss.DB().ProvisioningLog(0)
	} else {
		m := new(admin.Memory)
		s.Tokens, s.Sync, s.Domains, s.Log = m, m, m, admin.NewMemoryLog(0)
	}
	return &adminSide{settings: s, queue: scim.NewLogQueue(s.Log, 0), password: randomString(18)}
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// lookup accepts the static token (-token) for the demo tenant, and the
// tokens made on the admin page; the admin's sync switch applies to both.
func (a *adminSide) lookup(static *scim.Tokens) scim.TokenLookup {
	return func(ctx context.Context, token string) (scim.Tenant, error) {
		t, err := static.Lookup(ctx, token)
		if errors.Is(err, scim.ErrUnknownToken) {
			return a.settings.Lookup(ctx, token)
		}
		if err != nil {
			return t, err
		}
		t.Disabled, err = a.settings.Sync.SyncDisabled(ctx, t.ID)
		return t, err
	}
}

// allowDomain allows the -domains list and the domains verified on the
// admin page. While both are empty, every domain is allowed, so that the
// demo provisions from its first request; from the first domain added on
// the page, emails on other domains are refused.
func (a *adminSide) allowDomain(static []string) func(context.Context, string) error {
	return func(ctx context.Context, domain string) error {
		if slices.Contains(static, domain) {
			return nil
		}
		err := a.settings.AllowDomain(ctx, domain)
		if err == nil {
			return nil
		}
		if len(static) == 0 {
			if ds, lerr := a.settings.Domains.ListDomains(ctx, demoTenant); lerr == nil && len(ds) == 0 {
				return nil
			}
		}
		return err
	}
}

// sessionCookie names the demo's admin session cookie.
const sessionCookie = "demo_admin_session"

// handler returns the admin page at /admin/ behind the login.
func (a *adminSide) handler(base string, store scim.Store) (http.Handler, error) {
	ah, err := admin.NewHandler(a.settings, admin.Options{BaseURL: base, Store: store, OAuth: a.oauth})
	if err != nil {
		return nil, err
	}
	inner := http.StripPrefix("/admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ah.ServeHTTP(w, r.WithContext(scim.WithTenant(r.Context(), scim.Tenant{ID: demoTenant})))
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin/login" {
			a.login(w, r)
			return
		}
		if c, err := r.Cookie(sessionCookie); err != nil || !a.validSession(c.Value) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}), nil
}

func (a *adminSide) validSession(id string) bool {
	_, ok := a.sessions.Load(id)
	return ok
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo admin login</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem">
<h1>Demo admin login</h1>
<p>The admin password was printed when the server started. A real host puts its own admin login here.</p>
{{if .}}<p role="alert" style="color:#a4262c">{{.}}</p>{{end}}
<form method="post" action="/admin/login">
<label for="password" style="display:block;font-weight:600">Admin password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
</body></html>
`))

func (a *adminSide) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch r.Method {
	case http.MethodGet:
		_ = loginPage.Execute(w, "")
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("password")), []byte(a.password)) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			_ = loginPage.Execute(w, "That is not the password.")
			return
		}
		id := randomString(32)
		a.sessions.Store(id, struct{}{})
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/admin/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// dnsResolver returns a resolver that asks the DNS server at addr, or nil
// (the system's) when addr is empty.
func dnsResolver(addr string) (*net.Resolver, error) {
	if addr == "" {
		return nil, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("-dns %q: want host:port", addr)
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}, nil
}
