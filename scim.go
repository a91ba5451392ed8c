package scim

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimhost/scim/internal/methodset"
)

// Options configures a [Handler]. The zero value is ready to use: every
// limit has a safe default and every hook is off.
type Options struct {
	// BaseURL is the absolute URL the handler is mounted at, such as
	// "https://app.example.com/scim/v2", without a trailing slash. It builds
	// meta.location, $ref values and the Location header. When empty, the
	// handler derives it from each request (scheme from TLS, the Host header,
	// and the path up to the SCIM endpoint: Prefix, or what
	// http.StripPrefix removed); set it when a proxy sits in front of the
	// server.
	BaseURL string

	// Prefix is the path the handler is mounted at on this server, such
	// as "/scim/v2", for a host that routes the requests under it to the
	// handler as they came, without http.StripPrefix:
	//
	//	h, err := scim.NewHandler(store, scim.Options{Prefix: "/scim/v2", ...})
	//	mux.Handle("/scim/v2/", scim.BearerAuth(tokens.Lookup)(h))
	//
	// The handler then looks past the prefix itself, where http.StripPrefix
	// would copy every request (a new http.Request and URL) to remove it; a
	// path outside the prefix gets a SCIM 404. This is the recommended
	// mount: with BearerAuth in front (see [BearerAuth]) a request reaches
	// the Store without a copy of it, unless its path needs cleaning.
	// When Prefix is empty, the handler expects paths relative to the SCIM
	// base URL ("/Users/123"), as http.StripPrefix leaves them.
	//
	// Prefix is the path on this server; BaseURL's path, the one clients
	// see, may differ behind a proxy. Its segments are letters, digits and
	// "-._~", none "." or ".."; a trailing slash is dropped. The request
	// log, SCIM error details and [LogEntry.Path] name paths below the
	// prefix either way ("/Users/123").
	Prefix string

	// Strict turns off the client compatibility rules (see entra.go): string
	// booleans, manager given as a bare id, unquoted filter values and the
	// other leniencies are then rejected as RFC 7644 says.
	Strict bool

	// AllowDomain, when set, is asked about the domain of every email value
	// (and a userName that is an email address) that a create, replace or
	// PATCH introduces: values that are new or changed against the stored
	// user, checked on the final state after all of a PATCH's operations.
	// A nil error allows it; [ErrDomainNotAllowed] (or an error wrapping
	// it) refuses the request with 400 invalidValue naming the domain and
	// the attribute; a *Error is sent as it is. Any other error means the
	// hook could not decide: 503 with a generic detail, the cause logged,
	// never "not verified". Domains are passed in lower case.
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

	// RequireGroups makes NewHandler fail when the store does not implement
	// [GroupStore], naming the missing methods or wrong signatures, instead
	// of serving users only. A host that provisions groups sets it: without
	// it a slip in one GroupStore method turns groups off, and Entra ID's
	// Test connection still passes.
	RequireGroups bool
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
	// MaxPatchCost caps the work of a PATCH applied as a read-modify-write
	// (every PATCH but a membership change through a [MemberPatcher]): each
	// operation costs 1 plus the values the resource holds in the attribute
	// it targets (all of them for an operation without path) plus those the
	// earlier operations may have added there, since applying it scans them.
	// A costlier PATCH is refused with 413 after the resource is read and
	// before any operation is applied. Default 1,000,000, about a tenth of a
	// second of work: Entra ID's PATCHes cost tens, while 1,000 value-path
	// operations on a user with 10,000 emails cost ten million.
	MaxPatchCost int
	// MaxFilterCost caps the estimated cost of a filter, checked when it is
	// parsed, before any store sees it, so that the bound is the same for
	// every store: a comparison costs 1, a substring comparison (co, sw, ew)
	// 2, a value path 1 plus its filter. A costlier filter is refused with
	// 400 invalidFilter naming the limit. The filters Entra ID, Okta and
	// the other clients send cost 1 to 3. Default 20: memstore evaluates
	// the costliest filter within it on 100,000 users well within a second
	// (BenchmarkHostileFilter), and a host's store, bound by the same
	// estimate, can size its scans by it. What a scan costs beyond that
	// depends on the values a store holds (a user's emails), which no
	// estimate from the filter can see.
	MaxFilterCost int
	// MaxResponseBytes caps the body of a response to a read: a list page
	// holds fewer resources than asked when the next one would pass it, and
	// says so in itemsPerPage, as RFC 7644 §3.4.2.4 allows; the client's
	// next startIndex then continues after them. A single resource larger
	// than the budget (a group of hundreds of thousands of members with
	// their $ref) is refused with 400 tooMany and a detail suggesting
	// excludedAttributes, never sent truncated. Writes answer the resource
	// they stored whatever its size: an error there would hide a write that
	// happened. Default 16 MiB.
	MaxResponseBytes int
	// BodyReadTimeout bounds the time to read a request body, from the
	// moment the handler starts reading it: a body dribbled a byte at a time
	// is cut off with 408 and the connection closed, instead of holding a
	// connection and a goroutine for as long as the client likes. It is set
	// with http.ResponseController, so it needs a ResponseWriter that
	// supports read deadlines (net/http's does, through middleware whose
	// writers have an Unwrap method); the http.Server's ReadTimeout remains
	// the host's backstop. Default 10 s: a 1 MiB body takes less than a
	// second on any link a provisioning client uses.
	BodyReadTimeout time.Duration

	// RateLimit, when positive, limits each tenant (the [Tenant] that
	// BearerAuth put in the request's context; one shared bucket for
	// requests without one) to that many requests per second on average,
	// with bursts of RateBurst. A request over the limit is answered 429
	// with a Retry-After header and a SCIM error, and costs nothing else.
	// It is off by default because a limit set too low breaks provisioning:
	// Entra ID quarantines a provisioning job that sees many failures
	// (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status),
	// and its application gallery asks a SCIM endpoint to sustain at least
	// 25 requests per second per tenant
	// (https://learn.microsoft.com/entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements).
	// When set, stay well above that; clients that honour Retry-After (the
	// IPSIE SCIM profile asks servers to send it) then slow down instead of
	// failing.
	RateLimit float64
	// RateBurst is how many requests a tenant may send at once above
	// RateLimit. Default (when RateLimit is set): twice RateLimit, at
	// least 1.
	RateBurst int

	// OAuth reports that the host also accepts access tokens from an OAuth
	// 2.0 token endpoint (the client credentials grant, as package
	// github.com/scimhost/scim/oauth serves it) beside static bearer
	// tokens. /ServiceProviderConfig then lists an "oauth2" authentication
	// scheme too, so that it says truthfully how a client may authenticate.
	OAuth bool

	// CursorKey is the secret RFC 9865 cursors are sealed with (AES-256-GCM,
	// its key derived from CursorKey with HMAC-SHA256), so that a client can
	// neither read the store's position in one, nor forge one, nor use one
	// issued for another query or tenant (400 invalidCursor). When empty,
	// NewHandler draws 32 random bytes, and cursors stay valid in this
	// process only: replicas behind one load balancer must share a key (at
	// least 16 bytes, ideally 32, from the host's secret store). Changing it
	// invalidates the cursors outstanding, which clients restart from the
	// first page. NewHandler copies it.
	CursorKey []byte
	// CursorTimeout is how long a cursor lasts; an older one is 400
	// expiredCursor. ServiceProviderConfig advertises it as
	// pagination.cursorTimeout. Default 10 minutes.
	CursorTimeout time.Duration

	// Extensions are the schema extensions the host declares: custom
	// attributes with their types and characteristics, listed by /Schemas,
	// checked on every write, and understood by filters, sortBy,
	// projection and PATCH. See [Extension]. NewHandler fails on an
	// invalid declaration.
	Extensions []Extension
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
	DefaultMaxPatchCost       = 1_000_000
	DefaultMaxFilterCost      = 20
	DefaultMaxResponseBytes   = 16 << 20
	DefaultBodyReadTimeout    = 10 * time.Second
	DefaultCursorTimeout      = 10 * time.Minute
)

