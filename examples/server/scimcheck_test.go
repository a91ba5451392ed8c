package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScimcheckPassesOnEveryStore builds the scimcheck command and runs
// every suite of it, concurrency included, against the demo server on
// memory, SQLite and PostgreSQL, as a host would before pointing Entra ID
// at its server:
//
//	go run github.com/scimhost/scim/cmd/scimcheck -url http://127.0.0.1:8080/scim/v2 -token T \
//	    -token-url http://127.0.0.1:8080/oauth2/token -client-id C -client-secret S \
//	    -suite entra,gallery,okta,clients,rfc,concurrency
//
// The demo runs with -oauth, so the gallery's credentials test gets the
// token URL, client id and secret it printed. Every check must pass; the
// command must exit 0 and leave the store as it found it.
func TestScimcheckPassesOnEveryStore(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build scimcheck: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "scimcheck")
	build := exec.CommandContext(t.Context(), gobin, "build", "-o", bin, "github.com/scimhost/scim/cmd/scimcheck")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build scimcheck: %v\n%s", err, out)
	}
	eachBackend(t, func(t *testing.T, db string) {
		base, out, _ := startPrinting(t, db, "-oauth")
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), bin, "-url", base, "-token", "secret",
			"-token-url", printed(t, out, "OAuth Token URL"), "-client-id", printed(t, out, "OAuth Client ID"),
			"-client-secret", printed(t, out, "OAuth Client Secret"),
			"-suite", "entra,gallery,okta,clients,rfc,concurrency", "-json")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("running scimcheck: %v\n%s", err, stderr.String())
		}
		var rep struct {
			Results []struct {
				Suite, Name, Status, Message string
				Exchanges                    []string
			}
			Requests int
			Cleanup  string
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("scimcheck -json: %v\n%s%s", err, stdout.String(), stderr.String())
		}
		if len(rep.Results) < 50 {
			t.Errorf("only %d checks ran", len(rep.Results))
		}
		for _, r := range rep.Results {
			id := r.Suite + "/" + r.Name
			if r.Status == "PASS" {
				continue
			}
			t.Errorf("%s %s: %s\n%s", r.Status, id, r.Message, strings.Join(r.Exchanges, "\n\n"))
		}
		if err != nil {
			t.Errorf("scimcheck exited with %v", err)
		}
		if !strings.HasPrefix(rep.Cleanup, "deleted the ") {
			t.Errorf("cleanup: %s", rep.Cleanup)
		}
		for _, coll := range []string{"Users", "Groups"} {
			status, body := call(t, "GET", base+"/"+coll+"?count=0", "secret", "")
			if status != 200 || body["totalResults"] != float64(0) {
				t.Errorf("after scimcheck, GET /%s?count=0: %d %v, want no resources left", coll, status, body)
			}
		}
		t.Logf("%d checks, %d requests", len(rep.Results), rep.Requests)
	})
}
