package check

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// Microsoft Learn pages the entra suite's messages point to.
const (
	learnSCIM       = "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"
	learnCompat     = "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility"
	learnQuarantine = "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status"
	learnHowWorks   = "https://learn.microsoft.com/entra/identity/app-provisioning/how-provisioning-works"
	learnGallery    = "https://learn.microsoft.com/entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements"
	// learnReference is the tutorial of Microsoft's SCIM reference code,
	// whose Postman collection (https://github.com/AzureAD/SCIMReferenceCode)
	// developers run against their endpoints.
	learnReference = "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-build-users-and-groups-endpoints"
)

// The two PATCH shapes Entra ID sends: the default one of a non-gallery
// app, and the RFC-compliant one of an app whose Tenant URL carries
// ?aadOptscim062020 (and of gallery apps).
const (
	shapeDefault = "default"
	shapeFlag    = "aadOptscim062020"
)

func init() {
	register("entra",
		check{name: "test-connection-users", reproduces: `Test connection: GET /Users?filter=userName eq "<random GUID>", with no User-Agent, must answer 200 and an empty ListResponse`, run: testConnectionUsers},
		check{name: "test-connection-groups", reproduces: `Test connection's group probe: GET /Groups?excludedAttributes=members&filter=displayName eq "<random GUID>" must answer 200 and an empty ListResponse`, run: testConnectionGroups},
		check{name: "create-user", reproduces: "the first cycle: match by userName (no match), then POST Entra's create body; 201 with the id, userName as sent, readable by id", run: entraCreateUser},
		check{name: "create-user-string-active", optional: true, reproduces: `a create whose active comes from the default mapping's Switch([IsSoftDeleted], , "False", "True", "True", "False") expression: "active": "True", a string`, run: createStringActive},
		check{name: "create-user-with-nulls", optional: true, reproduces: `the create body of Microsoft's older samples: explicit nulls (addresses, phoneNumbers, title, department, manager) and the mistyped schema "...:enterprise:2.0User"; null is absent, an unknown schema URN is tolerated`, run: createWithNulls},
		check{name: "match-user-by-userName", reproduces: `the match before every create and in incremental cycles: userName eq "<userName>" finds exactly the user`, run: matchByUserName},
		check{name: "match-user-by-externalId", optional: true, reproduces: `matching on externalId, when an admin makes it the matching attribute: externalId eq "<value>"`, run: matchByExternalID},
		check{name: "match-user-by-work-email", optional: true, reproduces: `matching on the work email, when an admin makes it the matching attribute: emails[type eq "work"].value eq "<email>"`, run: matchByWorkEmail},
		check{name: "update-user-default", reproduces: `an incremental update without the flag: one capitalised "Replace" per changed attribute, value paths and the enterprise URN included`, run: func(t *T) error { return updateUser(t, shapeDefault) }},
		check{name: "update-user-aadOptscim062020", reproduces: `an incremental update with ?aadOptscim062020: one path-less "replace" whose keys are attribute paths ("name.givenName", URN-qualified), plus the value-path operation`, run: func(t *T) error { return updateUser(t, shapeFlag) }},
		check{name: "rename-userName", reproduces: `a user renamed in the directory: {"op":"Replace","path":"userName","value":...} keeps the id; the new userName matches, the old one does not`, run: renameUserName},
		check{name: "disable-re-enable-default", reproduces: `soft delete without the flag: {"op":"Replace","path":"active","value":"False"}, the user still found by id and by filter, then "True"`, run: func(t *T) error { return disableReEnable(t, shapeDefault) }},
		check{name: "disable-re-enable-aadOptscim062020", reproduces: `soft delete with ?aadOptscim062020: {"op":"replace","path":"active","value":false}, then true`, run: func(t *T) error { return disableReEnable(t, shapeFlag) }},
		check{name: "disabled-user-keeps-memberships", reproduces: "a disabled user stays in its groups: Entra does not push memberships again when it re-enables the user", run: disabledKeepsMemberships},
		check{name: "delete-user", reproduces: "the hard delete: DELETE /Users/{id} answers 204, then the user is 404 by id and absent from the userName filter", run: deleteUser},
		check{name: "create-group", reproduces: `the group's first cycle: GET /Groups?excludedAttributes=members&filter=displayName eq (no match), then POST Entra's body (two schemas, no members)`, run: entraCreateGroup},
		check{name: "group-excludedAttributes-members", reproduces: "Entra reads groups with excludedAttributes=members, by id and by filter, and must not get the members back", run: excludedMembers},
		check{name: "rename-group", reproduces: `{"op":"Replace","path":"displayName","value":...} on a group`, run: renameGroup},
		check{name: "delete-group", reproduces: "a group deleted in the directory or unassigned: DELETE /Groups/{id} answers 204, then the group is 404 and its displayName matches nothing", run: deleteGroup},
		check{name: "members-add-default", reproduces: `{"op":"Add","path":"members","value":[{"$ref":null,"value":"<id>"},...]}: several members in one PATCH, "$ref": null`, run: func(t *T) error { return membersAdd(t, shapeDefault) }},
		check{name: "members-remove-with-value", reproduces: `the default member removal {"op":"Remove","path":"members","value":[{"value":"<id>"}]}: removes that member, never the whole group`, run: func(t *T) error { return membersRemove(t, shapeDefault) }},
		check{name: "members-add-aadOptscim062020", reproduces: `{"op":"add","path":"members","value":[{"value":"<id>"}]} with ?aadOptscim062020`, run: func(t *T) error { return membersAdd(t, shapeFlag) }},
		check{name: "members-remove-aadOptscim062020", reproduces: `{"op":"remove","path":"members[value eq \"<id>\"]"} with ?aadOptscim062020`, run: func(t *T) error { return membersRemove(t, shapeFlag) }},
		check{name: "membership-query", optional: true, reproduces: `the membership check GET /Groups?filter=id eq "<group>" and members eq "<user>"&attributes=id`, run: membershipQuery},
		check{name: "manager-set-and-change", reproduces: `the manager, written after both users exist: {"op":"Add","path":"<enterprise URN>:manager","value":"<id>"} (a bare id), then a Replace; read back as {"value":"<id>"}`, run: managerSetChange},
		check{name: "manager-other-shapes", optional: true, reproduces: `the manager in the other shapes seen from Entra: the SDK-era {"op":"Add","path":"manager","value":[{"$ref":...,"value":"<id>"}]}, and the reported removal {"op":"remove","path":"manager[value eq \"<id>\"]"}`, run: managerOtherShapes},
		check{name: "manager-query", optional: true, reproduces: `the manager reference check GET /Users?filter=id eq "<user>" and manager eq "<manager>"&attributes=id`, run: managerQuery},
		check{name: "value-path-creates", reproduces: `Add on phoneNumbers[type eq "work"].value and on three sub-attributes of addresses[type eq "work"] of a user that has none: one phone number, one address; addresses[type eq "other"].Formatted and emails[type eq "other"].Value as Microsoft's mapping table writes them`, run: valuePathCreates},
		check{name: "reference-tests-lowercase-endpoint", optional: true, reproduces: `Microsoft's SCIM reference tests (the Postman collection of AzureAD/SCIMReferenceCode): GET /users, the endpoint in lower case`, run: referenceLowercase},
		check{name: "reference-tests-attributes-value-filter", optional: true, reproduces: `Microsoft's SCIM reference tests: GET /Users/{id}?attributes=emails[type eq "work"], a value filter where attributes takes names`, run: referenceAttributesFilter},
		check{name: "reference-tests-member-bare-id", optional: true, reproduces: `Microsoft's SCIM reference tests: {"op":"add","path":"members","value":"<id>"}, a bare string where members takes objects`, run: referenceMemberBareID},
		check{name: "app-role-value-path", optional: true, reproduces: `the SingleAppRoleAssignment mapping: {"op":"Add","path":"roles[primary eq \"True\"].value","value":"<role>"} creates a primary role`, run: appRoleValuePath},
	)
}

