package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

// Options configures a [Handler].
type Options struct {
	// BaseURL is the SCIM base URL the admin copies into the identity
	// provider ("https://app.example.com/scim/v2"). Required.
	BaseURL string
	// Store, when set, is the SCIM store the page counts users, active
	// users and groups in, in the workspace's context.
	Store scim.Store
	// Logger receives the causes of 500s; nil means slog.Default().
	Logger *slog.Logger
	// OAuth, when set, adds the workspace's OAuth clients to the page and
	// the API (oauth.AdminClients makes one); when nil they show no OAuth
	// section and have no OAuth routes.
	OAuth OAuthClients
}

// Handler serves a workspace admin's SCIM settings: a server-rendered page
// at its root and a JSON API under api/. The host mounts it behind its own
// admin authentication and puts the admin's workspace in the request's
// context with [scim.WithTenant], as BearerAuth does for SCIM requests:
//
//	mux.Handle("/admin/scim/", http.StripPrefix("/admin/scim", requireAdmin(withWorkspace(h))))
//
// The library never authenticates admins. A request without a tenant in its
// context is answered 500, since it is a mistake in the host's wiring.
//
// The page needs no JavaScript and no build step. Every form is a POST
// carrying a CSRF token that must match a cookie the page sets (SameSite
// Strict, HttpOnly), and a POST whose Origin or Sec-Fetch-Site header
// names another site is refused; the JSON API's writes must be sent as
// application/json, which a cross-site form cannot send without a CORS
// preflight that this handler never answers. Nothing secret is ever in a
// URL: a new token is in the body of the POST's answer only, marked
// Cache-Control: no-store, and never shown again.
//
// A Handler is safe for concurrent use. Make one with [NewHandler].
type Handler struct {
	s    *Settings
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// NewHandler returns the admin handler over s. It returns an error when a
// required store of s is nil or BaseURL is not an absolute http(s) URL.
func NewHandler(s *Settings, opts Options) (*Handler, error) {
	switch {
	case s == nil || s.Tokens == nil || s.Sync == nil || s.Domains == nil:
		return nil, errors.New("admin: NewHandler: Settings needs Tokens, Sync and Domains")
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("admin: NewHandler: BaseURL %q is not an absolute http(s) URL", opts.BaseURL)
	}
	h := &Handler{s: s, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("POST /tokens", h.form(h.createTokenForm))
	mux.HandleFunc("POST /tokens/revoke", h.form(h.revokeTokenForm))
	mux.HandleFunc("POST /sync", h.form(h.syncForm))
	mux.HandleFunc("POST /domains", h.form(h.addDomainForm))
	mux.HandleFunc("POST /domains/verify", h.form(h.verifyDomainForm))
	mux.HandleFunc("POST /domains/remove", h.form(h.removeDomainForm))

	mux.HandleFunc("GET /api/settings", h.apiSettings)
	mux.HandleFunc("POST /api/tokens", h.api(h.apiCreateToken))
	mux.HandleFunc("DELETE /api/tokens/{id}", h.api(h.apiRevokeToken))
	mux.HandleFunc("PUT /api/sync", h.api(h.apiSetSync))
	mux.HandleFunc("POST /api/domains", h.api(h.apiAddDomain))
	mux.HandleFunc("POST /api/domains/{name}/verify", h.api(h.apiVerifyDomain))
	mux.HandleFunc("DELETE /api/domains/{name}", h.api(h.apiRemoveDomain))
	mux.HandleFunc("GET /api/log", h.apiLog)
	if opts.OAuth != nil {
		h.registerOAuth(mux)
	}
	h.mux = mux
	return h, nil
}

// ServeHTTP serves the page and the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	if _, ok := scim.TenantFrom(r.Context()); !ok {
		h.log.ErrorContext(r.Context(), "admin: no workspace in the request's context: wrap the handler in one that calls scim.WithTenant")
		http.Error(w, "no workspace selected", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// sameOrigin reports whether a state-changing request comes from this
// site: by Sec-Fetch-Site, which every current browser sends, else by
// Origin. A request with neither (curl, a host's backend) passes: CSRF is
// an attack through a browser.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// rootOf returns the relative URL of the handler's root from r's path, so
// that the handler works under any mount prefix: "./" from /tokens,
// "../" from /domains/verify.
func rootOf(r *http.Request) string {
	depth := strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if depth == 0 {
		return "./"
	}
	return strings.Repeat("../", depth)
}

func tenantOf(r *http.Request) string {
	t, _ := scim.TenantFrom(r.Context())
	return t.ID
}

// csrfCookie names the cookie of the double-submitted CSRF token.
const csrfCookie = "scim_admin_csrf"

// csrfToken returns the request's CSRF token, setting a new cookie when it
// has none.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	return v
}

// checkCSRF reports whether the form's token matches the cookie.
func checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// maxFormBytes caps a form or JSON body.
const maxFormBytes = 16 << 10

// form wraps a form handler: body limit and CSRF check. The handler
// returns the notice to show after a redirect, or renders the page itself
// and returns "".
func (h *Handler) form(fn func(w http.ResponseWriter, r *http.Request) (notice string, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if !checkCSRF(r) {
			http.Error(w, "the form has expired: reload the page and try again", http.StatusForbidden)
			return
		}
		notice, err := fn(w, r)
		switch {
		case errors.Is(err, ErrInvalid), errors.Is(err, scim.ErrConflict), errors.Is(err, scim.ErrNotFound):
			h.render(w, r, http.StatusBadRequest, pageState{Problem: adminText(err)})
		case err != nil:
			h.internal(w, r, err)
		case notice != "":
			// Post/Redirect/Get: a reload does not repeat the action. The
			// notice is one of a fixed set of words, never input.
			// The Location is left relative for the browser to resolve:
			// http.Redirect would resolve it against the path below the
			// host's mount prefix.
			w.Header().Set("Location", rootOf(r)+"?done="+url.QueryEscape(notice))
			w.WriteHeader(http.StatusSeeOther)
		}
	}
}

// adminText is the part of a Settings error meant for the admin.
func adminText(err error) string {
	s := strings.TrimPrefix(err.Error(), "admin: ")
	for _, sentinel := range []error{ErrInvalid, scim.ErrConflict, scim.ErrNotFound} {
		s = strings.TrimSuffix(s, ": "+sentinel.Error())
	}
	switch {
	case errors.Is(err, scim.ErrConflict):
		s += ": it is there already"
	case errors.Is(err, scim.ErrNotFound):
		s += ": not found (it may have been removed meanwhile)"
	}
	return s
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "admin: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// notices are the words a redirect may show.
var notices = map[string]string{
	"token-revoked":   "The token is revoked: requests that present it now get 401.",
	"sync-on":         "SCIM sync is on.",
	"sync-off":        "SCIM sync is off: every request now gets 403 until you switch it back on.",
	"domain-added":    "Domain added. Publish its TXT record, then verify it.",
	"domain-checked":  "Domain checked.",
	"domain-removed":  "Domain removed: emails on it are refused again.",
	"domain-verified": "Domain verified: users with emails on it can be provisioned.",
}

func (h *Handler) createTokenForm(w http.ResponseWriter, r *http.Request) (string, error) {
	secret, t, err := h.s.CreateToken(r.Context(), tenantOf(r), r.PostFormValue("name"))
	if err != nil {
		return "", err
	}
	// Rendered into this answer, never redirected to: the token is in no URL
	// and no later page.
	h.render(w, r, http.StatusOK, pageState{NewToken: secret, NewTokenRecord: &t})
	return "", nil
}

func (h *Handler) revokeTokenForm(_ http.ResponseWriter, r *http.Request) (string, error) {
	return "token-revoked", h.s.RevokeToken(r.Context(), tenantOf(r), r.PostFormValue("id"))
}

func (h *Handler) syncForm(_ http.ResponseWriter, r *http.Request) (string, error) {
	on := r.PostFormValue("sync") == "on"
	if err := h.s.Sync.SetSyncDisabled(r.Context(), tenantOf(r), !on); err != nil {
		return "", err
	}
	if on {
		return "sync-on", nil
	}
	return "sync-off", nil
}

func (h *Handler) addDomainForm(_ http.ResponseWriter, r *http.Request) (string, error) {
	_, err := h.s.AddDomain(r.Context(), tenantOf(r), r.PostFormValue("domain"))
	return "domain-added", err
}

func (h *Handler) verifyDomainForm(_ http.ResponseWriter, r *http.Request) (string, error) {
	d, err := h.s.VerifyDomain(r.Context(), tenantOf(r), r.PostFormValue("domain"))
	if err != nil {
		return "", err
	}
	if d.IsVerified() && d.CheckError == "" {
		return "domain-verified", nil
	}
	return "domain-checked", nil
}

func (h *Handler) removeDomainForm(_ http.ResponseWriter, r *http.Request) (string, error) {
	return "domain-removed", h.s.RemoveDomain(r.Context(), tenantOf(r), r.PostFormValue("domain"))
}

// Overview is what the page and GET api/settings show of a workspace.
type Overview struct {
	BaseURL     string       `json:"baseURL"`
	SyncEnabled bool         `json:"syncEnabled"`
	Tokens      []Token      `json:"tokens"`
	Domains     []DomainView `json:"domains"`
	Connection  Connection   `json:"connection"`
	// Counts is nil when Options.Store is not set or cannot count.
	Counts *Counts `json:"counts,omitempty"`
	// OAuth is the Token URL and the workspace's OAuth clients; nil when
	// Options.OAuth is not set.
	OAuth *OAuthOverview `json:"oauth,omitempty"`
}

// DomainView is a [Domain] with the TXT record to publish.
type DomainView struct {
	Domain
	TXTName string `json:"txtName"`
}

// Connection is what the log says of the identity provider's connection.
type Connection struct {
	// LastRequest is the newest log entry; nil when there is none.
	LastRequest *scim.LogEntry `json:"lastRequest,omitempty"`
	// LastTestConnection is the newest connection test (a probe); nil when
	// none is in the log.
	LastTestConnection *scim.LogEntry `json:"lastTestConnection,omitempty"`
}

// Counts are the workspace's provisioned resources.
type Counts struct {
	Users       int `json:"users"`
	ActiveUsers int `json:"activeUsers"`
	Groups      int `json:"groups"`
}

var activeFilter = func() scim.Filter {
	f, err := scim.ParseFilter("active eq true")
	if err != nil {
		panic(err)
	}
	return f
}()

// overview gathers the workspace's state.
func (h *Handler) overview(ctx context.Context, tenant string) (Overview, error) {
	o := Overview{BaseURL: h.opts.BaseURL}
	off, err := h.s.Sync.SyncDisabled(ctx, tenant)
	if err != nil {
		return o, err
	}
	o.SyncEnabled = !off
	if o.Tokens, err = h.s.Tokens.ListTokens(ctx, tenant); err != nil {
		return o, err
	}
	ds, err := h.s.Domains.ListDomains(ctx, tenant)
	if err != nil {
		return o, err
	}
	o.Domains = make([]DomainView, len(ds))
	for i, d := range ds {
		o.Domains[i] = DomainView{Domain: d, TXTName: TXTName(d.Name)}
	}
	if h.s.Log != nil {
		last, err := h.s.Log.ListLog(ctx, tenant, LogFilter{Limit: 1})
		if err != nil {
			return o, err
		}
		if len(last) > 0 {
			o.Connection.LastRequest = &last[0]
		}
		probe, err := h.s.Log.ListLog(ctx, tenant, LogFilter{ProbesOnly: true, Limit: 1})
		if err != nil {
			return o, err
		}
		if len(probe) > 0 {
			o.Connection.LastTestConnection = &probe[0]
		}
	}
	o.Counts = h.counts(ctx)
	if h.opts.OAuth != nil {
		cs, err := h.opts.OAuth.ListOAuthClients(ctx, tenant)
		if err != nil {
			return o, err
		}
		o.OAuth = &OAuthOverview{TokenURL: h.opts.OAuth.TokenURL(), Clients: nonNil(cs)}
	}
	return o, nil
}

// counts asks the SCIM store; a store that cannot count is logged and
// shown without counts, not a broken page.
func (h *Handler) counts(ctx context.Context) *Counts {
	if h.opts.Store == nil {
		return nil
	}
	var c Counts
	q := scim.Query{StartIndex: 1, Count: 0}
	users, err := h.opts.Store.ListUsers(ctx, q)
	if err == nil {
		c.Users = users.TotalResults
		q.Filter = activeFilter
		var active scim.Page[*scim.User]
		active, err = h.opts.Store.ListUsers(ctx, q)
		c.ActiveUsers = active.TotalResults
	}
	if gs, ok := h.opts.Store.(scim.GroupStore); ok && err == nil {
		var groups scim.Page[*scim.Group]
		groups, err = gs.ListGroups(ctx, scim.Query{StartIndex: 1, Count: 0})
		c.Groups = groups.TotalResults
	}
	if err != nil {
		h.log.ErrorContext(ctx, "admin: counting users and groups", "error", err)
		return nil
	}
	return &c
}

// logFilter reads the log's filters from a query string. Filters are not
// secret: they may be in a URL.
func logFilter(v url.Values) LogFilter {
	f := LogFilter{
		FailuresOnly: v.Get("failures") == "1" || v.Get("failures") == "true",
		Client:       v.Get("client"),
	}
	switch rt := v.Get("resource"); rt {
	case "User", "Group":
		f.ResourceType = rt
	}
	if b, err := time.Parse(time.RFC3339Nano, v.Get("before")); err == nil {
		f.Before = b
	}
	if n, err := strconv.Atoi(v.Get("limit")); err == nil {
		f.Limit = n
	}
	return f
}

// api wraps a JSON write: body limit and media type, which keeps a
// cross-site form from reaching it.
func (h *Handler) api(fn func(w http.ResponseWriter, r *http.Request) (any, int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodDelete {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "application/json" {
				writeJSON(w, http.StatusUnsupportedMediaType, apiError{"send application/json"})
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		v, status, err := fn(w, r)
		switch {
		case errors.Is(err, ErrInvalid):
			writeJSON(w, http.StatusBadRequest, apiError{adminText(err)})
		case errors.Is(err, scim.ErrConflict):
			writeJSON(w, http.StatusConflict, apiError{adminText(err)})
		case errors.Is(err, scim.ErrNotFound):
			writeJSON(w, http.StatusNotFound, apiError{adminText(err)})
		case err != nil:
			h.log.ErrorContext(r.Context(), "admin: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
			writeJSON(w, http.StatusInternalServerError, apiError{"internal server error"})
		case v == nil:
			w.WriteHeader(status)
		default:
			writeJSON(w, status, v)
		}
	}
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeBody reads a JSON body into v.
func decodeBody(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("admin: the body is not the JSON expected: %w", ErrInvalid)
	}
	return nil
}

func (h *Handler) apiSettings(w http.ResponseWriter, r *http.Request) {
	o, err := h.overview(r.Context(), tenantOf(r))
	if err != nil {
		h.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// CreatedToken is the answer to POST api/tokens: the token, once.
type CreatedToken struct {
	Token  string `json:"token"`
	Record Token  `json:"record"`
}

func (h *Handler) apiCreateToken(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		return nil, 0, err
	}
	secret, t, err := h.s.CreateToken(r.Context(), tenantOf(r), in.Name)
	if err != nil {
		return nil, 0, err
	}
	return CreatedToken{Token: secret, Record: t}, http.StatusCreated, nil
}

func (h *Handler) apiRevokeToken(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	return nil, http.StatusNoContent, h.s.RevokeToken(r.Context(), tenantOf(r), r.PathValue("id"))
}

func (h *Handler) apiSetSync(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeBody(r, &in); err != nil {
		return nil, 0, err
	}
	if in.Enabled == nil {
		return nil, 0, fmt.Errorf("admin: send {\"enabled\": true} or false: %w", ErrInvalid)
	}
	if err := h.s.Sync.SetSyncDisabled(r.Context(), tenantOf(r), !*in.Enabled); err != nil {
		return nil, 0, err
	}
	return map[string]bool{"enabled": *in.Enabled}, http.StatusOK, nil
}

func (h *Handler) apiAddDomain(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		return nil, 0, err
	}
	d, err := h.s.AddDomain(r.Context(), tenantOf(r), in.Name)
	if err != nil {
		return nil, 0, err
	}
	return DomainView{Domain: d, TXTName: TXTName(d.Name)}, http.StatusCreated, nil
}

func (h *Handler) apiVerifyDomain(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	d, err := h.s.VerifyDomain(r.Context(), tenantOf(r), r.PathValue("name"))
	if err != nil {
		return nil, 0, err
	}
	return DomainView{Domain: d, TXTName: TXTName(d.Name)}, http.StatusOK, nil
}

func (h *Handler) apiRemoveDomain(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	return nil, http.StatusNoContent, h.s.RemoveDomain(r.Context(), tenantOf(r), r.PathValue("name"))
}

func (h *Handler) apiLog(w http.ResponseWriter, r *http.Request) {
	if h.s.Log == nil {
		writeJSON(w, http.StatusOK, map[string]any{"entries": []scim.LogEntry{}})
		return
	}
	es, err := h.s.Log.ListLog(r.Context(), tenantOf(r), logFilter(r.URL.Query()))
	if err != nil {
		h.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}
