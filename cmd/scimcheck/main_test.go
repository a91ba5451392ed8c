package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// newServer starts the library's handler over memstore at /scim/v2,
// accepting the token "t0ken", with middleware in front (none when nil).
func newServer(t *testing.T, middleware func(http.Handler) http.Handler) string {
	t.Helper()
	store := memstore.New(memstore.WithTenant(func(ctx context.Context) string { tn, _ := scim.TenantFrom(ctx); return tn.ID }))
	h, err := scim.NewHandler(store, scim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tokens scim.Tokens
	if err := tokens.Add("acme", scim.HashToken("t0ken")); err != nil {
		t.Fatal(err)
	}
	var inner http.Handler = http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h))
	if middleware != nil {
		inner = middleware(inner)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", inner)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

// scimcheck runs the command with args and returns its exit status and
// output.
func scimcheck(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestCommand(t *testing.T) {
	base := newServer(t, nil)
	t.Run("text report, token from the environment", func(t *testing.T) {
		code, out, errOut := scimcheck(t, map[string]string{"SCIM_TOKEN": "t0ken"}, "-url", base, "-suite", "entra,rfc")
		if code != 0 {
			t.Fatalf("exit status %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{"scimcheck " + base, "PASS entra/test-connection-users", "PASS rfc/etags", "checks: ", " 0 failed", "requests in", "cleanup: deleted", "OK: every mandatory check passed."} {
			if !strings.Contains(out, want) {
				t.Errorf("the report lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("-json and -junit", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "scimcheck.xml")
		code, out, errOut := scimcheck(t, nil, "-url", base, "-token", "t0ken", "-suite", "okta", "-json", "-junit", file)
		if code != 0 {
			t.Fatalf("exit status %d\n%s%s", code, out, errOut)
		}
		var rep struct {
			Results []struct{ Suite, Name, Status string }
			Cleanup string
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("-json output: %v\n%s", err, out)
		}
		if len(rep.Results) == 0 || rep.Results[0].Suite != "okta" || rep.Results[0].Status != "PASS" {
			t.Errorf("-json results: %+v", rep.Results)
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var junit struct {
			Tests int `xml:"tests,attr"`
		}
		if err := xml.Unmarshal(raw, &junit); err != nil || junit.Tests != len(rep.Results) {
			t.Errorf("-junit: %v, %d tests, want %d:\n%s", err, junit.Tests, len(rep.Results), raw)
		}
	})
	t.Run("-v prints the exchanges", func(t *testing.T) {
		code, out, _ := scimcheck(t, nil, "-url", base, "-token", "t0ken", "-suite", "clients", "-v")
		if code != 0 || !strings.Contains(out, "### clients/google-probe\n") || !strings.Contains(out, "> GET /scim/v2/Users?count=1\n< 200 OK\n") {
			t.Errorf("exit %d, -v output:\n%s", code, out)
		}
	})
	t.Run("-run", func(t *testing.T) {
		code, out, _ := scimcheck(t, nil, "-url", base, "-token", "t0ken", "-suite", "entra,gallery", "-run", "members-remove|Pagination$")
		if code != 0 || !strings.Contains(out, "PASS entra/members-remove-with-value") || !strings.Contains(out, "PASS gallery/SCIM_Group_Pagination") ||
			!strings.Contains(out, "\n4 checks: 4 passed") {
			t.Errorf("exit %d, -run output:\n%s", code, out)
		}
		if code, _, errOut := scimcheck(t, nil, "-run", "("); code != 2 || !strings.Contains(errOut, "invalid value") {
			t.Errorf("a bad -run: exit %d, %s", code, errOut)
		}
	})
	t.Run("-list", func(t *testing.T) {
		code, out, _ := scimcheck(t, nil, "-list", "-suite", "gallery")
		if code != 0 || !strings.Contains(out, "gallery/SCIM_User_Pagination\n") || strings.Contains(out, "entra/") {
			t.Errorf("exit %d, -list output:\n%s", code, out)
		}
	})
}

func TestCommandExitStatus(t *testing.T) {
	// A server that refuses Entra's string booleans.
	broken := newServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "PATCH" {
				var buf bytes.Buffer
				buf.ReadFrom(r.Body)
				if strings.Contains(buf.String(), `"False"`) {
					scim.WriteError(w, &scim.Error{Status: 400, Type: scim.InvalidValue, Detail: "expected a boolean"})
					return
				}
				r.Body = http.NoBody
				if buf.Len() > 0 {
					r.Body = readCloser{&buf}
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"a mandatory check fails", []string{"-url", broken, "-token", "t0ken", "-suite", "entra"}, 1, "FAIL entra/disable-re-enable-default"},
		{"no -url", []string{"-token", "t0ken"}, 2, "-url is required"},
		{"no credential", []string{"-url", broken}, 2, "no credential"},
		{"unknown suite", []string{"-url", broken, "-token", "t", "-suite", "entra,nope"}, 2, `unknown suite "nope"`},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"-url", broken, "x"}, 2, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := scimcheck(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit status %d (want %d), output lacks %q?\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}

type readCloser struct{ *bytes.Buffer }

func (readCloser) Close() error { return nil }
