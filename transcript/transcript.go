// Package transcript reads, writes and replays SCIM transcripts: text files
// that hold a client's requests, exchange by exchange, with the answers a
// server must give. The repository's testdata/entra and testdata/okta hold
// golden transcripts of what Microsoft Entra ID and Okta send, each file
// named after the behaviour it pins, each request in the client's exact
// shape (capitalised PATCH ops, "False" as a string, form-encoded filters).
//
// The package has no dependency outside the standard library and does not
// import package testing: its functions return errors and differences, and
// the caller decides what fails. The library's own tests replay the golden
// transcripts against its Handler over memstore (TestTranscripts) and over
// HTTP against the demo server on SQLite and PostgreSQL; a host replays
// them against its own server, its own Store or middleware in front, from
// its own tests:
//
//	files, err := transcript.Files("path/to/scimhost/testdata")
//	...
//	for _, file := range files {
//		tr, err := transcript.Load(file)
//		...
//		rp := transcript.NewReplayer(transcript.Options{
//			Send: transcript.InProcess(myHandler), // or client.Do with Origin
//			Token: token, VolatileMeta: true,
//		})
//		for _, ex := range tr.Exchanges {
//			got, err := rp.Do(ctx, ex)
//			...
//			if diff := rp.Diff(ex, got); diff != "" {
//				t.Errorf("%s:\n%s", ex.Title, diff)
//			}
//		}
//	}
//
// Each Replayer needs a fresh, empty store: the transcripts create users
// with fixed userNames. The comparison is exact but for the ids (named) and,
// with VolatileMeta, the timestamps and versions a store chooses; a server
// whose answers differ in another way (its own attribute order, attributes
// the library does not return) differs. The scimcheck command
// (cmd/scimcheck) checks any server by behaviour instead, and writes its
// exchanges in this format with [Capture].
//
// # Format
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
// Location headers, then comes the response body, indented by
// json.Indent with two spaces. [Parse] reads this; [Transcript.Format]
// writes it back byte for byte, so that rewriting the responses of a file
// changes nothing else.
//
// The transcripts are written against the origin [Origin], with the SCIM
// endpoints at /scim/v2. Ids are random in every store, so they are named:
// the id in the expected body of a 201, written "{{name}}", names the
// created resource, and every occurrence of the id in later requests and
// responses reads {{name}}. A 201 whose expected body names no id gets the
// name of its resource type and a count, "user1", "group2".
//
// # Replaying
//
// A [Replayer] sends each exchange's request, through a function the
// caller supplies ([Options].Send: [InProcess] for an http.Handler, or an
// http.Client's Do for a server), adding the bearer token as Entra ID does
// and Content-Type: application/scim+json to a request with a body. It
// returns the exchange with the response it got, in the transcript's
// notation (ids named, the server's origin written as [Origin]), and
// [Replayer.Diff] compares that with the expected exchange: status, ETag
// and Location headers, and body.
//
// Over memstore with a fixed clock the timestamps and versions are
// deterministic, and compared exactly. A store with a real clock and
// versions of its own (sqlstore counts versions per resource)
// sets [Options].VolatileMeta: Diff then compares the ETag header,
// meta.created, meta.lastModified and meta.version by when they change
// and repeat per resource rather than by value, in both the expected and
// the answered responses, and still compares everything else exactly.
package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Origin is the scheme and host the transcripts are written against: their
// Location headers and meta.location and $ref values start with it.
const Origin = "https://app.example.com"

// Exchange is one request and the response to it. Its zero value is an
// exchange with no request line, which [Transcript.Format] would write as
// such.
type Exchange struct {
	// Title is the text after "### ".
	Title string
	// Comments are the "#" lines between the title and the request line,
	// kept verbatim.
	Comments []string
	// Method and Target are the request line: "PATCH" and
	// "/scim/v2/Users/{{ada}}".
	Method, Target string
	// Header holds the request headers in file order, as name and value.
	Header [][2]string
	// Body is the request body, trimmed of surrounding blank lines.
	Body string
	// Status is the response's status code.
	Status int
	// RespHeader holds the ETag and Location headers of the response, in
	// that order, as name and value.
	RespHeader [][2]string
	// RespBody is the response body, indented JSON, or "" for none.
	RespBody string
}

// Transcript is a parsed transcript file. Its zero value is an empty
// transcript.
type Transcript struct {
	// Preamble holds the lines before the first exchange, verbatim.
	Preamble []string
	// Exchanges are the exchanges in file order.
	Exchanges []Exchange
}

