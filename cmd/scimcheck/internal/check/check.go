// Package check holds scimcheck's checks: what Microsoft Entra ID's
// provisioning service, its App Gallery validation run, Okta and the other
// provisioning clients send to a SCIM 2.0 server, each sequence reproduced
// as a named check against any server over HTTP, with the verdict a
// developer can act on.
//
// [Run] runs the checks of the chosen suites one after another against the
// server a [Config] names, and returns a [Report]: one [Result] per check,
// with the exchanges of a failure, and the time of every request. Every
// resource a check creates has a name made of the run's prefix, so that a
// run never touches what it did not create; Run deletes them at the end,
// also when a check fails or the context is cancelled, unless
// Config.Keep is set.
//
// A check fails when the server answers what the client it reproduces
// would refuse or misread; an optional check (one whose behaviour a client
// only sometimes needs) warns instead. A request that takes longer than
// Config.Limit (Entra's 60 seconds by default) fails its check.
//
// The checks of each suite are in the file named after it (entra.go,
// gallery.go, okta.go, clients.go, rfc.go, concurrency.go), each with the
// sentence of what it reproduces; [List] names them. A check's messages
// cite the public source of the behaviour: Microsoft Learn, Okta's SCIM
// reference, OneLogin's SCIM developer documentation, the RFC section.
package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Status is the verdict of one check.
type Status int

// The verdicts, in the order a report counts them.
const (
	// Pass: the server behaved as the client expects.
	Pass Status = iota
	// Fail: a mandatory behaviour is missing; the client would refuse
	// or misread the answer.
	Fail
	// Warn: an optional behaviour is missing, or the answer works but
	// departs from what the client documents.
	Warn
	// Skip: the check does not apply (a capability the server does not
	// advertise, a flag not given) or its set-up failed.
	Skip
)

// String returns "PASS", "FAIL", "WARN" or "SKIP".
func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Warn:
		return "WARN"
	case Skip:
		return "SKIP"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText writes the status as String does.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Suites lists the suites Run knows, in the order it runs them. The last
// one, "concurrency", runs only when asked for by name.
var Suites = []string{"entra", "gallery", "okta", "clients", "rfc", "concurrency"}

// DefaultSuites are the suites Run runs when Config.Suites is empty.
var DefaultSuites = []string{"entra", "gallery", "okta", "clients", "rfc"}

// DefaultLimit is the longest a request may take: Entra ID gives up on a
// request after 60 seconds.
const DefaultLimit = 60 * time.Second

// Config says which server to check and how. The zero value is not usable:
// URL is required, and a credential (Token, or TokenURL with ClientID and
// ClientSecret).
type Config struct {
	// URL is the SCIM base URL, the Tenant URL an admin gives Entra:
	// "https://app.example.com/scim/v2". Paths such as /Users are
	// appended to its path; its query string (such as
	// "?aadOptscim062020") is sent with every request, as Entra keeps it.
	URL string
	// Token is the bearer token sent with every SCIM request. When empty,
	// the token the token endpoint issues is used.
	Token string
	// TokenURL, ClientID and ClientSecret configure the OAuth 2.0
	// client credentials grant (RFC 6749 §4.4) that App Gallery
	// applications must offer; when TokenURL is set, the gallery suite
	// checks the token endpoint and the token it issues.
	TokenURL, ClientID, ClientSecret string
	// ClientAuth is how the client authenticates to the token endpoint:
	// "post" (client_id and client_secret in the form body,
	// client_secret_post) or "basic" (HTTP Basic, client_secret_basic,
	// RFC 6749 §2.3.1). Empty means "post".
	ClientAuth string
	// Scope, when not empty, is sent as the token request's scope.
	Scope string
	// Attributes are more attributes the app's Entra mappings target,
	// beyond Entra's defaults, which gallery/Schema_Discoverability then
	// also requires /Schemas to describe: "nickName",
	// `phoneNumbers[type eq "home"].value`, or a URN-qualified attribute
	// of any schema ("urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge").
	// A name without a URN is a User attribute.
	Attributes []string
	// Suites are the suites to run, from [Suites]; empty means
	// [DefaultSuites].
	Suites []string
	// Match, when not nil, picks the checks to run among those of
	// Suites by their id ("entra/members-remove-with-value"); the others
	// are left out of the report.
	Match func(id string) bool
	// Domain is the domain of the userNames and emails the checks
	// create; a server that refuses unverified domains needs one of its
	// own. Empty means "example.com".
	Domain string
	// Keep leaves the resources the checks created in place.
	Keep bool
	// Limit is the longest a request may take; zero means DefaultLimit.
	Limit time.Duration
	// Client sends the requests; nil means a client with no overall
	// timeout (Limit applies per request).
	Client *http.Client
	// Exchanges, when not nil, receives every exchange as it happens, in
	// the transcript format (package transcript).
	Exchanges io.Writer
	// Progress, when not nil, is called with each result as soon as its
	// check ends.
	Progress func(Result)
	// Prefix starts the name of every resource the run creates; empty
	// means "scimcheck-" and eight random hex digits.
	Prefix string
}

