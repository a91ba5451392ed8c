package scim

import (
	"net/http"
	"net/url"
	"strings"
)

// CleanPaths returns a handler that passes every request to next, first
// collapsing doubled slashes and dropping a trailing slash in a path under
// prefix, the path the SCIM base URL names ("/scim/v2"). Wrap the host's
// http.ServeMux with it (as the server's Handler, or wherever requests
// reach the mux):
//
//	h, err := scim.NewHandler(store, scim.Options{Prefix: "/scim/v2", ...})
//	mux.Handle("/scim/v2/", scim.BearerAuth(tokens.Lookup)(h))
//	srv := &http.Server{Handler: scim.CleanPaths("/scim/v2", mux), ...}
//
// An admin who pastes the Tenant URL with a trailing slash
// ("https://app.example.com/scim/v2/") makes Entra ID send
// "POST /scim/v2//Users". http.ServeMux answers a path that is not clean
// with a redirect before any handler runs, which a provisioning client does
// not follow for a POST; under CleanPaths the request reaches the Handler
// and is answered as "/scim/v2/Users" is. The Handler cleans the paths it
// sees itself, so a host whose router passes such paths through needs no
// wrapper.
//
// Paths outside prefix, and paths with "." or ".." segments, are passed on
// unchanged, so the host's own routes behave as before and no path is
// moved out of prefix. A nil next is http.DefaultServeMux. The returned
// handler is safe for concurrent use; it copies a request before changing
// its URL, as http.StripPrefix does.
func CleanPaths(prefix string, next http.Handler) http.Handler {
	if next == nil {
		next = http.DefaultServeMux
	}
	prefix = "/" + strings.Trim(prefix, "/")
	if prefix == "/" {
		prefix = ""
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !strings.Contains(p, "//") && (len(p) <= len(prefix)+1 || p[len(p)-1] != '/') {
			next.ServeHTTP(w, r)
			return
		}
		c := scimPath(p, prefix)
		if c == "" || c == p {
			next.ServeHTTP(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := new(url.URL)
		*u = *r.URL
		u.Path = c
		u.RawPath = ""
		if r.URL.RawPath != "" {
			if rp := scimPath(r.URL.RawPath, prefix); rp != "" {
				u.RawPath = rp
			}
		}
		r2.URL = u
		next.ServeHTTP(w, r2)
	})
}

// scimPath returns p cleaned as CleanPaths cleans it (the base itself keeps
// its slash, "/scim/v2/", which the mux's pattern matches), or "" when p
// is not under prefix or has dot segments.
func scimPath(p, prefix string) string {
	c := cleanPath(p)
	if c == prefix {
		c += "/"
	}
	if !strings.HasPrefix(c, prefix+"/") {
		return ""
	}
	for seg := range strings.SplitSeq(c, "/") {
		if seg == "." || seg == ".." {
			return ""
		}
	}
	return c
}
