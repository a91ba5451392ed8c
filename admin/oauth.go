package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OAuthClients is what the page and the API need of the OAuth clients
// that Entra App Gallery apps authenticate as. Package
// github.com/scimhost/scim/oauth implements it over its storage with
// oauth.AdminClients; this package names it with plain types so that the
// root module needs no JOSE library.
//
// Every method acts on tenant's clients only: a client of another tenant
// is answered as one that does not exist. Errors for the admin's input wrap
// [ErrInvalid] (a name too long, a lifetime out of range, a federation
// setting refused) or scim.ErrNotFound (no such client or secret in the
// tenant), and their text after "admin: " is meant for the admin. Methods
// are safe for concurrent use.
type OAuthClients interface {
	// TokenURL is the token endpoint's absolute URL, the "Token URL" the
	// admin copies beside the SCIM Base URL.
	TokenURL() string
	// ListOAuthClients returns the tenant's clients with their secrets
	// (never a secret's value), oldest first.
	ListOAuthClients(ctx context.Context, tenant string) ([]OAuthClient, error)
	// CreateOAuthClient makes a client for tenant, labelled name, with a
	// new random client id and no secret.
	CreateOAuthClient(ctx context.Context, tenant, name string) (OAuthClient, error)
	// CreateOAuthSecret makes a secret for the client, valid for lifetime
	// (zero means the oauth package's default; one to three years), and
	// returns its value — the only time it is available — and its record.
	CreateOAuthSecret(ctx context.Context, tenant, clientID string, lifetime time.Duration) (string, OAuthSecret, error)
	// RevokeOAuthSecret revokes the client's secret: the next token request
	// with it is refused. Revoking a revoked secret keeps its first time.
	RevokeOAuthSecret(ctx context.Context, tenant, clientID, secretID string) error
	// SetOAuthFederation sets the client's workload identity federation,
	// validated and normalised (a trailing "/.default" is cut from the
	// audience), or clears it when f is nil, and returns the client.
	SetOAuthFederation(ctx context.Context, tenant, clientID string, f *OAuthFederation) (OAuthClient, error)
}

// OAuthClient is an OAuth client as the admin sees it.
type OAuthClient struct {
	// ID is the client_id the admin copies into Entra ID's "Client ID".
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Disabled clients get no tokens; the page cannot disable one, a host
	// may.
	Disabled bool `json:"disabled,omitempty"`
	// Federation is nil when the client has none.
	Federation *OAuthFederation `json:"federation,omitempty"`
	// Secrets are the client's secrets, revoked and expired ones included,
	// oldest first.
	Secrets []OAuthSecret `json:"secrets"`
}

// OAuthFederation is the workload identity federation of a client: the
// four values Entra ID shows, which a signed assertion must match.
type OAuthFederation struct {
	Issuer   string `json:"issuer"`
	JWKSURL  string `json:"jwksURL"`
	Subject  string `json:"subject"`
	Audience string `json:"audience"`
}

// OAuthSecret is the record of a client secret: never its value.
type OAuthSecret struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Revoked is zero while the secret is not revoked.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether s gets tokens at now: not revoked, not expired.
func (s OAuthSecret) Active(now time.Time) bool {
	return s.Revoked.IsZero() && now.Before(s.Expires)
}

// OAuthOverview is the OAuth part of an [Overview].
type OAuthOverview struct {
	TokenURL string        `json:"tokenURL"`
	Clients  []OAuthClient `json:"clients"`
}

// CreatedOAuthSecret is the answer to POST
// api/oauth/clients/{id}/secrets: the secret, once.
type CreatedOAuthSecret struct {
	Secret string      `json:"secret"`
	Record OAuthSecret `json:"record"`
}

// federationDraft is what an admin entered in a client's federation form.
type federationDraft struct {
	Client     string
	Federation *OAuthFederation
}

// year is the unit of a secret's lifetime on the page and in the API.
const year = 365 * 24 * time.Hour

// oauthNotices are the words an OAuth form's redirect may show.
var oauthNotices = map[string]string{
	"oauth-client-created":  "OAuth client created, listed last below: copy its client ID and create its first secret.",
	"oauth-secret-revoked":  "The client secret is revoked: token requests with it are now refused.",
	"oauth-federation-set":  "Federation saved: Entra ID's signed assertions now authenticate the client.",
	"oauth-federation-gone": "Federation cleared: the client authenticates with its secrets only.",
}

func (h *Handler) createOAuthClientForm(_ http.ResponseWriter, r *http.Request) (string, error) {
	// Nothing of a client is secret: Post/Redirect/Get, so that a reload
	// makes no second client.
	_, err := h.opts.OAuth.CreateOAuthClient(r.Context(), tenantOf(r), r.PostFormValue("name"))
	return "oauth-client-created", err
}

func (h *Handler) createOAuthSecretForm(w http.ResponseWriter, r *http.Request) (string, error) {
	years, err := strconv.Atoi(cmp.Or(r.PostFormValue("years"), "1"))
	if err != nil || years < 1 || years > 3 {
		return "", fmt.Errorf("admin: a client secret expires after 1 to 3 years: %w", ErrInvalid)
	}
	clientID := r.PostFormValue("client")
	secret, s, err := h.opts.OAuth.CreateOAuthSecret(r.Context(), tenantOf(r), clientID, time.Duration(years)*year)
	if err != nil {
		return "", err
	}
	// Rendered into this answer, never redirected to, as a new token.
	h.render(w, r, http.StatusOK, pageState{NewOAuthSecret: secret, NewOAuthSecretRecord: &s, NewOAuthSecretClient: clientID})
	return "", nil
}

