package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/oauth"
)

// A host serves SCIM to an Entra ID gallery app with OAuth client
// credentials, and to Okta with a static token, on one endpoint. The admin
// copies the Client ID, Client Secret and Token URL into Entra ID's
// provisioning page beside the SCIM URL; Entra's provisioning service then
// gets its access tokens from the token endpoint.
func Example() {
	ctx := context.Background()
	storage := &oauth.Memory{} // or oauthsql.Open(ctx, db, oauthsql.PostgreSQL)

	// The workspace admin's portal creates a client for the tenant "acme"
	// and shows the secret once. For workload identity federation it
	// would set Client.Federation to the issuer, JWKS URL, subject and
	// audience copied from Entra ID instead.
	client := oauth.Client{ID: oauth.NewClientID(), Tenant: "acme", Name: "Entra ID"}
	if err := storage.CreateClient(ctx, client); err != nil {
		log.Fatal(err)
	}
	secret, stored, err := oauth.NewSecret(client.ID, oauth.DefaultSecretLifetime)
	if err != nil {
		log.Fatal(err)
	}
	if err := storage.AddSecret(ctx, stored); err != nil {
		log.Fatal(err)
	}

	// Every replica gets the same signing keys from the host's secret
	// store; NewSigningKey makes one.
	srv, err := oauth.New(storage, oauth.Options{
		Issuer:      "https://app.example.com",
		SigningKeys: []oauth.SigningKey{oauth.NewSigningKey()},
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	var tokens scim.Tokens // Okta's static tokens
	h, err := scim.NewHandler(memstore.New(), scim.Options{OAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /oauth2/token", srv)
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(srv.LookupOr(tokens.Lookup))(h)))
	web := httptest.NewServer(mux)
	defer web.Close()

	// What Entra ID does: a client credentials request, then SCIM with
	// the access token.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client.ID},
		"client_secret": {secret}, "scope": {"scim"}}
	resp, err := http.Post(web.URL+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		log.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token:", resp.StatusCode, tok.TokenType, tok.ExpiresIn, tok.Scope)

	req, _ := http.NewRequest("GET", web.URL+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("GET /scim/v2/Users:", resp.StatusCode)

	tenant, err := srv.Lookup(ctx, tok.AccessToken)
	fmt.Println("tenant:", tenant.ID, "client is the one created:", tenant.Client == client.ID, err)
	// Output:
	// token: 200 Bearer 3600 scim
	// GET /scim/v2/Users: 200
	// tenant: acme client is the one created: true <nil>
}

// The admin package's page and API manage a workspace's OAuth clients
// through AdminClients: here its JSON API creates a client and a secret
// for the workspace "acme", as the host's admin portal would.
func ExampleAdminClients() {
	storage := &oauth.Memory{}
	srv, err := oauth.New(storage, oauth.Options{
		Issuer:      "https://app.example.com",
		TokenURL:    "https://app.example.com/oauth2/token",
		SigningKeys: []oauth.SigningKey{oauth.NewSigningKey()},
	})
	if err != nil {
		log.Fatal(err)
	}
	clients, err := oauth.AdminClients(storage, srv)
	if err != nil {
		log.Fatal(err)
	}
	m := new(admin.Memory)
	page, err := admin.NewHandler(&admin.Settings{Tokens: m, Sync: m, Domains: m},
		admin.Options{BaseURL: "https://app.example.com/scim/v2", OAuth: clients})
	if err != nil {
		log.Fatal(err)
	}
	// The host's admin login names the workspace.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page.ServeHTTP(w, r.WithContext(scim.WithTenant(r.Context(), scim.Tenant{ID: "acme"})))
	})

	call := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	var c admin.OAuthClient
	_ = json.Unmarshal(call("POST", "/api/oauth/clients", `{"name":"Entra ID gallery app"}`).Body.Bytes(), &c)
	w := call("POST", "/api/oauth/clients/"+c.ID+"/secrets", `{"lifetimeDays":730}`)
	var s admin.CreatedOAuthSecret
	_ = json.Unmarshal(w.Body.Bytes(), &s)
	fmt.Println(w.Code, strings.HasPrefix(s.Secret, oauth.SecretPrefix), s.Record.Expires.Sub(s.Record.Created).Hours()/24, "days")

	var o admin.OAuthOverview
	_ = json.Unmarshal(call("GET", "/api/oauth/clients", "").Body.Bytes(), &o)
	fmt.Println(o.TokenURL, o.Clients[0].Name, len(o.Clients[0].Secrets), "secret")
	// Output:
	// 201 true 730 days
	// https://app.example.com/oauth2/token Entra ID gallery app 1 secret
}
