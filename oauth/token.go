package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimhost/scim"
)

// The error codes of RFC 6749 §5.2 this endpoint answers with.
const (
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errUnsupportedGrantType = "unsupported_grant_type"
	errInvalidScope         = "invalid_scope"
	errServerError          = "server_error"
)

// maxFormBytes caps a token request's body. Entra ID's, with an assertion,
// is about 2 KB.
const maxFormBytes = 64 << 10

// tokenError is a refusal: the RFC 6749 §5.2 error the client reads, and
// the reason the log reads. The description is ours, never a library's or
// a store's text.
type tokenError struct {
	status int
	code   string
	desc   string
	// reason is for the log: why, in more detail than the client gets.
	reason string
	// retryAfter, when not zero, is sent as Retry-After.
	retryAfter time.Duration
	// err is an internal error behind a server_error, logged only.
	err error
}

func refuse(code, desc string) *tokenError {
	status := http.StatusBadRequest
	if code == errInvalidClient {
		status = http.StatusUnauthorized
	}
	return &tokenError{status: status, code: code, desc: desc, reason: desc}
}

// because returns a copy of e whose log reason is reason.
func (e *tokenError) because(reason string) *tokenError {
	c := *e
	c.reason = reason
	return &c
}

// authMethod is how a token request authenticated the client.
type authMethod uint8

const (
	authNone authMethod = iota
	authBasic
	authPost
	authAssertion
)

func (m authMethod) String() string {
	switch m {
	case authBasic:
		return "client_secret_basic"
	case authPost:
		return "client_secret_post"
	case authAssertion:
		return "private_key_jwt"
	}
	return "none"
}

// tokenRequest is a token request as parsed, before any credential is
// checked.
type tokenRequest struct {
	clientID  string
	secret    string
	assertion string
	method    authMethod
	scope     string
}

// parseTokenRequest reads a token request (RFC 6749 §4.4.2): a POST whose
// body is an application/x-www-form-urlencoded form, the client
// authenticated by exactly one of HTTP Basic, client_secret in the form, or
// a client assertion. It checks syntax only; the grant type is checked here
// too, since it needs no credential.
func parseTokenRequest(r *http.Request) (tokenRequest, *tokenError) {
	var req tokenRequest
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return req, refuse(errInvalidRequest, "the body must be application/x-www-form-urlencoded")
		}
	} else {
		return req, refuse(errInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
	if err != nil {
		return req, refuse(errInvalidRequest, "the body could not be read")
	}
	if len(body) > maxFormBytes {
		return req, refuse(errInvalidRequest, "the body is larger than "+strconv.Itoa(maxFormBytes)+" bytes")
	}
	form, perr := parseForm(string(body))
	if perr != nil {
		return req, perr
	}
	return formRequest(form, r.Header.Values("Authorization"))
}

// parseForm parses a form body, refusing what RFC 6749 §3.2 forbids: a
// parameter sent twice.
func parseForm(body string) (url.Values, *tokenError) {
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, refuse(errInvalidRequest, "the form does not parse")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, refuse(errInvalidRequest, "the parameter '"+printable(k, 64)+"' is sent more than once")
		}
	}
	return form, nil
}

