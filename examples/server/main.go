// Command server is the scimhost demo: a SCIM 2.0 endpoint that Microsoft
// Entra ID (or Okta, or curl) can provision, over the reference in-memory
// store.
//
//	go run ./examples/server [-addr 127.0.0.1:8080] [-db memory] [-token T] [-domains a.com,b.com]
//
// It serves SCIM at http://ADDR/scim/v2, prints that base URL and the bearer
// token at start, and logs each request. The token comes from -token, else
// $SCIM_TOKEN, else a random one. -domains lists the verified email domains
// (exact match, case-insensitive); empty allows every domain. Each change
// (user created, deactivated, members added, ...) is logged as an event.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	addr    string
	db      string
	token   string
	domains []string
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	var domains string
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.db, "db", "memory", `store: "memory" (the in-memory reference store; data is lost on exit)`)
	fs.StringVar(&c.token, "token", "", "bearer token clients must send (default $SCIM_TOKEN, else a random one)")
	fs.StringVar(&domains, "domains", "", "verified email domains, comma-separated; empty allows every domain")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.token == "" {
		c.token = os.Getenv("SCIM_TOKEN")
	}
	for d := range strings.SplitSeq(domains, ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			c.domains = append(c.domains, d)
		}
	}
	return c, nil
}

// openStore opens the store the -db flag names.
func openStore(db string) (scim.Store, error) {
	switch db {
	case "memory":
		return memstore.New(memstore.WithTenant(tenantKey)), nil
	}
	return nil, fmt.Errorf("-db %q: only \"memory\" is supported", db)
}

// tenantKey scopes the store to the tenant BearerAuth found for the token.
func tenantKey(ctx context.Context) string {
	t, _ := scim.TenantFrom(ctx)
	return t.ID
}

// allowDomains returns the AllowDomain hook for a list of verified domains;
// nil (every domain allowed) for an empty list.
func allowDomains(domains []string) func(context.Context, string) error {
	if len(domains) == 0 {
		return nil
	}
	verified := map[string]bool{}
	for _, d := range domains {
		verified[d] = true
	}
	return func(_ context.Context, domain string) error {
		if verified[domain] {
			return nil
		}
		return fmt.Errorf("domain %s is not verified", domain)
	}
}

// run serves until ctx is done. When ready is not nil it receives the
// listening address (for tests, which listen on port 0).
func run(ctx context.Context, args []string, out io.Writer, ready chan<- string) error {
	c, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	store, err := openStore(c.db)
	if err != nil {
		return err
	}
	token := c.token
	if token == "" {
		token, _ = scim.NewToken()
	}
	var tokens scim.Tokens
	if err := tokens.Add("demo", scim.HashToken(token)); err != nil {
		return err
	}

	log := slog.New(slog.NewTextHandler(out, nil))
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + "/scim/v2"
	h, err := scim.NewHandler(store, scim.Options{
		BaseURL:     base,
		AllowDomain: allowDomains(c.domains),
		Logger:      log,
		OnChange: func(ctx context.Context, e scim.Event) {
			log.InfoContext(ctx, "scim change", "kind", e.Kind, "tenant", e.Tenant, "type", e.ResourceType,
				"id", e.ID, "changed", e.Changed, "members", e.Members)
		},
	})
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))

	fmt.Fprintf(out, "SCIM Base URL:     %s\nSCIM Bearer Token: %s\n", base, token)
	if len(c.domains) > 0 {
		fmt.Fprintf(out, "Verified domains:  %s\n", strings.Join(c.domains, ", "))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
