package check

import (
	"net/http"
	"slices"
)

// oktaSCIM is Okta's SCIM 2.0 reference, which the okta suite reproduces.
const oktaSCIM = "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20/"

// oktaAgent is the User-Agent Okta's provisioning sends.
var oktaAgent = header{"User-Agent", "Okta SCIM Client 1.0.0"}

func init() {
	register("okta",
		check{name: "spec-discovery", reproduces: "the SPEC test's first steps: GET /ServiceProviderConfig, /ResourceTypes and /Schemas answer 200; a POST to them is refused", run: oktaDiscovery},
		check{name: "spec-list-users", reproduces: "GET /Users?count=1&startIndex=1: a ListResponse whose totalResults, startIndex and itemsPerPage are integers", run: oktaListUsers},
		check{name: "spec-filter-miss", reproduces: `the existence check before a create: userName eq "<unknown>"&startIndex=1&count=100 answers an empty list (or 404)`, run: oktaFilterMiss},
		check{name: "spec-unknown-id", reproduces: "GET /Users/<unknown id> answers 404 with a SCIM error body and a detail", run: oktaUnknownID},
		check{name: "create-user", reproduces: "Okta's create body (password, groups [], locale, externalId): 201 with the user in the body, which Okta requires", run: oktaCreate},
		check{name: "duplicate-user-409", reproduces: "the SPEC test creates the same userName again: 409 Conflict", run: oktaDuplicate},
		check{name: "put-update", reproduces: "Okta's profile updates: GET the user, then PUT the whole object back, id, meta and groups included", run: oktaPut},
		check{name: "deactivate-without-path", reproduces: `Okta's deactivate {"op":"replace","value":{"active":false}}, no path; Okta never deletes users`, run: oktaDeactivate},
		check{name: "group-push", reproduces: `Push Groups: POST {"displayName":...,"members":[]}, rename with a path-less replace carrying the id, one PATCH mixing a members[value eq] remove with an add, a replace of all members, a replace with [], DELETE`, run: oktaGroupPush},
		check{name: "put-group-with-members", optional: true, reproduces: "some Okta set-ups send a group's members in a PUT /Groups/{id} rather than a PATCH: the members are replaced by those of the body", run: oktaPutGroup},
		check{name: "bad-token-401", reproduces: "a wrong or missing bearer token answers 401, which tells the admin the credential is wrong", run: oktaBadToken},
	)
}

func oktaDiscovery(t *T) error {
	for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/Schemas"} {
		r, err := t.do("GET", p, nil, oktaAgent)
		if err != nil {
			return err
		}
		if err := expect(r, "the SPEC test reads the discovery endpoints (RFC 7644 §4)", http.StatusOK); err != nil {
			return err
		}
		if r.Object() == nil {
			return failf(on(r), "GET %s answered a body that is not a JSON object (RFC 7644 §4)", p)
		}
		pr, err := t.do("POST", p, obj{"schemas": []string{userURN}}, oktaAgent)
		if err != nil {
			return err
		}
		if pr.Status >= 200 && pr.Status < 300 {
			return failf(on(pr), "POST %s answered %d: the discovery endpoints are read-only; answer 405 Method Not Allowed (the SPEC test expects it)", p, pr.Status)
		}
		if pr.Status != http.StatusMethodNotAllowed {
			t.note("POST %s answered %d; the SPEC test expects 405.", p, pr.Status)
		}
	}
	return nil
}

func oktaListUsers(t *T) error {
	if _, err := t.setupUser(nil); err != nil {
		return err
	}
	r, res, err := t.query("/Users?count=1&startIndex=1", "Okta lists users this way")
	if err != nil {
		return err
	}
	m := r.Object()
	for _, k := range []string{"totalResults", "startIndex", "itemsPerPage"} {
		if _, ok := integer(get(m, k)); !ok {
			return failf(on(r), "%s is %s: Okta requires integers for totalResults, startIndex and itemsPerPage (%s)", k, show(get(m, k)), oktaSCIM)
		}
	}
	if len(res) != 1 {
		return failf(on(r), "count=1 returned %d users although there is at least one: return up to count resources", len(res))
	}
	return nil
}

func oktaFilterMiss(t *T) error {
	r, err := t.do("GET", "/Users?filter=userName%20eq%20%22"+t.s.name("nobody")+"%22&startIndex=1&count=100", nil, oktaAgent)
	if err != nil {
		return err
	}
	if r.Status == http.StatusNotFound {
		t.note("a filter that matches nothing answers 404, which Okta accepts but Entra ID does not (see entra/test-connection-users).")
		return nil
	}
	return emptyList(r, "Okta checks that a userName is free before it creates the user")
}

