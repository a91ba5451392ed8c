package transcript

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = `# What this file pins.
# Second line.

### Create
# a comment
> POST /scim/v2/Users
> User-Agent: Okta SCIM Client 1.0.0
{"userName":"ada"}
< 201 Created
< ETag: W/"1"
< Location: https://app.example.com/scim/v2/Users/{{ada}}
{
  "id": "{{ada}}"
}

### Delete
> DELETE /scim/v2/Users/{{ada}}
< 204 No Content
`

func TestParse(t *testing.T) {
	tr, err := Parse(sample)
	if err != nil {
		t.Fatal(err)
	}
	want := &Transcript{
		Preamble: []string{"# What this file pins.", "# Second line.", ""},
		Exchanges: []Exchange{
			{
				Title: "Create", Comments: []string{"# a comment"},
				Method: "POST", Target: "/scim/v2/Users",
				Header: [][2]string{{"User-Agent", "Okta SCIM Client 1.0.0"}},
				Body:   `{"userName":"ada"}`,
				Status: 201,
				RespHeader: [][2]string{
					{"ETag", `W/"1"`},
					{"Location", "https://app.example.com/scim/v2/Users/{{ada}}"},
				},
				RespBody: "{\n  \"id\": \"{{ada}}\"\n}",
			},
			{Title: "Delete", Method: "DELETE", Target: "/scim/v2/Users/{{ada}}", Status: 204},
		},
	}
	if diff := cmp.Diff(want, tr); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sample, tr.Format()); diff != "" {
		t.Errorf("Format does not give the text back (-text +formatted):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"no response", "### A\n> GET /x\n", `exchange "A" has no response`},
		{"no request line", "### A\nGET /x\n< 200 OK\n", `line 2: expected a request line`},
		{"request line without a target", "### A\n> GET\n< 200 OK\n", `line 2: expected a request line`},
		{"bad status", "### A\n> GET /x\n< OK\n", `line 3: bad status line "< OK"`},
		{"bad request header", "### A\n> GET /x\n> NoColon\n< 200 OK\n", `line 3: bad header "> NoColon"`},
		{"bad response header", "### A\n> GET /x\n< 200 OK\n< NoColon\n", `line 4: bad header "< NoColon"`},
		{"exchange before the last has no response", "### A\n> GET /x\n### B\n> GET /y\n< 200 OK\n", `exchange "A" has no response`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestCollection(t *testing.T) {
	tests := []struct{ target, want string }{
		{"/scim/v2/Users", "Users"},
		{"/scim/v2/Users/{{ada}}?attributes=groups", "Users"},
		{"/scim/v2/Groups?filter=displayName+eq+%22Users%22", "Groups"},
		{"/scim/v2/ServiceProviderConfig", "resource"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if got := Collection(tt.target); got != tt.want {
				t.Errorf("Collection(%q) = %q, want %q", tt.target, got, tt.want)
			}
		})
	}
}

func TestFiles(t *testing.T) {
	files, err := Files("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, f := range files {
		if d := filepath.Base(filepath.Dir(f)); len(dirs) == 0 || dirs[len(dirs)-1] != d {
			dirs = append(dirs, d)
		}
	}
	if want := []string{"entra", "okta", "onelogin"}; !slices.Equal(dirs, want) {
		t.Errorf("Files = %q: directories %q, want %q in that order", files, dirs, want)
	}
	if _, err := Files(t.TempDir()); err == nil {
		t.Error("Files of a directory without transcripts: no error")
	}
}

// userBody is an indented user ada with the given meta values.
func userBody(created, lastModified, version string) string {
	return fmt.Sprintf(`{
  "id": "{{ada}}",
  "meta": {
    "resourceType": "User",
    "created": %q,
    "lastModified": %q,
    "location": "https://app.example.com/scim/v2/Users/{{ada}}",
    "version": %q
  }
}`, created, lastModified, version)
}

func TestVolatileNormalize(t *testing.T) {
	type step struct {
		target   string
		in, want Exchange
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "values numbered per resource in order of appearance, ETag and meta.version together",
			steps: []step{
				{
					target: "/scim/v2/Users",
					in: Exchange{Status: 201, RespHeader: [][2]string{{"ETag", `W/"7"`}, {"Location", "https://app.example.com/scim/v2/Users/{{ada}}"}},
						RespBody: userBody("2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z", `W/"7"`)},
					want: Exchange{Status: 201, RespHeader: [][2]string{{"ETag", "(version 1)"}, {"Location", "https://app.example.com/scim/v2/Users/{{ada}}"}},
						RespBody: userBody("(time 1)", "(time 1)", "(version 1)")},
				},
				{
					target: "/scim/v2/Users/{{ada}}",
					in:     Exchange{Status: 204, RespHeader: [][2]string{{"ETag", `W/"9"`}}},
					want:   Exchange{Status: 204, RespHeader: [][2]string{{"ETag", "(version 2)"}}},
				},
				{
					target: "/scim/v2/Users/{{ada}}?attributes=userName",
					in: Exchange{Status: 200, RespHeader: [][2]string{{"ETag", `W/"9"`}},
						RespBody: userBody("2026-03-02T09:00:00Z", "2026-03-02T09:00:01Z", `W/"9"`)},
					want: Exchange{Status: 200, RespHeader: [][2]string{{"ETag", "(version 2)"}},
						RespBody: userBody("(time 1)", "(time 2)", "(version 2)")},
				},
			},
		},
		{
			name: "every resource of a list on its own; members of the same names outside meta kept",
			steps: []step{{
				target: "/scim/v2/Groups?filter=x",
				in: Exchange{Status: 200, RespBody: `{
  "Resources": [
    {
      "version": "kept",
      "urn:example:ext": {
        "created": "kept"
      },
      "meta": {
        "created": "2026-03-02T09:00:00Z",
        "location": "https://app.example.com/scim/v2/Groups/{{a}}",
        "version": "W/\"1\""
      }
    },
    {
      "meta": {
        "lastModified": "2026-03-02T09:00:00Z",
        "location": "https://app.example.com/scim/v2/Groups/{{b}}",
        "version": "W/\"2\""
      },
      "created": "kept"
    },
    {
      "meta": {
        "version": "W/\"2\""
      }
    }
  ]
}`},
				want: Exchange{Status: 200, RespBody: `{
  "Resources": [
    {
      "version": "kept",
      "urn:example:ext": {
        "created": "kept"
      },
      "meta": {
        "created": "(time 1)",
        "location": "https://app.example.com/scim/v2/Groups/{{a}}",
        "version": "(version 1)"
      }
    },
    {
      "meta": {
        "lastModified": "(time 1)",
        "location": "https://app.example.com/scim/v2/Groups/{{b}}",
        "version": "(version 1)"
      },
      "created": "kept"
    },
    {
      "meta": {
        "version": "(version)"
      }
    }
  ]
}`},
			}},
		},
		{
			name: "an ETag whose resource is unknown",
			steps: []step{{
				target: "/scim/v2/Users/.search",
				in:     Exchange{Status: 200, RespHeader: [][2]string{{"ETag", `W/"1"`}}},
				want:   Exchange{Status: 200, RespHeader: [][2]string{{"ETag", "(version)"}}},
			}},
		},
		{
			name: "no headers, no body",
			steps: []step{{
				target: "/scim/v2/Users/{{ada}}",
				in:     Exchange{Status: 204},
				want:   Exchange{Status: 204},
			}},
		},
		{
			name: "a body not indented is kept",
			steps: []step{{
				target: "/scim/v2/Users/{{ada}}",
				in:     Exchange{Status: 200, RespBody: `{"meta":{"version":"W/\"1\""}}`},
				want:   Exchange{Status: 200, RespBody: `{"meta":{"version":"W/\"1\""}}`},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v volatile
			for i, s := range tt.steps {
				in := s.in
				got := v.normalize(s.target, in)
				if diff := cmp.Diff(s.want, got); diff != "" {
					t.Errorf("step %d: normalize (-want +got):\n%s", i, diff)
				}
				if diff := cmp.Diff(s.in, in); diff != "" {
					t.Errorf("step %d: normalize changed its argument (-before +after):\n%s", i, diff)
				}
			}
		})
	}
}

// TestDiffVolatileMeta: with VolatileMeta, Diff ignores the values a store
// chooses but not when they change.
func TestDiffVolatileMeta(t *testing.T) {
	created := Exchange{Method: "POST", Target: "/scim/v2/Users", Status: 201,
		RespHeader: [][2]string{{"ETag", `W/"1"`}, {"Location", "https://app.example.com/scim/v2/Users/{{ada}}"}},
		RespBody:   userBody("2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z", `W/"1"`)}
	patched := func(version string) Exchange {
		return Exchange{Method: "PATCH", Target: "/scim/v2/Users/{{ada}}", Status: 204, RespHeader: [][2]string{{"ETag", version}}}
	}
	read := func(created, lastModified, version string) Exchange {
		return Exchange{Method: "GET", Target: "/scim/v2/Users/{{ada}}", Status: 200,
			RespHeader: [][2]string{{"ETag", version}}, RespBody: userBody(created, lastModified, version)}
	}
	// The expected stream: memstore's global counter and fixed clock.
	want := []Exchange{created, patched(`W/"4"`), patched(`W/"4"`), read("2026-03-02T09:00:00Z", "2026-03-02T09:00:00.001Z", `W/"4"`)}
	sqlCreated := created
	sqlCreated.RespHeader = [][2]string{{"ETag", `W/"1"`}, {"Location", "https://app.example.com/scim/v2/Users/{{ada}}"}}
	sqlCreated.RespBody = userBody("2026-07-01T12:00:00.123456Z", "2026-07-01T12:00:00.123456Z", `W/"1"`)
	tests := []struct {
		name     string
		got      []Exchange
		wantDiff []bool // per exchange
	}{
		{
			name:     "other values, same changes",
			got:      []Exchange{sqlCreated, patched(`W/"2"`), patched(`W/"2"`), read("2026-07-01T12:00:00.123456Z", "2026-07-01T12:00:00.5Z", `W/"2"`)},
			wantDiff: []bool{false, false, false, false},
		},
		{
			name:     "a retried PATCH bumps the version",
			got:      []Exchange{sqlCreated, patched(`W/"2"`), patched(`W/"3"`), read("2026-07-01T12:00:00.123456Z", "2026-07-01T12:00:00.5Z", `W/"3"`)},
			wantDiff: []bool{false, false, true, true},
		},
		{
			name:     "created changes",
			got:      []Exchange{sqlCreated, patched(`W/"2"`), patched(`W/"2"`), read("2026-07-01T12:00:00.5Z", "2026-07-01T12:00:00.5Z", `W/"2"`)},
			wantDiff: []bool{false, false, false, true},
		},
		{
			name:     "the ETag is not meta.version",
			got:      []Exchange{sqlCreated, patched(`W/"2"`), patched(`W/"2"`), read("2026-07-01T12:00:00.123456Z", "2026-07-01T12:00:00.5Z", `W/"1"`)},
			wantDiff: []bool{false, false, false, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := NewReplayer(Options{VolatileMeta: true})
			for i := range want {
				diff := rp.Diff(want[i], tt.got[i])
				if (diff != "") != tt.wantDiff[i] {
					t.Errorf("exchange %d (%s): Diff = %q, want a diff: %v", i, want[i].Method, diff, tt.wantDiff[i])
				}
			}
		})
	}
	t.Run("without VolatileMeta", func(t *testing.T) {
		if NewReplayer(Options{}).Diff(created, sqlCreated) == "" {
			t.Error("other times compare equal")
		}
	})
}

// fakeSCIM answers like the library's handler would, at base: a POST to
// /Users creates a user with the next id of ids, a GET of /Users/{id}
// returns it with a time and version that change at every call, counting
// from skip+1.
func fakeSCIM(base string, skip int, ids ...string) http.Handler {
	calls := skip
	users := map[string]bool{}
	mux := http.NewServeMux()
	resource := func(id string) string {
		calls++
		return fmt.Sprintf(`{"id":%q,"meta":{"created":"2026-03-02T09:00:0%dZ","location":%q,"version":"W/\"%d\""}}`, id, calls, base+"/Users/"+id, calls)
	}
	mux.HandleFunc("POST /scim/v2/Users", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" || r.Header.Get("Content-Type") != "application/scim+json" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := ids[len(users)]
		users[id] = true
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("Location", base+"/Users/"+id)
		w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, calls+1))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, resource(id))
	})
	mux.HandleFunc("GET /scim/v2/Users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !users[r.PathValue("id")] {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprint(w, resource(r.PathValue("id")))
	})
	mux.HandleFunc("GET /scim/v2/text", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("GET /scim/v2/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprint(w, "{")
	})
	return mux
}

