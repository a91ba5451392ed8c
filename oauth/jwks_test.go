package oauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestParseJWKSEntraShape: a key set in the shape Entra ID publishes (RSA
// keys with x5t, x5c and Microsoft's issuer and cloud_instance_name
// members) parses, and keys the Server cannot use are skipped without
// losing the others.
func TestParseJWKSEntraShape(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	thumb := sha1.Sum(der)
	b64 := base64.RawURLEncoding.EncodeToString
	doc := fmt.Sprintf(`{"keys":[
	{"kty":"RSA","use":"sig","kid":"entra-1","x5t":%q,"n":%q,"e":"AQAB","x5c":[%q],"cloud_instance_name":"microsoftonline.com","issuer":%q},
	{"kty":"oct","kid":"symmetric","k":"c2VjcmV0"},
	{"kty":"RSA","use":"enc","kid":"encryption","n":%q,"e":"AQAB"},
	{"kty":"XYZ","kid":"unknown-type"}
	]}`, b64(thumb[:]), b64(key.N.Bytes()), base64.StdEncoding.EncodeToString(der), entraIssuer, b64(key.N.Bytes()))
	keys, err := parseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("keys %v, want entra-1 only", keys)
	}
	got, ok := keys["entra-1"].Key.(*rsa.PublicKey)
	if !ok || got.N.Cmp(key.N) != 0 {
		t.Errorf("entra-1 = %T", keys["entra-1"].Key)
	}
	for _, bad := range []string{`[]`, `{"keys":[]}`, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, `not json`} {
		if _, err := parseJWKS([]byte(bad)); err == nil {
			t.Errorf("parseJWKS(%s) = nil error", bad)
		}
	}
}

// TestJWKSMaxAgeAndFailure: a key set older than JWKSMaxAge is fetched
// again on the next assertion; when that fetch fails, the keys already
// known keep working.
func TestJWKSMaxAgeAndFailure(t *testing.T) {
	f := newFixture(t, Options{JWKSMaxAge: 10 * time.Minute, JWKSRefreshInterval: time.Minute})
	assert := func(want int) {
		t.Helper()
		if r := f.post(t, assertionForm("client-1", f.idp.sign(entraClaims(f.clock.now()))), ""); r.status != want {
			t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
		}
	}
	assert(200)
	f.clock.advance(5 * time.Minute)
	assert(200)
	if n := f.idp.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within the max age, want 1", n)
	}
	f.clock.advance(6 * time.Minute)
	assert(200)
	if n := f.idp.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after the max age, want 2", n)
	}
	f.idp.srv.Close() // the identity provider is unreachable
	f.clock.advance(11 * time.Minute)
	assert(200)
	if !strings.Contains(f.log.String(), "oauth JWKS fetch failed") {
		t.Error("the failed fetch is not logged")
	}
}

// TestKeyAlgorithmMismatch: a JWKS key that names its algorithm verifies
// only assertions of that algorithm.
func TestKeyAlgorithmMismatch(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Algorithm: "RS256", Use: "sig"}}})
	}))
	defer jwks.Close()
	f := newFixture(t, Options{})
	fed := Federation{Issuer: entraIssuer, JWKSURL: jwks.URL, Subject: entraSubject, Audience: entraAudience}
	for _, c := range []struct {
		alg  jose.SignatureAlgorithm
		want string
	}{{jose.RS256, ""}, {jose.PS256, "algorithm differs from the key's"}} {
		a := signWith(t, jose.SigningKey{Algorithm: c.alg, Key: key}, "k", entraClaims(f.clock.now()))
		e := f.srv.checkAssertion(t.Context(), a, fed, f.clock.now())
		switch {
		case c.want == "" && e != nil:
			t.Errorf("%s: %s", c.alg, e.reason)
		case c.want != "" && (e == nil || e.reason != c.want):
			t.Errorf("%s: %v, want %q", c.alg, e, c.want)
		}
	}
}

func TestMetadataWithoutTokenURL(t *testing.T) {
	f := newFixture(t, Options{})
	w := httptest.NewRecorder()
	f.srv.Metadata().ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
	if w.Code != 404 {
		t.Errorf("without TokenURL: %d", w.Code)
	}
	f = newFixture(t, Options{TokenURL: testIssuer + "/oauth2/token"})
	w = httptest.NewRecorder()
	f.srv.Metadata().ServeHTTP(w, httptest.NewRequest("POST", "/.well-known/oauth-authorization-server", nil))
	if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
}