// Handler serves the SCIM 2.0 protocol over a Store: /Users, /Groups,
// /ServiceProviderConfig, /Schemas, /ResourceTypes and POST /.search. It
// expects to see paths relative to the SCIM base URL ("/Users/123"), as
// http.StripPrefix leaves them, or, with Options.Prefix, paths under that
// prefix as the client sent them ("/scim/v2/Users/123"), which spares a
// copy of every request.
//
// A Handler is safe for concurrent use. Create it with [NewHandler].
type Handler struct {
	opts   Options
	prefix string       // Options.Prefix, "" or "/a/b" without a trailing slash
	log    *slog.Logger // never nil: opts.Logger or slog.Default()
	users  *resourceType[*User]
	groups *resourceType[*Group] // nil when the store has no groups
	mux    *http.ServeMux
	decode decodeOptions
	limits filterLimits
	// members is the store's MemberPatcher, nil when it has none.
	members MemberPatcher
	// limiter is Options.RateLimit's, nil when it is off.
	limiter *tenantLimiter
	// cursorAEAD seals cursors, keyed by Options.CursorKey or a random key
	// of this Handler's. Go's GCM keeps no state between calls: it is safe
	// for concurrent use.
	cursorAEAD cipher.AEAD
	// ext is Options.Extensions, compiled.
	ext extensions
	// encOwner marks the encodings this Handler keeps in a store's
	// EncodingCache (see UserEncodingCacher).
	encOwner *encodingOwner
	// updateLocks serialise read-modify-writes of one resource within this
	// process when the store has no atomic update; see updateLock.
	updateLocks [64]sync.Mutex
	// lockedUpdates admits one update at a time to the store's lock with
	// the policies running inside it (resourceType.updateLocked).
	lockedUpdates chan struct{}
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
// NewHandler finds the store's optional capabilities ([UserUpdater],
// [GroupUpdater], [MemberPatcher]) by type assertion, and logs what it
// found at Info to Options.Logger, with a line saying that groups are off
// when they are. A store that implements an interface in part (one method
// missing, or with another signature) is served without it and logged at
// Warn, naming the method: assert the interfaces at compile time
// (var _ scim.GroupStore = (*myStore)(nil)) to catch that slip where it is
// made.
//
// It returns an error when an option is invalid: a negative limit, a
// BaseURL that is not an absolute http(s) URL, or a Prefix that is not a
// plain path; and, with
// Options.RequireGroups, when the store does not implement GroupStore.
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
	prefix, err := mountPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	// Each limit: a negative value is a mistake, zero means the default.
	if opts.MaxBodyBytes < 0 {
		return nil, errors.New("scim: NewHandler: MaxBodyBytes is negative")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.BodyReadTimeout < 0 {
		return nil, errors.New("scim: NewHandler: BodyReadTimeout is negative")
	}
	if opts.BodyReadTimeout == 0 {
		opts.BodyReadTimeout = DefaultBodyReadTimeout
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
		{"MaxPatchCost", &opts.MaxPatchCost, DefaultMaxPatchCost},
		{"MaxFilterCost", &opts.MaxFilterCost, DefaultMaxFilterCost},
		{"MaxResponseBytes", &opts.MaxResponseBytes, DefaultMaxResponseBytes},
	} {
		switch {
		case *l.v < 0:
			return nil, fmt.Errorf("scim: NewHandler: %s is negative", l.name)
		case *l.v == 0:
			*l.v = l.def
		}
	}
	limiter, err := newTenantLimiter(opts.RateLimit, opts.RateBurst)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.CursorTimeout < 0:
		return nil, errors.New("scim: NewHandler: CursorTimeout is negative")
	case opts.CursorTimeout == 0:
		opts.CursorTimeout = DefaultCursorTimeout
	}
	if len(opts.CursorKey) > 0 && len(opts.CursorKey) < 16 {
		return nil, errors.New("scim: NewHandler: CursorKey is shorter than 16 bytes")
	}
	cursorKey := slices.Clone(opts.CursorKey)
	if len(cursorKey) == 0 {
		cursorKey = make([]byte, 32)
		_, _ = rand.Read(cursorKey) // crypto/rand.Read never fails since Go 1.24
	}
	h := &Handler{
		cursorAEAD: newCursorAEAD(cursorKey),
		opts:       opts,
		prefix:     prefix,
		log:        opts.Logger,
		decode:     decodeOptions{strict: opts.Strict, maxDepth: opts.MaxJSONDepth, maxValues: opts.MaxValues},
		limits:     filterLimits{maxLen: opts.MaxFilterLength, maxDepth: opts.MaxFilterDepth, strict: opts.Strict},
		encOwner:   new(encodingOwner),

		lockedUpdates: make(chan struct{}, 1),
	}
	h.limiter = limiter
	if h.ext, err = compileExtensions(opts.Extensions); err != nil {
		return nil, err
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if err := h.reportCapabilities(store); err != nil {
		return nil, err
	}
	if err := h.declareExtensions(store, opts.Extensions); err != nil {
		return nil, err
	}
	h.users = newUserType(h, store)
	if gs, ok := store.(GroupStore); ok {
		h.groups = newGroupType(h, gs)
		h.members, _ = store.(MemberPatcher)
	}
	h.mux = h.routes()
	return h, nil
}

// The optional interfaces a store may implement, found by type assertion.
var capabilities = []struct {
	name  string
	iface reflect.Type
	group bool // only used when the store has groups
}{
	{"GroupStore", reflect.TypeFor[GroupStore](), false},
	{"UserUpdater", reflect.TypeFor[UserUpdater](), false},
	{"GroupUpdater", reflect.TypeFor[GroupUpdater](), true},
	{"MemberPatcher", reflect.TypeFor[MemberPatcher](), true},
	{"ReentrantReader", reflect.TypeFor[ReentrantReader](), false},
	{"ExtensionDeclarer", reflect.TypeFor[ExtensionDeclarer](), false},
}

// reportCapabilities logs which optional interfaces store implements (at
// Info, to Options.Logger), warns about one it implements in part (a
// method missing or with another signature, which a type assertion
// silently ignores), and enforces Options.RequireGroups.
func (h *Handler) reportCapabilities(store Store) error {
	typ := reflect.TypeOf(store)
	if h.opts.RequireGroups && !typ.Implements(capabilities[0].iface) {
		return fmt.Errorf("scim: NewHandler: Options.RequireGroups is set, but %s does not implement scim.GroupStore: %s", typ, strings.Join(methodset.Mismatches(typ, capabilities[0].iface), "; "))
	}
	groups := typ.Implements(capabilities[0].iface)
	attrs := []any{"store", typ.String()}
	for _, c := range capabilities {
		has := typ.Implements(c.iface)
		attrs = append(attrs, c.name, has && (groups || !c.group))
		if !has && methodset.Partial(typ, c.iface) {
			h.log.Warn("scim: the store implements part of scim."+c.name+", so the handler does without it",
				"store", typ.String(), "mismatches", strings.Join(methodset.Mismatches(typ, c.iface), "; "))
		}
	}
	if h.opts.Logger == nil {
		return nil
	}
	h.opts.Logger.Info("scim: store capabilities", attrs...)
	if !groups {
		h.opts.Logger.Info("scim: groups are off: the store does not implement scim.GroupStore; /Groups answers queries with an empty list and writes with 501", "store", typ.String())
	}
	return nil
}

func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	// The patterns name the paths as the handler sees them: under
	// Options.Prefix when it is set.
	p := h.prefix
	handleResource(mux, p, h.users)
	if h.groups != nil {
		handleResource(mux, p, h.groups)
	} else {
		mux.HandleFunc("GET "+p+"/Groups", h.serveNoGroupsList)
		mux.HandleFunc("POST "+p+"/Groups/.search", h.serveNoGroupsList)
		mux.HandleFunc("GET "+p+"/Groups/{id}", h.serveNoGroupsGet)
		mux.HandleFunc("POST "+p+"/Groups", h.serveNoGroupsWrite)
		for _, m := range []string{"PUT", "PATCH", "DELETE"} {
			mux.HandleFunc(m+" "+p+"/Groups/{id}", h.serveNoGroupsWrite)
		}
	}
	mux.HandleFunc("GET "+p+"/ServiceProviderConfig", h.serveServiceProviderConfig)
	mux.HandleFunc("GET "+p+"/Schemas", h.serveSchemas)
	mux.HandleFunc("GET "+p+"/Schemas/{id}", h.serveSchema)
	mux.HandleFunc("GET "+p+"/ResourceTypes", h.serveResourceTypes)
	mux.HandleFunc("GET "+p+"/ResourceTypes/{id}", h.serveResourceType)
	mux.HandleFunc("POST "+p+"/.search", h.serveRootSearch)
	// Everything else falls through to SCIM's 404 or 405, so a request is
	// routed once.
	mux.HandleFunc("/", h.serveUnrouted)
	return mux
}