// testConnectionUsers reproduces the first request of Test connection.
func testConnectionUsers(t *T) error {
	guid := randomGUID()
	r, err := t.do("GET", "/Users?"+eqFilter("userName", guid), nil, header{"User-Agent", ""})
	if err != nil {
		return err
	}
	return emptyList(r, "Test connection looks up a userName that does not exist")
}

// emptyList checks that r is 200 with an empty ListResponse, as Entra ID
// needs for a query that matches nothing.
func emptyList(r *Response, what string) error {
	if r.Status == http.StatusNotFound || r.Status == http.StatusBadRequest {
		return failf(on(r), "%s and got %d%s: Entra ID expects 200 with an empty ListResponse for a filter that matches nothing, fails Test connection and quarantines the provisioning job otherwise (%s). Answer 200 {\"schemas\":[%q],\"totalResults\":0,\"Resources\":[]}", what, r.Status, r.problem(), learnQuarantine, listURN)
	}
	if err := expect(r, what+": answer 200 with an empty ListResponse ("+learnSCIM+")", http.StatusOK); err != nil {
		return err
	}
	res, err := listResponse(r)
	if err != nil {
		return err
	}
	if len(res) > 0 || get(r.JSON(), "totalResults") == nil {
		return failf(on(r), "%s and got %d resources (totalResults %s): a filter on a random value must match nothing", what, len(res), show(get(r.JSON(), "totalResults")))
	}
	if n, _ := integer(get(r.JSON(), "totalResults")); n != 0 {
		return failf(on(r), "%s and got totalResults %d: a filter on a random value must match nothing", what, n)
	}
	if _, ok := get(r.JSON(), "Resources").([]any); !ok {
		state := "absent"
		if _, present := r.Object()["Resources"]; present {
			state = "null"
		}
		return warnf(on(r), "%s and Resources is %s: send \"Resources\": [] so that clients that iterate over it need no special case", what, state)
	}
	return nil
}

