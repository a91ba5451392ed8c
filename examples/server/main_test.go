package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServer runs the demo on a free port and returns its base URL.
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-token", "secret"}, args...), &syncWriter{w: &out}, ready)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr + "/scim/v2"
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start in 10s")
	}
	return ""
}

// syncWriter serialises the server's concurrent log writes.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Content-Type") != "application/scim+json" {
		t.Errorf("%s %s: Content-Type %q", method, url, resp.Header.Get("Content-Type"))
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, url, raw)
		}
	}
	return resp.StatusCode, m
}

func TestDemoAnswersEntraTestConnection(t *testing.T) {
	base := startServer(t)
	status, body := call(t, "GET", base+"/Users?filter=userName+eq+%22e2b4a6d1-58a4-4a63-9a0a-7c3c1c1f0b11%22", "secret", "")
	if status != 200 {
		t.Fatalf("status %d, body %v", status, body)
	}
	if body["totalResults"] != float64(0) {
		t.Errorf("totalResults = %v", body["totalResults"])
	}
	if res, ok := body["Resources"].([]any); !ok || len(res) != 0 {
		t.Errorf("Resources = %#v, want []", body["Resources"])
	}
	if status, _ := call(t, "GET", base+"/Users", "wrong", ""); status != 401 {
		t.Errorf("wrong token: status %d, want 401", status)
	}
}

func TestDemoUserAndGroupLifecycle(t *testing.T) {
	base := startServer(t, "-domains", "contoso.com")
	status, u := call(t, "POST", base+"/Users", "secret",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@contoso.com","active":true,"emails":[{"primary":true,"type":"work","value":"ada@contoso.com"}]}`)
	if status != 201 {
		t.Fatalf("create user: %d %v", status, u)
	}
	id, _ := u["id"].(string)
	if status, got := call(t, "GET", base+"/Users/"+id, "secret", ""); status != 200 || got["userName"] != "ada@contoso.com" {
		t.Errorf("get user: %d %v", status, got)
	}
	if status, got := call(t, "GET", base+"/Users?filter=userName+eq+%22ADA@contoso.com%22", "secret", ""); status != 200 || got["totalResults"] != float64(1) {
		t.Errorf("filter user: %d %v", status, got)
	}
	if status, got := call(t, "POST", base+"/Users", "secret", `{"userName":"eve@unverified.example"}`); status != 400 || !strings.Contains(got["detail"].(string), "unverified.example") {
		t.Errorf("unverified domain: %d %v", status, got)
	}
	if status, got := call(t, "PUT", base+"/Users/"+id, "secret", `{"userName":"ada@contoso.com","displayName":"Ada","active":false}`); status != 200 || got["active"] != false {
		t.Errorf("replace user: %d %v", status, got)
	}
	status, g := call(t, "POST", base+"/Groups", "secret", `{"displayName":"Engineering","members":[{"value":"`+id+`"}]}`)
	if status != 201 {
		t.Fatalf("create group: %d %v", status, g)
	}
	gid, _ := g["id"].(string)
	if status, got := call(t, "GET", base+"/Groups?filter=displayName+eq+%22Engineering%22&excludedAttributes=members", "secret", ""); status != 200 || got["totalResults"] != float64(1) {
		t.Errorf("filter group: %d %v", status, got)
	}
	if status, _ := call(t, "DELETE", base+"/Groups/"+gid, "secret", ""); status != 204 {
		t.Errorf("delete group: %d", status)
	}
	if status, _ := call(t, "DELETE", base+"/Users/"+id, "secret", ""); status != 204 {
		t.Errorf("delete user: %d", status)
	}
	if status, _ := call(t, "GET", base+"/Users/"+id, "secret", ""); status != 404 {
		t.Errorf("get deleted user: %d, want 404", status)
	}
}