// mountPrefix checks and normalises Options.Prefix: "" or "/a/b", without
// a trailing slash. Its characters are the URL path's unreserved ones
// (RFC 3986 §2.3), which need no escaping and mean nothing in a
// ServeMux pattern.
func mountPrefix(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "", nil
	}
	bad := p[0] != '/'
	for seg := range strings.SplitSeq(strings.TrimPrefix(p, "/"), "/") {
		bad = bad || seg == "" || seg == "." || seg == ".." ||
			strings.ContainsFunc(seg, func(c rune) bool {
				return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-._~", c))
			})
	}
	if bad {
		return "", fmt.Errorf("scim: NewHandler: Prefix %q is not a path such as \"/scim/v2\" of letters, digits and \"-._~\"", p)
	}
	return p, nil
}

// ServeHTTP routes a SCIM request. Paths are cleaned first (a doubled or
// trailing slash, which a Tenant URL pasted with a trailing slash produces,
// still routes), and a path or method the protocol does not define gets a
// SCIM 404 or 405 rather than net/http's plain-text one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, r.Context())
}

// serve is ServeHTTP with the request's context given apart: BearerAuth
// hands the context holding the tenant here, rather than a copy of the
// request made by r.WithContext. The handler's code reads it with
// requestContext, never with r.Context.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	var start time.Time
	if h.opts.Logger != nil || h.opts.Log != nil {
		start = time.Now()
	}
	sw := statusWriters.Get().(*statusWriter)
	*sw = statusWriter{ResponseWriter: w, ctx: ctx, plainJSON: wantsPlainJSON(r.Header.Values("Accept"))}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(ctx, "scim: panic serving request", "method", r.Method, "path", h.relPath(r), "panic", v, "stack", string(debug.Stack()))
			if !sw.wroteHeader {
				writeError(sw, r, nil, errorf(http.StatusInternalServerError, "", internalDetail))
			}
		}
		if !start.IsZero() {
			// One clock read serves the request line and the provisioning
			// log.
			end := time.Now()
			if h.opts.Logger != nil {
				h.logRequest(r, sw, end, end.Sub(start))
			}
			if h.opts.Log != nil {
				h.logEntry(r, sw, start, end.Sub(start))
			}
		}
		// Nothing keeps sw, nor the context it carries, past the request:
		// a handler must not use its ResponseWriter after it returns
		// (net/http's Handler contract).
		*sw = statusWriter{}
		statusWriters.Put(sw)
	}()
	if h.limiter != nil && !h.limiter.allow(sw, r) {
		h.fail(sw, r, errTooManyRequests(h.opts.RateLimit))
		return
	}
	rel, ok := h.below(r.URL.Path)
	if ok && h.serveDirect(sw, r, rel) {
		return
	}
	p := cleanPath(r.URL.Path)
	if rel, ok = h.below(p); !ok {
		h.fail(sw, r, errorf(http.StatusNotFound, "", fmt.Sprintf("no SCIM endpoint at %s: the SCIM base URL's path is %s", r.URL.Path, h.prefix)))
		return
	}
	if !h.opts.Strict {
		if c := canonicalEndpoint(rel); c != rel {
			p = h.prefix + c
		}
	}
	if p != r.URL.Path {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		r = r2
	}
	h.mux.ServeHTTP(sw, r)
}

