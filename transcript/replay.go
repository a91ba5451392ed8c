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
	// VolatileMeta makes [Replayer.Diff] compare modulo the values a
	// store chooses itself, for a store whose clock and version counter a
	// test cannot fix: the ETag header's value, and meta.created,
	// meta.lastModified and meta.version in the body, at any depth (every
	// resource of a ListResponse too). In both the expected and the
	// answered response, each such value is replaced by its number in the
	// order the replay has shown the values of its resource and kind so
	// far: "(version 2)" is the second distinct version of that resource,
	// "(time 1)" its first distinct timestamp (created and lastModified
	// count together). So the values themselves are not compared, but when
	// they change and repeat is: a retried PATCH that keeps the version
	// and lastModified, an ETag equal to the meta.version of the same
	// resource, meta.created staying put and equal to lastModified at
	// creation. Everything else is compared exactly.
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

	// want and got rename the volatile values of the expected and the
	// answered responses, with VolatileMeta.
	want, got volatile
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
		// SCIM's media type, or application/json for a request whose
		// Accept asks for exactly that (RFC 7644 §3.8), as OneLogin's do.
		want := "application/scim+json"
		if req.Header.Get("Accept") == "application/json" {
			want = "application/json"
		}
		if ct := resp.Header.Get("Content-Type"); ct != want {
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
// body. It returns "" when they are equal, else a line diff of the two
// responses as the transcript writes them: lines only want has start with
// "-", lines only got has with "+", shared lines with " ".
//
// With Options.VolatileMeta both are normalised first (see
// [Options].VolatileMeta); the normalisation remembers the values seen so
// far, so call Diff once for every exchange, in order.
func (rp *Replayer) Diff(want, got Exchange) string {
	w := Exchange{Status: want.Status, RespHeader: want.RespHeader, RespBody: want.RespBody}
	g := Exchange{Status: got.Status, RespHeader: got.RespHeader, RespBody: got.RespBody}
	if rp.opts.VolatileMeta {
		w, g = rp.want.normalize(want.Target, w), rp.got.normalize(got.Target, g)
	}
	return lineDiff(responseText(w), responseText(g))
}

// responseText writes the response of ex as a transcript does.
func responseText(ex Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "< %d %s\n", ex.Status, http.StatusText(ex.Status))
	for _, h := range ex.RespHeader {
		fmt.Fprintf(&b, "< %s: %s\n", h[0], h[1])
	}
	b.WriteString(ex.RespBody)
	return b.String()
}

// maxDiffCells caps the work of lineDiff's table; beyond it the diff is
// both texts whole.
const maxDiffCells = 4 << 20

// lineDiff returns "" when a and b are equal, else their lines marked by a
// longest common subsequence: "-" for a's own, "+" for b's, " " for both.
func lineDiff(a, b string) string {
	if a == b {
		return ""
	}
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	if (len(x)+1)*(len(y)+1) > maxDiffCells {
		for _, l := range x {
			out.WriteString("-" + l + "\n")
		}
		for _, l := range y {
			out.WriteString("+" + l + "\n")
		}
		return out.String()
	}
	// lcs[i][j] is the length of the longest common subsequence of x[i:]
	// and y[j:].
	w := len(y) + 1
	lcs := make([]int, (len(x)+1)*w)
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out.WriteString(" " + x[i] + "\n")
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
			out.WriteString("-" + x[i] + "\n")
			i++
		default:
			out.WriteString("+" + y[j] + "\n")
			j++
		}
	}
	return out.String()
}

// volatile renames the values a store chooses itself, in one stream of
// responses (the expected ones, or those a replay got), by their order of
// first appearance per resource: the first version of /Users/{{ada}} that
// the stream shows becomes "(version 1)", the next distinct one "(version
// 2)", and a repeated one keeps its name. meta.created and meta.lastModified
// share one sequence, "(time 1)", "(time 2)", so that a resource's created
// and lastModified are equal exactly when they were equal in the other
// stream. Two streams then compare equal exactly when each resource's
// versions and times changed and repeated at the same exchanges, whatever
// the values: a retried PATCH that keeps the version, a GET showing the
// version the PATCH's ETag announced, and meta.created staying put are all
// still compared.
//
// The resource of an ETag header is the one the exchange's Location
// header, else its target, names (/Users/{id} or /Groups/{id}); that of a
// meta object, its meta.location. A value whose resource neither names is
// written "(version)" or "(time)", unnumbered.
type volatile struct {
	seen map[string]map[string]int // resource and kind → value → number
}