// Result is the verdict of one check, a plain value.
type Result struct {
	// Suite and Name name the check: "entra" and
	// "members-remove-with-value".
	Suite string `json:"suite"`
	Name  string `json:"name"`
	// Reproduces says what client behaviour the check reproduces.
	Reproduces string `json:"reproduces"`
	// Optional is true for a check whose failure is a warning.
	Optional bool   `json:"optional,omitempty"`
	Status   Status `json:"status"`
	// Message says what went wrong and what to do, for every status
	// but Pass (where it may note something).
	Message string `json:"message,omitempty"`
	// Exchanges are the requests and answers that show the failure, in
	// the transcript format.
	Exchanges []string `json:"exchanges,omitempty"`
	// Requests is the number of requests the check sent, Duration the
	// check's whole time and Slowest its slowest request's.
	Requests int           `json:"requests"`
	Duration time.Duration `json:"duration_ns"`
	Slowest  time.Duration `json:"slowest_ns"`
	// Timings are the check's requests, in order, with the time each
	// took.
	Timings []Timing `json:"timings,omitempty"`
}

// Timing is one request of a check and the time it took.
type Timing struct {
	Method   string        `json:"method"`
	Target   string        `json:"target"`
	Status   int           `json:"status"` // 0: no answer
	Duration time.Duration `json:"duration_ns"`
}

// ID is "suite/name".
func (r Result) ID() string { return r.Suite + "/" + r.Name }

