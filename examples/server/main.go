// Command server is the scimhost demo: a SCIM 2.0 endpoint that Microsoft
// Entra ID (or Okta, or curl) can provision.
//
//	go run ./examples/server [-addr 127.0.0.1:8080] [-db scim.db] [-token T] [-domains a.com,b.com]
//	  [-oauth [-oauth-secret S] [-wif-jwks URL -wif-issuer ISS -wif-subject SUB -wif-audience AUD]]
//
// It serves SCIM at http://ADDR/scim/v2, prints that base URL and the bearer
// token at start, and logs each request. The token comes from -token, else
// $SCIM_TOKEN, else a random one, which changes at every start: pass the
// same token again to keep a configured client working across restarts.
// -domains lists the verified email domains (exact match,
// case-insensitive); empty allows every domain. Each change (user created,
// deactivated, members added, ...) is logged as an event.
//
// -oauth also serves an OAuth 2.0 token endpoint at /oauth2/token (package
// github.com/scimhost/scim/oauth) for the demo's tenant, and prints its
// Token URL, Client ID and Client Secret (-oauth-secret, else a random
// one), what an Entra ID gallery app is configured with. The -wif-* flags,
// the four values Entra ID shows for workload identity federation, let the
// same client authenticate with Entra's signed assertions; an http:// JWKS
// URL is allowed on loopback only. The static token keeps working beside
// the access tokens.
//
// -db chooses the store:
//
//   - a file path (the default is scim.db in the working directory): a
//     SQLite database through sqlstore and the pure-Go
//     modernc.org/sqlite, created on first use, so that users, groups and
//     their ids survive a restart; no setup needed;
//   - a postgres:// or postgresql:// URL: a PostgreSQL database through
//     sqlstore and pgx (the store creates its tables, named
//     scim_*, in the connection's current schema);
//   - "memory": the in-memory reference store (memstore); everything is
//     lost on exit.
//
// Every store is scoped to the tenant that BearerAuth finds for the token
// ("demo"), as a multi-tenant host's would be.
//
// The http.Server has production settings for SCIM (see main.go): header,
// read, write and idle timeouts, and a cap on header size, so that idle or
// slow clients cannot hold its connections; the mux is wrapped in
// scim.CleanPaths, so that a Tenant URL pasted with a trailing slash works.
//
// The workspace admin's page (package admin) is at http://ADDR/admin/,
// behind a password printed at start: it creates and revokes tokens
// (accepted beside -token), switches sync off and on, adds and verifies
// email domains by DNS TXT record (-dns names the DNS server to ask; the
// system's by default), and shows the provisioning log. Each change takes
// effect at once; one that another process sharing the SQL database made
// (a token revoked, a switch, a domain) shows within a second, since this
// one keeps tokens, switches and domains in memory that long. While neither
// -domains nor the page lists a domain, every domain is allowed. The
// page's settings and the log are kept beside the data: in the SQL
// database (sqlstore's scim_admin_* and scim_log_batches tables), or in memory.
// With -oauth the page also shows the Token URL and the workspace's OAuth
// clients, the demo client first, and creates clients and secrets, revokes
// secrets and sets federation; those clients live beside the demo client,
// in the SQL database or in memory.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/oauth"
	"github.com/scimhost/scim/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// -h: the usage is printed; that is all that was asked.
	case err != nil:
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
	oauth   oauthFlags
	dns     string
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	var domains string
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.db, "db", "scim.db", "store: a SQLite `file` (created if missing), a postgres:// URL, or \"memory\" (lost on exit)")
	fs.StringVar(&c.token, "token", "", "bearer token clients must send (default $SCIM_TOKEN, else a random one)")
	fs.StringVar(&domains, "domains", "", "verified email domains, comma-separated; empty allows every domain")
	c.oauth.register(fs)
	fs.StringVar(&c.dns, "dns", "", "DNS server (host:port) that checks the admin page's domains (default: the system's resolver)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.oauth.check(); err != nil {
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

// openStore opens the store the -db flag names. It returns what to print
// about it, and a function that closes the database (nil for memory).
func openStore(ctx context.Context, db string) (store scim.Store, desc string, closeDB func() error, err error) {
	sqlDB, dialect, desc, err := openDB(db)
	if err != nil {
		return nil, "", nil, err
	}
	store, closeDB, err = storeOver(ctx, sqlDB, dialect, desc)
	return store, desc, closeDB, err
}

// openDB opens the SQL database the -db flag names, and returns what to
// print about it; a nil *sql.DB for memory.
func openDB(db string) (sqlDB *sql.DB, dialect sqlstore.Dialect, desc string, err error) {
	if db == "memory" {
		return nil, 0, "in memory (lost on exit)", nil
	}
	var driver, dsn string
	scheme, _, isURL := strings.Cut(db, "://")
	switch {
	case db == "" || db == ":memory:":
		// One in-memory SQLite database per pooled connection would look
		// like lost writes.
		return nil, 0, "", fmt.Errorf("-db %q: give a file name, a postgres:// URL or \"memory\"", db)
	case isURL && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql")):
		u, err := url.Parse(db)
		if err != nil {
			// The error would quote the URL and its password.
			return nil, 0, "", errors.New("-db: the PostgreSQL URL does not parse")
		}
		driver, dsn, dialect, desc = "pgx", db, sqlstore.PostgreSQL, "PostgreSQL "+u.Redacted()
	case isURL:
		return nil, 0, "", fmt.Errorf("-db: %s:// is not supported: give a SQLite file name, a postgres:// URL or \"memory\"", scheme)
	default:
		driver, dsn, dialect, desc = "sqlite", sqlstore.SQLiteDSN(db), sqlstore.SQLite, "SQLite "+db
	}
	sqlDB, err = sql.Open(driver, dsn)
	if err != nil {
		return nil, 0, "", err
	}
	if dialect == sqlstore.PostgreSQL {
		// Entra ID sends requests in parallel; stay well below the
		// server's max_connections (100 by default).
		sqlDB.SetMaxOpenConns(20)
	}
	// Keep the connections parallel requests opened: database/sql keeps
	// two idle by default, and closing the others means opening them
	// again, each reading the schema and preparing the store's
	// statements anew.
	sqlDB.SetMaxIdleConns(20)
	return sqlDB, dialect, desc, nil
}

// storeOver returns the SCIM store in sqlDB (memstore when it is nil), and
// the function that closes sqlDB.
func storeOver(ctx context.Context, sqlDB *sql.DB, dialect sqlstore.Dialect, desc string) (scim.Store, func() error, error) {
	if sqlDB == nil {
		return memstore.New(), nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Keep the users the demo reads and writes, so that a PATCH skips its
	// read and a read of an unchanged user answers with the bytes it gave
	// before: 100,000 users as Entra ID sends them, all read, are about
	// 240 MB.
	sdb, err := sqlstore.Open(ctx, sqlDB, dialect, sqlstore.WithUserCache(demoUserCache))
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("opening %s: %w", desc, err)
	}
	return sdb.ByContext(tenantKey), sqlDB.Close, nil
}

// demoUserCache is how many users the demo keeps (sqlstore.WithUserCache).
const demoUserCache = 100_000

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
		return fmt.Errorf("%w: %s is not in -domains", scim.ErrDomainNotAllowed, domain)
	}
}

