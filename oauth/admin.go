package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/admin"
)

// AdminClients returns the [admin.OAuthClients] over storage that the
// admin package's page and API manage a workspace's clients with: set it as
// admin.Options.OAuth. srv is the token endpoint the clients get tokens
// from: its Options.TokenURL is the Token URL the page shows (required
// there), its Options.AllowLoopbackHTTP applies to the JWKS URLs an admin
// enters, and a revoked secret or a changed federation is forgotten by its
// client cache at once ([Server.ForgetClient]), so that tokens the secret
// got are refused on this replica from the next request.
//
// Every method acts on the tenant's own clients only: another tenant's
// client is answered with scim.ErrNotFound, exactly as one that does not
// exist, and never changed. Input the admin got wrong is an error wrapping
// admin.ErrInvalid. The result is safe for concurrent use when storage is.
// It returns an error when storage or srv is nil or srv has no TokenURL.
func AdminClients(storage Storage, srv *Server) (admin.OAuthClients, error) {
	switch {
	case storage == nil || srv == nil:
		return nil, errors.New("oauth: AdminClients: nil Storage or Server")
	case srv.opts.TokenURL == "":
		return nil, errors.New("oauth: AdminClients: the Server's Options.TokenURL is empty: the page shows it to the admin")
	}
	return &adminClients{storage: storage, srv: srv}, nil
}

var _ admin.OAuthClients = (*adminClients)(nil)

type adminClients struct {
	storage Storage
	srv     *Server
}

// maxClientName caps a client's label, as admin caps a token's.
const maxClientName = 100

// errNotFound is what the admin reads of a client that is not the
// tenant's.
var errNotFound = fmt.Errorf("admin: no such OAuth client: %w", scim.ErrNotFound)

func (a *adminClients) TokenURL() string { return a.srv.opts.TokenURL }

// client returns the tenant's client id, or errNotFound when it is
// another tenant's or none.
func (a *adminClients) client(ctx context.Context, tenant, id string) (Client, error) {
	if !validClientID(id) {
		return Client{}, errNotFound
	}
	c, err := a.storage.Client(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Client{}, errNotFound
	case err != nil:
		return Client{}, err
	case c.Tenant != tenant:
		return Client{}, errNotFound
	}
	return c, nil
}

func (a *adminClients) view(ctx context.Context, c Client) (admin.OAuthClient, error) {
	ss, err := a.storage.Secrets(ctx, c.ID)
	if err != nil {
		return admin.OAuthClient{}, err
	}
	v := admin.OAuthClient{ID: c.ID, Name: c.Name, Created: c.Created, Disabled: c.Disabled, Secrets: make([]admin.OAuthSecret, len(ss))}
	if f := c.Federation; f != nil {
		v.Federation = &admin.OAuthFederation{Issuer: f.Issuer, JWKSURL: f.JWKSURL, Subject: f.Subject, Audience: f.Audience}
	}
	for i, s := range ss {
		v.Secrets[i] = secretView(s)
	}
	return v, nil
}

func secretView(s Secret) admin.OAuthSecret {
	return admin.OAuthSecret{ID: s.ID, Created: s.Created, Expires: s.Expires, Revoked: s.Revoked}
}

func (a *adminClients) ListOAuthClients(ctx context.Context, tenant string) ([]admin.OAuthClient, error) {
	cs, err := a.storage.Clients(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]admin.OAuthClient, 0, len(cs))
	for _, c := range cs {
		v, err := a.view(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (a *adminClients) CreateOAuthClient(ctx context.Context, tenant, name string) (admin.OAuthClient, error) {
	name = strings.TrimSpace(name)
	switch {
	case tenant == "":
		return admin.OAuthClient{}, errors.New("oauth: CreateOAuthClient: empty tenant")
	case len(name) > maxClientName || !utf8.ValidString(name):
		return admin.OAuthClient{}, fmt.Errorf("admin: a client's name is at most %d bytes of text: %w", maxClientName, admin.ErrInvalid)
	}
	c := Client{ID: NewClientID(), Tenant: tenant, Name: name, Created: time.Now().UTC().Truncate(time.Microsecond)}
	if err := a.storage.CreateClient(ctx, c); err != nil {
		return admin.OAuthClient{}, err
	}
	return admin.OAuthClient{ID: c.ID, Name: c.Name, Created: c.Created, Secrets: []admin.OAuthSecret{}}, nil
}

func (a *adminClients) CreateOAuthSecret(ctx context.Context, tenant, clientID string, lifetime time.Duration) (string, admin.OAuthSecret, error) {
	if _, err := a.client(ctx, tenant, clientID); err != nil {
		return "", admin.OAuthSecret{}, err
	}
	if lifetime != 0 && (lifetime < MinSecretLifetime || lifetime > MaxSecretLifetime) {
		return "", admin.OAuthSecret{}, fmt.Errorf("admin: a client secret expires after 1 to 3 years: %w", admin.ErrInvalid)
	}
	secret, s, err := NewSecret(clientID, lifetime)
	if err != nil {
		return "", admin.OAuthSecret{}, err
	}
	if err := a.storage.AddSecret(ctx, s); err != nil {
		if errors.Is(err, ErrNotFound) { // deleted meanwhile
			return "", admin.OAuthSecret{}, errNotFound
		}
		return "", admin.OAuthSecret{}, err
	}
	return secret, secretView(s), nil
}

func (a *adminClients) RevokeOAuthSecret(ctx context.Context, tenant, clientID, secretID string) error {
	if _, err := a.client(ctx, tenant, clientID); err != nil {
		return err
	}
	err := a.storage.RevokeSecret(ctx, clientID, secretID, time.Now().UTC().Truncate(time.Microsecond))
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("admin: the client has no such secret: %w", scim.ErrNotFound)
	}
	if err != nil {
		return err
	}
	a.srv.ForgetClient(clientID)
	return nil
}

func (a *adminClients) SetOAuthFederation(ctx context.Context, tenant, clientID string, f *admin.OAuthFederation) (admin.OAuthClient, error) {
	c, err := a.client(ctx, tenant, clientID)
	if err != nil {
		return admin.OAuthClient{}, err
	}
	c.Federation = nil
	if f != nil {
		v, err := Federation{Issuer: f.Issuer, JWKSURL: f.JWKSURL, Subject: f.Subject, Audience: f.Audience}.Validate(a.srv.opts.AllowLoopbackHTTP)
		if err != nil {
			return admin.OAuthClient{}, fmt.Errorf("admin: workload identity %s: %w", strings.TrimPrefix(err.Error(), "oauth: "), admin.ErrInvalid)
		}
		c.Federation = &v
	}
	if err := a.storage.UpdateClient(ctx, c); err != nil {
		if errors.Is(err, ErrNotFound) {
			return admin.OAuthClient{}, errNotFound
		}
		return admin.OAuthClient{}, err
	}
	a.srv.ForgetClient(clientID)
	return a.view(ctx, c)
}
