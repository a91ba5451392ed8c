package check

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

func init() {
	register("clients",
		check{name: "jumpcloud-setup", reproduces: "JumpCloud's connector set-up: it creates a test user and a test group, adds the user (twice: JumpCloud repeats member adds), then deletes both", run: jumpcloudSetup},
		check{name: "ping-mixed-case-filter", reproduces: `PingFederate's configurable user filter, operators and attribute names in any case: username Eq "<name>", USERNAME EQ "<NAME>"`, run: pingFilter},
		check{name: "onelogin-trailing-separators", reproduces: "OneLogin's requests with a trailing '&' in the query (GET /Users?filter=...&) and a trailing '?' (PUT /Users/{id}?)", run: oneloginSeparators},
		check{name: "onelogin-pre-rfc-schemas", optional: true, reproduces: `OneLogin's Enterprise template lists the pre-RFC schema URNs: "schemas": ["urn:scim:schemas:core:2.0","urn:scim:schemas:extension:enterprise:2.0"]; a server tolerates schema URNs it does not know`, run: oneloginSchemas},
		check{name: "onelogin-single-object-emails", reproduces: `OneLogin's SCIM v2 Enterprise template sends emails as one object where RFC 7643 has an array: "emails": {"value":"<email>","type":"work","primary":true}`, run: oneloginSingleEmail},
		check{name: "onelogin-legacy-enterprise-urn", reproduces: `OneLogin's Enterprise template keys the Enterprise User by the pre-RFC URN: "urn:scim:schemas:extension:enterprise:2.0": {"department": ...}, also listed in schemas; read back under RFC 7643's Enterprise URN`, run: oneloginLegacyEnterprise},
		check{name: "onelogin-manager-id", reproduces: `OneLogin's Enterprise template sends the manager as {"managerId": "<id>"}; read back as {"value": "<id>"}`, run: oneloginManagerID},
		check{name: "onelogin-accept-application-json", reproduces: "OneLogin asks for and reads application/json: Accept: application/json is answered 200 with Content-Type application/json", run: oneloginAcceptJSON},
		check{name: "google-probe", reproduces: "Google Workspace's probe when the app is saved: GET /Users?count=1", run: googleProbe},
	)
}

func jumpcloudSetup(t *T) error {
	u, err := t.createUser(obj{"schemas": []string{userURN}, "userName": t.s.name("jc") + "@" + t.s.domain,
		"name": obj{"givenName": "Test", "familyName": "User"}, "active": true})
	if err != nil {
		return err
	}
	g, err := t.createGroup(obj{"schemas": []string{groupURN}, "displayName": t.s.name("jcgroup")})
	if err != nil {
		return err
	}
	add := patchOp(op("add", "members", members(u.id)))
	for i := range 2 {
		pr, err := t.do("PATCH", "/Groups/"+g.id, add)
		if err != nil {
			return err
		}
		why := "JumpCloud adds members with PATCH"
		if i == 1 {
			why = "JumpCloud repeats member adds: adding a member the group already has must succeed and change nothing"
		}
		if err := expect(pr, why, http.StatusOK, http.StatusNoContent); err != nil {
			return err
		}
	}
	r, m, err := t.read("/Groups/"+g.id, "reading the test group")
	if err != nil {
		return err
	}
	if got := memberIDs(m); len(got) != 1 || got[0] != u.id {
		return failf(on(r), "after adding the same member twice the members are %s, want %q once", quote(got), u.id)
	}
	dr, err := t.do("DELETE", "/Groups/"+g.id, nil)
	if err != nil {
		return err
	}
	if err := expect(dr, "JumpCloud deletes its test group", http.StatusNoContent); err != nil {
		return err
	}
	t.s.forget(g.id)
	dr, err = t.do("DELETE", "/Users/"+u.id, nil)
	if err != nil {
		return err
	}
	if dr.Status == http.StatusMethodNotAllowed || dr.Status == http.StatusNotImplemented {
		t.note("DELETE /Users answered %d; JumpCloud then deactivates its test user.", dr.Status)
		return nil
	}
	if err := expect(dr, "JumpCloud deletes its test user", http.StatusNoContent); err != nil {
		return err
	}
	t.s.forget(u.id)
	return nil
}

