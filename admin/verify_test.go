package admin_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
)

// dnsStub is a DNS server on loopback that answers TXT queries from its
// records (RFC 1035 §4), or stays silent when mute is set.
type dnsStub struct {
	mu      sync.Mutex
	records map[string][]string // lower-case name without the final dot
	mute    bool
	conn    net.PacketConn
}

func startDNSStub(t *testing.T) *dnsStub {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsStub{records: map[string][]string{}, conn: pc}
	t.Cleanup(func() { pc.Close() })
	go s.serve()
	return s
}

func (s *dnsStub) set(name string, txt ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[name] = txt
}

func (s *dnsStub) serve() {
	buf := make([]byte, 512)
	for {
		n, addr, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := s.answer(buf[:n]); resp != nil {
			_, _ = s.conn.WriteTo(resp, addr)
		}
	}
}

// answer builds the response to one query, or nil to stay silent.
func (s *dnsStub) answer(q []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mute || len(q) < 12 {
		return nil
	}
	// The question: labels up to a zero byte, then type and class.
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	end := i + 5 // zero byte, type, class
	if end > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	txts, ok := s.records[strings.ToLower(strings.Join(labels, "."))]
	resp := append([]byte(nil), q[:end]...)
	resp[2] = 0x84 | q[2]&0x01 // QR, AA, RD as asked
	resp[3] = 0x80             // RA
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	switch {
	case !ok:
		resp[3] |= 3 // NXDOMAIN
	case qtype == 16:
		// One TXT record per value, each a single character-string.
		binary.BigEndian.PutUint16(resp[6:], uint16(len(txts)))
		for _, t := range txts {
			resp = append(resp, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60)
			resp = binary.BigEndian.AppendUint16(resp, uint16(1+len(t)))
			resp = append(append(resp, byte(len(t))), t...)
		}
	}
	return resp
}

// resolver asks only the stub.
func (s *dnsStub) resolver() *net.Resolver {
	addr := s.conn.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func TestVerifyDomain(t *testing.T) {
	ctx := scim.WithTenant(t.Context(), scim.Tenant{ID: "acme"})
	stub := startDNSStub(t)
	m := new(admin.Memory)
	s := &admin.Settings{Tokens: m, Sync: m, Domains: m, Resolver: stub.resolver(), CheckTimeout: 300 * time.Millisecond}
	d, err := s.AddDomain(ctx, "acme", "Acme.Example")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "acme.example" || !strings.HasPrefix(d.Token, "scim-domain-verification=") || d.IsVerified() {
		t.Fatalf("AddDomain = %+v", d)
	}
	if err := s.AllowDomain(ctx, "acme.example"); err == nil {
		t.Error("an unverified domain is allowed")
	}

	steps := []struct {
		name     string
		setup    func()
		verified bool
		why      string
	}{
		{"no record", func() {}, false, "no TXT record"},
		{"another value", func() { stub.set("_scim-verification.acme.example", "v=spf1 -all", "scim-domain-verification=wrong") }, false, "does not hold"},
		{"the value among others", func() { stub.set("_scim-verification.acme.example", "v=spf1 -all", d.Token) }, true, ""},
		{"record removed: stays verified", func() {
			stub.mu.Lock()
			delete(stub.records, "_scim-verification.acme.example")
			stub.mu.Unlock()
		}, true, "no TXT record"},
		{"server silent: a timeout", func() { stub.mu.Lock(); stub.mute = true; stub.mu.Unlock() }, true, "timed out"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.setup()
			start := time.Now()
			got, err := s.VerifyDomain(ctx, "acme", "acme.example")
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("the check took %v despite CheckTimeout", took)
			}
			if got.IsVerified() != st.verified || !strings.Contains(got.CheckError, st.why) || got.Checked.IsZero() {
				t.Errorf("VerifyDomain = %+v, want verified=%v and a check error with %q", got, st.verified, st.why)
			}
			stored, _ := m.GetDomain(ctx, "acme", "acme.example")
			if stored.IsVerified() != st.verified || stored.CheckError != got.CheckError {
				t.Errorf("the stored domain %+v differs from the result", stored)
			}
			if allowed := s.AllowDomain(ctx, "acme.example") == nil; allowed != st.verified {
				t.Errorf("AllowDomain allows it: %v, want %v", allowed, st.verified)
			}
		})
	}
	if err := s.AllowDomain(ctx, "eu.acme.example"); err == nil {
		t.Error("a subdomain of a verified domain is allowed")
	}
	if err := s.AllowDomain(t.Context(), "acme.example"); err == nil {
		t.Error("a request without a tenant is allowed")
	}
	if _, err := s.VerifyDomain(ctx, "acme", "unknown.example"); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("VerifyDomain of an unknown domain = %v", err)
	}
}
