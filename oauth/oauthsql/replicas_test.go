package oauthsql

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/oauth"
)

// TestReplicas: two Servers sharing the database and the signing keys, as
// two replicas of a host behind a load balancer without sticky sessions. A
// token from one is admitted by the other; a secret revoked through one
// gets no token from the other, and its tokens are refused by both.
func TestReplicas(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			storage := d.open(t)
			ctx := t.Context()
			keys := []oauth.SigningKey{oauth.NewSigningKey()}
			replica := func() *oauth.Server {
				s, err := oauth.New(storage, oauth.Options{Issuer: "https://app.example.com", SigningKeys: keys,
					ClientCheckInterval: -1, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			a, b := replica(), replica()
			c := oauth.Client{ID: oauth.NewClientID(), Tenant: "tenant-" + oauth.NewClientID()}
			if err := storage.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = storage.DeleteClient(context.Background(), c.ID) })
			secret, sec, err := oauth.NewSecret(c.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := storage.AddSecret(ctx, sec); err != nil {
				t.Fatal(err)
			}
			status, tok := token(t, a, c.ID, secret)
			if status != 200 {
				t.Fatalf("replica a: %d", status)
			}
			if tn, err := b.Lookup(ctx, tok); err != nil || tn.ID != c.Tenant || tn.Client != c.ID {
				t.Fatalf("replica b admits a's token: %+v %v", tn, err)
			}
			if err := storage.RevokeSecret(ctx, c.ID, sec.ID, sec.Created); err != nil {
				t.Fatal(err)
			}
			if status, _ := token(t, b, c.ID, secret); status != 401 {
				t.Errorf("replica b issues for a revoked secret: %d", status)
			}
			for name, s := range map[string]*oauth.Server{"a": a, "b": b} {
				if _, err := s.Lookup(ctx, tok); !errors.Is(err, scim.ErrUnknownToken) {
					t.Errorf("replica %s admits the revoked secret's token: %v", name, err)
				}
			}
		})
	}
}

func token(t *testing.T, s *oauth.Server, id, secret string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body.AccessToken
}
