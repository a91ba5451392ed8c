package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimhost/scim/transcript"
)

// userAgent is sent with every request that does not reproduce a client's.
const userAgent = "scimcheck (github.com/scimhost/scim/cmd/scimcheck)"

// session is one run: the server, the credential, the names it generates
// and the resources it created. Its methods are safe for concurrent use
// (the concurrency suite sends requests in parallel).
type session struct {
	cfg    Config
	base   *url.URL
	client *http.Client
	limit  time.Duration
	prefix string
	domain string
	token  string
	grant  grant // the token endpoint's answer, with TokenURL

	mu       sync.Mutex
	seq      int // names generated so far
	requests int
	slowest  struct {
		method, target string
		d              time.Duration
	}
	created []created
}

// created is a resource the run created, to delete at the end.
type created struct {
	collection string // "Users" or "Groups"
	id         string
	gone       bool // a check deleted it
}

func newSession(cfg Config) (*session, error) {
	base, err := baseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	s := &session{cfg: cfg, base: base, client: cfg.Client, limit: cfg.Limit, prefix: cfg.Prefix,
		domain: cfg.Domain, token: cfg.Token}
	if s.client == nil {
		// Redirects are answers to judge, not to follow: a POST
		// redirected would arrive as a GET.
		s.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if s.limit <= 0 {
		s.limit = DefaultLimit
	}
	if s.prefix == "" {
		s.prefix = newPrefix()
	}
	if s.domain == "" {
		s.domain = "example.com"
	}
	switch cfg.ClientAuth {
	case "", "post", "basic":
	default:
		return nil, fmt.Errorf("client authentication %q: use \"post\" or \"basic\"", cfg.ClientAuth)
	}
	if cfg.TokenURL != "" && (cfg.ClientID == "" || cfg.ClientSecret == "") {
		return nil, errors.New("a token URL needs a client id and a client secret")
	}
	return s, nil
}

// name returns a new name: the prefix, kind and a number.
func (s *session) name(kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s-%s%d", s.prefix, kind, s.seq)
}

// track records a resource the run created.
func (s *session) track(collection, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, created{collection: collection, id: id})
}

// forget marks a tracked resource as deleted by a check.
func (s *session) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.created {
		if s.created[i].id == id {
			s.created[i].gone = true
		}
	}
}

// count adds one request of duration d to the totals.
func (s *session) count(method, target string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if d > s.slowest.d {
		s.slowest.method, s.slowest.target, s.slowest.d = method, target, d
	}
}

// cleanup deletes what the run created, groups first, and says what it did.
// A user the server cannot delete (405 or 501, as a server for Okta, which
// never deletes users, may answer) is deactivated instead.
func (s *session) cleanup(ctx context.Context) string {
	s.mu.Lock()
	var todo []created
	for _, c := range s.created {
		if !c.gone {
			todo = append(todo, c)
		}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return "nothing to clean up: every resource the checks created is already deleted"
	}
	slices.SortStableFunc(todo, func(a, b created) int { return strings.Compare(a.collection, b.collection) }) // Groups before Users
	if s.cfg.Keep {
		users, groups := 0, 0
		for _, c := range todo {
			if c.collection == "Users" {
				users++
			} else {
				groups++
			}
		}
		return fmt.Sprintf("kept %d users and %d groups, whose names start with %s (-keep)", users, groups, s.prefix)
	}
	t := &T{s: s, ctx: ctx, c: check{suite: "cleanup", name: "cleanup"}}
	deleted := map[string]int{}
	deactivated := 0
	var problems []string
	for _, c := range todo {
		r, err := t.do("DELETE", "/"+c.collection+"/"+url.PathEscape(c.id), nil)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("DELETE /%s/%s: %v", c.collection, c.id, err))
		case r.Status == http.StatusNoContent || r.Status == http.StatusOK || r.Status == http.StatusNotFound:
			deleted[c.collection]++
		case c.collection == "Users" && (r.Status == http.StatusMethodNotAllowed || r.Status == http.StatusNotImplemented):
			p, err := t.do("PATCH", "/Users/"+url.PathEscape(c.id), patchOp(op("replace", "active", false)))
			if err == nil && (p.Status == http.StatusOK || p.Status == http.StatusNoContent) {
				deactivated++
			} else {
				problems = append(problems, fmt.Sprintf("user %s: DELETE answered %d and deactivating it failed", c.id, r.Status))
			}
		default:
			problems = append(problems, fmt.Sprintf("DELETE /%s/%s answered %d", c.collection, c.id, r.Status))
		}
	}
	msg := fmt.Sprintf("deleted the %d users and %d groups the checks created", deleted["Users"], deleted["Groups"])
	if deactivated > 0 {
		msg += fmt.Sprintf("; deactivated %d users the server would not delete", deactivated)
	}
	if len(problems) > 0 {
		msg += fmt.Sprintf("; %d left behind, named %s-*: %s", len(problems), s.prefix, strings.Join(problems, "; "))
	}
	return msg
}