// below returns path p relative to Options.Prefix ("/" for the prefix
// itself), and whether p is under it; without a prefix it returns p.
func (h *Handler) below(p string) (string, bool) {
	if h.prefix == "" {
		return p, true
	}
	rest, ok := strings.CutPrefix(p, h.prefix)
	switch {
	case !ok:
		return "", false
	case rest == "":
		return "/", true
	case rest[0] != '/':
		return "", false // "/scim/v2x"
	}
	return rest, true
}

// relPath returns r's path below Options.Prefix, for logs and details:
// what the handler serves, whichever way it is mounted.
func (h *Handler) relPath(r *http.Request) string {
	if rel, ok := h.below(r.URL.Path); ok {
		return rel
	}
	return r.URL.Path
}

// requestContext returns the context of the request the handler is
// serving on w: the one BearerAuth handed to Handler.serve, which
// r.Context() does not hold. Every function that serves a request reads
// its context here.
func requestContext(w http.ResponseWriter, r *http.Request) context.Context {
	if sw, ok := w.(*statusWriter); ok && sw.ctx != nil {
		return sw.ctx
	}
	return r.Context()
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
		h.fail(w, r, errorf(http.StatusMethodNotAllowed, "", fmt.Sprintf("method %s is not allowed on %s", r.Method, h.relPath(r))))
		return
	}
	h.fail(w, r, errorf(http.StatusNotFound, "", fmt.Sprintf("no SCIM endpoint at %s", h.relPath(r))))
}