const replayed = `### Create ada
> POST /scim/v2/Users
{"userName":"ada"}
< 201 Created
< ETag: W/"1"
< Location: https://app.example.com/scim/v2/Users/{{ada}}
{
  "id": "{{ada}}",
  "meta": {
    "created": "2026-03-02T09:00:01Z",
    "location": "https://app.example.com/scim/v2/Users/{{ada}}",
    "version": "W/\"1\""
  }
}

### Create a user the transcript does not name
> POST /scim/v2/Users
{"userName":"grace"}
< 201 Created
< ETag: W/"2"
< Location: https://app.example.com/scim/v2/Users/{{user1}}
{
  "id": "{{user1}}",
  "meta": {
    "created": "2026-03-02T09:00:02Z",
    "location": "https://app.example.com/scim/v2/Users/{{user1}}",
    "version": "W/\"2\""
  }
}

### Read ada
> GET /scim/v2/Users/{{ada}}
< 200 OK
{
  "id": "{{ada}}",
  "meta": {
    "created": "2026-03-02T09:00:03Z",
    "location": "https://app.example.com/scim/v2/Users/{{ada}}",
    "version": "W/\"3\""
  }
}
`

// TestReplay replays a transcript in process and over HTTP, where the
// server's origin is not the transcripts'.
func TestReplay(t *testing.T) {
	tr, err := Parse(replayed)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"0b5e-ada", "0b5e-ada-2"} // one id inside the other
	t.Run("in process", func(t *testing.T) {
		rp := NewReplayer(Options{Send: InProcess(fakeSCIM(Origin+"/scim/v2", 0, ids...)), Token: "t0ken"})
		for _, ex := range tr.Exchanges {
			got, err := rp.Do(t.Context(), ex)
			if err != nil {
				t.Fatalf("%s: %v", ex.Title, err)
			}
			if diff := rp.Diff(ex, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", ex.Title, diff)
			}
		}
	})
	t.Run("over HTTP, volatile meta", func(t *testing.T) {
		var h http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
		defer srv.Close()
		// The server's times and versions are not the transcript's.
		h = fakeSCIM(srv.URL+"/scim/v2", 4, ids...)

		rp := NewReplayer(Options{Send: srv.Client().Do, Origin: srv.URL, Token: "t0ken", VolatileMeta: true})
		for _, ex := range tr.Exchanges {
			got, err := rp.Do(t.Context(), ex)
			if err != nil {
				t.Fatalf("%s: %v", ex.Title, err)
			}
			if diff := rp.Diff(ex, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", ex.Title, diff)
			}
		}
		// Without VolatileMeta the same exchange differs.
		got, err := rp.Do(t.Context(), tr.Exchanges[2])
		if err != nil {
			t.Fatal(err)
		}
		strict := NewReplayer(Options{Send: srv.Client().Do, Origin: srv.URL, Token: "t0ken"})
		if strict.Diff(tr.Exchanges[2], got) == "" {
			t.Error("a different version and time compare equal without VolatileMeta")
		}
		if !strings.Contains(got.RespBody, `"location": "https://app.example.com/scim/v2/Users/{{ada}}"`) {
			t.Errorf("the server's origin and ids are not written as the transcript's:\n%s", got.RespBody)
		}
	})
}