// T is what a check sends its requests through, as a test's *testing.T
// is: it remembers the check's exchanges, for the report of a failure. It
// is safe for concurrent use by the goroutines of one check (the
// concurrency suite's); a T belongs to one check of one run.
type T struct {
	s   *session
	ctx context.Context
	c   check
	// token overrides the session's token when not empty.
	token string
	// secret marks the T of the token request: its exchanges are shown
	// with the client secret and the tokens redacted.
	secret bool

	mu        sync.Mutex
	requests  int
	slowest   time.Duration
	exchanges []*Response
	notes     []string
}

// Response is one exchange: the request sent and the answer. Its JSON
// methods cache the parsed body, so a Response is not safe for concurrent
// use.
type Response struct {
	Method, Target string // Target as sent: path and query
	ReqHeader      http.Header
	ReqBody        string
	Status         int
	Header         http.Header
	Body           []byte
	Duration       time.Duration

	// secret marks an exchange with the token endpoint, whose client
	// secret and tokens are never shown.
	secret bool

	parsed bool
	value  any
}

// header is a request header a check adds.
type header struct{ key, value string }

// note adds a remark to a passing check's result.
func (t *T) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// do sends a request to the SCIM server: path is relative to the base URL
// ("/Users?filter=..."); body is nil, a string of raw JSON, or a value to
// encode as JSON. An error means there is no answer to judge: a transport
// error, a request slower than the limit (both failures of the check), or
// the run's context being cancelled.
func (t *T) do(method, path string, body any, headers ...header) (*Response, error) {
	target, err := t.s.target(path)
	if err != nil {
		return nil, err
	}
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		if raw, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("scimcheck bug: encoding the request body: %w", err)
		}
	}
	if raw != nil {
		headers = append([]header{{"Content-Type", "application/scim+json"}}, headers...)
	}
	return t.send(method, target, string(raw), headers...)
}

// send sends a request with body (none when empty) to target: the session's
// bearer token, Accept: application/scim+json and scimcheck's User-Agent,
// then headers (an empty value removes a header; an empty User-Agent sends
// none). A 429 is retried after its Retry-After, as Entra ID retries
// throttled requests, up to maxThrottled times; the check's result notes
// it.
func (t *T) send(method string, target *url.URL, body string, headers ...header) (*Response, error) {
	for attempt := 0; ; attempt++ {
		r, err := t.sendOnce(method, target, body, headers...)
		if err != nil || r.Status != http.StatusTooManyRequests || attempt == maxThrottled {
			return r, err
		}
		wait := retryAfter(r.Header.Get("Retry-After"))
		t.note("%s %s answered 429 and was retried after %s.", method, shortTarget(r.Target), wait)
		select {
		case <-time.After(wait):
		case <-t.ctx.Done():
			return nil, t.ctx.Err()
		}
	}
}

// maxThrottled is how many times a request answered 429 is retried.
const maxThrottled = 3

// retryAfter reads a Retry-After header's delay in seconds (RFC 9110
// §10.2.3), capped at 10 seconds; one second when it is absent or a date.
func retryAfter(v string) time.Duration {
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil || n < 0 {
		return time.Second
	}
	return min(time.Duration(n)*time.Second, 10*time.Second)
}

