package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim/memstore"
)

// TestProductionServerSettings pins the demo's http.Server settings to
// what a SCIM endpoint needs: every idle or silent connection closed
// within 60 s, a whole request read within 30 s, no answer written past
// the 60 s the clients wait.
func TestProductionServerSettings(t *testing.T) {
	srv := newServer(http.NotFoundHandler())
	for _, c := range []struct {
		name     string
		got, max time.Duration
	}{
		{"ReadHeaderTimeout (a connection that sends nothing)", srv.ReadHeaderTimeout, 60 * time.Second},
		{"IdleTimeout (a keep-alive connection after its last answer)", srv.IdleTimeout, 60 * time.Second},
		{"ReadTimeout (a dribbled body)", srv.ReadTimeout, 30 * time.Second},
		{"WriteTimeout (a client that never reads)", srv.WriteTimeout, 60 * time.Second},
	} {
		if c.got <= 0 || c.got > c.max {
			t.Errorf("%s = %v, want in (0, %v]", c.name, c.got, c.max)
		}
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d, want a cap below net/http's default of 1 MiB", srv.MaxHeaderBytes)
	}
}

// scaledServer serves the demo's mux over memstore with newServer's
// settings divided by scale, so that a test waits milliseconds for what
// production waits seconds. It returns the listening address.
func scaledServer(t *testing.T, scale time.Duration) string {
	t.Helper()
	mux, err := newMux(memstore.New(), "secret", "", nil, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(mux)
	srv.ReadHeaderTimeout /= scale
	srv.ReadTimeout /= scale
	srv.WriteTimeout /= scale
	srv.IdleTimeout /= scale
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestIdleConnectionsAreClosed opens 100 connections, half of which never
// send a request and half of which send one and then stay idle, and waits
// for the server to close each. At a twentieth of the production timeouts
// (10 s for headers, 30 s idle) every one must be closed within 3 s of its
// last exchange, the production 60 s scaled.
func TestIdleConnectionsAreClosed(t *testing.T) {
	const scale = 20
	addr := scaledServer(t, scale)
	var wg sync.WaitGroup
	closed := make(chan time.Duration, 100) // from a connection's last exchange to its close
	for i := range 100 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle := time.Now()
		t.Cleanup(func() { conn.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bufio.NewReader(conn)
			if i%2 == 1 {
				fmt.Fprint(conn, "GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\n\r\n")
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Errorf("connection %d: %v", i, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				idle = time.Now()
			}
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := r.ReadByte(); err != io.EOF {
				t.Errorf("connection %d: read %v, want EOF: the server closing it", i, err)
			}
			closed <- time.Since(idle)
		}()
	}
	wg.Wait()
	close(closed)
	var last time.Duration
	for d := range closed {
		last = max(last, d)
	}
	if limit := 60 * time.Second / scale; last > limit {
		t.Errorf("an idle connection was closed %v after its last exchange, more than %v (60 s scaled)", last, limit)
	}
	t.Logf("100 idle connections each closed within %v of their last exchange (production timeouts / %d)", last, scale)
}

// TestDribbledBodyIsCutOff sends a body at one byte a second to the demo
// server with its production settings: the handler cuts it off (408) when
// Options.BodyReadTimeout (10 s) passes, well within 30 s.
func TestDribbledBodyIsCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 10 s")
	}
	t.Parallel()
	base := startServer(t, "memory")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"userName":"dribble@example.com","displayName":"One byte a second"}`
	fmt.Fprintf(conn, "POST /scim/v2/Users HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer secret\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n", u.Host, len(body))
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := range len(body) {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(40 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("dribbled body: %d %s", resp.StatusCode, b)
	}
	if d > 30*time.Second {
		t.Errorf("answered after %v, want within 30 s", d)
	}
	t.Logf("dribbled body answered %d after %v", resp.StatusCode, d.Round(time.Millisecond))
}

// TestDoubledSlashCreates: the base URL pasted with a trailing slash, as
// Entra ID then sends it, creates the user through the demo's mount.
func TestDoubledSlashCreates(t *testing.T) {
	base := startServer(t, "memory")
	status, m := call(t, "POST", base+"//Users", "secret", `{"userName":"slash@example.com"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST %s//Users: %d %v", base, status, m)
	}
	id, _ := m["id"].(string)
	status, m = call(t, "GET", base+"/Users/"+id+"/", "secret", "")
	if status != http.StatusOK || !strings.EqualFold(fmt.Sprint(m["userName"]), "slash@example.com") {
		t.Errorf("GET with a trailing slash: %d %v", status, m)
	}
}
