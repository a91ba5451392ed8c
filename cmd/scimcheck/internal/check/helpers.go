package check

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// obj is a JSON object in a request body.
type obj = map[string]any

// The schema and message URNs of RFC 7643 and RFC 7644.
const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	listURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
	// adscimGroupURN is the second schema Entra ID puts in a group's
	// create body.
	adscimGroupURN = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
)

// noValue leaves the value out of an operation.
var noValue = struct{}{}

// op returns a PATCH operation; an empty path or noValue leaves them out.
func op(name, path string, value any) obj {
	o := obj{"op": name}
	if path != "" {
		o["path"] = path
	}
	if value != noValue {
		o["value"] = value
	}
	return o
}

// patchBody is a PATCH request body, its members in the order clients
// send them.
type patchBody struct {
	Schemas    []string `json:"schemas"`
	Operations []obj    `json:"Operations"`
}

// patchOp returns a PATCH body of ops.
func patchOp(ops ...obj) patchBody {
	return patchBody{Schemas: []string{patchURN}, Operations: ops}
}

// members returns the value of a members operation: one {"value": id} per
// id.
func members(ids ...string) []obj {
	out := make([]obj, len(ids))
	for i, id := range ids {
		out[i] = obj{"value": id}
	}
	return out
}

// eqFilter returns a query string filtering attr eq value, form-encoded as
// Entra ID sends it: spaces as '+', quotes as %22.
func eqFilter(attr, value string) string {
	return "filter=" + url.QueryEscape(attr+` eq "`+value+`"`)
}

// user is a user a check created.
type user struct {
	id, userName, externalId string
	created                  *Response
}

// entraUser returns the body Entra ID POSTs to /Users with its default
// attribute mappings (Microsoft Learn, "Tutorial: Develop and plan
// provisioning for a SCIM endpoint", the create request).
func (t *T) entraUser() obj {
	n := t.s.name("u")
	return obj{
		"schemas":    []string{userURN, enterpriseURN},
		"externalId": n,
		"userName":   n + "@" + t.s.domain,
		"active":     true,
		"emails":     []obj{{"primary": true, "type": "work", "value": n + "@" + t.s.domain}},
		"meta":       obj{"resourceType": "User"},
		"name":       obj{"formatted": "Ada " + n, "familyName": n, "givenName": "Ada"},
		"roles":      []any{},
	}
}

// createUser POSTs body to /Users and checks what every client needs of the
// answer: 201 with an id. The user is deleted at the end of the run.
func (t *T) createUser(body obj) (user, error) {
	r, err := t.do("POST", "/Users", body)
	if err != nil {
		return user{}, err
	}
	if err := expect(r, "a create answers 201 Created with the new user (RFC 7644 §3.3); Entra ID and Okta read its id from that body", http.StatusCreated); err != nil {
		return user{}, err
	}
	id := str(r.JSON(), "id")
	if id == "" {
		return user{}, failf(on(r), "the 201 has no id: Entra ID keeps the id of the create's answer for every later request to the user (RFC 7643 §3.1)")
	}
	u := user{id: id, created: r}
	u.userName, _ = body["userName"].(string)
	u.externalId, _ = body["externalId"].(string)
	return u, nil
}

// setupUser creates a user a check needs; when that fails the check is
// skipped, since the check of creating users says why.
func (t *T) setupUser(body obj) (user, error) {
	if body == nil {
		body = t.entraUser()
	}
	u, err := t.createUser(body)
	if err != nil {
		return u, setupFailed("a user", err)
	}
	return u, nil
}

// setupUsers creates n users with Entra's body, for checks that need
// several (a manager and a report, a group's members).
func (t *T) setupUsers(n int) ([]user, error) {
	users := make([]user, n)
	for i := range users {
		u, err := t.setupUser(nil)
		if err != nil {
			return nil, err
		}
		users[i] = u
	}
	return users, nil
}

// setupFailed turns the failure of a check's set-up into a skip; an
// interruption or a slow request stays a failure.
func setupFailed(what string, err error) error {
	var o *outcome
	if errors.As(err, &o) && strings.Contains(o.msg, "took longer than") {
		return err
	}
	if o == nil {
		return err
	}
	return skipf("could not create %s this check needs: %s", what, o.msg)
}

// group is a group a check created.
type group struct {
	id, displayName string
	created         *Response
}