// newMux returns the demo's routes: the SCIM handler over store at
// /scim/v2/ (base, when not empty, is its absolute URL), behind BearerAuth
// accepting token for the tenant "demo". Requests and changes are logged to
// log. When oauthSrv is not nil, its token endpoint is served too and its
// access tokens are accepted beside token.
func newMux(store scim.Store, token, base string, domains []string, log *slog.Logger, oauthSrv *oauth.Server) (http.Handler, error) {
	return newMuxWithAdmin(store, token, base, domains, log, oauthSrv, nil)
}

// newMuxWithAdmin is newMux with the admin page at /admin/ when adm is not
// nil.
func newMuxWithAdmin(store scim.Store, token, base string, domains []string, log *slog.Logger, oauthSrv *oauth.Server, adm *adminSide) (http.Handler, error) {
	var tokens scim.Tokens
	if err := tokens.Add("demo", scim.HashToken(token)); err != nil {
		return nil, err
	}
	lookup, allow, queue := tokens.Lookup, allowDomains(domains), (*scim.LogQueue)(nil)
	if adm != nil {
		lookup, allow, queue = adm.lookup(&tokens), adm.allowDomain(domains), adm.queue
	}
	h, err := scim.NewHandler(store, scim.Options{
		BaseURL:     base,
		Prefix:      "/scim/v2",
		OAuth:       oauthSrv != nil,
		AllowDomain: allow,
		Log:         queue,
		Logger:      log,
		OnChange: func(ctx context.Context, e scim.Event) {
			// Typed attributes, on the stack: the line of every change
			// costs no boxing of its strings. changed and members are left
			// out when empty (a create, a user's change), which keeps the
			// line within the five attributes a slog.Record holds without
			// allocating.
			var buf [6]slog.Attr
			attrs := append(buf[:0], slog.String("kind", string(e.Kind)), slog.String("tenant", e.Tenant),
				slog.String("type", e.ResourceType), slog.String("id", e.ID))
			if len(e.Changed) > 0 {
				attrs = append(attrs, slog.Any("changed", e.Changed))
			}
			if len(e.Members) > 0 {
				attrs = append(attrs, slog.Any("members", e.Members))
			}
			log.LogAttrs(ctx, slog.LevelInfo, "scim change", attrs...)
		},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	if oauthSrv != nil {
		lookup = oauthSrv.LookupOr(lookup)
		mountOAuth(mux, oauthSrv)
	}
	// The handler removes its prefix itself (Options.Prefix), and takes
	// the tenant from BearerAuthLog without a copy of the request.
	mux.Handle("/scim/v2/", scim.BearerAuthLog(lookup, queue)(h))
	if adm != nil {
		ah, err := adm.handler(base, store)
		if err != nil {
			return nil, err
		}
		mux.Handle("/admin/", ah)
	}
	// "POST /scim/v2//Users", from a Tenant URL pasted with a trailing
	// slash, reaches the handler instead of the mux's redirect.
	return scim.CleanPaths("/scim/v2", mux), nil
}

// The demo's http.Server settings, chosen for SCIM clients: Entra ID and
// Okta give up on a response after about 60 s and then retry, so nothing
// is gained by serving one for longer; a client that opens connections and
// sends nothing, or never reads its answer, must not hold them.
const (
	// readHeaderTimeout bounds the wait for a request's headers, which a
	// client sends at once: a connection that sends nothing is closed.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request, headers and body (the
	// handler's own Options.BodyReadTimeout, 10 s, usually ends a dribbled
	// body first).
	readTimeout = 30 * time.Second
	// writeTimeout bounds a request from the end of its headers to the end
	// of its answer, so a client that never reads its response lets go of
	// the memory it holds; 60 s is what the clients wait.
	writeTimeout = 60 * time.Second
	// idleTimeout closes a keep-alive connection idle that long: clients
	// reconnect cheaply, and idle sockets count against the process's
	// descriptor limit.
	idleTimeout = 30 * time.Second
	// maxHeaderBytes caps a request's headers: a bearer token, even a JWT,
	// is a few KiB.
	maxHeaderBytes = 64 << 10
)

// newServer returns the demo's http.Server serving h, with the settings
// above. The timeouts free the descriptors of silent and idle clients; a
// Go program also starts with its soft descriptor limit raised to the hard
// one (Go 1.19 and later), so that a host is not held to the default of
// 1,024 open sockets.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// run serves until ctx is done. When ready is not nil it receives the
// listening address (for tests, which listen on port 0).
func run(ctx context.Context, args []string, out io.Writer, ready chan<- string) (err error) {
	c, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	sqlDB, dialect, desc, err := openDB(c.db)
	if err != nil {
		return err
	}
	store, closeDB, err := storeOver(ctx, sqlDB, dialect, desc)
	if err != nil {
		return err
	}
	if closeDB != nil {
		defer func() {
			if cerr := closeDB(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	token := c.token
	randomToken := token == ""
	if randomToken {
		token, _ = scim.NewToken()
	}
	logOut := newLogBuffer(out)
	defer logOut.Close()
	log := slog.New(newTextLog(logOut))
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + "/scim/v2"
	oauthSrv, oauthStorage, oauthLines, err := setupOAuth(ctx, c.oauth, "http://"+ln.Addr().String(), log, sqlDB, dialect)
	if err != nil {
		ln.Close()
		return err
	}
	resolver, err := dnsResolver(c.dns)
	if err != nil {
		ln.Close()
		return err
	}
	adm := newAdminSide(store, resolver)
	if oauthSrv != nil {
		if adm.oauth, err = oauth.AdminClients(oauthStorage, oauthSrv); err != nil {
			ln.Close()
			return err
		}
	}
	mux, err := newMuxWithAdmin(store, token, base, c.domains, log, oauthSrv, adm)
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = adm.queue.Flush(flush)
	}()

	fmt.Fprintf(out, "SCIM Base URL:     %s\nSCIM Bearer Token: %s\nStore:             %s\n", base, token, desc)
	fmt.Fprint(out, oauthLines)
	fmt.Fprintf(out, "Admin page:        http://%s/admin/ (password %s, valid until the server stops)\n", ln.Addr(), adm.password)
	if len(c.domains) > 0 {
		fmt.Fprintf(out, "Verified domains:  %s\n", strings.Join(c.domains, ", "))
	}
	if randomToken && closeDB != nil {
		// The data outlives this process; a random token does not.
		fmt.Fprintln(out, "The token changes at every start: pass it with -token or $SCIM_TOKEN to keep clients working after a restart.")
	}
	srv := newServer(mux)
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
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if errors.Is(err, context.DeadlineExceeded) {
		// A request still running, or a client's connection that never
		// sent one (net/http waits 5 s for those): stopping cuts them.
		_ = logOut.Flush()
		fmt.Fprintln(out, "Stopping: closing the connections still open after 10 s.")
		err = srv.Close()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