func testConnectionGroups(t *T) error {
	guid := randomGUID()
	r, err := t.do("GET", "/Groups?excludedAttributes=members&"+eqFilter("displayName", guid), nil, header{"User-Agent", ""})
	if err != nil {
		return err
	}
	if r.Status == http.StatusNotFound {
		return failf(on(r), "Test connection probes /Groups and got 404%s: Entra ID checks that it can read a group as well as a user; a server without groups still answers 200 with an empty ListResponse (%s)", r.problem(), learnSCIM)
	}
	return emptyList(r, "Test connection probes /Groups for a displayName that does not exist")
}

func entraCreateUser(t *T) error {
	body := t.entraUser()
	userName := body["userName"].(string)
	r, err := t.do("GET", "/Users?"+eqFilter("userName", userName), nil)
	if err != nil {
		return err
	}
	if err := emptyList(r, "Entra matches by userName before it creates a user"); err != nil {
		return err
	}
	u, err := t.createUser(body)
	if err != nil {
		return err
	}
	if got := str(u.created.JSON(), "userName"); got != userName {
		return failf(on(u.created), "the created user's userName is %q, sent %q: store and return values exactly as sent (%s)", got, userName, learnSCIM)
	}
	if ct := u.created.Header.Get("Content-Type"); !isSCIMJSON(ct) {
		t.note("the 201's Content-Type is %q; Entra ID asks for application/scim+json.", ct)
	}
	r, m, err := t.read("/Users/"+u.id, "Entra reads a user by the id the create returned")
	if err != nil {
		return err
	}
	if got := str(m, "userName"); got != userName {
		return failf(on(r), "GET /Users/%s answers userName %q, created as %q", u.id, got, userName)
	}
	if a := get(m, "active"); a != true {
		return failf(on(r), "the user was created with \"active\": true and reads back active %s: return active as a JSON boolean", show(a))
	}
	return nil
}

func matchByUserName(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	return matchOne(t, "/Users?"+eqFilter("userName", u.userName), u.id, "Entra matches users by userName before creating them; a miss makes it create a duplicate, two results make it fail the user with MultipleEntriesInResponse")
}

// matchOne checks that the query finds exactly the resource id.
func matchOne(t *T, path, id, why string) error {
	r, res, err := t.query(path, why)
	if err != nil {
		return err
	}
	got := ids(res)
	if len(got) != 1 || got[0] != id {
		return failf(on(r), "the filter found %s, want exactly %q: %s", quote(got), id, why)
	}
	if n, _ := integer(get(r.JSON(), "totalResults")); n != 1 {
		return failf(on(r), "the filter found the resource but totalResults is %d, want 1 (RFC 7644 §3.4.2)", n)
	}
	return nil
}

func matchByExternalID(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	return matchOne(t, "/Users?"+eqFilter("externalId", u.externalId), u.id, "an admin may match users on externalId, which Entra maps from mailNickname or objectId; every matching attribute must be usable in a filter ("+learnSCIM+")")
}

func matchByWorkEmail(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	path := "/Users?filter=" + url.QueryEscape(`emails[type eq "work"].value eq "`+u.userName+`"`)
	return matchOne(t, path, u.id, "an admin may match users on the work email; every matching attribute must be usable in a filter ("+learnSCIM+")")
}

func updateUser(t *T, shape string) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	n := t.s.name("upd")
	email := n + "@" + t.s.domain
	var body patchBody
	if shape == shapeDefault {
		body = patchOp(
			op("Replace", "displayName", "Ada "+n),
			op("Replace", `emails[type eq "work"].value`, email),
			op("Replace", "name.givenName", "Augusta"),
			op("Replace", "name.familyName", n),
			op("Replace", "externalId", n),
			op("Replace", enterpriseURN+":employeeNumber", "1815"),
		)
	} else {
		body = patchOp(
			op("replace", `emails[type eq "work"].value`, email),
			op("replace", "", obj{
				"displayName":                     "Ada " + n,
				"name.givenName":                  "Augusta",
				"name.familyName":                 n,
				"externalId":                      n,
				enterpriseURN + ":employeeNumber": "1815",
			}),
		)
	}
	pr, err := t.patch("/Users/"+u.id, body, fmt.Sprintf("Entra sends its updates in this shape (%s, %s)", shape, learnCompat))
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "Entra reads the user back in the next cycle")
	if err != nil {
		return err
	}
	want := []struct {
		path []string
		val  string
	}{
		{[]string{"displayName"}, "Ada " + n},
		{[]string{"name", "givenName"}, "Augusta"},
		{[]string{"name", "familyName"}, n},
		{[]string{"externalId"}, n},
		{[]string{enterpriseURN, "employeeNumber"}, "1815"},
	}
	for _, w := range want {
		if got := str(m, w.path...); got != w.val {
			return failf(on(pr, r), "after the PATCH, %s reads %q, want %q: the server accepted the operation but did not apply it; Entra will send it again every cycle", dotted(w.path), got, w.val)
		}
	}
	if got := workEmail(m); got != email {
		return failf(on(pr, r), "after the PATCH, the work email reads %q, want %q", got, email)
	}
	if emails := list(m, "emails"); len(emails) != 1 {
		return failf(on(pr, r), "after replacing emails[type eq \"work\"].value the user has %d emails, want 1: the replace must change the work email in place", len(emails))
	}
	return nil
}