// rename returns the name of value, of kind "version" or "time", for
// resource.
func (v *volatile) rename(resource, kind, value string) string {
	if resource == "" {
		return "(" + kind + ")"
	}
	if v.seen == nil {
		v.seen = map[string]map[string]int{}
	}
	key := resource + " " + kind
	m := v.seen[key]
	if m == nil {
		m = map[string]int{}
		v.seen[key] = m
	}
	n, ok := m[value]
	if !ok {
		n = len(m) + 1
		m[value] = n
	}
	return fmt.Sprintf("(%s %d)", kind, n)
}

// resourceOf returns the resource, "Users/{{ada}}", that a Location URL or
// a request target names, or "" when it names no single resource.
func resourceOf(s string) string {
	s, _, _ = strings.Cut(s, "?")
	_, s, ok := strings.Cut(s, "/scim/v2/")
	if !ok {
		return ""
	}
	coll, id, ok := strings.Cut(s, "/")
	if !ok || id == "" || id == ".search" || strings.Contains(id, "/") || (coll != "Users" && coll != "Groups") {
		return ""
	}
	return s
}

// volatileKinds maps the members of meta whose values come from the store's
// clock and version counter to their kind.
var volatileKinds = map[string]string{"created": "time", "lastModified": "time", "version": "version"}

// normalize returns ex, the response to a request to target, with its
// volatile values renamed. The body must be indented as [Replayer.Do] and
// the transcript files indent it (json.Indent with two spaces), which puts
// every member on a line of its own; lines that are not a string member of
// a meta object are kept as they are, and so is everything else: whether
// the ETag header is present, whether meta has these members, and every
// other member (meta.location and meta.resourceType too) in its order.
func (v *volatile) normalize(target string, ex Exchange) Exchange {
	if ex.RespHeader != nil {
		resource := resourceOf(target)
		for _, h := range ex.RespHeader {
			if http.CanonicalHeaderKey(h[0]) == "Location" {
				resource = resourceOf(h[1])
			}
		}
		h := slices.Clone(ex.RespHeader)
		for i := range h {
			if http.CanonicalHeaderKey(h[i][0]) == "Etag" {
				h[i][1] = v.rename(resource, "version", h[i][1])
			}
		}
		ex.RespHeader = h
	}
	lines := strings.Split(ex.RespBody, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " ")
		if trimmed != `"meta": {` {
			continue
		}
		// The meta object: its members, one level deeper, up to the line
		// closing it at the key's indentation.
		indent := len(lines[i]) - len(trimmed)
		type member struct {
			line                   int
			key, kind, value, rest string
		}
		var members []member
		resource := ""
		for i++; i < len(lines); i++ {
			line := lines[i]
			trimmed := strings.TrimLeft(line, " ")
			if len(line)-len(trimmed) == indent && strings.HasPrefix(trimmed, "}") {
				break
			}
			if len(line)-len(trimmed) != indent+2 {
				continue
			}
			rawKey, rest, ok := strings.Cut(trimmed, ": ")
			var key, value string
			if !ok || json.Unmarshal([]byte(rawKey), &key) != nil {
				continue
			}
			raw, comma := strings.CutSuffix(rest, ",")
			if json.Unmarshal([]byte(raw), &value) != nil {
				continue // not a string
			}
			if key == "location" {
				resource = resourceOf(value)
			}
			if kind, ok := volatileKinds[key]; ok {
				c := ""
				if comma {
					c = ","
				}
				members = append(members, member{line: i, key: rawKey, kind: kind, value: value, rest: c})
			}
		}
		for _, m := range members {
			lines[m.line] = lines[m.line][:indent+2] + m.key + ": " + strconv.Quote(v.rename(resource, m.kind, m.value)) + m.rest
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
