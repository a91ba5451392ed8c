package scim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file serves the discovery endpoints of RFC 7644 §4 and what /Groups
// answers when the store keeps no groups. What they advertise is derived
// from the Handler, so it stays true: groups only when the store has them,
// the page-size limit, the body limit.

func (h *Handler) serveServiceProviderConfig(w http.ResponseWriter, r *http.Request) {
	base := h.baseURL(r)
	writeJSON(w, http.StatusOK, func(b []byte) []byte {
		b = append(b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],`...)
		b = append(b, `"documentationUri":"https://pkg.go.dev/github.com/scimhost/scim",`...)
		b = append(b, `"patch":{"supported":`...)
		b = strconv.AppendBool(b, patchSupported)
		b = append(b, `},"bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0},`...)
		b = append(b, `"filter":{"supported":true,"maxResults":`...)
		b = strconv.AppendInt(b, int64(h.opts.MaxResults), 10)
		b = append(b, `},"changePassword":{"supported":false},"sort":{"supported":true},"etag":{"supported":true},`...)
		// RFC 9865 §5: both paging methods; index stays the default, as
		// Entra ID and Okta page by startIndex.
		b = append(b, `"pagination":{"cursor":true,"index":true,"defaultPaginationMethod":"index","defaultPageSize":`...)
		b = strconv.AppendInt(b, int64(h.opts.MaxResults), 10)
		b = append(b, `,"maxPageSize":`...)
		b = strconv.AppendInt(b, int64(h.opts.MaxResults), 10)
		b = append(b, `,"cursorTimeout":`...)
		b = strconv.AppendInt(b, int64(h.opts.CursorTimeout/time.Second), 10)
		b = append(b, `},`...)
		b = append(b, `"authenticationSchemes":[{"type":"oauthbearertoken","name":"OAuth Bearer Token",`...)
		b = append(b, `"description":"Authentication with a bearer token (RFC 6750)","specUri":"https://www.rfc-editor.org/info/rfc6750","primary":true}`...)
		if h.opts.OAuth {
			b = append(b, `,{"type":"oauth2","name":"OAuth 2.0 client credentials",`...)
			b = append(b, `"description":"A bearer access token from the host's OAuth 2.0 token endpoint: client credentials (RFC 6749 section 4.4) with a client secret or a JWT assertion (RFC 7523)","specUri":"https://www.rfc-editor.org/info/rfc6749"}`...)
		}
		b = append(b, `],`...)
		b = append(b, `"meta":{"resourceType":"ServiceProviderConfig","location":`...)
		b = appendJSONString(b, base+"/ServiceProviderConfig")
		return append(b, "}}"...)
	})
}

// schemas returns the schemas this handler serves, core User first.
func (h *Handler) schemas() []*resourceSchema {
	s := []*resourceSchema{userSchema, enterpriseSchema}
	for _, e := range h.ext.user {
		s = append(s, e.schema)
	}
	if h.groups != nil {
		s = append(s, groupSchema)
		for _, e := range h.ext.group {
			s = append(s, e.schema)
		}
	}
	return s
}

// appendSchema appends one Schema resource, rendered from the attribute
// table (appendDeclaredSchema), with our meta.
func appendSchema(b []byte, s *resourceSchema, base string) []byte {
	b = append(b, s.served[:len(s.served)-1]...)
	b = append(b, `,"meta":{"resourceType":"Schema","location":`...)
	b = appendJSONString(b, base+"/Schemas/"+s.id)
	return append(b, "}}"...)
}

func (h *Handler) serveSchemas(w http.ResponseWriter, r *http.Request) {
	base, all := h.baseURL(r), h.schemas()
	writeJSON(w, http.StatusOK, func(b []byte) []byte {
		return appendList(b, len(all), 1, all, func(b []byte, s *resourceSchema) []byte { return appendSchema(b, s, base) })
	})
}

func (h *Handler) serveSchema(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, s := range h.schemas() {
		if strings.EqualFold(s.id, id) {
			base := h.baseURL(r)
			writeJSON(w, http.StatusOK, func(b []byte) []byte { return appendSchema(b, s, base) })
			return
		}
	}
	h.fail(w, r, errorf(http.StatusNotFound, "", "no schema "+strconv.Quote(id)))
}