// createGroup POSTs body to /Groups (Entra ID's body when nil) and checks
// for 201 with an id. The group is deleted at the end of the run.
func (t *T) createGroup(body obj) (group, error) {
	if body == nil {
		body = obj{
			"schemas":     []string{groupURN, adscimGroupURN},
			"externalId":  t.s.name("x"),
			"displayName": t.s.name("g"),
			"meta":        obj{"resourceType": "Group"},
		}
	}
	r, err := t.do("POST", "/Groups", body)
	if err != nil {
		return group{}, err
	}
	if err := expect(r, "a create answers 201 Created with the new group (RFC 7644 §3.3)", http.StatusCreated); err != nil {
		return group{}, err
	}
	id := str(r.JSON(), "id")
	if id == "" {
		return group{}, failf(on(r), "the 201 has no id: clients address the group by the id of the create's answer (RFC 7643 §3.1)")
	}
	g := group{id: id, created: r}
	g.displayName, _ = body["displayName"].(string)
	return g, nil
}

// setupGroup creates a group a check needs, with these members; when that
// fails the check is skipped.
func (t *T) setupGroup(memberIDs ...string) (group, error) {
	g, err := t.createGroup(nil)
	if err != nil {
		return g, setupFailed("a group", err)
	}
	if len(memberIDs) > 0 {
		r, err := t.do("PATCH", "/Groups/"+g.id, patchOp(op("add", "members", members(memberIDs...))))
		if err != nil {
			return g, err
		}
		if err := expect(r, "adding members with PATCH (RFC 7644 §3.5.2.1)", http.StatusOK, http.StatusNoContent); err != nil {
			return g, setupFailed("a group with members", err)
		}
	}
	return g, nil
}

// read GETs a resource ("/Users/{id}") and expects 200 with a JSON object.
func (t *T) read(path, why string) (*Response, map[string]any, error) {
	r, err := t.do("GET", path, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := expect(r, why, http.StatusOK); err != nil {
		return r, nil, err
	}
	m := r.Object()
	if m == nil {
		return r, nil, failf(on(r), "GET %s answered a body that is not a JSON object: a client cannot read the resource", shortTarget(r.Target))
	}
	return r, m, nil
}

// patch sends a PATCH and expects 200 or 204 (RFC 7644 §3.5.2), with why
// the client needs it to succeed.
func (t *T) patch(path string, body patchBody, why string) (*Response, error) {
	r, err := t.do("PATCH", path, body)
	if err != nil {
		return nil, err
	}
	return r, expect(r, why, http.StatusOK, http.StatusNoContent)
}

// query GETs a list ("/Users?filter=...") and checks that it is a
// ListResponse: 200, its schema, an integer totalResults and a Resources
// array (when totalResults is not zero, or present anyway).
func (t *T) query(path, why string) (*Response, []any, error) {
	r, err := t.do("GET", path, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := expect(r, why, http.StatusOK); err != nil {
		return r, nil, err
	}
	res, err := listResponse(r)
	return r, res, err
}

// listResponse checks that r's body is a ListResponse (RFC 7644 §3.4.2)
// and returns its resources.
func listResponse(r *Response) ([]any, error) {
	m := r.Object()
	if m == nil {
		return nil, failf(on(r), "%s answered a body that is not a JSON object; a query answers a ListResponse (RFC 7644 §3.4.2)", shortTarget(r.Target))
	}
	if !slices.Contains(stringList(list(m, "schemas")), listURN) {
		return nil, failf(on(r), "the answer's schemas do not list %s: a query answers a ListResponse (RFC 7644 §3.4.2)", listURN)
	}
	total, ok := integer(get(m, "totalResults"))
	if !ok {
		return nil, failf(on(r), "totalResults is %s, not an integer: Okta and Entra ID read it as a number (RFC 7644 §3.4.2)", show(get(m, "totalResults")))
	}
	raw := get(m, "Resources")
	res, isList := raw.([]any)
	if raw != nil && !isList {
		return nil, failf(on(r), "Resources is %s, not an array (RFC 7644 §3.4.2)", show(raw))
	}
	if total > 0 && raw == nil {
		return nil, failf(on(r), "totalResults is %d but there is no Resources array (RFC 7644 §3.4.2)", total)
	}
	return res, nil
}

// stringList returns the strings of a JSON array.
func stringList(a []any) []string {
	var out []string
	for _, v := range a {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// integer returns v as an int when it is a JSON integer.
func integer(v any) (int, bool) {
	n, ok := v.(interface{ Int64() (int64, error) })
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return int(i), err == nil
}

// ids returns the ids of resources.
func ids(resources []any) []string {
	out := make([]string, 0, len(resources))
	for _, r := range resources {
		out = append(out, str(r, "id"))
	}
	return out
}

// memberIDs returns the values of a group's members.
func memberIDs(g any) []string {
	var out []string
	for _, m := range list(g, "members") {
		out = append(out, str(m, "value"))
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// quote writes ids for a message.
func quote(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}
