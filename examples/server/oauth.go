package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scimhost/scim/oauth"
)

// demoClientID is the OAuth client id of the demo's tenant: fixed, so that
// with the same -oauth-secret a configured Entra ID app keeps working
// across restarts.
const demoClientID = "scimhost-demo"

// oauthFlags are the flags of the OAuth token endpoint.
type oauthFlags struct {
	enabled bool
	secret  string
	wif     oauth.Federation
}

func (o *oauthFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.enabled, "oauth", false, "also serve an OAuth 2.0 token endpoint (client credentials) at /oauth2/token, as Entra ID gallery apps need")
	fs.StringVar(&o.secret, "oauth-secret", "", "the OAuth client secret (default a random one); needs -oauth")
	fs.StringVar(&o.wif.JWKSURL, "wif-jwks", "", "workload identity federation: the JWKS URL Entra ID shows (http:// only on loopback); needs -oauth")
	fs.StringVar(&o.wif.Issuer, "wif-issuer", "", "workload identity federation: the issuer Entra ID shows")
	fs.StringVar(&o.wif.Subject, "wif-subject", "", "workload identity federation: the subject Entra ID shows")
	fs.StringVar(&o.wif.Audience, "wif-audience", "", "workload identity federation: the audience Entra ID shows")
}

// check refuses OAuth flags without -oauth and an incomplete WIF set.
func (o *oauthFlags) check() error {
	wif := o.wif != (oauth.Federation{})
	if !o.enabled && (o.secret != "" || wif) {
		return errors.New("-oauth-secret and -wif-* need -oauth")
	}
	if wif {
		f, err := o.wif.Validate(true)
		if err != nil {
			return fmt.Errorf("-wif-*: all four of -wif-jwks, -wif-issuer, -wif-subject and -wif-audience are needed: %w", err)
		}
		o.wif = f
	}
	return nil
}

// setupOAuth makes the demo tenant's OAuth client and the token endpoint's
// server, and returns the lines to print: what the admin copies into Entra
// ID, and the storage the admin page manages clients in. It returns a nil
// server and no lines without -oauth. The clients live in memory: the
// flags recreate the demo client at every start, and clients made on the
// admin page are gone after a restart. Token requests are
// logged to log, beside the demo's request lines.
func setupOAuth(ctx context.Context, o oauthFlags, origin string, log *slog.Logger) (*oauth.Server, oauth.Storage, string, error) {
	if !o.enabled {
		return nil, nil, "", nil
	}
	storage := &oauth.Memory{}
	c := oauth.Client{ID: demoClientID, Tenant: "demo", Name: "demo", Created: time.Now().UTC().Truncate(time.Microsecond)}
	if o.wif != (oauth.Federation{}) {
		f := o.wif
		c.Federation = &f
	}
	if err := storage.CreateClient(ctx, c); err != nil {
		return nil, nil, "", err
	}
	secret := o.secret
	var s oauth.Secret
	var err error
	if secret == "" {
		secret, s, err = oauth.NewSecret(c.ID, 0)
	} else {
		s, err = oauth.SecretOf(c.ID, secret, 0)
	}
	if err != nil {
		return nil, nil, "", err
	}
	// Tokens name the secret they were issued for: a fixed id keeps them
	// valid across restarts, with the key below.
	s.ID = "demo"
	if err := storage.AddSecret(ctx, s); err != nil {
		return nil, nil, "", err
	}
	// A host keeps its signing keys in its secret store. The demo derives
	// its key from the client secret, so that with the same -oauth-secret
	// the access tokens Entra ID holds survive a restart.
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "scimhost demo access token signing key", 32)
	if err != nil {
		return nil, nil, "", err
	}
	tokenURL := origin + "/oauth2/token"
	srv, err := oauth.New(storage, oauth.Options{
		Issuer:            origin,
		TokenURL:          tokenURL,
		SigningKeys:       []oauth.SigningKey{{ID: "demo", Secret: key}},
		AllowLoopbackHTTP: true,
		Logger:            log,
	})
	if err != nil {
		return nil, nil, "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "OAuth Token URL: %s\nOAuth Client ID: %s\nOAuth Client Secret: %s\n", tokenURL, c.ID, secret)
	if o.secret == "" {
		fmt.Fprintln(&b, "The OAuth client secret changes at every start: pass it with -oauth-secret to keep clients working after a restart.")
	}
	if c.Federation != nil {
		fmt.Fprintf(&b, "OAuth federation: issuer %s, subject %s, audience %s, keys from %s\n",
			c.Federation.Issuer, c.Federation.Subject, c.Federation.Audience, c.Federation.JWKSURL)
	}
	return srv, storage, b.String(), nil
}

// mountOAuth adds the token endpoint and its RFC 8414 metadata to mux.
func mountOAuth(mux *http.ServeMux, srv *oauth.Server) {
	mux.Handle("/oauth2/token", srv)
	mux.Handle("GET /.well-known/oauth-authorization-server", srv.Metadata())
}
