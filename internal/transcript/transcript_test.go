package transcript

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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
	files, err := Files("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(files[0], "entra") || !strings.Contains(files[len(files)-1], "okta") {
		t.Errorf("Files = %q, want entra's transcripts, then okta's", files)
	}
	if _, err := Files(t.TempDir()); err == nil {
		t.Error("Files of a directory without transcripts: no error")
	}
}

func TestNormalizeVolatile(t *testing.T) {
	tests := []struct {
		name     string
		in, want Exchange
	}{
		{
			name: "a resource and its ETag",
			in: Exchange{Status: 200, RespHeader: [][2]string{{"ETag", `W/"4"`}, {"Location", "https://app.example.com/scim/v2/Users/{{ada}}"}}, RespBody: `{
  "id": "{{ada}}",
  "meta": {
    "resourceType": "User",
    "created": "2026-03-02T09:00:00Z",
    "lastModified": "2026-03-02T09:00:00.001Z",
    "location": "https://app.example.com/scim/v2/Users/{{ada}}",
    "version": "W/\"4\""
  }
}`},
			want: Exchange{Status: 200, RespHeader: [][2]string{{"ETag", Volatile}, {"Location", "https://app.example.com/scim/v2/Users/{{ada}}"}}, RespBody: `{
  "id": "{{ada}}",
  "meta": {
    "resourceType": "User",
    "created": "(volatile)",
    "lastModified": "(volatile)",
    "location": "https://app.example.com/scim/v2/Users/{{ada}}",
    "version": "(volatile)"
  }
}`},
		},
		{
			name: "every resource of a list; members of the same name outside meta are kept",
			in: Exchange{Status: 200, RespBody: `{
  "Resources": [
    {
      "version": "kept",
      "urn:example:ext": {
        "created": "kept"
      },
      "meta": {
        "created": "2026-03-02T09:00:00Z",
        "version": "W/\"1\""
      }
    },
    {
      "meta": {
        "lastModified": "2026-03-02T09:00:00Z"
      },
      "created": "kept"
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
        "created": "(volatile)",
        "version": "(volatile)"
      }
    },
    {
      "meta": {
        "lastModified": "(volatile)"
      },
      "created": "kept"
    }
  ]
}`},
		},
		{
			name: "no meta, no headers",
			in:   Exchange{Status: 204},
			want: Exchange{Status: 204},
		},
		{
			name: "a body not indented is kept",
			in:   Exchange{Status: 200, RespBody: `{"meta":{"version":"W/\"1\""}}`},
			want: Exchange{Status: 200, RespBody: `{"meta":{"version":"W/\"1\""}}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			got := NormalizeVolatile(in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NormalizeVolatile (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.in, in); diff != "" {
				t.Errorf("NormalizeVolatile changed its argument's headers (-before +after):\n%s", diff)
			}
		})
	}
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