// dotted writes an attribute path for a message.
func dotted(path []string) string {
	s := ""
	for i, p := range path {
		if i > 0 {
			if i == 1 && len(path[0]) > 4 && path[0][:4] == "urn:" {
				s += ":"
			} else {
				s += "."
			}
		}
		s += p
	}
	return s
}

// workEmail returns the value of the user's work email.
func workEmail(m any) string {
	for _, e := range list(m, "emails") {
		if str(e, "type") == "work" {
			return str(e, "value")
		}
	}
	return ""
}

func disableReEnable(t *T, shape string) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	off, on1 := any(false), any(true)
	name := "replace"
	if shape == shapeDefault {
		off, on1, name = "False", "True", "Replace"
	}
	pr, err := t.do("PATCH", "/Users/"+u.id, patchOp(op(name, "active", off)))
	if err != nil {
		return err
	}
	if pr.Status == http.StatusBadRequest && shape == shapeDefault {
		return failf(on(pr), `Entra disables a user with {"op":"Replace","path":"active","value":"False"} (a capitalised op, and a string, not a boolean) unless the Tenant URL carries ?aadOptscim062020, and got 400%s: accept op names in any case, and "True" and "False" where the schema says boolean (%s)`, pr.problem(), learnCompat)
	}
	if err := expect(pr, "Entra disables users this way ("+learnCompat+")", http.StatusOK, http.StatusNoContent); err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "a disabled user must still be readable: Entra's soft delete is active=false and only a DELETE removes the user ("+learnSCIM+")")
	if err != nil {
		return err
	}
	if a := get(m, "active"); a != false {
		return failf(on(pr, r), "after the disable, active reads %s, want false: store the boolean and return it as a JSON boolean", show(a))
	}
	fr, res, err := t.query("/Users?"+eqFilter("userName", u.userName), "Entra still matches a disabled user by userName")
	if err != nil {
		return err
	}
	if len(res) != 1 || str(res[0], "id") != u.id {
		return failf(on(fr), "the userName filter finds %s for the disabled user %q: a disabled user must still be returned by filters, or Entra creates it again (%s)", quote(ids(res)), u.id, learnSCIM)
	}
	if a := get(res[0], "active"); a != false {
		return failf(on(fr), "the filter returns the disabled user with active %s, want false", show(a))
	}
	er, err := t.do("PATCH", "/Users/"+u.id, patchOp(op(name, "active", on1)))
	if err != nil {
		return err
	}
	if err := expect(er, "Entra re-enables a restored user this way", http.StatusOK, http.StatusNoContent); err != nil {
		return err
	}
	r, m, err = t.read("/Users/"+u.id, "Entra reads the re-enabled user")
	if err != nil {
		return err
	}
	if a := get(m, "active"); a != true {
		return failf(on(er, r), "after re-enabling, active reads %s, want true", show(a))
	}
	return nil
}

func disabledKeepsMemberships(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	g, err := t.setupGroup(u.id)
	if err != nil {
		return err
	}
	pr, err := t.patch("/Users/"+u.id, patchOp(op("replace", "active", false)), "Entra disables users with active=false")
	if err != nil {
		return err
	}
	r, m, err := t.read("/Groups/"+g.id, "reading the group")
	if err != nil {
		return err
	}
	if got := memberIDs(m); !slices.Contains(got, u.id) {
		return failf(on(pr, r), "after disabling user %q the group's members are %s: keep a disabled user's memberships, Entra does not add them again when it re-enables the user (%s)", u.id, quote(got), learnHowWorks)
	}
	return nil
}

func deleteUser(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	return t.deleteAndCheckGone("/Users/"+u.id, "", u.id,
		"Entra deletes a user hard-deleted in the directory, or unassigned when active is not mapped ("+learnHowWorks+")",
		"/Users?"+eqFilter("userName", u.userName), "Entra looks up the userName of a deleted user")
}

