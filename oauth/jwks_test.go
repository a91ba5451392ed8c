package oauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"testing"
	"time"
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
