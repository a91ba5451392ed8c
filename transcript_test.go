package scim_test

// Golden transcripts: what Entra ID and Okta send, exchange by exchange, with
// what this library answers, in testdata/entra and testdata/okta. They are
// the tests users read, so each file is named after the behaviour it pins
// and each exchange carries the client's exact request shape (CLIENTS.md).
//
// A transcript is a text file:
//
//	# Free text: what the file pins and where the requests come from.
//
//	### Title of the exchange
//	# optional comment lines
//	> PATCH /scim/v2/Users/{{ada}}
//	> If-Match: W/"3"
//	{"schemas": [...], "Operations": [...]}
//	< 200 OK
//	< ETag: W/"4"
//	{ the response body, indented }
//
// Lines starting with "> " are the request line and headers, then comes the
// request body; lines starting with "< " are the status and the ETag and
// Location headers, then comes the response body. The replayer sends every
// request through http.StripPrefix("/scim/v2", BearerAuth(...)(Handler))
// over memstore with a fixed clock, adding the tenant's bearer token as
// Entra does, and Content-Type: application/scim+json to a request with a
// body. memstore's ids are random, so they are named: the id in the expected
// body of a 201, written "{{name}}", names the created resource, and every
// occurrence of the id in later requests and responses reads {{name}}.
// Timestamps and versions are deterministic.
//
//	go test -run TestTranscripts -update
//
// rewrites the expected responses from what the handler answers now; review
// the diff before committing it.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

var update = flag.Bool("update", false, "rewrite the expected responses of the golden transcripts in testdata/entra and testdata/okta")

// transcriptToken is the bearer token of the transcripts' tenant.
const transcriptToken = "scimhost-transcript-token"

// transcriptClock is the time memstore reads during a replay.
var transcriptClock = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// exchange is one request and the response expected to it.
type exchange struct {
	title    string
	comments []string
	method   string
	target   string
	header   [][2]string
	body     string
	status   int
	// respHeader holds the ETag and Location headers, in that order.
	respHeader [][2]string
	respBody   string
}

// transcript is a parsed transcript file.
type transcript struct {
	preamble  []string
	exchanges []exchange
}

func parseTranscript(text string) (*transcript, error) {
	tr := &transcript{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var ex *exchange
	var body []string
	// state: 0 before the request line, 1 request headers, 2 request body,
	// 3 response headers, 4 response body.
	state := 0
	flush := func() error {
		if ex == nil {
			return nil
		}
		text := strings.TrimSpace(strings.Join(body, "\n"))
		switch state {
		case 0, 1, 2:
			return fmt.Errorf("exchange %q has no response (a line starting with \"< \")", ex.title)
		case 3:
		case 4:
			ex.respBody = text
		}
		tr.exchanges = append(tr.exchanges, *ex)
		return nil
	}
	for n, line := range lines {
		switch {
		case strings.HasPrefix(line, "### "):
			if err := flush(); err != nil {
				return nil, err
			}
			ex, body, state = &exchange{title: strings.TrimPrefix(line, "### ")}, nil, 0
		case ex == nil:
			tr.preamble = append(tr.preamble, line)
		case state == 0 && strings.HasPrefix(line, "#"):
			ex.comments = append(ex.comments, line)
		case state == 0 && strings.TrimSpace(line) == "":
		case state == 0:
			method, target, ok := strings.Cut(strings.TrimPrefix(line, "> "), " ")
			if !strings.HasPrefix(line, "> ") || !ok {
				return nil, fmt.Errorf("line %d: expected a request line \"> METHOD /path\", found %q", n+1, line)
			}
			ex.method, ex.target, state = method, target, 1
		case (state == 1 || state == 2) && strings.HasPrefix(line, "< "):
			ex.body = strings.TrimSpace(strings.Join(body, "\n"))
			body = nil
			code, _, _ := strings.Cut(strings.TrimPrefix(line, "< "), " ")
			status, err := strconv.Atoi(code)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad status line %q", n+1, line)
			}
			ex.status, state = status, 3
		case state == 1 && strings.HasPrefix(line, "> "):
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "> "), ":")
			if !ok {
				return nil, fmt.Errorf("line %d: bad header %q", n+1, line)
			}
			ex.header = append(ex.header, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		case state == 1 || state == 2:
			state = 2
			body = append(body, line)
		case state == 3 && strings.HasPrefix(line, "< "):
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "< "), ":")
			if !ok {
				return nil, fmt.Errorf("line %d: bad header %q", n+1, line)
			}
			ex.respHeader = append(ex.respHeader, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		default: // state 3 or 4
			state = 4
			body = append(body, line)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return tr, nil
}

func (tr *transcript) format() string {
	var b strings.Builder
	pre := strings.TrimRight(strings.Join(tr.preamble, "\n"), "\n")
	if pre != "" {
		b.WriteString(pre)
		b.WriteString("\n\n")
	}
	for i, ex := range tr.exchanges {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n", ex.title)
		for _, c := range ex.comments {
			b.WriteString(c + "\n")
		}
		fmt.Fprintf(&b, "> %s %s\n", ex.method, ex.target)
		for _, h := range ex.header {
			fmt.Fprintf(&b, "> %s: %s\n", h[0], h[1])
		}
		if ex.body != "" {
			b.WriteString(ex.body + "\n")
		}
		fmt.Fprintf(&b, "< %d %s\n", ex.status, http.StatusText(ex.status))
		for _, h := range ex.respHeader {
			fmt.Fprintf(&b, "< %s: %s\n", h[0], h[1])
		}
		if ex.respBody != "" {
			b.WriteString(ex.respBody + "\n")
		}
	}
	return b.String()
}

