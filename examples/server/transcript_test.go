package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimhost/scim/transcript"
)

// TestTranscriptsThroughDemo replays every golden transcript of
// testdata/entra and testdata/okta through the demo server, over real HTTP,
// on each backend: what the library's TestTranscripts pins over memstore
// must hold over the SQL stores too. Every file gets a fresh store and
// server, as its ids and userNames would collide with another file's.
//
// The stores keep real time and count versions per resource, so responses
// are compared modulo meta.created, meta.lastModified, meta.version and the
// ETag header (transcript.Options.VolatileMeta); everything else, ids
// substituted, is compared exactly.
func TestTranscriptsThroughDemo(t *testing.T) {
	files, err := transcript.Files(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, file := range files {
				name := filepath.ToSlash(strings.TrimPrefix(file, filepath.Join("..", "..", "testdata")+string(filepath.Separator)))
				t.Run(name, func(t *testing.T) {
					replayThroughDemo(t, b.db(t), file)
				})
			}
		})
	}
}

// replayThroughDemo replays the transcript file through a demo server on
// the store db.
func replayThroughDemo(t *testing.T, db, file string) {
	tr, err := transcript.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	base := startServer(t, db)
	rp := transcript.NewReplayer(transcript.Options{
		Send:         testClient.Do,
		Origin:       strings.TrimSuffix(base, "/scim/v2"),
		Token:        "secret",
		VolatileMeta: true,
	})
	for _, ex := range tr.Exchanges {
		got, err := rp.Do(t.Context(), ex)
		if err != nil {
			t.Fatalf("%s: %s %s: %v", ex.Title, ex.Method, ex.Target, err)
		}
		if diff := rp.Diff(ex, got); diff != "" {
			t.Errorf("%s: %s %s: response differs (-want +got):\n%s", ex.Title, ex.Method, ex.Target, diff)
		}
	}
}