func pingFilter(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	for _, f := range []string{`username Eq "` + u.userName + `"`, `USERNAME EQ "` + strings.ToUpper(u.userName) + `"`} {
		if err := matchOne(t, "/Users?filter="+url.QueryEscape(f), u.id, "filter attribute names and operators are case-insensitive (RFC 7644 §3.4.2.2), and so is userName's value (RFC 7643 §4.1.1, caseExact false); an admin types Ping's filter in any case"); err != nil {
			return err
		}
	}
	return nil
}

func oneloginSeparators(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	if err := matchOne(t, "/Users?"+eqFilter("userName", u.userName)+"&", u.id, "OneLogin's queries end with '&'; an empty query parameter changes nothing"); err != nil {
		return err
	}
	_, m, err := t.read("/Users/"+u.id, "reading the user")
	if err != nil {
		return err
	}
	m["displayName"] = "OneLogin " + u.externalId
	delete(m, "meta")
	r, err := t.do("PUT", "/Users/"+u.id+"?", m)
	if err != nil {
		return err
	}
	if err := expect(r, "OneLogin updates users with PUT /Users/{id}? (an empty query)", http.StatusOK); err != nil {
		return err
	}
	if got := str(r.JSON(), "displayName"); got != "OneLogin "+u.externalId {
		return failf(on(r), "the PUT answered displayName %q, want %q", got, "OneLogin "+u.externalId)
	}
	return nil
}

func googleProbe(t *T) error {
	r, _, err := t.query("/Users?count=1", "Google Workspace probes the endpoint with GET /Users?count=1 when the admin saves the app")
	if err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); !isSCIMJSON(ct) && !strings.HasPrefix(ct, "application/json") {
		return failf(on(r), "the answer's Content-Type is %q: answer application/scim+json (RFC 7644 §3.1)", ct)
	}
	return nil
}

func oneloginSchemas(t *T) error {
	n := t.s.name("ol")
	u, err := t.createUser(obj{
		"schemas":  []string{"urn:scim:schemas:core:2.0", "urn:scim:schemas:extension:enterprise:2.0"},
		"userName": n + "@" + t.s.domain,
		"name":     obj{"givenName": "One", "familyName": n},
		"emails":   []obj{{"value": n + "@" + t.s.domain, "type": "work", "primary": true}},
	})
	if err != nil {
		return err
	}
	if str(u.created.JSON(), "name", "familyName") != n {
		return failf(on(u.created), "the user created with the pre-RFC schema URNs lost its name: read the attributes whatever the schemas list says")
	}
	return nil
}

// oneloginDocs is OneLogin's SCIM developer documentation, which describes
// its SCIM v2 Enterprise template's requests.
const oneloginDocs = "https://developers.onelogin.com/scim"

// legacyEnterpriseURN is the Enterprise User's URN of the SCIM 2.0 drafts,
// which OneLogin's Enterprise template still sends.
const legacyEnterpriseURN = "urn:scim:schemas:extension:enterprise:2.0"

func oneloginSingleEmail(t *T) error {
	n := t.s.name("ol")
	email := n + "@" + t.s.domain
	r, err := t.do("POST", "/Users", obj{
		"schemas":  []string{userURN},
		"userName": email,
		"name":     obj{"givenName": "One", "familyName": n},
		"emails":   obj{"value": email, "type": "work", "primary": true},
	})
	if err != nil {
		return err
	}
	if err := expect(r, "OneLogin's Enterprise template sends emails as a single object, not an array; read it as an array of one ("+oneloginDocs+")", http.StatusCreated); err != nil {
		return err
	}
	id := str(r.JSON(), "id")
	if id == "" {
		return failf(on(r), "the 201 has no id (RFC 7643 §3.1)")
	}
	gr, m, err := t.read("/Users/"+id, "reading the user OneLogin created")
	if err != nil {
		return err
	}
	emails := list(m, "emails")
	if len(emails) != 1 || str(emails[0], "value") != email {
		return failf(on(r, gr), "the user created with \"emails\": {\"value\": %q} reads back emails %s, want an array of that one email (RFC 7643 §2.4); OneLogin's Enterprise template sends the object (%s)", email, show(get(m, "emails")), oneloginDocs)
	}
	return nil
}