// deleteAndCheckGone deletes the resource at path (why is the reason the
// client deletes it), then checks that GET path+query is 404 and that the
// filter the client matches by, lookup, finds nothing (found names that
// lookup in the failure).
func (t *T) deleteAndCheckGone(path, query, id, why, lookup, found string) error {
	r, err := t.do("DELETE", path, nil)
	if err != nil {
		return err
	}
	if err := expect(r, why, http.StatusNoContent); err != nil {
		return err
	}
	t.s.forget(id)
	gr, err := t.do("GET", path+query, nil)
	if err != nil {
		return err
	}
	if gr.Status != http.StatusNotFound {
		return failf(on(r, gr), "after DELETE answered 204, GET %s answers %d, want 404", path, gr.Status)
	}
	fr, err := t.do("GET", lookup, nil)
	if err != nil {
		return err
	}
	return emptyList(fr, found)
}

func entraCreateGroup(t *T) error {
	name := t.s.name("g")
	r, err := t.do("GET", "/Groups?excludedAttributes=members&"+eqFilter("displayName", name), nil)
	if err != nil {
		return err
	}
	if err := emptyList(r, "Entra matches a group by displayName before it creates it"); err != nil {
		return err
	}
	g, err := t.createGroup(obj{
		"schemas":     []string{groupURN, adscimGroupURN},
		"externalId":  t.s.name("x"),
		"displayName": name,
		"meta":        obj{"resourceType": "Group"},
	})
	if err != nil {
		return err
	}
	if got := str(g.created.JSON(), "displayName"); got != name {
		return failf(on(g.created), "the created group's displayName is %q, sent %q", got, name)
	}
	return matchOne(t, "/Groups?excludedAttributes=members&"+eqFilter("displayName", name), g.id, "Entra matches groups by displayName in every cycle")
}

func excludedMembers(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	g, err := t.setupGroup(u.id)
	if err != nil {
		return err
	}
	r, m, err := t.read("/Groups/"+g.id+"?excludedAttributes=members", "Entra reads a group by id with excludedAttributes=members")
	if err != nil {
		return err
	}
	if _, ok := m["members"]; ok || get(m, "members") != nil {
		return failf(on(r), "GET /Groups/{id}?excludedAttributes=members returns members: leave them out (RFC 7644 §3.4.2.5); Entra does not need them and a large group's members make every read slow (%s)", learnSCIM)
	}
	if str(m, "displayName") != g.displayName {
		return failf(on(r), "GET /Groups/{id}?excludedAttributes=members lost the displayName: exclude only what is asked")
	}
	fr, res, err := t.query("/Groups?excludedAttributes=members&"+eqFilter("displayName", g.displayName), "Entra matches groups by displayName with excludedAttributes=members")
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return failf(on(fr), "the displayName filter found %d groups, want 1", len(res))
	}
	if get(res[0], "members") != nil {
		return failf(on(fr), "the filter's answer has members although excludedAttributes=members: Entra reads members in a query's answer as a sign of a non-compliant server (MultipleEntriesInResponse)")
	}
	return nil
}

func renameGroup(t *T) error {
	g, err := t.setupGroup()
	if err != nil {
		return err
	}
	name := t.s.name("renamed")
	pr, err := t.patch("/Groups/"+g.id, patchOp(op("Replace", "displayName", name)), "Entra renames groups this way")
	if err != nil {
		return err
	}
	r, m, err := t.read("/Groups/"+g.id+"?excludedAttributes=members", "Entra reads the renamed group")
	if err != nil {
		return err
	}
	if got := str(m, "displayName"); got != name {
		return failf(on(pr, r), "after the rename the displayName reads %q, want %q", got, name)
	}
	return nil
}

func membersAdd(t *T, shape string) error {
	users, err := t.setupUsers(2)
	if err != nil {
		return err
	}
	a, b := users[0], users[1]
	g, err := t.setupGroup()
	if err != nil {
		return err
	}
	var body patchBody
	want := []string{a.id, b.id}
	if shape == shapeDefault {
		body = patchOp(op("Add", "members", []obj{{"$ref": nil, "value": a.id}, {"$ref": nil, "value": b.id}}))
	} else {
		body = patchOp(op("add", "members", members(a.id)), op("add", "members", members(b.id)))
	}
	pr, err := t.do("PATCH", "/Groups/"+g.id, body)
	if err != nil {
		return err
	}
	if pr.Status == http.StatusBadRequest && shape == shapeDefault {
		return failf(on(pr), "Entra adds members with capitalised ops and \"$ref\": null in each value, and got 400%s: accept op names in any case and a null $ref (%s)", pr.problem(), learnSCIM)
	}
	if err := expect(pr, "Entra adds members this way", http.StatusOK, http.StatusNoContent); err != nil {
		return err
	}
	if pr.Status == http.StatusOK {
		t.note("the PATCH answered 200 with a body; Entra ID recommends 204 for group PATCHes, as a large group's members make the answer heavy.")
	}
	r, m, err := t.read("/Groups/"+g.id, "reading the group's members")
	if err != nil {
		return err
	}
	if got := memberIDs(m); !sameSet(got, want) {
		return failf(on(pr, r), "after adding %s the members are %s", quote(want), quote(got))
	}
	return nil
}