// endpoints are the first path segments the handler routes, as RFC 7644
// spells them.
var endpoints = [...]string{"Users", "Groups", "ServiceProviderConfig", "Schemas", "ResourceTypes"}

// canonicalEndpoint implements the compatibility rule endpoint-case: the
// first segment of p, when it names an endpoint in another case ("/users"),
// is spelt as RFC 7644 spells it.
func canonicalEndpoint(p string) string {
	if len(p) < 2 || p[0] != '/' {
		return p
	}
	seg, rest, _ := strings.Cut(p[1:], "/")
	for _, e := range endpoints {
		if seg != e && strings.EqualFold(seg, e) {
			if rest != "" || strings.HasSuffix(p, "/") {
				return "/" + e + "/" + rest
			}
			return "/" + e
		}
	}
	return p
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

// logRequest logs the request line, at time end, to Options.Logger. It
// hands the record to the logger's handler itself, as slog's wrappers do
// (log/slog's package doc, "Wrapping output methods"): Logger.LogAttrs
// would read the clock again and unwind the stack for the caller's pc on
// every request, which names this function anyway; the pc is found once.
func (h *Handler) logRequest(r *http.Request, sw *statusWriter, end time.Time, d time.Duration) {
	ctx := requestContext(sw, r)
	l := h.opts.Logger.Handler()
	if !l.Enabled(ctx, slog.LevelInfo) {
		return
	}
	// Room for every attribute, so that the list stays on the stack.
	var buf [7]slog.Attr
	attrs := append(buf[:0],
		slog.String("method", r.Method),
		slog.String("path", h.relPath(r)),
		slog.Int("status", sw.status()),
		slog.Duration("duration", d),
	)
	if q := queryNames(r.URL.RawQuery); q != "" {
		attrs = append(attrs, slog.String("query", q))
	}
	if t, ok := tenantID(ctx); ok {
		attrs = append(attrs, slog.String("tenant", t))
	}
	if sw.scimType != "" {
		attrs = append(attrs, slog.String("scimType", string(sw.scimType)))
	}
	pc := logRequestPC.Load()
	if pc == 0 {
		var pcs [1]uintptr
		runtime.Callers(1, pcs[:]) // a pc in this function, as LogAttrs would find
		pc = pcs[0]
		logRequestPC.Store(pc)
	}
	rec := slog.NewRecord(end, slog.LevelInfo, "scim request", pc)
	rec.AddAttrs(attrs...)
	_ = l.Handle(ctx, rec)
}

// logRequestPC is the pc logRequest's lines name as their source, once
// found.
var logRequestPC atomic.Uintptr

// queryNames lists the names of the query parameters, without their values:
// a filter carries userNames and email addresses. A single name that needs
// no unescaping is returned as a part of raw, without a copy.
func queryNames(raw string) string {
	if raw == "" {
		return ""
	}
	var names []byte
	single := ""
	for part := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(part, "=")
		n := name
		if strings.ContainsAny(name, "%+") {
			var err error
			if n, err = url.QueryUnescape(name); err != nil {
				continue
			}
		}
		if n == "" {
			continue
		}
		switch {
		case single == "" && names == nil:
			single = n
		case names == nil:
			names = append(append(append(make([]byte, 0, 2*len(raw)), single...), ','), n...)
		default:
			names = append(append(names, ','), n...)
		}
	}
	if names == nil {
		return single
	}
	return string(names)
}