// formRequest interprets a parsed form and the request's Authorization
// headers.
func formRequest(form url.Values, authorization []string) (tokenRequest, *tokenError) {
	// The client id first, so that every refusal's log line names it.
	req := tokenRequest{clientID: form.Get("client_id")}
	switch gt := form.Get("grant_type"); gt {
	case "":
		return req, refuse(errInvalidRequest, "grant_type is missing")
	case "client_credentials":
	default:
		return req, refuse(errUnsupportedGrantType, "only grant_type=client_credentials is supported").
			because("grant_type " + strconv.QuoteToASCII(truncate(gt, 64)))
	}
	req.scope = form.Get("scope")
	secret, hasSecret := form["client_secret"]
	assertion, hasAssertion := form["client_assertion"]
	assertionType, hasType := form["client_assertion_type"]
	methods := 0
	if len(authorization) > 1 {
		return req, refuse(errInvalidRequest, "more than one Authorization header")
	}
	if len(authorization) == 1 {
		id, sec, ok := basicAuth(authorization[0])
		if !ok {
			return req, refuse(errInvalidClient, "the Authorization header is not HTTP Basic with a client id and secret")
		}
		if req.clientID != "" && req.clientID != id {
			return req, refuse(errInvalidRequest, "client_id differs from the client of the Authorization header")
		}
		req.clientID, req.secret, req.method = id, sec, authBasic
		methods++
	}
	if hasSecret {
		req.secret, req.method = secret[0], authPost
		methods++
	}
	if hasAssertion || hasType {
		if !hasType || assertionType[0] != AssertionType {
			return req, refuse(errInvalidRequest, "client_assertion_type must be "+AssertionType)
		}
		if !hasAssertion || assertion[0] == "" {
			return req, refuse(errInvalidRequest, "client_assertion is missing")
		}
		req.assertion, req.method = assertion[0], authAssertion
		methods++
	}
	switch {
	case methods > 1:
		return req, refuse(errInvalidRequest, "the client authenticated in more than one way")
	case methods == 0:
		return req, refuse(errInvalidClient, "no client authentication: send a client secret or a client assertion")
	case req.clientID == "":
		return req, refuse(errInvalidRequest, "client_id is missing")
	case !validClientID(req.clientID):
		return req, refuse(errInvalidClient, "client authentication failed").because("malformed client_id")
	case req.method != authAssertion && req.secret == "":
		return req, refuse(errInvalidClient, "client authentication failed").because("empty secret")
	}
	return req, nil
}

// basicAuth parses "Basic base64(id:secret)", where id and secret are
// form-encoded first (RFC 6749 §2.3.1).
func basicAuth(h string) (id, secret string, ok bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	encID, encSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(encID); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(encSecret); err != nil {
		return "", "", false
	}
	return id, secret, id != ""
}

// checkScope refuses a requested scope with a value not allowed. An empty
// scope is the default, "scim".
func (s *Server) checkScope(scope string) *tokenError {
	for _, v := range strings.Fields(scope) {
		if !s.scopes[v] {
			return refuse(errInvalidScope, "the scope '"+printable(v, 64)+"' is not offered: ask for scope=scim")
		}
	}
	return nil
}

// ServeHTTP is the token endpoint (RFC 6749 §3.2): mount it at the URL the
// admin copies into Entra ID's "Token URL", for example
//
//	mux.Handle("POST /oauth2/token", srv)
//
// It answers a client credentials request (RFC 6749 §4.4) whose client
// authenticates with a secret (client_secret_basic or client_secret_post)
// or an assertion (RFC 7523 §2.2) with
//
//	{"access_token":"...","token_type":"Bearer","expires_in":3600,"scope":"scim"}
//
// and refuses any other with an RFC 6749 §5.2 error body: invalid_request
// (a malformed request: not a form, a parameter twice, two ways of
// authenticating), unsupported_grant_type, invalid_scope, and invalid_client
// (401 with WWW-Authenticate: Basic) for every failed client
// authentication: an unknown client, a wrong, expired or revoked secret, a
// disabled client, an assertion that fails any check. RFC 7523 §3.2 has
// assertions used for client authentication refused with invalid_client,
// so invalid_grant, which concerns authorization grants, is not used. Past
// Options.MaxFailures failures a client's requests are answered 429 with
// Retry-After. Every refusal is logged with the client id and the reason;
// secrets and assertions never are.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, r, tokenRequest{}, &tokenError{status: http.StatusMethodNotAllowed, code: errInvalidRequest,
			desc: "the token endpoint takes POST", reason: "method " + r.Method})
		return
	}
	req, e := parseTokenRequest(r)
	if e == nil {
		var tok string
		var exp time.Duration
		tok, exp, e = s.token(r.Context(), req)
		if e == nil {
			s.log.InfoContext(r.Context(), "oauth token issued", "client_id", req.clientID, "method", req.method.String())
			writeToken(w, tok, exp)
			return
		}
	}
	s.writeError(w, r, req, e)
}

