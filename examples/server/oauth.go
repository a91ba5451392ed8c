package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scimhost/scim/oauth"
	"github.com/scimhost/scim/oauth/oauthsql"
	"github.com/scimhost/scim/sqlstore"
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
// server and no lines without -oauth. Token requests
// are logged to log, beside the demo's request lines.
//
// With -db memory (a nil sqlDB) the client lives in memory, and the flags
// recreate it at every start. With SQLite or PostgreSQL it lives in the
// database (package oauthsql, beside sqlstore's tables), so that a restart
// keeps the client and every secret it had: the client is created at the
// first start and its federation follows the -wif-* flags at each start;
// -oauth-secret is kept as the secret "demo" (replaced when the flag
// changes), and without it each start adds a new random secret beside the
// earlier ones, which go on getting tokens.
func setupOAuth(ctx context.Context, o oauthFlags, origin string, log *slog.Logger, sqlDB *sql.DB, dialect sqlstore.Dialect) (*oauth.Server, oauth.Storage, string, error) {
	if !o.enabled {
		return nil, nil, "", nil
	}
	var storage oauth.Storage = &oauth.Memory{}
	if sqlDB != nil {
		d := oauthsql.SQLite
		if dialect == sqlstore.PostgreSQL {
			d = oauthsql.PostgreSQL
		}
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		s, err := oauthsql.Open(octx, sqlDB, d)
		cancel()
		if err != nil {
			return nil, nil, "", err
		}
		storage = s
	}
	c := oauth.Client{ID: demoClientID, Tenant: "demo", Name: "demo", Created: time.Now().UTC().Truncate(time.Microsecond)}
	if o.wif != (oauth.Federation{}) {
		f := o.wif
		c.Federation = &f
	}
	if err := ensureClient(ctx, storage, c); err != nil {
		return nil, nil, "", err
	}
	secret := o.secret
	var s oauth.Secret
	var err error
	if secret == "" {
		secret, s, err = oauth.NewSecret(c.ID, 0)
	} else {
		s, err = oauth.SecretOf(c.ID, secret, 0)
		// Tokens name the secret they were issued for: a fixed id keeps
		// them valid across restarts, with the key below.
		s.ID = "demo"
	}
	if err != nil {
		return nil, nil, "", err
	}
	if err := ensureSecret(ctx, storage, s); err != nil {
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
	switch {
	case o.secret == "" && sqlDB == nil:
		fmt.Fprintln(&b, "The OAuth client secret changes at every start: pass it with -oauth-secret to keep clients working after a restart.")
	case o.secret == "":
		fmt.Fprintln(&b, "Without -oauth-secret each start adds a new OAuth client secret; the client and the secrets of earlier starts are kept in the database and still get tokens.")
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

// ensureClient stores c, or, when the storage already has a client with its
// id (a restart on the same database), sets that client's federation to
// c's.
func ensureClient(ctx context.Context, storage oauth.Storage, c oauth.Client) error {
	old, err := storage.Client(ctx, c.ID)
	switch {
	case errors.Is(err, oauth.ErrNotFound):
		return storage.CreateClient(ctx, c)
	case err != nil:
		return err
	}
	old.Federation = c.Federation
	return storage.UpdateClient(ctx, old)
}

// ensureSecret adds s to its client's secrets. A secret with its id that
// is the same secret and still active is kept (with the expiry it had); one
// that is another secret, revoked or expired is replaced.
func ensureSecret(ctx context.Context, storage oauth.Storage, s oauth.Secret) error {
	all, err := storage.Secrets(ctx, s.ClientID)
	if err != nil {
		return err
	}
	for _, old := range all {
		if old.ID != s.ID {
			continue
		}
		if old.Hash == s.Hash && old.Active(time.Now()) {
			return nil
		}
		if err := storage.DeleteSecret(ctx, s.ClientID, s.ID); err != nil {
			return err
		}
	}
	return storage.AddSecret(ctx, s)
}