// Parse reads a transcript in the format of the package comment. It fails
// on a line it cannot place (a bad request line, status line or header) and
// on an exchange without a response, naming the line or the exchange.
func Parse(text string) (*Transcript, error) {
	tr := &Transcript{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var ex *Exchange
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
			return fmt.Errorf("exchange %q has no response (a line starting with \"< \")", ex.Title)
		case 3:
		case 4:
			ex.RespBody = text
		}
		tr.Exchanges = append(tr.Exchanges, *ex)
		return nil
	}
	for n, line := range lines {
		switch {
		case strings.HasPrefix(line, "### "):
			if err := flush(); err != nil {
				return nil, err
			}
			ex, body, state = &Exchange{Title: strings.TrimPrefix(line, "### ")}, nil, 0
		case ex == nil:
			tr.Preamble = append(tr.Preamble, line)
		case state == 0 && strings.HasPrefix(line, "#"):
			ex.Comments = append(ex.Comments, line)
		case state == 0 && strings.TrimSpace(line) == "":
		case state == 0:
			method, target, ok := strings.Cut(strings.TrimPrefix(line, "> "), " ")
			if !strings.HasPrefix(line, "> ") || !ok {
				return nil, fmt.Errorf("line %d: expected a request line \"> METHOD /path\", found %q", n+1, line)
			}
			ex.Method, ex.Target, state = method, target, 1
		case (state == 1 || state == 2) && strings.HasPrefix(line, "< "):
			ex.Body = strings.TrimSpace(strings.Join(body, "\n"))
			body = nil
			code, _, _ := strings.Cut(strings.TrimPrefix(line, "< "), " ")
			status, err := strconv.Atoi(code)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad status line %q", n+1, line)
			}
			ex.Status, state = status, 3
		case state == 1 && strings.HasPrefix(line, "> "):
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "> "), ":")
			if !ok {
				return nil, fmt.Errorf("line %d: bad header %q", n+1, line)
			}
			ex.Header = append(ex.Header, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		case state == 1 || state == 2:
			state = 2
			body = append(body, line)
		case state == 3 && strings.HasPrefix(line, "< "):
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "< "), ":")
			if !ok {
				return nil, fmt.Errorf("line %d: bad header %q", n+1, line)
			}
			ex.RespHeader = append(ex.RespHeader, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
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

// Format writes tr in the format of the package comment; for a transcript
// that Parse read from a file in that format it gives the file back.
func (tr *Transcript) Format() string {
	var b strings.Builder
	pre := strings.TrimRight(strings.Join(tr.Preamble, "\n"), "\n")
	if pre != "" {
		b.WriteString(pre)
		b.WriteString("\n\n")
	}
	for i, ex := range tr.Exchanges {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n", ex.Title)
		for _, c := range ex.Comments {
			b.WriteString(c + "\n")
		}
		fmt.Fprintf(&b, "> %s %s\n", ex.Method, ex.Target)
		for _, h := range ex.Header {
			fmt.Fprintf(&b, "> %s: %s\n", h[0], h[1])
		}
		if ex.Body != "" {
			b.WriteString(ex.Body + "\n")
		}
		fmt.Fprintf(&b, "< %d %s\n", ex.Status, http.StatusText(ex.Status))
		for _, h := range ex.RespHeader {
			fmt.Fprintf(&b, "< %s: %s\n", h[0], h[1])
		}
		if ex.RespBody != "" {
			b.WriteString(ex.RespBody + "\n")
		}
	}
	return b.String()
}

// Load reads and parses the transcript file. Its errors name the file.
func Load(file string) (*Transcript, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	tr, err := Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return tr, nil
}

// Files lists the golden transcripts under testdata, the path of the
// repository's testdata directory: the *.txt files of testdata/entra, then
// of testdata/okta, then of testdata/onelogin, each in lexical order. It fails when there are none, so
// that a wrong path cannot make a replay pass by replaying nothing.
func Files(testdata string) ([]string, error) {
	var files []string
	for _, dir := range []string{"entra", "okta", "onelogin"} {
		m, err := filepath.Glob(filepath.Join(testdata, dir, "*.txt"))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no transcripts in %s and %s", filepath.Join(testdata, "entra"), filepath.Join(testdata, "okta"))
	}
	return files, nil
}

// Collection returns the last collection segment of a request target,
// "Users" or "Groups", or "resource" when it names neither:
// "/scim/v2/Users/{{ada}}?x" → "Users".
func Collection(target string) string {
	p, _, _ := strings.Cut(target, "?")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i] == "Users" || segs[i] == "Groups" {
			return segs[i]
		}
	}
	return "resource"
}

// String writes ex as one exchange of a transcript, as [Transcript.Format]
// writes it.
func (ex Exchange) String() string {
	return (&Transcript{Exchanges: []Exchange{ex}}).Format()
}

// Capture returns the exchange of an HTTP request and its response, in
// the transcript's notation but with the ids as they are: the method and
// req.URL's path and query as the target; the request headers other than
// those a [Replayer] sets itself or that say nothing about SCIM
// (Authorization, Content-Type, Content-Length, Accept, Accept-Encoding,
// User-Agent), sorted by name; the body; the status, the ETag and Location
// headers, and the response body, indented when it is JSON. body and
// respBody are the bodies, which the caller has read. A nil resp (no
// answer) leaves the response empty.
//
// It is how a tool that talks to a SCIM server itself (scimcheck) logs
// what it sent and got in the same notation as the golden transcripts.
func Capture(req *http.Request, body []byte, resp *http.Response, respBody []byte) Exchange {
	ex := Exchange{Method: req.Method, Body: strings.TrimSpace(string(body))}
	if req.URL != nil {
		ex.Target = req.URL.RequestURI()
	}
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Content-Type", "Content-Length", "Accept", "Accept-Encoding", "User-Agent":
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range req.Header[k] {
			ex.Header = append(ex.Header, [2]string{k, v})
		}
	}
	if resp == nil {
		return ex
	}
	ex.Status = resp.StatusCode
	for _, k := range []string{"ETag", "Location"} {
		if v := resp.Header.Get(k); v != "" {
			ex.RespHeader = append(ex.RespHeader, [2]string{k, v})
		}
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, respBody, "", "  ") == nil {
		ex.RespBody = pretty.String()
	} else {
		ex.RespBody = strings.TrimSpace(string(respBody))
	}
	return ex
}
