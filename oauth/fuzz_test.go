package oauth

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4/jwt"
)

var tokenErrorCodes = []string{errInvalidRequest, errInvalidClient, errUnsupportedGrantType, errInvalidScope}

// FuzzTokenRequest parses arbitrary token request bodies and Authorization
// headers: nothing panics, a refusal is one of RFC 6749's codes with a
// description RFC 6749 §5.2 allows, and an accepted request names a client
// and exactly one way of authenticating.
func FuzzTokenRequest(f *testing.F) {
	f.Add("grant_type=client_credentials&client_id=c&client_secret=s&scope=scim", "")
	f.Add("grant_type=client_credentials&scope=scim", "Basic Yzpz")
	f.Add("grant_type=client_credentials&client_id=c&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c", "")
	f.Add("grant_type=client_credentials&grant_type=x", "Basic Og==")
	f.Add("a=%zz", "Bearer x")
	fx := newFixture(f, Options{Logger: slog.New(slog.DiscardHandler)})
	f.Add("grant_type=client_credentials&client_id=client-1&client_secret="+fx.secret, "")
	f.Fuzz(func(t *testing.T, body, authorization string) {
		// The whole endpoint: never a 500 for what a client sends, always
		// a JSON body.
		w := httptest.NewRecorder()
		full := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		full.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			full.Header.Set("Authorization", authorization)
		}
		fx.srv.ServeHTTP(w, full)
		if w.Code >= 500 || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%d %q", w.Code, w.Body.String())
		}

		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		req, e := parseTokenRequest(r)
		if e != nil {
			if !slices.Contains(tokenErrorCodes, e.code) {
				t.Fatalf("error code %q", e.code)
			}
			if printable(e.desc, len(e.desc)) != e.desc {
				t.Fatalf("error_description %q has characters RFC 6749 forbids", e.desc)
			}
			return
		}
		if req.clientID == "" || req.method == authNone {
			t.Fatalf("accepted without a client: %+v", req)
		}
		if (req.method == authAssertion) == (req.assertion == "") {
			t.Fatalf("method %v with assertion %q", req.method, req.assertion)
		}
	})
}

// FuzzAssertion checks arbitrary client assertions against a federated
// client whose keys are cached: nothing panics, a refusal is
// invalid_client, and an accepted assertion has exactly the configured
// issuer, subject and audience.
func FuzzAssertion(f *testing.F) {
	fx := newFixture(f, Options{})
	fed := *fx.client.Federation
	valid := fx.idp.sign(entraClaims(fx.clock.now()))
	f.Add(valid)
	f.Add(strings.Replace(valid, ".", "x.", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, assertion string) {
		e := fx.srv.checkAssertion(t.Context(), assertion, fed, fx.clock.now())
		if e != nil {
			if e.code != errInvalidClient {
				t.Fatalf("code %q", e.code)
			}
			return
		}
		tok, err := jwt.ParseSigned(assertion, assertionAlgs)
		if err != nil {
			t.Fatalf("accepted an assertion that does not parse: %v", err)
		}
		var c jwt.Claims
		if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
			t.Fatal(err)
		}
		if c.Issuer != fed.Issuer || c.Subject != fed.Subject || !c.Audience.Contains(fed.Audience) {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}
