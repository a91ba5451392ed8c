package oauthsql

import (
	"errors"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/oauth"
)

// TestAdminClients runs the admin page's OAuth operations over the SQL
// storage: what the admin makes is stored, another workspace reaches none
// of it, and a revoked secret gets no token.
func TestAdminClients(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := d.open(t)
			// The PostgreSQL database outlives the test: workspaces of
			// their own keep earlier runs' clients out of the lists.
			acme, globex := "acme-"+scim.NewID(), "globex-"+scim.NewID()
			srv, err := oauth.New(st, oauth.Options{Issuer: "https://app.example.com", TokenURL: "https://app.example.com/oauth2/token",
				SigningKeys: []oauth.SigningKey{oauth.NewSigningKey()}})
			if err != nil {
				t.Fatal(err)
			}
			ac, err := oauth.AdminClients(st, srv)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ac.CreateOAuthClient(ctx, acme, "Entra ID")
			if err != nil {
				t.Fatal(err)
			}
			secret, s, err := ac.CreateOAuthSecret(ctx, acme, c.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if status, _ := token(t, srv, c.ID, secret); status != 200 {
				t.Fatalf("token request with the new secret: %d", status)
			}
			if _, err := ac.SetOAuthFederation(ctx, acme, c.ID, &admin.OAuthFederation{Issuer: "https://idp.example",
				JWKSURL: "https://idp.example/keys", Subject: "sub", Audience: "api://app/.default"}); err != nil {
				t.Fatal(err)
			}

			if cs, err := ac.ListOAuthClients(ctx, globex); err != nil || len(cs) != 0 {
				t.Errorf("globex lists %+v, %v", cs, err)
			}
			if err := ac.RevokeOAuthSecret(ctx, globex, c.ID, s.ID); !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("globex revoking acme's secret: %v, want scim.ErrNotFound", err)
			}
			if _, err := ac.SetOAuthFederation(ctx, globex, c.ID, nil); !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("globex clearing acme's federation: %v, want scim.ErrNotFound", err)
			}

			if err := ac.RevokeOAuthSecret(ctx, acme, c.ID, s.ID); err != nil {
				t.Fatal(err)
			}
			cs, err := ac.ListOAuthClients(ctx, acme)
			if err != nil || len(cs) != 1 {
				t.Fatalf("acme lists %+v, %v", cs, err)
			}
			got := cs[0]
			if got.ID != c.ID || got.Name != "Entra ID" || !got.Created.Equal(c.Created) || got.Federation == nil ||
				got.Federation.Audience != "api://app" || len(got.Secrets) != 1 || got.Secrets[0].ID != s.ID ||
				!got.Secrets[0].Expires.Equal(s.Expires) || got.Secrets[0].Revoked.IsZero() {
				t.Errorf("acme's client as stored: %+v", got)
			}
			if status, _ := token(t, srv, c.ID, secret); status != 401 {
				t.Errorf("token request with the revoked secret: %d, want 401", status)
			}
		})
	}
}
