package scim_test

// Golden transcripts: what Entra ID and Okta send, exchange by exchange, with
// what this library answers, in testdata/entra and testdata/okta. Their
// format, parser and replayer are in package transcript, whose package
// comment describes them; the demo server replays the same files over SQL
// stores (examples/server, TestTranscriptsThroughDemo).
//
// Here every request goes through http.StripPrefix("/scim/v2",
// BearerAuth(...)(Handler)) over memstore with a fixed clock, so
// timestamps and versions are deterministic and compared exactly.
//
//	go test -run TestTranscripts -update
//
// rewrites the expected responses from what the handler answers now; review
// the diff before committing it.

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/transcript"
)

var update = flag.Bool("update", false, "rewrite the expected responses of the golden transcripts in testdata/entra, testdata/okta and testdata/onelogin")

// transcriptToken is the bearer token of the transcripts' tenant.
const transcriptToken = "scimhost-transcript-token"

// transcriptClock is the time memstore reads during a replay.
var transcriptClock = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newReplayer returns a replayer over a fresh Handler and memstore.
func newReplayer(t *testing.T) *transcript.Replayer {
	t.Helper()
	store := memstore.New(
		memstore.WithClock(func() time.Time { return transcriptClock }),
	)
	h := newHandler(t, store, scim.Options{})
	var tokens scim.Tokens
	if err := tokens.Add("contoso", scim.HashToken(transcriptToken)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))
	return transcript.NewReplayer(transcript.Options{Send: transcript.InProcess(mux), Token: transcriptToken})
}

// transcriptFiles lists the golden transcripts.
func transcriptFiles(t testing.TB) []string {
	t.Helper()
	files, err := transcript.Files("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// seedExchange is what the fuzz targets of patch_fuzz_test.go read of an
// exchange.
type seedExchange struct{ method, target, body string }

// loadTranscript loads file with the exchanges in the shape
// patch_fuzz_test.go reads.
func loadTranscript(t testing.TB, file string) (s struct{ exchanges []seedExchange }) {
	t.Helper()
	tr, err := transcript.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range tr.Exchanges {
		s.exchanges = append(s.exchanges, seedExchange{ex.Method, ex.Target, ex.Body})
	}
	return s
}

// pathOf returns the collection a request target names, "Users" or
// "Groups".
func pathOf(target string) string { return transcript.Collection(target) }

// TestTranscripts replays every golden transcript against a fresh Handler
// and memstore and compares each response with the expected one.
func TestTranscripts(t *testing.T) {
	for _, file := range transcriptFiles(t) {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			tr, err := transcript.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			rp := newReplayer(t)
			got := &transcript.Transcript{Preamble: tr.Preamble}
			for _, ex := range tr.Exchanges {
				g, err := rp.Do(t.Context(), ex)
				if err != nil {
					t.Fatalf("%s: %s %s: %v", ex.Title, ex.Method, ex.Target, err)
				}
				got.Exchanges = append(got.Exchanges, g)
				if *update {
					continue
				}
				if diff := rp.Diff(ex, g); diff != "" {
					t.Errorf("%s: %s %s: response differs (-want +got):\n%s", ex.Title, ex.Method, ex.Target, diff)
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(got.Format()), 0o644); err != nil {
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
		tr, err := transcript.Parse(string(text))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if diff := cmp.Diff(string(text), tr.Format()); diff != "" {
			t.Errorf("%s: parse and format do not round-trip (-file +formatted):\n%s", file, diff)
		}
	}
}