// statusWriters holds the statusWriters of finished requests, for the
// next: one fewer allocation on every request.
var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

// statusWriter remembers the status and scimType a handler wrote, for the
// request log and for panic recovery.
type statusWriter struct {
	http.ResponseWriter
	// ctx is the request's context (see requestContext).
	ctx         context.Context
	code        int
	wroteHeader bool
	scimType    ErrorType
	// plainJSON says the client asked for application/json rather than
	// application/scim+json (rule accept-application-json).
	plainJSON bool
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
		if w.plainJSON {
			if hd := w.Header(); hd.Get("Content-Type") == contentType {
				hd["Content-Type"] = plainJSONHeader
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

var plainJSONHeader = []string{"application/json"}

// wantsPlainJSON reports whether Accept names application/json and not
// application/scim+json: RFC 7644 §3.8 says a service provider SHOULD
// answer such a client in application/json, which OneLogin asks for. The
// body is the same JSON either way.
func wantsPlainJSON(accept []string) bool {
	plain := false
	for _, a := range accept {
		for part := range strings.SplitSeq(a, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case contentType:
				return false
			case "application/json":
				plain = true
			}
		}
	}
	return plain
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
	// stripped, and Options.Prefix, are the mount prefix.
	prefix := ""
	rel := h.relPath(r)
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		if p := cleanPath(u.Path); strings.HasSuffix(p, rel) {
			prefix = strings.TrimSuffix(p, rel)
		}
	}
	return scheme + "://" + r.Host + prefix
}

// readBody reads a request body within the size limit and checks its media
// type: SCIM's application/scim+json, or application/json, which Okta and
// many tools send. A request without Content-Type is read as JSON.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != contentType && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || mt == contentType || strings.HasSuffix(mt, "+json")) {
			return nil, errorf(http.StatusUnsupportedMediaType, "", fmt.Sprintf("Content-Type %q is not supported; send application/scim+json", ct))
		}
	}
	// A deadline for the body alone: net/http clears it when the body has
	// been read to its end and its background read of the connection
	// starts, so the handler's work after reading is not bounded by it.
	// Writers without read deadlines (httptest's recorder) are read
	// without one.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.opts.BodyReadTimeout))
	body, err := readAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes), min(r.ContentLength, h.opts.MaxBodyBytes, maxBodyPrealloc))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("request body is larger than the limit of %d bytes", h.opts.MaxBodyBytes))
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection cannot carry another request: its body was
			// not read to the end.
			w.Header().Set("Connection", "close")
			return nil, &Error{Status: http.StatusRequestTimeout, Detail: fmt.Sprintf("the request body did not arrive within %s, the limit of this server", h.opts.BodyReadTimeout), Err: err}
		}
		return nil, &Error{Status: http.StatusBadRequest, Type: InvalidSyntax, Detail: "could not read the request body", Err: err}
	}
	return body, nil
}