// appendResourceType appends the ResourceType resource (RFC 7643 §6) named
// name ("User" or "Group").
func appendResourceType(b []byte, name, base string, exts []*extension) []byte {
	b = append(b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"id":"`...)
	b = append(b, name...)
	b = append(b, `","name":"`...)
	b = append(b, name...)
	b = append(b, `","endpoint":"/`...)
	b = append(b, name...)
	b = append(b, `s","description":"`...)
	b = append(b, name...)
	b = append(b, `","schema":"`...)
	if name == "User" {
		b = append(b, UserSchema...)
		b = append(b, `","schemaExtensions":[{"schema":"`...)
		b = append(b, EnterpriseUserSchema...)
		b = append(b, `","required":false}`...)
		b = appendSchemaExtensions(b, exts, true)
		b = append(b, ']')
	} else {
		b = append(b, GroupSchema...)
		b = append(b, '"')
		if len(exts) > 0 {
			b = append(b, `,"schemaExtensions":[`...)
			b = appendSchemaExtensions(b, exts, false)
			b = append(b, ']')
		}
	}
	b = append(b, `,"meta":{"resourceType":"ResourceType","location":`...)
	b = appendJSONString(b, base+"/ResourceTypes/"+name)
	return append(b, "}}"...)
}

// appendSchemaExtensions appends the schemaExtensions entries of declared
// extensions, each after a comma when comma is set, else after the first.
func appendSchemaExtensions(b []byte, exts []*extension, comma bool) []byte {
	for i, e := range exts {
		if comma || i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"schema":`...)
		b = appendJSONString(b, e.urn)
		b = append(b, `,"required":`...)
		b = strconv.AppendBool(b, e.required)
		b = append(b, '}')
	}
	return b
}

func (h *Handler) resourceTypeNames() []string {
	if h.groups != nil {
		return []string{"User", "Group"}
	}
	return []string{"User"}
}

func (h *Handler) serveResourceTypes(w http.ResponseWriter, r *http.Request) {
	base, names := h.baseURL(r), h.resourceTypeNames()
	writeJSON(w, http.StatusOK, func(b []byte) []byte {
		return appendList(b, len(names), 1, names, func(b []byte, n string) []byte { return appendResourceType(b, n, base, h.ext.of(n)) })
	})
}

func (h *Handler) serveResourceType(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, n := range h.resourceTypeNames() {
		if strings.EqualFold(n, id) {
			base := h.baseURL(r)
			writeJSON(w, http.StatusOK, func(b []byte) []byte { return appendResourceType(b, n, base, h.ext.of(n)) })
			return
		}
	}
	h.fail(w, r, errorf(http.StatusNotFound, "", "no resource type "+strconv.Quote(id)))
}

// serveNoGroupsList answers a /Groups query on a users-only store: an empty
// ListResponse. Entra ID's Test connection probes /Groups, and a 404 there
// fails the test (docs/clients.md#test-connection).
func (h *Handler) serveNoGroupsList(w http.ResponseWriter, r *http.Request) {
	var p listParams
	var err error
	if r.Method == http.MethodPost {
		p, err = h.searchParams(w, r)
	} else {
		p = queryParams(r.URL.Query())
	}
	if err == nil {
		var q Query
		q, err = h.listQuery(p, "Group")
		if err == nil {
			writeJSON(w, http.StatusOK, func(b []byte) []byte {
				return append(appendListHeader(b, 0, q.StartIndex, 0), "]}"...)
			})
			return
		}
	}
	h.fail(w, r, err)
}

func (h *Handler) serveNoGroupsGet(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, errorf(http.StatusNotFound, "", "Group "+strconv.Quote(r.PathValue("id"))+" not found: groups are not provisioned here"))
}

func (h *Handler) serveNoGroupsWrite(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, errorf(http.StatusNotImplemented, "", "groups are not provisioned here: turn off group provisioning for this application"))
}

// serveRootSearch answers POST /.search (RFC 7644 §3.4.3): a search across
// users and then groups. Paging runs over users first, then groups; sortBy
// orders within each resource type.
func (h *Handler) serveRootSearch(w http.ResponseWriter, r *http.Request) {
	p, err := h.searchParams(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if p.hasCursor {
		// A cursor walks one resource type's order; a search across both
		// pages by index only.
		h.fail(w, r, errorf(http.StatusBadRequest, InvalidValue, "cursor pagination is served by /Users/.search and /Groups/.search, not /.search"))
		return
	}
	q, err := h.listQuery(p, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := requestContext(w, r)
	users, err := h.users.list(ctx, h.ext.typeQuery(q, "User"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users.Resources = users.Resources[:min(len(users.Resources), q.Count)]
	var groups Page[*Group]
	if h.groups != nil {
		gq := h.ext.typeQuery(q, "Group")
		gq.StartIndex = max(1, q.StartIndex-users.TotalResults)
		gq.Count = q.Count - len(users.Resources)
		if groups, err = h.groups.list(ctx, gq); err != nil {
			h.fail(w, r, err)
			return
		}
		groups.Resources = groups.Resources[:min(len(groups.Resources), gq.Count)]
	}
	base := h.baseURL(r)
	pb := h.newPageBudget(users.TotalResults+groups.TotalResults, q.StartIndex, len(users.Resources)+len(groups.Resources))
	for _, u := range users.Resources {
		if _, err := pb.add("User", u.ID, func(b []byte) []byte { return h.users.encode(b, u, q.Want, base) }); err != nil {
			pb.free()
			h.fail(w, r, err)
			return
		}
	}
	for _, g := range groups.Resources {
		if _, err := pb.add("Group", g.ID, func(b []byte) []byte { return h.groups.encode(b, g, q.Want, base) }); err != nil {
			pb.free()
			h.fail(w, r, err)
			return
		}
	}
	pb.write(w)
}