func oneloginLegacyEnterprise(t *T) error {
	n := t.s.name("ol")
	u, err := t.createUser(obj{
		"schemas":           []string{userURN, legacyEnterpriseURN},
		"userName":          n + "@" + t.s.domain,
		"name":              obj{"givenName": "One", "familyName": n},
		legacyEnterpriseURN: obj{"department": "Dept " + n, "employeeNumber": "42"},
	})
	if err != nil {
		return because(err, fmt.Sprintf("OneLogin's Enterprise template lists %s in schemas and keys the Enterprise attributes by it: read it as %s (%s)", legacyEnterpriseURN, enterpriseURN, oneloginDocs))
	}
	r, m, err := t.read("/Users/"+u.id, "reading the user OneLogin created")
	if err != nil {
		return err
	}
	if got := str(m, enterpriseURN, "department"); got != "Dept "+n {
		return failf(on(u.created, r), "the department sent under %s reads back %q under %s, want %q: OneLogin's Enterprise template keys the Enterprise User by the pre-RFC URN; read it as RFC 7643 §4.3's (%s)", legacyEnterpriseURN, got, enterpriseURN, "Dept "+n, oneloginDocs)
	}
	return nil
}

func oneloginManagerID(t *T) error {
	mgr, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	n := t.s.name("ol")
	u, err := t.createUser(obj{
		"schemas":     []string{userURN, enterpriseURN},
		"userName":    n + "@" + t.s.domain,
		"name":        obj{"givenName": "One", "familyName": n},
		enterpriseURN: obj{"manager": obj{"managerId": mgr.id}},
	})
	if err != nil {
		return because(err, `OneLogin's Enterprise template sends the manager as {"managerId": "<id>"}: read it as {"value": "<id>"} (`+oneloginDocs+")")
	}
	r, m, err := t.read("/Users/"+u.id, "reading the user OneLogin created")
	if err != nil {
		return err
	}
	if got := str(m, enterpriseURN, "manager", "value"); got != mgr.id {
		return failf(on(u.created, r), "the manager sent as {\"managerId\": %q} reads back %s, want {\"value\": %q} (RFC 7643 §4.3): OneLogin's Enterprise template sends managerId (%s)", mgr.id, show(get(m, enterpriseURN, "manager")), mgr.id, oneloginDocs)
	}
	return nil
}

func oneloginAcceptJSON(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	for _, p := range []string{"/Users/" + u.id, "/Users?" + eqFilter("userName", u.userName)} {
		r, err := t.do("GET", p, nil, header{"Accept", "application/json"})
		if err != nil {
			return err
		}
		if err := expect(r, "OneLogin asks for application/json; RFC 7644 §3.8 says a service provider SHOULD accept it ("+oneloginDocs+")", http.StatusOK); err != nil {
			return err
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return failf(on(r), "GET %s with Accept: application/json answered Content-Type %q: answer what the client accepts, application/json (RFC 7644 §3.8); OneLogin reads application/json (%s)", shortTarget(r.Target), r.Header.Get("Content-Type"), oneloginDocs)
		}
		if r.Object() == nil {
			return failf(on(r), "GET %s with Accept: application/json answered a body that is not a JSON object", shortTarget(r.Target))
		}
	}
	return nil
}

// because adds why, the source of the behaviour, to the message of a
// failure that a shared helper reported; any other error is returned as
// it is.
func because(err error, why string) error {
	var o *outcome
	if !errors.As(err, &o) || o.status != Fail {
		return err
	}
	c := *o
	c.msg += "; " + why
	return &c
}