func oktaUnknownID(t *T) error {
	r, err := t.do("GET", "/Users/"+randomGUID(), nil, oktaAgent)
	if err != nil {
		return err
	}
	return notFoundError(r, "a user that does not exist")
}

// notFoundError checks for 404 with a SCIM error body (RFC 7644 §3.12).
func notFoundError(r *Response, what string) error {
	if err := expect(r, "GET of "+what+" answers 404 (RFC 7644 §3.12)", http.StatusNotFound); err != nil {
		return err
	}
	m := r.Object()
	if m == nil || !slices.Contains(stringList(list(m, "schemas")), errorURN) {
		return failf(on(r), "the 404's body is not a SCIM error: answer {\"schemas\":[%q],\"status\":\"404\",\"detail\":\"...\"} (RFC 7644 §3.12)", errorURN)
	}
	if s, ok := get(m, "status").(string); !ok || s != "404" {
		return failf(on(r), "the error's status is %s: RFC 7644 §3.12 makes it the HTTP status as a JSON string, \"404\"; Entra ID fails to read the error otherwise", show(get(m, "status")))
	}
	if str(m, "detail") == "" {
		return warnf(on(r), "the 404 has no detail: Okta's SPEC test expects one, and it is what an admin reads")
	}
	return nil
}

// oktaUser returns the body Okta POSTs to /Users.
func (t *T) oktaUser() obj {
	n := t.s.name("okta")
	return obj{
		"schemas":     []string{userURN},
		"userName":    n + "@" + t.s.domain,
		"name":        obj{"givenName": "Grace", "familyName": n},
		"emails":      []obj{{"primary": true, "value": n + "@" + t.s.domain, "type": "work"}},
		"displayName": "Grace " + n,
		"locale":      "en-US",
		"externalId":  "00u" + n,
		"groups":      []any{},
		"password":    "1mP0rt4nt!" + n,
		"active":      true,
	}
}

func oktaCreate(t *T) error {
	body := t.oktaUser()
	r, err := t.do("POST", "/Users", body, oktaAgent)
	if err != nil {
		return err
	}
	if err := expect(r, "Okta creates users this way ("+oktaSCIM+")", http.StatusCreated); err != nil {
		return err
	}
	id := str(r.JSON(), "id")
	if id == "" {
		return failf(on(r), "the 201 has no user in its body: Okta treats a create without the resource as a failure (%s)", oktaSCIM)
	}
	if get(r.JSON(), "password") != nil {
		return failf(on(r), "the created user's body returns the password: it must never be returned (RFC 7643 §4.1.1, returned \"never\")")
	}
	return nil
}

func oktaDuplicate(t *T) error {
	body := t.oktaUser()
	if _, err := t.setupUser(body); err != nil {
		return err
	}
	r, err := t.do("POST", "/Users", body, oktaAgent)
	if err != nil {
		return err
	}
	return expect(r, "a second user with the same userName must be refused with 409 (RFC 7644 §3.3), as Okta's SPEC test checks; Entra ID also retries a create that timed out and must get 409, not a duplicate", http.StatusConflict)
}

func oktaPut(t *T) error {
	u, err := t.setupUser(t.oktaUser())
	if err != nil {
		return err
	}
	_, m, err := t.read("/Users/"+u.id, "Okta reads the user before a PUT")
	if err != nil {
		return err
	}
	n := t.s.name("put")
	m["name"] = obj{"givenName": "Grace", "familyName": n}
	m["displayName"] = "Grace " + n
	m["groups"] = []any{}
	m["password"] = "An0ther!" + n
	r, err := t.do("PUT", "/Users/"+u.id, m, oktaAgent)
	if err != nil {
		return err
	}
	if err := expect(r, "Okta updates profiles with a PUT of the object it read, id, meta and groups included ("+oktaSCIM+")", http.StatusOK); err != nil {
		return err
	}
	gr, g, err := t.read("/Users/"+u.id, "reading the user after the PUT")
	if err != nil {
		return err
	}
	if str(g, "name", "familyName") != n || str(g, "displayName") != "Grace "+n {
		return failf(on(r, gr), "after the PUT the user reads name.familyName %q and displayName %q, want %q and %q", str(g, "name", "familyName"), str(g, "displayName"), n, "Grace "+n)
	}
	return nil
}

func oktaDeactivate(t *T) error {
	u, err := t.setupUser(t.oktaUser())
	if err != nil {
		return err
	}
	pr, err := t.do("PATCH", "/Users/"+u.id, patchOp(op("replace", "", obj{"active": false})), oktaAgent)
	if err != nil {
		return err
	}
	if err := expect(pr, "Okta deactivates users with a path-less replace (RFC 7644 §3.5.2.3 allows it)", http.StatusOK, http.StatusNoContent); err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "reading the deactivated user")
	if err != nil {
		return err
	}
	if get(m, "active") != false {
		return failf(on(pr, r), "after the deactivate active reads %s, want false", show(get(m, "active")))
	}
	return nil
}