func membersRemove(t *T, shape string) error {
	var us []user
	for range 3 {
		u, err := t.setupUser(nil)
		if err != nil {
			return err
		}
		us = append(us, u)
	}
	g, err := t.setupGroup(us[0].id, us[1].id, us[2].id)
	if err != nil {
		return err
	}
	var body patchBody
	if shape == shapeDefault {
		body = patchOp(op("Remove", "members", members(us[0].id)))
	} else {
		body = patchOp(op("remove", `members[value eq "`+us[0].id+`"]`, noValue))
	}
	pr, err := t.do("PATCH", "/Groups/"+g.id, body)
	if err != nil {
		return err
	}
	if pr.Status == http.StatusBadRequest && shape == shapeDefault {
		return failf(on(pr), `Entra removes a member with {"op":"Remove","path":"members","value":[{"value":"<id>"}]} unless the Tenant URL carries ?aadOptscim062020, and got 400%s: read it as "remove these members" (%s)`, pr.problem(), learnCompat)
	}
	if err := expect(pr, "Entra removes members this way ("+learnCompat+")", http.StatusOK, http.StatusNoContent); err != nil {
		return err
	}
	r, m, err := t.read("/Groups/"+g.id, "reading the group's members")
	if err != nil {
		return err
	}
	got := memberIDs(m)
	want := []string{us[1].id, us[2].id}
	switch {
	case len(got) == 0 && shape == shapeDefault:
		return failf(on(pr, r), `removing one member with {"op":"Remove","path":"members","value":[{"value":%q}]} emptied the group: Entra sends this to remove the listed members only; read RFC 7644 §3.5.2.2 literally and every member of the group is dropped at each removal (%s)`, us[0].id, learnCompat)
	case !sameSet(got, want):
		return failf(on(pr, r), "after removing %q the members are %s, want %s", us[0].id, quote(got), quote(want))
	}
	return nil
}

func membershipQuery(t *T) error {
	users, err := t.setupUsers(2)
	if err != nil {
		return err
	}
	u, other := users[0], users[1]
	g, err := t.setupGroup(u.id)
	if err != nil {
		return err
	}
	q := func(member string) string {
		return "/Groups?filter=" + url.QueryEscape(`id eq "`+g.id+`" and members eq "`+member+`"`) + "&attributes=id"
	}
	if err := matchOne(t, q(u.id), g.id, "Entra asks whether a user is a member this way"); err != nil {
		return err
	}
	r, res, err := t.query(q(other.id), "Entra asks whether a user is a member this way")
	if err != nil {
		return err
	}
	if len(res) != 0 {
		return failf(on(r), "the membership filter for a user who is not a member found %s, want none", quote(ids(res)))
	}
	return nil
}

func managerSetChange(t *T) error {
	users, err := t.setupUsers(3)
	if err != nil {
		return err
	}
	m1, m2, u := users[0], users[1], users[2]
	path := enterpriseURN + ":manager"
	steps := []struct {
		name, op, id string
	}{{"set", "Add", m1.id}, {"change", "Replace", m2.id}}
	for _, s := range steps {
		pr, err := t.do("PATCH", "/Users/"+u.id, patchOp(op(s.op, path, s.id)))
		if err != nil {
			return err
		}
		if pr.Status == http.StatusBadRequest {
			return failf(on(pr), `Entra sends the manager as the manager's id, a bare string ({"op":%q,"path":"...:manager","value":%q}), and got 400%s: accept it as {"value": %q}`, s.op, s.id, pr.problem(), s.id)
		}
		if err := expect(pr, "Entra writes the manager this way", http.StatusOK, http.StatusNoContent); err != nil {
			return err
		}
		r, m, err := t.read("/Users/"+u.id, "Entra reads the user back")
		if err != nil {
			return err
		}
		mgr := get(m, enterpriseURN, "manager")
		if sv, ok := mgr.(string); ok {
			return failf(on(pr, r), "the manager reads back as the string %q: Entra ID reads only the complex form {\"value\": %q} under %s and fails to read the user otherwise", sv, s.id, enterpriseURN)
		}
		if got := str(mgr, "value"); got != s.id {
			return failf(on(pr, r), "after the %s of the manager to %q, %s:manager reads %s: the server accepted the PATCH and lost the manager; Entra will send it again every cycle (%s)", s.name, s.id, enterpriseURN, show(mgr), learnHowWorks)
		}
	}
	return nil
}

func managerQuery(t *T) error {
	users, err := t.setupUsers(2)
	if err != nil {
		return err
	}
	mgr, u := users[0], users[1]
	if _, err := t.patch("/Users/"+u.id, patchOp(op("add", enterpriseURN+":manager", obj{"value": mgr.id})), "setting the manager"); err != nil {
		return setupFailed("a user with a manager", err)
	}
	path := "/Users?filter=" + url.QueryEscape(`id eq "`+u.id+`" and manager eq "`+mgr.id+`"`) + "&attributes=id"
	return matchOne(t, path, u.id, "Entra checks a manager reference this way")
}