// Report is the outcome of a run; Run returns it complete. The zero value
// is an empty report, which the Write functions accept.
type Report struct {
	// URL is the base URL checked; Prefix the names' prefix.
	URL    string `json:"url"`
	Prefix string `json:"prefix"`
	// Results are the checks' verdicts in the order they ran.
	Results []Result `json:"results"`
	// Requests and Duration are the totals of the run, cleanup
	// included; Slowest names its slowest request.
	Requests int           `json:"requests"`
	Duration time.Duration `json:"duration_ns"`
	Slowest  string        `json:"slowest,omitempty"`
	// Cleanup says what was deleted at the end, or left with Keep, and
	// what could not be deleted.
	Cleanup string `json:"cleanup"`
	// Interrupted is true when the context was cancelled before every
	// check ran.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Count returns how many results have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether a mandatory check failed or the run was
// interrupted: what makes scimcheck exit with status 1.
func (r *Report) Failed() bool { return r.Count(Fail) > 0 || r.Interrupted }

// A check reproduces one client behaviour.
type check struct {
	suite, name string
	// reproduces is the sentence a report shows for it.
	reproduces string
	// optional makes a failure a warning.
	optional bool
	run      func(t *T) error
}

// registry holds every check, by suite, in running order.
var registry = map[string][]check{}

// register adds checks to suite.
func register(suite string, cs ...check) {
	for i := range cs {
		cs[i].suite = suite
	}
	registry[suite] = append(registry[suite], cs...)
}

// List returns the ids ("suite/name") of the checks of suites, in running
// order, for documentation and tests.
func List(suites ...string) []string {
	var ids []string
	for _, s := range suites {
		for _, c := range registry[s] {
			ids = append(ids, s+"/"+c.name)
		}
	}
	return ids
}

// Run runs the checks of cfg.Suites against cfg.URL, one after another,
// and returns the report. Concurrent Runs are independent (each generates
// its own names), but two against one server compete for its resources. It fails, without running a check, when cfg is not usable (no
// URL, an unknown suite, no credential), when the token endpoint issues no
// token and there is no Token to fall back on, and when the server does
// not answer at all. A cancelled ctx stops
// the run after the current request; the resources created so far are
// still deleted (with a context of their own, for at most a minute), and
// the report says Interrupted.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	s, err := newSession(cfg)
	if err != nil {
		return nil, err
	}
	suites := cfg.Suites
	if len(suites) == 0 {
		suites = DefaultSuites
	}
	for _, name := range suites {
		if !slices.Contains(Suites, name) {
			return nil, fmt.Errorf("unknown suite %q: choose from %s", name, strings.Join(Suites, ", "))
		}
	}
	start := time.Now()
	rep := &Report{URL: cfg.URL, Prefix: s.prefix}
	if cfg.TokenURL != "" {
		s.fetchToken(ctx)
		if s.token == "" {
			if cfg.Token == "" {
				return nil, fmt.Errorf("the token endpoint issued no token: %s", s.grant.problem)
			}
			s.token = cfg.Token
		}
	}
	if s.token == "" {
		return nil, errors.New("no credential: give a bearer token, or a token URL with a client id and secret")
	}
	// One request first, so that a server that cannot be reached at all
	// is one error rather than a failure per check.
	probe := &T{s: s, ctx: ctx, c: check{suite: "scimcheck", name: "reach"}}
	if _, err := probe.do("GET", "/ServiceProviderConfig", nil); err != nil {
		var o *outcome
		if errors.As(err, &o) && strings.Contains(o.msg, "no answer") {
			return nil, fmt.Errorf("cannot reach the SCIM server: %s", o.msg)
		}
	}
	for _, suite := range Suites {
		if !slices.Contains(suites, suite) {
			continue
		}
		for _, c := range registry[suite] {
			if cfg.Match != nil && !cfg.Match(suite+"/"+c.name) {
				continue
			}
			if ctx.Err() != nil {
				rep.Interrupted = true
				break
			}
			res := s.runCheck(ctx, c)
			if ctx.Err() != nil {
				// The check saw the cancellation, not the server.
				rep.Interrupted = true
				break
			}
			rep.Results = append(rep.Results, res)
			if cfg.Progress != nil {
				cfg.Progress(res)
			}
		}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	rep.Cleanup = s.cleanup(cctx)
	cancel()
	rep.Requests, rep.Duration = s.requests, time.Since(start)
	if s.slowest.target != "" {
		rep.Slowest = fmt.Sprintf("%s %s (%s)", s.slowest.method, s.slowest.target, round(s.slowest.d))
	}
	return rep, nil
}

// runCheck runs one check and turns what it returned into a Result.
func (s *session) runCheck(ctx context.Context, c check) Result {
	t := &T{s: s, ctx: ctx, c: c}
	start := time.Now()
	err := t.guard()
	res := Result{Suite: c.suite, Name: c.name, Reproduces: c.reproduces, Optional: c.optional,
		Requests: t.requests, Duration: time.Since(start), Slowest: t.slowest}
	t.mu.Lock()
	for _, r := range t.exchanges {
		res.Timings = append(res.Timings, Timing{Method: r.Method, Target: r.Target, Status: r.Status, Duration: r.Duration})
	}
	t.mu.Unlock()
	var o *outcome
	switch {
	case err == nil:
		res.Status = Pass
		res.Message = strings.Join(t.notes, " ")
	case errors.As(err, &o):
		res.Status, res.Message = o.status, o.msg
		if o.status == Fail && c.optional {
			res.Status = Warn
		}
		if res.Status == Fail || res.Status == Warn {
			res.Exchanges = t.evidence(o.shown)
		}
	default:
		res.Status, res.Message = Fail, err.Error()
		if c.optional {
			res.Status = Warn
		}
		res.Exchanges = t.evidence(nil)
	}
	return res
}

// guard runs the check, turning a panic (a bug in a check, never the
// server's fault) into a failure that says so.
func (t *T) guard() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("scimcheck bug: the check panicked: %v", p)
		}
	}()
	return t.c.run(t)
}

// outcome is what a check returns for any status but Pass.
type outcome struct {
	status Status
	msg    string
	// shown are the exchanges that show the problem; nil means the
	// check's last exchange.
	shown []*Response
}

func (o *outcome) Error() string { return o.status.String() + ": " + o.msg }

// failf returns a failure whose message is the formatted text; rs are the
// exchanges that show it (none: the check's last one).
func failf(rs []*Response, format string, args ...any) error {
	return &outcome{status: Fail, msg: fmt.Sprintf(format, args...), shown: rs}
}

// warnf is failf for something that works but should be fixed; the check
// stops.
func warnf(rs []*Response, format string, args ...any) error {
	return &outcome{status: Warn, msg: fmt.Sprintf(format, args...), shown: rs}
}

// skipf returns a skip with the formatted reason.
func skipf(format string, args ...any) error {
	return &outcome{status: Skip, msg: fmt.Sprintf(format, args...)}
}

// on is the exchanges argument of failf for one response.
func on(rs ...*Response) []*Response { return rs }

// newPrefix returns "scimcheck-" and eight random hex digits.
func newPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "scimcheck-" + hex.EncodeToString(b[:])
}

// baseURL parses the base URL: its path without the trailing slash, and its
// query, kept for every request.
func baseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("no SCIM base URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the SCIM base URL does not parse: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("the SCIM base URL %q is not an http:// or https:// URL", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	u.Fragment = ""
	return u, nil
}

// round rounds d for a report: milliseconds under a minute.
func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