func oktaGroupPush(t *T) error {
	var us []user
	for range 3 {
		u, err := t.setupUser(t.oktaUser())
		if err != nil {
			return err
		}
		us = append(us, u)
	}
	r, err := t.do("POST", "/Groups", obj{"schemas": []string{groupURN}, "displayName": t.s.name("push"), "members": []any{}}, oktaAgent)
	if err != nil {
		return err
	}
	if err := expect(r, "Okta pushes a group with an empty members array", http.StatusCreated); err != nil {
		return err
	}
	id := str(r.JSON(), "id")
	if id == "" {
		return failf(on(r), "the 201 has no id")
	}
	name := t.s.name("pushed")
	steps := []struct {
		what string
		body patchBody
		want []string
	}{
		{"the path-less rename carrying the group's id", patchOp(op("replace", "", obj{"id": id, "displayName": name})), nil},
		{"adding two members", patchOp(op("add", "members", []obj{{"value": us[0].id, "display": "a"}, {"value": us[1].id, "display": "b"}})), []string{us[0].id, us[1].id}},
		{"one PATCH removing a member by members[value eq] and adding another", patchOp(
			op("remove", `members[value eq "`+us[0].id+`"]`, noValue),
			op("add", "members", []obj{{"value": us[2].id, "display": "c"}})), []string{us[1].id, us[2].id}},
		{"replacing all members", patchOp(op("replace", "members", members(us[0].id))), []string{us[0].id}},
		{"replacing members with [] (an empty group)", patchOp(op("replace", "members", []any{})), []string{}},
	}
	for _, s := range steps {
		pr, err := t.do("PATCH", "/Groups/"+id, s.body, oktaAgent)
		if err != nil {
			return err
		}
		if err := expect(pr, "Okta sends "+s.what+" ("+oktaSCIM+")", http.StatusOK, http.StatusNoContent); err != nil {
			return err
		}
		gr, m, err := t.read("/Groups/"+id, "reading the group")
		if err != nil {
			return err
		}
		if s.want == nil {
			if str(m, "displayName") != name {
				return failf(on(pr, gr), "after %s the displayName reads %q, want %q", s.what, str(m, "displayName"), name)
			}
			continue
		}
		if got := memberIDs(m); !sameSet(got, s.want) {
			return failf(on(pr, gr), "after %s the members are %s, want %s", s.what, quote(got), quote(s.want))
		}
	}
	dr, err := t.do("DELETE", "/Groups/"+id, nil, oktaAgent)
	if err != nil {
		return err
	}
	if err := expect(dr, "Okta deletes a pushed group when the admin unlinks it with \"Delete the group in the target app\"", http.StatusNoContent); err != nil {
		return err
	}
	t.s.forget(id)
	return nil
}

func oktaBadToken(t *T) error {
	t.token = "scimcheck-wrong-token"
	r, err := t.do("GET", "/Users?count=1", nil, oktaAgent)
	if err != nil {
		return err
	}
	if err := expect(r, "a wrong bearer token must be refused with 401 (RFC 6750 §3.1), which Okta and Entra ID show the admin as a credential problem", http.StatusUnauthorized); err != nil {
		return err
	}
	r, err = t.do("GET", "/Users?count=1", nil, oktaAgent, header{"Authorization", ""})
	if err != nil {
		return err
	}
	return expect(r, "a request without a token must be refused with 401 (RFC 6750 §3.1)", http.StatusUnauthorized)
}

func oktaPutGroup(t *T) error {
	a, err := t.setupUser(t.oktaUser())
	if err != nil {
		return err
	}
	b, err := t.setupUser(t.oktaUser())
	if err != nil {
		return err
	}
	g, err := t.setupGroup(a.id)
	if err != nil {
		return err
	}
	name := t.s.name("putgroup")
	r, err := t.do("PUT", "/Groups/"+g.id, obj{"schemas": []string{groupURN}, "id": g.id, "displayName": name, "members": []obj{{"value": b.id, "display": "b"}}}, oktaAgent)
	if err != nil {
		return err
	}
	if err := expect(r, "a PUT replaces the group (RFC 7644 §3.5.1)", http.StatusOK); err != nil {
		return err
	}
	gr, m, err := t.read("/Groups/"+g.id, "reading the group")
	if err != nil {
		return err
	}
	if got := memberIDs(m); len(got) != 1 || got[0] != b.id || str(m, "displayName") != name {
		return failf(on(r, gr), "after the PUT the group reads displayName %q and members %s, want %q and %q", str(m, "displayName"), quote(got), name, b.id)
	}
	return nil
}