func valuePathCreates(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	pr, err := t.patch("/Users/"+u.id, patchOp(
		op("Add", `phoneNumbers[type eq "work"].value`, "+1 555 0100"),
		op("Add", `addresses[type eq "work"].streetAddress`, "1 Main St"),
		op("Add", `addresses[type eq "work"].locality`, "Redmond"),
		op("Add", `addresses[type eq "work"].postalCode`, "98052"),
		op("Add", `addresses[type eq "other"].Formatted`, "Building 1"),
		op("Add", `emails[type eq "other"].Value`, "other-"+u.userName),
	), `Entra adds a work phone and address to a user that has none with value paths; a value path that matches nothing must create the value (the Microsoft SCIM Validator's "Patch User - Add Attributes")`)
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "reading the user")
	if err != nil {
		return err
	}
	phones := list(m, "phoneNumbers")
	if len(phones) != 1 || str(phones[0], "value") != "+1 555 0100" || str(phones[0], "type") != "work" {
		return failf(on(pr, r), `after adding phoneNumbers[type eq "work"].value the phone numbers are %s, want one {"type":"work","value":"+1 555 0100"}`, show(phones))
	}
	var work, other []any
	for _, a := range list(m, "addresses") {
		switch str(a, "type") {
		case "work":
			work = append(work, a)
		case "other":
			other = append(other, a)
		}
	}
	if len(work) != 1 {
		return failf(on(pr, r), `three adds on addresses[type eq "work"] made %d work addresses, want one holding all three values: %s`, len(work), show(list(m, "addresses")))
	}
	a := work[0]
	if str(a, "streetAddress") != "1 Main St" || str(a, "locality") != "Redmond" || str(a, "postalCode") != "98052" {
		return failf(on(pr, r), "the work address is %s, want streetAddress, locality and postalCode as sent", show(a))
	}
	if len(other) != 1 || str(other[0], "formatted") != "Building 1" {
		return failf(on(pr, r), `an add on addresses[type eq "other"].Formatted made the addresses %s, want one other address formatted "Building 1": sub-attribute names are case-insensitive (RFC 7643 §2.1)`, show(list(m, "addresses")))
	}
	var others []string
	for _, e := range list(m, "emails") {
		if str(e, "type") == "other" {
			others = append(others, str(e, "value"))
		}
	}
	if len(others) != 1 || others[0] != "other-"+u.userName || workEmail(m) != u.userName {
		return failf(on(pr, r), `after an add on emails[type eq "other"].Value the emails are %s, want the work email kept and one other email %q`, show(list(m, "emails")), "other-"+u.userName)
	}
	return nil
}

func createWithNulls(t *T) error {
	body := t.entraUser()
	body["schemas"] = []string{userURN, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"}
	for _, k := range []string{"addresses", "phoneNumbers", "title", "preferredLanguage"} {
		body[k] = nil
	}
	body[enterpriseURN] = obj{"department": nil, "manager": nil}
	u, err := t.createUser(body)
	if err != nil {
		return err
	}
	for _, k := range []string{"addresses", "phoneNumbers", "title"} {
		if v := get(u.created.JSON(), k); v != nil {
			return failf(on(u.created), "the user created with %q: null reads back %s: null means absent (RFC 7643 §2.5); never return null", k, show(v))
		}
	}
	return nil
}

func managerOtherShapes(t *T) error {
	users, err := t.setupUsers(2)
	if err != nil {
		return err
	}
	mgr, u := users[0], users[1]
	ref := t.s.base.String() + "/Users/" + mgr.id
	pr, err := t.patch("/Users/"+u.id, patchOp(op("Add", "manager", []obj{{"$ref": ref, "value": mgr.id}})), `Microsoft's tutorial shows the manager added with path "manager" and an array of one reference`)
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "reading the user")
	if err != nil {
		return err
	}
	if got := str(m, enterpriseURN, "manager", "value"); got != mgr.id {
		return failf(on(pr, r), "after the Add of the manager %q, %s:manager reads %s", mgr.id, enterpriseURN, show(get(m, enterpriseURN, "manager")))
	}
	pr, err = t.patch("/Users/"+u.id, patchOp(op("remove", `manager[value eq "`+mgr.id+`"]`, noValue)), "a removal of the manager by a value filter has been reported from Entra")
	if err != nil {
		return err
	}
	r, m, err = t.read("/Users/"+u.id, "reading the user")
	if err != nil {
		return err
	}
	if v := get(m, enterpriseURN, "manager"); v != nil && str(v, "value") != "" {
		return failf(on(pr, r), "after the removal the manager still reads %s", show(v))
	}
	return nil
}