func TestReplayErrors(t *testing.T) {
	tests := []struct {
		name string
		ex   Exchange
		want string
	}{
		{"unknown name in the target", Exchange{Method: "GET", Target: "/scim/v2/Users/{{nobody}}"}, "{{nobody}} names no resource"},
		{"unknown name in the body", Exchange{Method: "POST", Target: "/scim/v2/Users", Body: `{"manager":"{{nobody}}"}`}, "{{nobody}} names no resource"},
		{"unknown name in a header", Exchange{Method: "GET", Target: "/scim/v2/Users", Header: [][2]string{{"If-Match", "{{nobody}}"}}}, "{{nobody}} names no resource"},
		{"not application/scim+json", Exchange{Method: "GET", Target: "/scim/v2/text"}, `Content-Type "text/plain; charset=utf-8"`},
		{"not JSON", Exchange{Method: "GET", Target: "/scim/v2/broken"}, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := NewReplayer(Options{Send: InProcess(fakeSCIM(Origin+"/scim/v2", 0)), Token: "t0ken"})
			if _, err := rp.Do(t.Context(), tt.ex); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Do: %v, want an error saying %q", err, tt.want)
			}
		})
	}
	t.Run("a name bound twice", func(t *testing.T) {
		rp := NewReplayer(Options{Send: InProcess(fakeSCIM(Origin+"/scim/v2", 0, "id-1", "id-2")), Token: "t0ken"})
		ex := Exchange{Method: "POST", Target: "/scim/v2/Users", Body: `{}`, RespBody: `"id": "{{ada}}"`}
		if _, err := rp.Do(t.Context(), ex); err != nil {
			t.Fatal(err)
		}
		if _, err := rp.Do(t.Context(), ex); err == nil || !strings.Contains(err.Error(), "{{ada}} already names id-1") {
			t.Errorf("Do: %v, want an error saying {{ada}} already names id-1", err)
		}
	})
	t.Run("no Send", func(t *testing.T) {
		if _, err := NewReplayer(Options{}).Do(t.Context(), Exchange{Method: "GET", Target: "/"}); err == nil {
			t.Error("Do without Send: no error")
		}
	})
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb", "a\nb", ""},
		{"a line changed", "< 200 OK\n{\n  \"x\": 1\n}", "< 200 OK\n{\n  \"x\": 2\n}", " < 200 OK\n {\n-  \"x\": 1\n+  \"x\": 2\n }\n"},
		{"a line added", "a\nc", "a\nb\nc", " a\n+b\n c\n"},
		{"a line removed", "a\nb\nc", "a\nc", " a\n-b\n c\n"},
		{"everything differs", "a", "b", "-a\n+b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lineDiff(tt.a, tt.b)
			if got != tt.want {
				t.Errorf("lineDiff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestCapture(t *testing.T) {
	req := httptest.NewRequest("PATCH", "https://app.example.com/scim/v2/Users/42?attributes=id", nil)
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("If-Match", `W/"3"`)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Etag": {`W/"4"`}, "Content-Type": {"application/scim+json"}}}
	ex := Capture(req, []byte(`{"Operations":[]}`+"\n"), resp, []byte(`{"id":"42"}`))
	ex.Title = "Patch"
	want := "### Patch\n> PATCH /scim/v2/Users/42?attributes=id\n> If-Match: W/\"3\"\n{\"Operations\":[]}\n< 200 OK\n< ETag: W/\"4\"\n{\n  \"id\": \"42\"\n}\n"
	if got := ex.String(); got != want {
		t.Errorf("Capture and String:\n%s\nwant:\n%s", got, want)
	}
	tr, err := Parse(ex.String())
	if err != nil || len(tr.Exchanges) != 1 || tr.Exchanges[0].Target != ex.Target || tr.Exchanges[0].RespBody != ex.RespBody {
		t.Errorf("the captured exchange does not parse back: %v %+v", err, tr)
	}
	noAnswer := Capture(req, nil, nil, nil)
	if noAnswer.Status != 0 || noAnswer.RespBody != "" || noAnswer.Method != "PATCH" {
		t.Errorf("Capture without a response: %+v", noAnswer)
	}
	text := Capture(req, nil, &http.Response{StatusCode: 502, Header: http.Header{}}, []byte("Bad Gateway\n"))
	if text.RespBody != "Bad Gateway" {
		t.Errorf("a body that is not JSON: %q", text.RespBody)
	}
}