// sendOnce is one attempt of send.
func (t *T) sendOnce(method string, target *url.URL, body string, headers ...header) (*Response, error) {
	// A request runs to its end, or to the limit, even when the run is
	// interrupted: what it creates must be seen to be deleted.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), t.s.limit)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("scimcheck bug: %w", err)
	}
	token := t.token
	if token == "" {
		token = t.s.token
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/scim+json")
	req.Header.Set("User-Agent", userAgent)
	for _, h := range headers {
		if h.value == "" && h.key != "User-Agent" {
			req.Header.Del(h.key)
			continue
		}
		req.Header.Set(h.key, h.value) // an empty User-Agent sends none
	}
	r := &Response{Method: method, Target: target.RequestURI(), ReqHeader: req.Header.Clone(), ReqBody: body, secret: t.secret}
	start := time.Now()
	resp, err := t.s.client.Do(req)
	if err == nil {
		r.Body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		r.Status, r.Header = resp.StatusCode, resp.Header
	}
	r.Duration = time.Since(start)
	t.record(r)
	if method == "POST" && r.Status == http.StatusCreated {
		// Tracked here, before a cancellation is looked at, so that an
		// interrupted run deletes what its last request created.
		if coll := createdIn(target.Path); coll != "" {
			if id := str(r.JSON(), "id"); id != "" {
				t.s.track(coll, id)
			}
		}
	}
	if t.ctx.Err() != nil {
		return nil, t.ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) || r.Duration > t.s.limit {
		return nil, failf(on(r), "%s %s took longer than %s: Entra ID gives up on a request after 60 seconds and retries it, so a create that times out comes back as a conflict; answer faster, and queue slow work", method, r.Target, t.s.limit)
	}
	if err != nil {
		return nil, failf(on(r), "%s %s: no answer: %v", method, r.Target, err)
	}
	return r, nil
}

// target is the URL of path under the base URL, with the base URL's query
// parameters and then path's.
func (s *session) target(path string) (*url.URL, error) {
	p, q, _ := strings.Cut(path, "?")
	u := *s.base
	u.Path = s.base.Path + p
	switch {
	case s.base.RawQuery == "":
		u.RawQuery = q
	case q == "":
		u.RawQuery = s.base.RawQuery
	default:
		u.RawQuery = s.base.RawQuery + "&" + q
	}
	return &u, nil
}

// createdIn returns the collection a POST to path creates in, "Users" or
// "Groups", or "" for any other path.
func createdIn(path string) string {
	for _, c := range []string{"Users", "Groups"} {
		if strings.HasSuffix(path, "/"+c) {
			return c
		}
	}
	return ""
}

// record counts r and writes it to the exchange log.
func (t *T) record(r *Response) {
	t.s.count(r.Method, r.Target, r.Duration)
	t.mu.Lock()
	t.requests++
	t.slowest = max(t.slowest, r.Duration)
	t.exchanges = append(t.exchanges, r)
	t.mu.Unlock()
	if w := t.s.cfg.Exchanges; w != nil {
		t.s.mu.Lock()
		fmt.Fprintln(w, r.transcript(t.c.suite+"/"+t.c.name))
		t.s.mu.Unlock()
	}
}

// evidence returns the exchanges of a failure in the transcript format:
// shown, or the check's last exchange.
func (t *T) evidence(shown []*Response) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(shown) == 0 && len(t.exchanges) > 0 {
		shown = t.exchanges[len(t.exchanges)-1:]
	}
	var out []string
	for _, r := range shown {
		if r != nil {
			out = append(out, r.transcript(""))
		}
	}
	return out
}

// maxShown caps the body of an exchange in a report.
const maxShown = 4000