func appRoleValuePath(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	pr, err := t.patch("/Users/"+u.id, patchOp(op("Add", `roles[primary eq "True"].value`, "Admin")), "Entra's SingleAppRoleAssignment mapping targets roles[primary eq \"True\"].value")
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "reading the user")
	if err != nil {
		return err
	}
	roles := list(m, "roles")
	if len(roles) != 1 || str(roles[0], "value") != "Admin" || get(roles[0], "primary") != true {
		return failf(on(pr, r), `after the Add on roles[primary eq "True"].value the roles are %s, want one {"value":"Admin","primary":true}, primary a JSON boolean`, show(roles))
	}
	return nil
}

func renameUserName(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	renamed := t.s.name("renamed") + "@" + t.s.domain
	pr, err := t.patch("/Users/"+u.id, patchOp(op("Replace", "userName", renamed)), "Entra renames a user whose userPrincipalName changed this way ("+learnSCIM+")")
	if err != nil {
		return err
	}
	if err := matchOne(t, "/Users?"+eqFilter("userName", renamed), u.id, "after a rename Entra matches the user by its new userName; the id must not change"); err != nil {
		return err
	}
	r, err := t.do("GET", "/Users?"+eqFilter("userName", u.userName), nil)
	if err != nil {
		return err
	}
	if err := emptyList(r, "after the rename the old userName must match nothing"); err != nil {
		var o *outcome
		if errors.As(err, &o) {
			o.shown = on(pr, r)
		}
		return err
	}
	return nil
}

func deleteGroup(t *T) error {
	g, err := t.setupGroup()
	if err != nil {
		return err
	}
	return t.deleteAndCheckGone("/Groups/"+g.id, "?excludedAttributes=members", g.id,
		"Entra deletes a group deleted in the directory or taken out of scope ("+learnSCIM+")",
		"/Groups?excludedAttributes=members&"+eqFilter("displayName", g.displayName), "Entra looks up the displayName of a deleted group")
}

func createStringActive(t *T) error {
	body := t.entraUser()
	body["active"] = "True"
	r, err := t.do("POST", "/Users", body)
	if err != nil {
		return err
	}
	if r.Status == http.StatusBadRequest {
		return failf(on(r), `a create with "active": "True" answered 400%s: the default mapping of active is an expression whose result is the string "True" or "False"; accept them where the schema says boolean (%s)`, r.problem(), learnCompat)
	}
	if err := expect(r, "Entra creates users this way", http.StatusCreated); err != nil {
		return err
	}
	if a := get(r.JSON(), "active"); a != true {
		return failf(on(r), `a create with "active": "True" reads back active %s, want the JSON boolean true`, show(a))
	}
	return nil
}

// referenceSource is what the reference-tests checks cite.
const referenceSource = "Microsoft's SCIM reference tests, " + learnReference + " and https://github.com/AzureAD/SCIMReferenceCode"

func referenceLowercase(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	r, res, err := t.query("/users?"+eqFilter("userName", u.userName), "the reference tests send GET /users in lower case; the endpoint is /Users (RFC 7644 §3.2), and answering the lower case too spares a developer a failing test ("+referenceSource+")")
	if err != nil {
		return err
	}
	if got := ids(res); len(got) != 1 || got[0] != u.id {
		return failf(on(r), "GET /users found %s, want %q as GET /Users does (%s)", quote(got), u.id, referenceSource)
	}
	return nil
}

func referenceAttributesFilter(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id+"?attributes="+url.QueryEscape(`emails[type eq "work"]`), `the reference tests ask for attributes=emails[type eq "work"]; attributes takes attribute names (RFC 7644 §3.4.2.5), and reading it as attributes=emails spares a developer a failing test (`+referenceSource+")")
	if err != nil {
		return err
	}
	emails := list(m, "emails")
	if str(m, "id") != u.id || len(emails) == 0 || str(emails[0], "value") != u.userName {
		return failf(on(r), `attributes=emails[type eq "work"] answered emails %s, want the user's work email %q (%s)`, show(get(m, "emails")), u.userName, referenceSource)
	}
	if get(m, "name") != nil {
		return failf(on(r), `attributes=emails[type eq "work"] also returned name: return only the attribute asked for, emails (RFC 7644 §3.4.2.5; %s)`, referenceSource)
	}
	return nil
}

func referenceMemberBareID(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	g, err := t.setupGroup()
	if err != nil {
		return err
	}
	pr, err := t.patch("/Groups/"+g.id, patchOp(op("add", "members", u.id)), `the reference tests add a member with "value": "<id>", a bare string where members takes objects (RFC 7643 §4.2); reading it as [{"value": "<id>"}] spares a developer a failing test (`+referenceSource+")")
	if err != nil {
		return err
	}
	r, m, err := t.read("/Groups/"+g.id, "reading the group")
	if err != nil {
		return err
	}
	if got := memberIDs(m); len(got) != 1 || got[0] != u.id {
		return failf(on(pr, r), `after {"op":"add","path":"members","value":%q} the members are %s, want %q (%s)`, u.id, quote(got), u.id, referenceSource)
	}
	return nil
}
