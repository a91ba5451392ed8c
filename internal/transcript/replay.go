package transcript

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// Options configure a [Replayer].
type Options struct {
	// Send sends one request and returns the response, as
	// http.Client.Do does; a transport error stops the replay. Use
	// [InProcess] to serve the requests with an http.Handler, or
	// http.DefaultClient.Do for a server listening at Origin. Required.
	Send func(*http.Request) (*http.Response, error)
	// Origin is the scheme and host the requests are sent to, such as
	// "http://127.0.0.1:41517"; the transcripts' targets ("/scim/v2/...")
	// are appended to it, and in the responses it is written as the
	// package's [Origin]. Empty means [Origin].
	Origin string
	// Token is the bearer token sent in every request's Authorization
	// header.
	Token string
	// VolatileMeta makes [Replayer.Diff] compare modulo the timestamps
	// and versions a store chooses itself (see [NormalizeVolatile]): set
	// it for a store whose clock and versions a test cannot fix.
	VolatileMeta bool
}

// Replayer replays the exchanges of one transcript, in order, against one
// store: it remembers the names the transcript gives the created resources.
// Use a new Replayer, and a fresh store, for every transcript. A Replayer
// is not safe for concurrent use.
type Replayer struct {
	opts  Options
	names map[string]string // name → id
	ids   map[string]string // id → name
	count map[string]int    // resources created per collection, for default names
}

// NewReplayer returns a Replayer that sends requests as opts says.
func NewReplayer(opts Options) *Replayer {
	if opts.Origin == "" {
		opts.Origin = Origin
	}
	opts.Origin = strings.TrimRight(opts.Origin, "/")
	return &Replayer{opts: opts, names: map[string]string{}, ids: map[string]string{}, count: map[string]int{}}
}