// transcript writes r in the transcript format, under title when not
// empty, with the time it took and the Content-Type as a comment.
func (r *Response) transcript(title string) string {
	req := &http.Request{Method: r.Method, URL: &url.URL{Opaque: r.Target}, Header: r.ReqHeader}
	var resp *http.Response
	if r.Header != nil {
		resp = &http.Response{StatusCode: r.Status, Header: r.Header}
	}
	reqBody, respBody := r.ReqBody, r.Body
	if r.secret {
		reqBody, respBody = redactForm(reqBody), redactJSON(respBody)
	}
	ex := transcript.Capture(req, []byte(reqBody), resp, respBody)
	ex.Title = title
	comment := fmt.Sprintf("# %s", round(r.Duration))
	if r.Header == nil {
		comment += ", no answer"
	} else if ct := r.Header.Get("Content-Type"); ct != "" {
		comment += ", Content-Type: " + ct
	}
	ex.Comments = []string{comment}
	if len(ex.RespBody) > maxShown {
		ex.RespBody = ex.RespBody[:maxShown] + "\n... (" + fmt.Sprint(len(ex.RespBody)-maxShown) + " more bytes)"
	}
	if len(ex.Body) > maxShown {
		ex.Body = ex.Body[:maxShown] + "\n... (" + fmt.Sprint(len(ex.Body)-maxShown) + " more bytes)"
	}
	s := ex.String()
	if title == "" {
		s = strings.TrimPrefix(s, "### \n")
	}
	return strings.TrimRight(s, "\n")
}

// redacted replaces a secret in what scimcheck shows.
const redacted = "(redacted)"

// redactForm returns a form body with its client_secret and
// client_assertion redacted.
func redactForm(body string) string {
	form, err := url.ParseQuery(body)
	if err != nil {
		return redacted
	}
	for _, k := range []string{"client_secret", "client_assertion"} {
		if form.Has(k) {
			form.Set(k, redacted)
		}
	}
	return form.Encode()
}

// redactJSON returns a token response with its tokens redacted.
func redactJSON(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if _, ok := m[k]; ok {
			m[k] = redacted
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// JSON returns the body parsed as JSON (nil when it is not JSON).
func (r *Response) JSON() any {
	if !r.parsed {
		r.parsed = true
		d := json.NewDecoder(bytes.NewReader(r.Body))
		d.UseNumber()
		if d.Decode(&r.value) != nil {
			r.value = nil
		}
	}
	return r.value
}

// Object returns the body as a JSON object, or nil.
func (r *Response) Object() map[string]any {
	m, _ := r.JSON().(map[string]any)
	return m
}

// problem describes a SCIM error body in a few words, for messages:
// ` (scimType invalidFilter: "detail")`, or "" when r has none.
func (r *Response) problem() string {
	m := r.Object()
	if m == nil {
		return ""
	}
	st, _ := get(m, "scimType").(string)
	detail, _ := get(m, "detail").(string)
	switch {
	case st != "" && detail != "":
		return fmt.Sprintf(" (scimType %s: %q)", st, detail)
	case st != "":
		return " (scimType " + st + ")"
	case detail != "":
		return fmt.Sprintf(" (%q)", detail)
	}
	return ""
}

// expect returns nil when r's status is one of codes, else a failure that
// says what the server answered, what the client expects, and why.
func expect(r *Response, why string, codes ...int) error {
	if slices.Contains(codes, r.Status) {
		return nil
	}
	want := make([]string, len(codes))
	for i, c := range codes {
		want[i] = fmt.Sprint(c)
	}
	return failf(on(r), "%s %s answered %d%s, want %s: %s", r.Method, shortTarget(r.Target), r.Status, r.problem(), strings.Join(want, " or "), why)
}

// shortTarget drops the base path from a target, for messages:
// "/scim/v2/Users?x" → "/Users?x".
func shortTarget(target string) string {
	for _, c := range []string{"/Users", "/Groups", "/Schemas", "/ServiceProviderConfig", "/ResourceTypes", "/.search"} {
		if i := strings.Index(target, c); i >= 0 {
			return target[i:]
		}
	}
	return target
}

// get walks a decoded JSON value by member names, matched
// case-insensitively as SCIM attribute names are (RFC 7643 §2.1), with an
// exact match preferred; an integer string indexes an array. It returns nil
// for anything missing.
func get(v any, path ...string) any {
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			if e, ok := x[k]; ok {
				v = e
				continue
			}
			v = nil
			for mk, e := range x {
				if strings.EqualFold(mk, k) {
					v = e
					break
				}
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// str returns get(v, path...) when it is a string, else "".
func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

// list returns get(v, path...) when it is an array, else nil.
func list(v any, path ...string) []any {
	a, _ := get(v, path...).([]any)
	return a
}

// show writes a JSON value for a message, compactly.
func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
