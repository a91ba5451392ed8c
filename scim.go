package scim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a [Handler]. The zero value is ready to use: every
// limit has a safe default and every hook is off.
type Options struct {
	// BaseURL is the absolute URL the handler is mounted at, such as
	// "https://app.example.com/scim/v2", without a trailing slash. It builds
	// meta.location, $ref values and the Location header. When empty, the
	// handler derives it from each request (scheme from TLS, the Host header,
	// and the prefix http.StripPrefix removed); set it when a proxy sits in
	// front of the server.
	BaseURL string

	// Strict turns off the client compatibility rules (see entra.go): string
	// booleans, manager given as a bare id, unquoted filter values and the
	// other leniencies are then rejected as RFC 7644 says.
	Strict bool

	// AllowDomain, when set, is asked about the domain of every email value
	// (and a userName that is an email address) that a create, replace or
	// PATCH introduces: values that are new or changed against the stored
	// user, checked on the final state after all of a PATCH's operations.
	// A nil error allows it. Any other error refuses the request with 400
	// invalidValue naming the domain and the attribute, unless the error is a
	// *Error, which is sent as it is. Domains are passed in lower case.
	AllowDomain func(ctx context.Context, domain string) error

	// UserPolicies and GroupPolicies are the host's own rules, run in order
	// on the final state of every write after AllowDomain; see [UserPolicy],
	// [RequireEmail] and [SeatLimit].
	UserPolicies  []UserPolicy
	GroupPolicies []GroupPolicy

	// OnChange, when set, is called after every successful write, once per
	// [Event], before the response is written; it is never called for a
	// refused or failed request, nor for a write that changed nothing. It
	// runs on the request's goroutine: hand slow work off.
	OnChange func(ctx context.Context, e Event)

	// Logger receives a line for every request (method, path, status,
	// duration, scimType) at Info level, and the causes of 500s at Error
	// level. When nil, request lines are not logged and the causes of 500s go
	// to slog.Default(). Query values, request bodies and Authorization
	// headers are never logged: they carry personal data and secrets.
	Logger *slog.Logger

	// Log, when set, receives a provisioning log entry ([LogEntry]) for
	// every request: what was asked, the status, scimType and detail
	// answered, the resource and the events caused, never a body, a query
	// value or a token. The queue hands entries to its sink off the
	// request's path, so a slow or failing sink never delays or fails a
	// request. When nil, the handler does no log work at all.
	Log *LogQueue

	// MaxBodyBytes caps a request body; a larger one is refused with 413.
	// Default 1 MiB.
	MaxBodyBytes int64
	// MaxFilterLength caps the length of a filter in bytes. Default 4096.
	MaxFilterLength int
	// MaxFilterDepth caps how deeply a filter nests. Default 32.
	MaxFilterDepth int
	// MaxResults caps the resources in one list response and is the page
	// size when a client does not send count; ServiceProviderConfig
	// advertises it as filter.maxResults. Default 1000.
	MaxResults int
	// MaxJSONDepth caps how deeply a request body nests. Real clients nest
	// three levels; the cap keeps a hostile body from costing deep
	// recursion. Default 32.
	MaxJSONDepth int
	// MaxValues caps the values of one multi-valued attribute in a request
	// (a group's members in a POST or PUT, a user's emails). Default 10000;
	// a host that replaces very large groups with PUT raises it together
	// with MaxBodyBytes.
	MaxValues int
	// MaxPatchOperations caps the operations in one PATCH request; more is
	// refused with 413, as RFC 7644 §3.7.4 refuses a Bulk request over its
	// maxOperations (ServiceProviderConfig's patch has no field to
	// advertise it). Entra ID sends one operation per changed attribute or
	// membership. Default 1000.
	MaxPatchOperations int
}

// The defaults of Options' limits.
const (
	DefaultMaxBodyBytes       = 1 << 20
	DefaultMaxFilterLength    = 4096
	DefaultMaxFilterDepth     = 32
	DefaultMaxResults         = 1000
	DefaultMaxJSONDepth       = 32
	DefaultMaxValues          = 10000
	DefaultMaxPatchOperations = 1000
)

// Handler serves the SCIM 2.0 protocol over a Store: /Users, /Groups,
// /ServiceProviderConfig, /Schemas, /ResourceTypes and POST /.search. It
// expects to see paths relative to the SCIM base URL ("/Users/123"); mount it
// with http.StripPrefix.
//
// A Handler is safe for concurrent use. Create it with [NewHandler].
type Handler struct {
	opts   Options
	log    *slog.Logger // never nil: opts.Logger or slog.Default()
	users  *resourceType[*User]
	groups *resourceType[*Group] // nil when the store has no groups
	mux    *http.ServeMux
	decode decodeOptions
	limits filterLimits
	// members is the store's MemberPatcher, nil when it has none.
	members MemberPatcher
	// updateLocks serialise read-modify-writes of one resource within this
	// process when the store has no atomic update; see updateLock.
	updateLocks [64]sync.Mutex
}