func (h *Handler) revokeOAuthSecretForm(_ http.ResponseWriter, r *http.Request) (string, error) {
	return "oauth-secret-revoked", h.opts.OAuth.RevokeOAuthSecret(r.Context(), tenantOf(r), r.PostFormValue("client"), r.PostFormValue("secret"))
}

func (h *Handler) federationForm(w http.ResponseWriter, r *http.Request) (string, error) {
	var f *OAuthFederation
	if r.PostFormValue("action") != "clear" {
		f = &OAuthFederation{
			Issuer:   strings.TrimSpace(r.PostFormValue("issuer")),
			JWKSURL:  strings.TrimSpace(r.PostFormValue("jwks")),
			Subject:  strings.TrimSpace(r.PostFormValue("subject")),
			Audience: strings.TrimSpace(r.PostFormValue("audience")),
		}
	}
	client := r.PostFormValue("client")
	if _, err := h.opts.OAuth.SetOAuthFederation(r.Context(), tenantOf(r), client, f); err != nil {
		if f != nil && errors.Is(err, ErrInvalid) {
			h.render(w, r, http.StatusBadRequest, pageState{Problem: adminText(err), FederationDraft: &federationDraft{Client: client, Federation: f}})
			return "", nil
		}
		return "", err
	}
	if f == nil {
		return "oauth-federation-gone", nil
	}
	return "oauth-federation-set", nil
}

func (h *Handler) apiOAuthClients(w http.ResponseWriter, r *http.Request) {
	cs, err := h.opts.OAuth.ListOAuthClients(r.Context(), tenantOf(r))
	if err != nil {
		h.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OAuthOverview{TokenURL: h.opts.OAuth.TokenURL(), Clients: nonNil(cs)})
}

func (h *Handler) apiCreateOAuthClient(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		return nil, 0, err
	}
	c, err := h.opts.OAuth.CreateOAuthClient(r.Context(), tenantOf(r), in.Name)
	if err != nil {
		return nil, 0, err
	}
	return c, http.StatusCreated, nil
}

func (h *Handler) apiCreateOAuthSecret(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	var in struct {
		LifetimeDays int `json:"lifetimeDays"`
	}
	if err := decodeBody(r, &in); err != nil {
		return nil, 0, err
	}
	if in.LifetimeDays < 0 || in.LifetimeDays > 10*365 {
		return nil, 0, fmt.Errorf("admin: lifetimeDays is 365 to 1095 days, or 0 for the default: %w", ErrInvalid)
	}
	secret, s, err := h.opts.OAuth.CreateOAuthSecret(r.Context(), tenantOf(r), r.PathValue("id"), time.Duration(in.LifetimeDays)*24*time.Hour)
	if err != nil {
		return nil, 0, err
	}
	return CreatedOAuthSecret{Secret: secret, Record: s}, http.StatusCreated, nil
}

func (h *Handler) apiRevokeOAuthSecret(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	return nil, http.StatusNoContent, h.opts.OAuth.RevokeOAuthSecret(r.Context(), tenantOf(r), r.PathValue("id"), r.PathValue("secret"))
}

func (h *Handler) apiSetFederation(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	var f OAuthFederation
	if err := decodeBody(r, &f); err != nil {
		return nil, 0, err
	}
	c, err := h.opts.OAuth.SetOAuthFederation(r.Context(), tenantOf(r), r.PathValue("id"), &f)
	if err != nil {
		return nil, 0, err
	}
	return c, http.StatusOK, nil
}

func (h *Handler) apiClearFederation(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	_, err := h.opts.OAuth.SetOAuthFederation(r.Context(), tenantOf(r), r.PathValue("id"), nil)
	return nil, http.StatusNoContent, err
}

// registerOAuth adds the OAuth routes to mux.
func (h *Handler) registerOAuth(mux *http.ServeMux) {
	mux.HandleFunc("POST /oauth/clients", h.form(h.createOAuthClientForm))
	mux.HandleFunc("POST /oauth/secrets", h.form(h.createOAuthSecretForm))
	mux.HandleFunc("POST /oauth/secrets/revoke", h.form(h.revokeOAuthSecretForm))
	mux.HandleFunc("POST /oauth/federation", h.form(h.federationForm))

	mux.HandleFunc("GET /api/oauth/clients", h.apiOAuthClients)
	mux.HandleFunc("POST /api/oauth/clients", h.api(h.apiCreateOAuthClient))
	mux.HandleFunc("POST /api/oauth/clients/{id}/secrets", h.api(h.apiCreateOAuthSecret))
	mux.HandleFunc("DELETE /api/oauth/clients/{id}/secrets/{secret}", h.api(h.apiRevokeOAuthSecret))
	mux.HandleFunc("PUT /api/oauth/clients/{id}/federation", h.api(h.apiSetFederation))
	mux.HandleFunc("DELETE /api/oauth/clients/{id}/federation", h.api(h.apiClearFederation))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