// idName finds the name a 201's expected body gives the created id.
var idName = regexp.MustCompile(`"id": "\{\{([A-Za-z0-9_.-]+)\}\}"`)

// replayer sends a transcript's requests to a fresh handler and store.
type replayer struct {
	h     http.Handler
	names map[string]string // name → id
	ids   map[string]string // id → name
	count map[string]int    // resources created per endpoint, for default names
}

func newReplayer(t *testing.T) *replayer {
	t.Helper()
	store := memstore.New(
		memstore.WithClock(func() time.Time { return transcriptClock }),
		memstore.WithTenant(func(ctx context.Context) string { tn, _ := scim.TenantFrom(ctx); return tn.ID }),
	)
	h := newHandler(t, store, scim.Options{})
	var tokens scim.Tokens
	if err := tokens.Add("contoso", scim.HashToken(transcriptToken)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))
	return &replayer{h: mux, names: map[string]string{}, ids: map[string]string{}, count: map[string]int{}}
}

// expand replaces {{name}} with the id bound to name.
func (rp *replayer) expand(t *testing.T, s string) string {
	t.Helper()
	return regexp.MustCompile(`\{\{([A-Za-z0-9_.-]+)\}\}`).ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		id, ok := rp.names[name]
		if !ok {
			t.Fatalf("%s names no resource created so far", m)
		}
		return id
	})
}

// name replaces every bound id in s with its {{name}}.
func (rp *replayer) name(s string) string {
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

// do sends ex's request and returns the exchange with the response the
// handler gave, in the transcript's notation.
func (rp *replayer) do(t *testing.T, ex exchange) exchange {
	t.Helper()
	body := rp.expand(t, ex.body)
	req := httptest.NewRequest(ex.method, "https://app.example.com"+rp.expand(t, ex.target), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+transcriptToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for _, h := range ex.header {
		req.Header.Set(h[0], rp.expand(t, h[1]))
	}
	rec := httptest.NewRecorder()
	rp.h.ServeHTTP(rec, req)

	got := ex
	got.status = rec.Code
	got.respHeader, got.respBody = nil, ""
	if rec.Code == http.StatusCreated {
		var created struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.ID == "" {
			t.Fatalf("%s: 201 without an id: %s", ex.title, rec.Body)
		}
		name := ""
		if m := idName.FindStringSubmatch(ex.respBody); m != nil {
			name = m[1]
		} else {
			kind := strings.ToLower(strings.TrimSuffix(pathOf(ex.target), "s"))
			rp.count[kind]++
			name = kind + strconv.Itoa(rp.count[kind])
		}
		if old, ok := rp.names[name]; ok {
			t.Fatalf("%s: {{%s}} already names %s", ex.title, name, old)
		}
		rp.names[name], rp.ids[created.ID] = created.ID, name
	}
	for _, k := range []string{"ETag", "Location"} {
		if v := rec.Header().Get(k); v != "" {
			got.respHeader = append(got.respHeader, [2]string{k, rp.name(v)})
		}
	}
	if rec.Body.Len() > 0 {
		if ct := rec.Header().Get("Content-Type"); ct != "application/scim+json" {
			t.Errorf("%s: Content-Type %q", ex.title, ct)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
			t.Errorf("%s: the response is not JSON: %v: %s", ex.title, err, rec.Body)
			pretty.Reset()
			pretty.Write(rec.Body.Bytes())
		}
		got.respBody = rp.name(pretty.String())
	}
	return got
}

// pathOf returns the last collection segment of a request target:
// "/scim/v2/Users?x" → "Users".
func pathOf(target string) string {
	p, _, _ := strings.Cut(target, "?")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i] == "Users" || segs[i] == "Groups" {
			return segs[i]
		}
	}
	return "resource"
}

// transcriptFiles lists the golden transcripts.
func transcriptFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"entra", "okta"} {
		m, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/entra and testdata/okta")
	}
	return files
}

func loadTranscript(t testing.TB, file string) *transcript {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := parseTranscript(string(text))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return tr
}

// TestTranscripts replays every golden transcript against a fresh Handler
// and memstore and compares each response with the expected one.
func TestTranscripts(t *testing.T) {
	for _, file := range transcriptFiles(t) {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			tr := loadTranscript(t, file)
			rp := newReplayer(t)
			got := &transcript{preamble: tr.preamble}
			for _, ex := range tr.exchanges {
				g := rp.do(t, ex)
				got.exchanges = append(got.exchanges, g)
				if *update {
					continue
				}
				want := exchange{status: ex.status, respHeader: ex.respHeader, respBody: ex.respBody}
				have := exchange{status: g.status, respHeader: g.respHeader, respBody: g.respBody}
				if diff := cmp.Diff(want, have, cmp.AllowUnexported(exchange{})); diff != "" {
					t.Errorf("%s: %s %s: response differs (-want +got):\n%s", ex.title, ex.method, ex.target, diff)
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(got.format()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestTranscriptFormat checks that formatting a parsed transcript gives the
// file back, so that -update rewrites only responses.
func TestTranscriptFormat(t *testing.T) {
	for _, file := range transcriptFiles(t) {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		tr := loadTranscript(t, file)
		if diff := cmp.Diff(string(text), tr.format()); diff != "" {
			t.Errorf("%s: parse and format do not round-trip (-file +formatted):\n%s", file, diff)
		}
	}
}