// readAll is io.ReadAll with room for size bytes from the start (size is
// the request's Content-Length, -1 when it has none): a body of the
// length it announces is read into one allocation of its size, where
// io.ReadAll's 512 bytes would be too many for a PATCH and too few for a
// POST. A body that does not send what it announced is read as io.ReadAll
// reads it.
//
// The caller caps size at maxBodyPrealloc: beyond it the buffer grows
// with what arrives, so that a header announcing a megabyte costs no
// megabyte until the bytes come.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(r)
	}
	// One byte more than announced, so that the read which reports the
	// end does not grow the buffer.
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

const maxBodyPrealloc = 64 << 10

// bufPool recycles response buffers: encoding a resource then costs no
// allocation once the pool is warm.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// writeJSON writes a JSON body built by build into a pooled buffer.
func writeJSON(w http.ResponseWriter, status int, build func([]byte) []byte) {
	bp := bufPool.Get().(*[]byte)
	b := build((*bp)[:0])
	writeBuffer(w, status, bp, b)
}

// writeRead is writeJSON for the answer to a read of the resource name id:
// a body over Options.MaxResponseBytes is refused, never sent truncated.
func (h *Handler) writeRead(w http.ResponseWriter, r *http.Request, name, id string, build func([]byte) []byte) {
	bp := bufPool.Get().(*[]byte)
	b := build((*bp)[:0])
	if len(b) > h.opts.MaxResponseBytes {
		putBuffer(bp, b)
		w.Header().Del("ETag")
		h.fail(w, r, h.errTooLarge(name, id, len(b)))
		return
	}
	writeBuffer(w, http.StatusOK, bp, b)
}

// errTooLarge refuses to send resource name id, size bytes encoded.
func (h *Handler) errTooLarge(name, id string, size int) *Error {
	return errorf(http.StatusBadRequest, TooMany, fmt.Sprintf("%s %q is %d bytes encoded, more than this server's response limit of %d bytes; ask for fewer attributes (excludedAttributes=members leaves out a group's members)", name, id, size, h.opts.MaxResponseBytes))
}

// writeBuffer writes b, built in the pooled buffer bp, and returns bp to
// the pool.
func writeBuffer(w http.ResponseWriter, status int, bp *[]byte, b []byte) {
	writeBody(w, status, b)
	putBuffer(bp, b)
}

// writeBody writes b as a SCIM JSON body.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	hd := w.Header()
	hd["Content-Type"] = contentTypeHeader
	hd["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// putBuffer returns bp to the pool holding b, its grown contents.
func putBuffer(bp *[]byte, b []byte) {
	if cap(b) <= 1<<20 { // do not let one huge group pin memory
		*bp = b[:0]
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