// placeholder is a {{name}} in a transcript.
var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9_.-]+)\}\}`)

// idName finds the name a 201's expected body gives the created id.
var idName = regexp.MustCompile(`"id": "\{\{([A-Za-z0-9_.-]+)\}\}"`)

// expand replaces {{name}} with the id bound to name.
func (rp *Replayer) expand(s string) (string, error) {
	var err error
	s = placeholder.ReplaceAllStringFunc(s, func(m string) string {
		id, ok := rp.names[m[2:len(m)-2]]
		if !ok && err == nil {
			err = fmt.Errorf("%s names no resource created so far", m)
		}
		return id
	})
	return s, err
}

// name writes s in the transcript's notation: the origin as [Origin], and
// every bound id as its {{name}}.
func (rp *Replayer) name(s string) string {
	if rp.opts.Origin != Origin {
		s = strings.ReplaceAll(s, rp.opts.Origin, Origin)
	}
	ids := make([]string, 0, len(rp.ids))
	for id := range rp.ids {
		ids = append(ids, id)
	}
	// Longer ids first, so that no id is replaced inside another.
	slices.SortFunc(ids, func(a, b string) int { return len(b) - len(a) })
	for _, id := range ids {
		s = strings.ReplaceAll(s, id, "{{"+rp.ids[id]+"}}")
	}
	return s
}

// Do sends ex's request and returns ex with the response it got in place of
// the expected one, in the transcript's notation: a 201's id bound to the
// name ex's expected body gives it, ids and the origin written as in the
// transcript, the body indented.
//
// It fails, and the replay of this transcript cannot go on, when ex names
// a resource not created so far, when Send fails, when a 201 carries no id
// or an id name is bound twice, and when the response has a body that is
// not JSON or is not application/scim+json.
func (rp *Replayer) Do(ctx context.Context, ex Exchange) (Exchange, error) {
	if rp.opts.Send == nil {
		return ex, errors.New("transcript: Options.Send is nil")
	}
	body, err := rp.expand(ex.Body)
	if err != nil {
		return ex, err
	}
	target, err := rp.expand(ex.Target)
	if err != nil {
		return ex, err
	}
	req, err := http.NewRequestWithContext(ctx, ex.Method, rp.opts.Origin+target, strings.NewReader(body))
	if err != nil {
		return ex, err
	}
	req.Header.Set("Authorization", "Bearer "+rp.opts.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for _, h := range ex.Header {
		v, err := rp.expand(h[1])
		if err != nil {
			return ex, err
		}
		req.Header.Set(h[0], v)
	}
	resp, err := rp.opts.Send(req)
	if err != nil {
		return ex, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return ex, fmt.Errorf("reading the response: %w", err)
	}

	got := ex
	got.Status = resp.StatusCode
	got.RespHeader, got.RespBody = nil, ""
	if resp.StatusCode == http.StatusCreated {
		var created struct{ ID string }
		if err := json.Unmarshal(raw, &created); err != nil || created.ID == "" {
			return got, fmt.Errorf("201 without an id: %s", raw)
		}
		name := ""
		if m := idName.FindStringSubmatch(ex.RespBody); m != nil {
			name = m[1]
		} else {
			kind := strings.ToLower(strings.TrimSuffix(Collection(ex.Target), "s"))
			rp.count[kind]++
			name = kind + strconv.Itoa(rp.count[kind])
		}
		if old, ok := rp.names[name]; ok {
			return got, fmt.Errorf("{{%s}} already names %s", name, old)
		}
		rp.names[name], rp.ids[created.ID] = created.ID, name
	}
	for _, k := range []string{"ETag", "Location"} {
		if v := resp.Header.Get(k); v != "" {
			got.RespHeader = append(got.RespHeader, [2]string{k, rp.name(v)})
		}
	}
	if len(raw) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			return got, fmt.Errorf("Content-Type %q: %s", ct, raw)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, raw, "", "  "); err != nil {
			return got, fmt.Errorf("the response is not JSON: %v: %s", err, raw)
		}
		got.RespBody = rp.name(pretty.String())
	}
	return got, nil
}

// Diff compares the responses of want, the expected exchange, and got, what
// [Replayer.Do] returned for it: status, ETag and Location headers, and
// body. It returns "" when they are equal, else a diff (-want +got). With
// Options.VolatileMeta both are passed through [NormalizeVolatile] first.
func (rp *Replayer) Diff(want, got Exchange) string {
	w := Exchange{Status: want.Status, RespHeader: want.RespHeader, RespBody: want.RespBody}
	g := Exchange{Status: got.Status, RespHeader: got.RespHeader, RespBody: got.RespBody}
	if rp.opts.VolatileMeta {
		w, g = NormalizeVolatile(w), NormalizeVolatile(g)
	}
	return cmp.Diff(w, g)
}

// Volatile is what [NormalizeVolatile] writes in place of a value a store
// chooses itself.
const Volatile = "(volatile)"

// volatileMeta are the members of meta whose values come from the store's
// clock and version counter.
var volatileMeta = []string{`"created": `, `"lastModified": `, `"version": `}

// NormalizeVolatile returns ex with the values a store chooses itself
// replaced by [Volatile]: the ETag response header's value, and in the
// response body the values of meta.created, meta.lastModified and
// meta.version of every resource, at any depth (a ListResponse's
// Resources included). Everything else is kept: whether the ETag header
// is present, whether meta has these members, and every other member
// (meta.location and meta.resourceType too) in its order.
//
// The body must be indented as [Replayer.Do] and the transcript files
// indent it (json.Indent with two spaces), which puts every member on a
// line of its own; a body that is not is returned unchanged.
func NormalizeVolatile(ex Exchange) Exchange {
	if ex.RespHeader != nil {
		h := slices.Clone(ex.RespHeader)
		for i := range h {
			if http.CanonicalHeaderKey(h[i][0]) == "Etag" {
				h[i][1] = Volatile
			}
		}
		ex.RespHeader = h
	}
	lines := strings.Split(ex.RespBody, "\n")
	meta := -1 // the indentation of the meta object's key line while inside it
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		switch {
		case meta < 0:
			if trimmed == `"meta": {` {
				meta = indent
			}
		case indent == meta && strings.HasPrefix(trimmed, "}"):
			meta = -1
		case indent == meta+2:
			for _, key := range volatileMeta {
				// A JSON string value on one line: key, value, and a
				// comma unless it is the last member.
				if strings.HasPrefix(trimmed, key+`"`) {
					comma := ""
					if strings.HasSuffix(trimmed, ",") {
						comma = ","
					}
					lines[i] = line[:indent] + key + strconv.Quote(Volatile) + comma
				}
			}
		}
	}
	ex.RespBody = strings.Join(lines, "\n")
	return ex
}

// InProcess returns a Send function for [Options] that serves each request
// with h, in process, as httptest.NewRequest builds a server request for a
// test (RemoteAddr 192.0.2.1, TLS state for an https URL), recording the
// response with an httptest.ResponseRecorder. It fails only when reading
// the request's body does.
func InProcess(h http.Handler) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			var err error
			body, err = io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return nil, err
			}
		}
		in := httptest.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), bytes.NewReader(body))
		in.Header = r.Header.Clone()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, in)
		return rec.Result(), nil
	}
}
