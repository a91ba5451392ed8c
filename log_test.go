package scim_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	h := newHandler(t, memstore.New(), scim.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	buf.Reset() // NewHandler's line about the store's capabilities
	ctx := scim.WithTenant(context.Background(), scim.Tenant{ID: "acme"})
	tenantH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r.WithContext(ctx)) })

	serve(t, tenantH, request{method: "GET", path: `/Users?filter=userName+eq+%22ceo@acme.com%22&count=5`,
		header: map[string]string{"Authorization": "Bearer scim_secret"}})
	serve(t, tenantH, request{method: "GET", path: `/Users?filter=userName+equals+%22x%22`})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per request, got:\n%s", buf.String())
	}
	for _, want := range []string{"method=GET", "path=/Users", "status=200", "duration=", "query=filter,count", "tenant=acme"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], "status=400") || !strings.Contains(lines[1], "scimType=invalidFilter") {
		t.Errorf("error line %q lacks the status or scimType", lines[1])
	}
	for _, secret := range []string{"ceo@acme.com", "scim_secret", "Bearer"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the request log carries %q:\n%s", secret, buf.String())
		}
	}
}

// The request log names the query's parameters, unescaped, without their
// values, however many there are.
func TestRequestLogQueryNames(t *testing.T) {
	for query, want := range map[string]string{
		"filter=userName+eq+%22x%22":                               "query=filter",
		"excludedAttributes=members&filter=displayName+eq+%22g%22": "query=excludedAttributes,filter",
		"%66ilter=x&&count=2&startIndex=1":                         "query=filter,count,startIndex",
		"=x&count=1":                                               "query=count",
		"%zz=1":                                                    "",
	} {
		var buf bytes.Buffer
		h := newHandler(t, memstore.New(), scim.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		buf.Reset()
		serve(t, h, request{method: "GET", path: "/Groups?" + query})
		line := buf.String()
		if want == "" && strings.Contains(line, "query=") || want != "" && !slices.Contains(strings.Fields(line), want) {
			t.Errorf("%s: want %q in the log line %q", query, want, line)
		}
	}
}

// The request line goes to the logger's handler as Logger.LogAttrs would
// send it: through Enabled, with the logger's own attributes, and naming
// the handler's code as its source.
func TestRequestLogRecord(t *testing.T) {
	var buf bytes.Buffer
	text := slog.NewTextHandler(&buf, &slog.HandlerOptions{AddSource: true})
	h := newHandler(t, memstore.New(), scim.Options{Logger: slog.New(text).With("app", "hr")})
	buf.Reset()
	serve(t, h, request{method: "GET", path: "/Users"})
	line := buf.String()
	for _, want := range []string{"level=INFO", `msg="scim request"`, "app=hr", "status=200", "source=", "scim.go:"} {
		if !strings.Contains(line, want) {
			t.Errorf("request line %q lacks %q", line, want)
		}
	}

	buf.Reset()
	quiet := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})
	h = newHandler(t, memstore.New(), scim.Options{Logger: slog.New(quiet)})
	serve(t, h, request{method: "GET", path: "/Users"})
	if buf.Len() != 0 {
		t.Errorf("a logger at Warn got the Info request line: %q", buf.String())
	}
}
