// Command scimcheck checks a SCIM 2.0 server the way Microsoft Entra ID,
// its App Gallery validation, Okta, JumpCloud, Ping, OneLogin and Google
// Workspace use it, offline, from a laptop or CI:
//
//	go run github.com/scimhost/scim/cmd/scimcheck -url https://app.example.com/scim/v2 -token T
//
// It runs the checks of its suites one after another and prints a line per
// check, PASS, FAIL, WARN or SKIP, with, for a failure, what the client
// expects and the request and answer that showed it, then a summary. It
// exits with status 1 when a mandatory check fails (or the run is
// interrupted), 2 when it cannot run.
//
// The suites:
//
//   - entra: Test connection, the user and group cycles in the default
//     PATCH shapes and those of ?aadOptscim062020, soft delete, the
//     manager, value paths; optionally the shapes of Microsoft's SCIM
//     reference tests (GET /users, attributes with a value filter, a
//     bare member id).
//   - gallery: the App Gallery validation run's direct SCIM tests, and its
//     credentials test when -token-url is given.
//   - okta: Okta's SPEC test and its provisioning cycle.
//   - clients: JumpCloud, Ping, OneLogin (its Enterprise template's
//     single-object emails, pre-RFC Enterprise URN, managerId and
//     application/json) and Google Workspace.
//   - rfc: discovery, error bodies, ETags, paging, RFC 9865 cursor paging
//     when advertised, sorting, projection.
//   - concurrency (only when named in -suite): concurrent member PATCHes
//     on one group, as Entra sends them during an initial sync.
//
// Every user and group it creates has a generated name starting with
// "scimcheck-" and a random tag, and is deleted at the end, also when a
// check fails or on Ctrl-C (press it again to stop at once); -keep leaves
// them. A request slower than 60 seconds, Entra's limit, fails its check;
// one answered 429 is retried after its Retry-After, up to three times.
//
// Flags:
//
//	-url URL            the SCIM base URL (the Tenant URL); required
//	-token T            the bearer token (default $SCIM_TOKEN)
//	-token-url U        an OAuth 2.0 token endpoint: run the gallery's
//	-client-id C        credentials test with the client credentials
//	-client-secret S    grant (default $SCIM_CLIENT_SECRET)
//	-client-auth post   how to send the client's credentials: post or basic
//	-scope S            the token request's scope
//	-suite a,b          the suites to run (default entra,gallery,okta,clients,rfc)
//	-run REGEXP         only the checks whose id (suite/name) matches
//	-domain D           the domain of the generated userNames and emails
//	-attributes a,b     attributes the app maps beyond Entra's defaults,
//	                    which /Schemas must describe
//	-json               print the report as JSON instead of text
//	-junit FILE         also write the report as JUnit XML to FILE
//	-v                  print every exchange, in the transcript format
//	                    (to stderr with -json)
//	-keep               leave the created users and groups in place
//	-list               list the checks and exit
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/scimhost/scim/cmd/scimcheck/internal/check"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one ends the process at once.
		<-ctx.Done()
		stop()
		fmt.Fprintln(os.Stderr, "scimcheck: interrupted; deleting what the checks created (interrupt again to stop at once)")
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run runs scimcheck with args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var (
		cfg           check.Config
		suites, junit string
		asJSON, list  bool
		verbose       bool
	)
	fs := flag.NewFlagSet("scimcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scimcheck -url https://app.example.com/scim/v2 -token T [flags]")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", "", "the SCIM base `URL` (Entra's Tenant URL), such as https://app.example.com/scim/v2")
	fs.StringVar(&cfg.Token, "token", "", "the bearer `token` (default $SCIM_TOKEN)")
	fs.StringVar(&cfg.TokenURL, "token-url", "", "an OAuth 2.0 token endpoint `URL`: check the client credentials grant (App Gallery apps)")
	fs.StringVar(&cfg.ClientID, "client-id", "", "the OAuth client `id`, with -token-url")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "the OAuth client `secret`, with -token-url (default $SCIM_CLIENT_SECRET)")
	fs.StringVar(&cfg.ClientAuth, "client-auth", "post", "how the client authenticates to the token endpoint: post (client_secret_post) or basic (client_secret_basic)")
	fs.StringVar(&cfg.Scope, "scope", "", "the `scope` of the token request, if the token endpoint needs one")
	fs.StringVar(&suites, "suite", strings.Join(check.DefaultSuites, ","), "comma-separated `suites` to run, from "+strings.Join(check.Suites, ", "))
	fs.Func("attributes", "comma-separated `attributes` the app's Entra mappings target beyond the defaults, which /Schemas must describe: nickName,urn:...:User:badge", func(v string) error {
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				cfg.Attributes = append(cfg.Attributes, a)
			}
		}
		return nil
	})
	fs.Func("run", "run only the checks whose id (suite/name) matches this `regexp`, as go test -run does", func(v string) error {
		re, err := regexp.Compile(v)
		if err != nil {
			return err
		}
		cfg.Match = re.MatchString
		return nil
	})
	fs.StringVar(&cfg.Domain, "domain", "example.com", "the `domain` of the generated userNames and emails (one your server accepts)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON instead of text")
	fs.StringVar(&junit, "junit", "", "also write the report as JUnit XML to `FILE`")
	fs.BoolVar(&verbose, "v", false, "print every request and answer, in the transcript format")
	fs.BoolVar(&cfg.Keep, "keep", false, "leave the users and groups the checks created")
	fs.BoolVar(&list, "list", false, "list the checks of -suite and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "scimcheck: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	for s := range strings.SplitSeq(suites, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Suites = append(cfg.Suites, s)
		}
	}
	if list {
		for _, id := range check.List(cfg.Suites...) {
			if cfg.Match == nil || cfg.Match(id) {
				fmt.Fprintln(stdout, id)
			}
		}
		return 0
	}
	if cfg.Token == "" {
		cfg.Token = getenv("SCIM_TOKEN")
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = getenv("SCIM_CLIENT_SECRET")
	}
	if cfg.URL == "" {
		fmt.Fprintln(stderr, "scimcheck: -url is required")
		fs.Usage()
		return 2
	}
	if verbose {
		cfg.Exchanges = stdout
		if asJSON {
			cfg.Exchanges = stderr // stdout is the JSON report alone
		}
	}
	if !asJSON {
		fmt.Fprintf(stdout, "scimcheck %s (suites %s)\n", cfg.URL, strings.Join(cfg.Suites, ", "))
		cfg.Progress = func(r check.Result) { _ = check.WriteLine(stdout, r) }
	}
	rep, err := check.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "scimcheck:", err)
		return 2
	}
	if asJSON {
		err = check.WriteJSON(stdout, rep)
	} else {
		err = check.WriteSummary(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "scimcheck:", err)
		return 2
	}
	if junit != "" {
		if err := writeJUnit(junit, rep); err != nil {
			fmt.Fprintln(stderr, "scimcheck:", err)
			return 2
		}
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func writeJUnit(file string, rep *check.Report) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := check.WriteJUnit(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