// updateLock returns the lock for resource id of type name in ctx's tenant.
// Resources share the 64 locks by hash: two that collide only take turns.
func (h *Handler) updateLock(ctx context.Context, name, id string) *sync.Mutex {
	f := fnv.New32a()
	t, _ := TenantFrom(ctx)
	for _, s := range [...]string{t.ID, name, id} {
		f.Write([]byte(s))
		f.Write([]byte{0})
	}
	return &h.updateLocks[f.Sum32()%uint32(len(h.updateLocks))]
}

// NewHandler returns a Handler serving store. When store also implements
// [GroupStore], groups are served; otherwise /Groups answers queries with an
// empty list (Entra ID probes it during Test connection) and writes with 501.
//
// It returns an error when an option is invalid: a negative limit, or a
// BaseURL that is not an absolute http(s) URL.
func NewHandler(store Store, opts Options) (*Handler, error) {
	if store == nil {
		return nil, errors.New("scim: NewHandler: store is nil")
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("scim: NewHandler: BaseURL %q is not an absolute http(s) URL without query", opts.BaseURL)
		}
		opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	}
	// Each limit: a negative value is a mistake, zero means the default.
	if opts.MaxBodyBytes < 0 {
		return nil, errors.New("scim: NewHandler: MaxBodyBytes is negative")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	for _, l := range []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxFilterLength", &opts.MaxFilterLength, DefaultMaxFilterLength},
		{"MaxFilterDepth", &opts.MaxFilterDepth, DefaultMaxFilterDepth},
		{"MaxResults", &opts.MaxResults, DefaultMaxResults},
		{"MaxJSONDepth", &opts.MaxJSONDepth, DefaultMaxJSONDepth},
		{"MaxValues", &opts.MaxValues, DefaultMaxValues},
		{"MaxPatchOperations", &opts.MaxPatchOperations, DefaultMaxPatchOperations},
	} {
		switch {
		case *l.v < 0:
			return nil, fmt.Errorf("scim: NewHandler: %s is negative", l.name)
		case *l.v == 0:
			*l.v = l.def
		}
	}
	h := &Handler{
		opts:   opts,
		log:    opts.Logger,
		decode: decodeOptions{strict: opts.Strict, maxDepth: opts.MaxJSONDepth, maxValues: opts.MaxValues},
		limits: filterLimits{maxLen: opts.MaxFilterLength, maxDepth: opts.MaxFilterDepth, strict: opts.Strict},
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.users = newUserType(h, store)
	if gs, ok := store.(GroupStore); ok {
		h.groups = newGroupType(h, gs)
		h.members, _ = store.(MemberPatcher)
	}
	h.mux = h.routes()
	return h, nil
}

func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	handleResource(mux, h.users)
	if h.groups != nil {
		handleResource(mux, h.groups)
	} else {
		mux.HandleFunc("GET /Groups", h.serveNoGroupsList)
		mux.HandleFunc("POST /Groups/.search", h.serveNoGroupsList)
		mux.HandleFunc("GET /Groups/{id}", h.serveNoGroupsGet)
		mux.HandleFunc("POST /Groups", h.serveNoGroupsWrite)
		for _, m := range []string{"PUT", "PATCH", "DELETE"} {
			mux.HandleFunc(m+" /Groups/{id}", h.serveNoGroupsWrite)
		}
	}
	mux.HandleFunc("GET /ServiceProviderConfig", h.serveServiceProviderConfig)
	mux.HandleFunc("GET /Schemas", h.serveSchemas)
	mux.HandleFunc("GET /Schemas/{id}", h.serveSchema)
	mux.HandleFunc("GET /ResourceTypes", h.serveResourceTypes)
	mux.HandleFunc("GET /ResourceTypes/{id}", h.serveResourceType)
	mux.HandleFunc("POST /.search", h.serveRootSearch)
	// Everything else falls through to SCIM's 404 or 405, so a request is
	// routed once.
	mux.HandleFunc("/", h.serveUnrouted)
	return mux
}

