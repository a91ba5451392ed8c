package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AssertionAlgorithms returns the signature algorithms a client assertion
// may use: RSA and ECDSA signatures, which a public key in a JWKS verifies.
// Entra ID signs with RS256. "none" and every HMAC algorithm are absent:
// an HMAC "signed" with the issuer's public key as its secret is refused
// before any key is looked at. The slice is a copy; the list is fixed.
func AssertionAlgorithms() []jose.SignatureAlgorithm { return slices.Clone(assertionAlgs) }

var assertionAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
}

// maxAssertionBytes caps an assertion; Entra ID's are about 1.5 KB.
const maxAssertionBytes = 16 << 10

// assertionClaims are the claims of a client assertion the checks use.
type assertionClaims struct {
	jwt.Claims
}

// checkAssertion verifies a client assertion (RFC 7523 §2.2, §3) against
// the client's federation: its signature by a key of the JWKS (by kid), an
// allowed algorithm, iss, sub and aud equal to what the admin configured,
// and exp (required), nbf and iat within the clock skew.
func (s *Server) checkAssertion(ctx context.Context, assertion string, f Federation, now time.Time) *tokenError {
	failed := refuse(errInvalidClient, "the client assertion is not valid")
	if len(assertion) > maxAssertionBytes {
		return failed.because("assertion larger than 16 KiB")
	}
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil {
		return failed.because(whyUnparsable(assertion))
	}
	if len(tok.Headers) != 1 {
		return failed.because("not one signature")
	}
	if err := checkJWKSURL(f.JWKSURL, s.opts.AllowLoopbackHTTP); err != nil {
		return refuse(errInvalidClient, "the client's JWKS URL is not allowed").because("JWKS URL not allowed")
	}
	key, reason := s.keys.key(ctx, f.JWKSURL, tok.Headers[0].KeyID, now)
	if reason != "" {
		return failed.because(reason)
	}
	if key.Algorithm != "" && key.Algorithm != tok.Headers[0].Algorithm {
		return failed.because("algorithm differs from the key's")
	}
	var c assertionClaims
	if err := tok.Claims(key.Key, &c); err != nil {
		return failed.because("bad signature")
	}
	switch {
	case c.Issuer != f.Issuer:
		return failed.because("wrong issuer")
	case c.Subject != f.Subject:
		return failed.because("wrong subject")
	case !c.Audience.Contains(f.Audience):
		return failed.because("wrong audience")
	case c.Expiry == nil:
		return failed.because("no exp")
	}
	err = c.ValidateWithLeeway(jwt.Expected{Time: now}, s.opts.ClockSkew)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return failed.because("expired")
	case errors.Is(err, jwt.ErrNotValidYet):
		return failed.because("not yet valid")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return failed.because("issued in the future")
	case err != nil:
		return failed.because("invalid claims")
	}
	return nil
}

// whyUnparsable says, for the log, why jwt.ParseSigned refused an
// assertion: it reads the header's alg without trusting anything.
func whyUnparsable(assertion string) string {
	head, _, ok := strings.Cut(assertion, ".")
	if !ok {
		return "not a compact JWS"
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "malformed header"
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return "malformed header"
	}
	switch {
	case strings.EqualFold(h.Alg, "none"):
		return "alg none"
	case strings.HasPrefix(strings.ToUpper(h.Alg), "HS"):
		return "HMAC algorithm"
	}
	for _, a := range assertionAlgs {
		if string(a) == h.Alg {
			return "malformed JWS"
		}
	}
	return "algorithm not allowed"
}
