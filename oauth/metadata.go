package oauth

import (
	"encoding/json"
	"net/http"
)

// Metadata returns the RFC 8414 authorization server metadata document as
// a handler, for the host to mount at
// /.well-known/oauth-authorization-server (RFC 8414 §3; with the path of
// Options.Issuer appended when the issuer has one). It describes what the
// token endpoint does: the client credentials grant, client authentication
// with a secret or a JWT assertion, and the algorithms assertions may use.
// It needs Options.TokenURL; without it the handler answers 404.
// response_types_supported, required by RFC 8414, is empty: there is no
// authorization endpoint.
func (s *Server) Metadata() http.Handler {
	algs := make([]string, len(assertionAlgs))
	for i, a := range assertionAlgs {
		algs[i] = string(a)
	}
	scopes := []string{Scope}
	doc, err := json.Marshal(map[string]any{
		"issuer":                                s.opts.Issuer,
		"token_endpoint":                        s.opts.TokenURL,
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{},
		"scopes_supported":                      scopes,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": algs,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.TokenURL == "" || err != nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(doc)
	})
}
