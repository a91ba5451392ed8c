package scim

import (
	"net/http"
	"net/url"
	"strings"
)

// listQueryParams reads a list request's parameters from a raw query string
// in one pass, without building url.Values: Entra ID sends a filter on
// every lookup, and the map and its slices cost more than the lookup. It
// decodes as url.ParseQuery does ('+' is a space, rule plus-in-query; a
// pair that does not decode is skipped; the first value of a parameter
// wins; attributes lists may repeat). A query naming a parameter it does
// not know is read by queryParams instead, so that the two never disagree
// on what a parameter means.
func listQueryParams(raw string) listParams {
	var p listParams
	var set uint8
	full := raw
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return slowListParams(full)
		}
		name, value, _ := strings.Cut(pair, "=")
		name, ok := unescapeQuery(name)
		if !ok {
			continue
		}
		value, ok = unescapeQuery(value)
		if !ok {
			continue
		}
		var dst *string
		var bit uint8
		switch name {
		case "filter":
			dst, bit = &p.filter, 1
		case "sortBy":
			dst, bit = &p.sortBy, 2
		case "sortOrder":
			dst, bit = &p.sortOrder, 4
		case "startIndex":
			dst, bit = &p.startIndex, 8
		case "count":
			dst, bit = &p.count, 16
		case "attributes":
			p.attributes = append(p.attributes, splitList([]string{value})...)
			continue
		case "excludedAttributes":
			p.excluded = append(p.excluded, splitList([]string{value})...)
			continue
		default:
			return slowListParams(full)
		}
		if set&bit == 0 {
			*dst, set = value, set|bit
		}
	}
	return p
}

// slowListParams reads the query the general way, as r.URL.Query() does.
func slowListParams(raw string) listParams {
	v, _ := url.ParseQuery(raw)
	return queryParams(v)
}

// unescapeQuery is url.QueryUnescape (it decodes and refuses the same
// strings, FuzzUnescapeQuery checks) in one pass and at most one
// allocation, none when there is nothing to decode: every filter Entra ID
// sends is escaped, and url's two passes over it cost a sixth of a match
// by userName.
func unescapeQuery(s string) (string, bool) {
	i := strings.IndexAny(s, "%+")
	if i < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(max(len(s)-2*strings.Count(s[i:], "%"), 0)) // exact for a valid s; an invalid one is refused below
	// The text between escapes is copied a run at a time: a byte at a
	// time through the Builder cost as much as the rest of the decoding.
	for {
		b.WriteString(s[:i])
		if s[i] == '+' {
			b.WriteByte(' ')
			s = s[i+1:]
		} else {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b.WriteByte(byte(hexVal(s[i+1])<<4 | hexVal(s[i+2])))
			s = s[i+3:]
		}
		if i = strings.IndexAny(s, "%+"); i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
	}
}

// hasProjection reports whether a raw query has an attributes or
// excludedAttributes parameter, even an empty one.
func hasProjection(raw string) bool {
	if raw == "" {
		return false
	}
	v, _ := url.ParseQuery(raw)
	return v.Has("attributes") || v.Has("excludedAttributes")
}

// serveDirect routes the requests that provisioning sends most — on
// /Users, /Users/{id}, /Groups and /Groups/{id} — without the ServeMux:
// its pattern matching and path cleaning cost more than the rest of a
// read. It reports false for any other request, and for a path that needs
// cleaning or whose id the ServeMux would read differently (an escaped
// slash, a dot segment), which then take the ServeMux's way. path is r's
// path below Options.Prefix.
func (h *Handler) serveDirect(w http.ResponseWriter, r *http.Request, path string) bool {
	if r.URL.RawPath != "" {
		return false
	}
	if rest, ok := strings.CutPrefix(path, "/Users"); ok {
		return serveResource(h.users, w, r, rest)
	}
	if rest, ok := strings.CutPrefix(path, "/Groups"); ok && h.groups != nil {
		return serveResource(h.groups, w, r, rest)
	}
	return false
}

// serveResource is serveDirect for rt's endpoint; rest is the path after
// it.
func serveResource[T interface{ *User | *Group }](rt *resourceType[T], w http.ResponseWriter, r *http.Request, rest string) bool {
	if rest == "" {
		switch r.Method {
		case http.MethodGet:
			rt.serveList(w, r)
		case http.MethodPost:
			rt.serveCreate(w, r)
		default:
			return false
		}
		return true
	}
	id, ok := strings.CutPrefix(rest, "/")
	if !ok || id == "" || id == "." || id == ".." || strings.IndexByte(id, '/') >= 0 {
		return false
	}
	noteResource(w, id) // the provisioning log's resource, as r.PathValue("id") is through the mux
	switch r.Method {
	case http.MethodGet:
		rt.serveGetID(w, r, id)
	case http.MethodPatch:
		rt.servePatchID(w, r, id)
	case http.MethodPut:
		rt.serveReplaceID(w, r, id)
	case http.MethodDelete:
		rt.serveDeleteID(w, r, id)
	default:
		return false
	}
	return true
}