// ServeHTTP routes a SCIM request. Paths are cleaned first (a doubled or
// trailing slash, which a Tenant URL pasted with a trailing slash produces,
// still routes), and a path or method the protocol does not define gets a
// SCIM 404 or 405 rather than net/http's plain-text one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "scim: panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if !sw.wroteHeader {
				writeError(sw, r, nil, errorf(http.StatusInternalServerError, "", internalDetail))
			}
		}
		if h.opts.Logger != nil {
			h.logRequest(r, sw, time.Since(start))
		}
		if h.opts.Log != nil {
			h.logEntry(r, sw, start)
		}
	}()
	if p := cleanPath(r.URL.Path); p != r.URL.Path {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		r = r2
	}
	h.mux.ServeHTTP(sw, r)
}

// serveUnrouted answers a request no route matched: 405 with Allow when the
// path exists under other methods, else 404.
func (h *Handler) serveUnrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := *r
		probe.Method = m
		if _, pattern := h.mux.Handler(&probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.fail(w, r, errorf(http.StatusMethodNotAllowed, "", fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)))
		return
	}
	h.fail(w, r, errorf(http.StatusNotFound, "", fmt.Sprintf("no SCIM endpoint at %s", r.URL.Path)))
}

// cleanPath collapses repeated slashes and drops a trailing one.
func cleanPath(p string) string {
	if !strings.Contains(p, "//") && (len(p) <= 1 || p[len(p)-1] != '/') {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && b.Len() > 0 && strings.HasSuffix(b.String(), "/") {
			continue
		}
		b.WriteByte(p[i])
	}
	s := b.String()
	if len(s) > 1 {
		s = strings.TrimSuffix(s, "/")
	}
	if s == "" {
		s = "/"
	}
	return s
}

func (h *Handler) logRequest(r *http.Request, sw *statusWriter, d time.Duration) {
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", sw.status()),
		slog.Duration("duration", d),
	}
	if q := queryNames(r.URL.RawQuery); q != "" {
		attrs = append(attrs, slog.String("query", q))
	}
	if t, ok := tenantID(r.Context()); ok {
		attrs = append(attrs, slog.String("tenant", t))
	}
	if sw.scimType != "" {
		attrs = append(attrs, slog.String("scimType", string(sw.scimType)))
	}
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "scim request", attrs...)
}

// queryNames lists the names of the query parameters, without their values:
// a filter carries userNames and email addresses.
func queryNames(raw string) string {
	if raw == "" {
		return ""
	}
	var names []string
	for part := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil && n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// statusWriter remembers the status and scimType a handler wrote, for the
// request log and for panic recovery.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
	scimType    ErrorType
	// For the provisioning log (Options.Log): the error's detail, the id
	// of a created resource, the kinds of the events, a connection test.
	detail     string
	resourceID string
	events     []EventKind
	probe      bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// baseURL returns Options.BaseURL, or the one this request was sent to.
func (h *Handler) baseURL(r *http.Request) string {
	if h.opts.BaseURL != "" {
		return h.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// http.StripPrefix leaves RequestURI as the client sent it; what it
	// stripped is the mount prefix.
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		if p := cleanPath(u.Path); strings.HasSuffix(p, r.URL.Path) {
			prefix = strings.TrimSuffix(p, r.URL.Path)
		}
	}
	return scheme + "://" + r.Host + prefix
}

// readBody reads a request body within the size limit and checks its media
// type: SCIM's application/scim+json, or application/json, which Okta and
// many tools send. A request without Content-Type is read as JSON.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || mt == contentType || strings.HasSuffix(mt, "+json")) {
			return nil, errorf(http.StatusUnsupportedMediaType, "", fmt.Sprintf("Content-Type %q is not supported; send application/scim+json", ct))
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("request body is larger than the limit of %d bytes", h.opts.MaxBodyBytes))
		}
		return nil, &Error{Status: http.StatusBadRequest, Type: InvalidSyntax, Detail: "could not read the request body", Err: err}
	}
	return body, nil
}

// bufPool recycles response buffers: encoding a resource then costs no
// allocation once the pool is warm.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// writeJSON writes a JSON body built by build into a pooled buffer.
func writeJSON(w http.ResponseWriter, status int, build func([]byte) []byte) {
	bp := bufPool.Get().(*[]byte)
	b := build((*bp)[:0])
	hd := w.Header()
	hd["Content-Type"] = contentTypeHeader
	hd["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if cap(b) <= 1<<20 { // do not let one huge group pin memory
		*bp = b
		bufPool.Put(bp)
	}
}

var contentTypeHeader = []string{contentType}

// fail writes err as a SCIM error and records its scimType for the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if sw, ok := w.(*statusWriter); ok {
		e := toError(err)
		sw.scimType, sw.detail = e.Type, e.Detail
	}
	writeError(w, r, h.log, err)
}

// tenantID returns the tenant BearerAuth put in ctx, for the request log.
func tenantID(ctx context.Context) (string, bool) {
	t, ok := TenantFrom(ctx)
	return t.ID, ok
}