// token authenticates the client of req and issues its access token.
func (s *Server) token(ctx context.Context, req tokenRequest) (string, time.Duration, *tokenError) {
	if e := s.checkScope(req.scope); e != nil {
		return "", 0, e
	}
	now := s.now()
	failed := refuse(errInvalidClient, "client authentication failed")
	c, err := s.storage.Client(ctx, req.clientID)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", 0, failed.because("unknown client")
	case err != nil:
		return "", 0, &tokenError{status: 500, code: errServerError, desc: "the token could not be issued", reason: "storage", err: err}
	}
	// Only clients that exist are counted, so an attacker cannot fill the
	// table with made-up ids.
	if wait := s.fails.blocked(c.ID, now, s.opts.MaxFailures, s.opts.FailureWindow); wait > 0 {
		return "", 0, &tokenError{status: http.StatusTooManyRequests, code: errInvalidClient,
			desc: "too many failed attempts for this client; retry later", reason: "too many failures", retryAfter: wait}
	}
	sid, e := s.authenticate(ctx, c, req, now)
	if e != nil {
		if e.code == errInvalidClient {
			s.fails.fail(c.ID, now, s.opts.FailureWindow)
		}
		return "", 0, e
	}
	tok, err := s.issue(c, sid, now)
	if err != nil {
		return "", 0, &tokenError{status: 500, code: errServerError, desc: "the token could not be issued", reason: "signing", err: err}
	}
	return tok, s.opts.TokenLifetime, nil
}

// authenticate checks the client's credential in req. On success it
// returns the id of the secret used ("" for an assertion).
func (s *Server) authenticate(ctx context.Context, c Client, req tokenRequest, now time.Time) (string, *tokenError) {
	if c.Disabled {
		return "", refuse(errInvalidClient, "the client is disabled")
	}
	if c.Tenant == "" {
		// A token for no tenant would be refused by Lookup anyway; this
		// is the host's mistake, said where it can be found.
		return "", &tokenError{status: 500, code: errServerError, desc: "the token could not be issued", reason: "client without tenant",
			err: errors.New("oauth: the stored client has no tenant")}
	}
	if req.method == authAssertion {
		if c.Federation == nil {
			return "", refuse(errInvalidClient, "the client is not configured for client assertions")
		}
		return "", s.checkAssertion(ctx, req.assertion, *c.Federation, now)
	}
	secrets, err := s.storage.Secrets(ctx, c.ID)
	if err != nil {
		return "", &tokenError{status: 500, code: errServerError, desc: "the token could not be issued", reason: "storage", err: err}
	}
	// Every stored hash is compared, in constant time, so that neither
	// how far a comparison got nor which secret matched shows in the time.
	h := scim.HashToken(req.secret)
	match := -1
	for i := range secrets {
		if subtle.ConstantTimeCompare(h[:], secrets[i].Hash[:]) == 1 {
			match = i
		}
	}
	switch {
	case match < 0:
		return "", refuse(errInvalidClient, "client authentication failed").because("wrong secret")
	case !secrets[match].Revoked.IsZero():
		return "", refuse(errInvalidClient, "the client secret is revoked").because("revoked secret " + secrets[match].ID)
	case !now.Before(secrets[match].Expires):
		return "", refuse(errInvalidClient, "the client secret has expired: ask the app's admin for a new one").because("expired secret " + secrets[match].ID)
	}
	return secrets[match].ID, nil
}

// writeToken writes the successful response of RFC 6749 §5.1.
func writeToken(w http.ResponseWriter, token string, exp time.Duration) {
	b := []byte(`{"access_token":`)
	b, _ = appendJSON(b, token)
	b = append(b, `,"token_type":"Bearer","expires_in":`...)
	b = strconv.AppendInt(b, int64(exp/time.Second), 10)
	b = append(b, `,"scope":"`+Scope+`"}`...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	_, _ = w.Write(b)
}

// writeError logs a refusal and writes its RFC 6749 §5.2 body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, req tokenRequest, e *tokenError) {
	attrs := []any{"client_id", truncate(req.clientID, 255), "method", req.method.String(), "error", e.code, "reason", e.reason}
	if e.err != nil {
		s.log.ErrorContext(r.Context(), "oauth token request failed", append(attrs, "err", e.err)...)
	} else {
		s.log.WarnContext(r.Context(), "oauth token refused", attrs...)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="oauth"`)
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(e.status)
	b := []byte(`{"error":"` + e.code + `","error_description":`)
	b, _ = appendJSON(b, e.desc)
	_, _ = w.Write(append(b, '}'))
}

func appendJSON(b []byte, s string) ([]byte, error) {
	v, err := json.Marshal(s)
	return append(b, v...), err
}

// printable returns s cut to n bytes with every byte that RFC 6749 §5.2
// does not allow in error_description (outside %x20-7E, '"' and '\\')
// replaced by '?'.
func printable(s string, n int) string {
	b := []byte(truncate(s, n))
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return string(b)
}

// truncate shortens s to at most n bytes for a log line or a description.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
