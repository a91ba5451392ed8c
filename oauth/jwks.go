package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keySets caches the JWKS of federated clients by URL and, within one, the
// keys by kid. A key set is fetched on first use, again when it is older
// than Options.JWKSMaxAge, and again when an assertion names a kid it lacks
// (Entra ID rotates its keys without notice), but never twice within
// Options.JWKSRefreshInterval, so that assertions with made-up kids cannot
// make the Server hammer the identity provider. A failed fetch keeps the
// keys already known.
type keySets struct {
	s      *Server
	client *http.Client
	mu     sync.Mutex
	sets   map[string]*keySet
}

type keySet struct {
	mu      sync.Mutex // held during a fetch: one fetch per URL at a time
	keys    map[string]jose.JSONWebKey
	fetched time.Time // last successful fetch
	tried   time.Time // last attempt
}

func newKeySets(s *Server) *keySets {
	client := s.opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: s.opts.JWKSTimeout}
	}
	// A copy, so that the redirect check does not change the host's
	// client.
	c := *client
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkJWKSURL(req.URL.String(), s.opts.AllowLoopbackHTTP); err != nil {
			return err
		}
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &keySets{s: s, client: &c, sets: map[string]*keySet{}}
}

// key returns the key kid of the JWKS at url, fetching the set when it is
// needed and allowed. reason, when not empty, says why there is no key.
func (k *keySets) key(ctx context.Context, url, kid string, now time.Time) (key jose.JSONWebKey, reason string) {
	k.mu.Lock()
	set := k.sets[url]
	if set == nil {
		set = &keySet{}
		k.sets[url] = set
	}
	k.mu.Unlock()

	set.mu.Lock()
	defer set.mu.Unlock()
	key, found := set.find(kid)
	stale := set.fetched.IsZero() || now.Sub(set.fetched) >= k.s.opts.JWKSMaxAge
	if (found && !stale) || (!set.tried.IsZero() && now.Sub(set.tried) < k.s.opts.JWKSRefreshInterval) {
		if !found {
			return key, "unknown key"
		}
		return key, ""
	}
	set.tried = now
	keys, err := k.fetch(ctx, url)
	if err != nil {
		k.s.log.WarnContext(ctx, "oauth JWKS fetch failed", "url", url, "err", err)
		if found {
			return key, ""
		}
		if set.keys == nil {
			return key, "JWKS unavailable"
		}
		return key, "unknown key"
	}
	set.keys, set.fetched = keys, now
	if key, found = set.find(kid); !found {
		return key, "unknown key"
	}
	return key, ""
}

// find returns the key with kid, or the only key when kid is empty and the
// set has one.
func (set *keySet) find(kid string) (jose.JSONWebKey, bool) {
	if kid == "" {
		if len(set.keys) == 1 {
			for _, k := range set.keys {
				return k, true
			}
		}
		return jose.JSONWebKey{}, false
	}
	k, ok := set.keys[kid]
	return k, ok
}

// fetch reads the JWKS at url: at most Options.MaxJWKSBytes, within
// Options.JWKSTimeout. It keeps the public signature keys, skipping any
// key it cannot use (another kty, an encryption key, a private key), so
// that one odd key does not make the issuer's others unusable.
func (k *keySets) fetch(ctx context.Context, url string) (map[string]jose.JSONWebKey, error) {
	if err := checkJWKSURL(url, k.s.opts.AllowLoopbackHTTP); err != nil {
		return nil, err
	}
	// Not the request's cancellation: a client that hangs up must not
	// spend the refresh that the interval allows.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.s.opts.JWKSTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.s.opts.MaxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > k.s.opts.MaxJWKSBytes {
		return nil, fmt.Errorf("the JWKS is larger than %d bytes", k.s.opts.MaxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS parses a JWKS document into its usable keys by kid.
func parseJWKS(body []byte) (map[string]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("the JWKS is not a JSON key set")
	}
	keys := make(map[string]jose.JSONWebKey, len(doc.Keys))
	for _, raw := range doc.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			continue
		}
		if !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys[key.KeyID] = key
	}
	if len(keys) == 0 {
		return nil, errors.New("the JWKS has no usable signature key")
	}
	return keys, nil
}
