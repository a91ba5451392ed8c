package check

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// validationRun is where Microsoft documents the App Gallery validation
// run whose direct SCIM tests the gallery suite reproduces.
const validationRun = "https://github.com/AzureAD/SCIMReferenceCode (Microsoft.SCIM.LogicAppValidationTemplate)"

func init() {
	register("gallery",
		check{name: "Schema_Discoverability", reproduces: `GET /Schemas, flattened into names such as emails[type eq "work"].value, covers every attribute Entra maps by default, case-insensitively`, run: schemaDiscoverability},
		check{name: "SCIM_User_Create", reproduces: "POST /Users: 201 with a non-empty id, userName as sent", run: galleryUserCreate},
		check{name: "SCIM_User_Update", reproduces: "PATCH of every single-valued string attribute of the User and Enterprise User schemas, each read back equal", run: galleryUserUpdate},
		check{name: "SCIM_Null_Update", reproduces: `PATCH optional attributes to "", read back empty; then to null, still empty`, run: galleryNullUpdate},
		check{name: "SCIM_Group_Create", reproduces: "POST /Groups: 201 with a non-empty id, displayName as sent", run: galleryGroupCreate},
		check{name: "SCIM_Group_Update", reproduces: "PATCH a group's displayName and externalId, read back equal", run: galleryGroupUpdate},
		check{name: "Validate_Credentials", reproduces: "the client credentials grant at the token endpoint: an access_token valid 60 to 360 minutes, which the SCIM endpoint accepts", run: validateCredentials},
		check{name: "SCIM_User_Pagination", reproduces: "at least 11 users, GET /Users?startIndex=N&count=5 page after page: startIndex = page×5+1, no user twice", run: func(t *T) error { return pagination(t, "Users") }},
		check{name: "SCIM_Group_Pagination", optional: true, reproduces: "the same walk over at least 11 groups", run: func(t *T) error { return pagination(t, "Groups") }},
		check{name: "SCIM_Update_Manager", reproduces: "the manager set with Add, changed with Replace, removed with a Replace of an empty value, read back after each", run: galleryManager},
		check{name: "Disable_User", reproduces: "the mandatory soft delete: active=false, read back false", run: galleryDisable},
		check{name: "Restore_User", reproduces: "unassign and reassign: the user is deleted, then created again with the same userName", run: galleryRestore},
	)
}

// mappedUser are the targets of Entra ID's default user attribute mappings
// for a SCIM app (Microsoft Learn, "Tutorial: Develop and plan provisioning
// for a SCIM endpoint", the user attribute table).
var mappedUser = []string{
	"userName", "active", "displayName", "title", "externalId",
	"name.givenName", "name.familyName", "name.formatted",
	`emails[type eq "work"].value`, `emails[type eq "other"].value`,
	`phoneNumbers[type eq "work"].value`, `phoneNumbers[type eq "mobile"].value`, `phoneNumbers[type eq "fax"].value`,
	`addresses[type eq "work"].streetAddress`, `addresses[type eq "work"].locality`, `addresses[type eq "work"].region`,
	`addresses[type eq "work"].postalCode`, `addresses[type eq "work"].country`, `addresses[type eq "other"].formatted`,
	enterpriseURN + ":employeeNumber", enterpriseURN + ":department", enterpriseURN + ":manager",
}

// mappedGroup are the targets of the default group mappings.
var mappedGroup = []string{"displayName", "externalId", "members"}

// commonAttributes need not appear in a schema (RFC 7643 §3.1).
var commonAttributes = []string{"id", "externalid", "meta"}

func schemaDiscoverability(t *T) error {
	r, res, err := t.query("/Schemas", "the validation run and Entra's schema discovery read /Schemas to find the attributes it can map")
	if err != nil {
		return err
	}
	// Flatten every schema into "attr", "attr.sub", and "urn:...:attr".
	names := map[string]map[string]bool{}
	for _, s := range res {
		id := str(s, "id")
		set := map[string]bool{}
		for _, a := range list(s, "attributes") {
			n := str(a, "name")
			set[strings.ToLower(n)] = true
			for _, sub := range list(a, "subAttributes") {
				set[strings.ToLower(n+"."+str(sub, "name"))] = true
			}
		}
		names[id] = set
	}
	if names[userURN] == nil {
		return failf(on(r), "/Schemas has no %s: the validation run fails every user test without it", userURN)
	}
	if names[groupURN] == nil {
		return failf(on(r), "/Schemas has no %s: the validation run then fails every group test (group provisioning is mandatory for the gallery, %s)", groupURN, validationRun)
	}
	var missing []string
	find := func(schema, attr string) {
		flat := strings.ToLower(attr)
		// emails[type eq "work"].value → emails.value
		if i := strings.Index(flat, "["); i >= 0 {
			if j := strings.Index(flat, "]"); j > i {
				flat = flat[:i] + flat[j+1:]
			}
		}
		s := schema
		if strings.HasPrefix(flat, "urn:") {
			// The schema is the URN up to the last colon.
			i := strings.LastIndex(flat, ":")
			s, flat = "", flat[i+1:]
			for id := range names {
				if strings.EqualFold(id, attr[:i]) {
					s = id
				}
			}
		}
		if slices.Contains(commonAttributes, flat) {
			return
		}
		if !names[s][flat] {
			missing = append(missing, attr)
		}
	}
	for _, a := range append(slices.Clone(mappedUser), t.s.cfg.Attributes...) {
		find(userURN, a)
	}
	for _, a := range mappedGroup {
		find(groupURN, a)
	}
	if len(missing) > 0 {
		return failf(on(r), "/Schemas does not describe %s, which Entra ID maps (by default, or as -attributes says): list every attribute you support in its schema (RFC 7643 §7), or the validation run reports them missing and Entra cannot map them (%s)", strings.Join(missing, ", "), learnGallery)
	}
	return nil
}

func galleryUserCreate(t *T) error {
	n := t.s.name("u")
	body := obj{"schemas": []string{userURN}, "userName": n + "@" + t.s.domain, "active": true,
		"displayName": "Gallery " + n, "emails": []obj{{"type": "work", "value": n + "@" + t.s.domain, "primary": true}}}
	u, err := t.createUser(body)
	if err != nil {
		return err
	}
	if got := str(u.created.JSON(), "userName"); got != u.userName {
		return failf(on(u.created), "the created user's userName is %q, sent %q: the validation run compares them", got, u.userName)
	}
	return nil
}

func galleryUserUpdate(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	n := t.s.name("v")
	want := []struct {
		path, val string
	}{
		{"displayName", "Display " + n},
		{"nickName", "Nick " + n},
		{"title", "Title " + n},
		{"userType", "Employee"},
		{"preferredLanguage", "en-US"},
		{"locale", "en-US"},
		{"timezone", "America/Los_Angeles"},
		{enterpriseURN + ":employeeNumber", "42"},
		{enterpriseURN + ":costCenter", "CC " + n},
		{enterpriseURN + ":organization", "Org " + n},
		{enterpriseURN + ":division", "Div " + n},
		{enterpriseURN + ":department", "Dept " + n},
	}
	var ops []obj
	for _, w := range want {
		ops = append(ops, op("replace", w.path, w.val))
	}
	pr, err := t.patch("/Users/"+u.id, patchOp(ops...), "the validation run updates every single-valued string attribute of the schema with PATCH")
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "the validation run reads the user back")
	if err != nil {
		return err
	}
	var wrong []string
	for _, w := range want {
		path := []string{w.path}
		if rest, ok := strings.CutPrefix(w.path, enterpriseURN+":"); ok {
			path = []string{enterpriseURN, rest}
		}
		if got := get(m, path...); got != w.val {
			wrong = append(wrong, fmt.Sprintf("%s reads %s, want %q", w.path, show(got), w.val))
		}
	}
	if len(wrong) > 0 {
		return failf(on(pr, r), "after the PATCH, %s: keep and return every attribute the schema lists", strings.Join(wrong, "; "))
	}
	return nil
}

func galleryNullUpdate(t *T) error {
	body := t.entraUser()
	body["title"] = "Title"
	body["nickName"] = "Nick"
	body["displayName"] = "Display"
	body[enterpriseURN] = obj{"department": "Dept"}
	u, err := t.setupUser(body)
	if err != nil {
		return err
	}
	attrs := [][]string{{"title"}, {"nickName"}, {"displayName"}, {enterpriseURN, "department"}}
	for _, phase := range []struct {
		name  string
		value any
	}{{`""`, ""}, {"null", nil}} {
		var ops []obj
		for _, a := range attrs {
			ops = append(ops, op("replace", strings.Join(a, ":"), phase.value))
		}
		pr, err := t.patch("/Users/"+u.id, patchOp(ops...), "the validation run clears optional attributes with a replace to "+phase.name)
		if err != nil {
			return err
		}
		r, m, err := t.read("/Users/"+u.id, "the validation run reads the user back")
		if err != nil {
			return err
		}
		for _, a := range attrs {
			if v := get(m, a...); v != nil && v != "" {
				return failf(on(pr, r), "after a replace of %s with %s it reads %s, want it empty or absent: a replace with an empty value clears the attribute", strings.Join(a, ":"), phase.name, show(v))
			}
		}
	}
	return nil
}

func galleryGroupCreate(t *T) error {
	name := t.s.name("g")
	r, err := t.do("POST", "/Groups", obj{"schemas": []string{groupURN}, "displayName": name})
	if err != nil {
		return err
	}
	if err := expect(r, "the validation run creates a group (group provisioning is mandatory for the gallery)", http.StatusCreated, http.StatusOK); err != nil {
		return err
	}
	id := str(r.JSON(), "id")
	if id == "" {
		return failf(on(r), "the create's answer has no id")
	}
	if got := str(r.JSON(), "displayName"); got != name {
		return failf(on(r), "the created group's displayName is %q, sent %q", got, name)
	}
	return nil
}

func galleryGroupUpdate(t *T) error {
	g, err := t.setupGroup()
	if err != nil {
		return err
	}
	name, ext := t.s.name("gupd"), t.s.name("x")
	pr, err := t.patch("/Groups/"+g.id, patchOp(op("replace", "displayName", name), op("replace", "externalId", ext)), "the validation run updates a group's single-valued attributes")
	if err != nil {
		return err
	}
	r, m, err := t.read("/Groups/"+g.id, "the validation run reads the group back")
	if err != nil {
		return err
	}
	if str(m, "displayName") != name || str(m, "externalId") != ext {
		return failf(on(pr, r), "after the PATCH the group reads displayName %q and externalId %q, want %q and %q", str(m, "displayName"), str(m, "externalId"), name, ext)
	}
	return nil
}

func validateCredentials(t *T) error {
	if t.s.cfg.TokenURL == "" {
		return skipf("no -token-url: App Gallery applications must authenticate Entra with OAuth 2.0 client credentials or workload identity federation, not a long-lived token (%s); give -token-url, -client-id and -client-secret to check the token endpoint", learnGallery)
	}
	g := t.s.grant
	if g.token == "" {
		return failf(on(g.exchange), "the token endpoint issued no token: %s. It must answer a client credentials request (RFC 6749 §4.4) with 200 and {\"access_token\":...,\"token_type\":\"Bearer\",\"expires_in\":3600}", g.problem)
	}
	if !strings.EqualFold(g.tokenType, "bearer") {
		return failf(on(g.exchange), "token_type is %q, want \"Bearer\" (RFC 6750): Entra sends the token as a bearer token", g.tokenType)
	}
	if !g.hasExpiry {
		return failf(on(g.exchange), "the token's answer has no expires_in: the validation run requires a lifetime of 60 to 360 minutes, in seconds (RFC 6749 §5.1)")
	}
	if g.expiresIn < 3600 || g.expiresIn > 21600 {
		return failf(on(g.exchange), "expires_in is %d seconds (%d minutes): the validation run requires 60 to 360 minutes (3600 to 21600 seconds) (%s)", g.expiresIn, g.expiresIn/60, learnGallery)
	}
	t.token = g.token
	r, err := t.do("GET", "/Users?count=1", nil)
	if err != nil {
		return err
	}
	if r.Status < 200 || r.Status > 299 {
		return failf(on(g.exchange, r), "the SCIM endpoint refused the token the token endpoint issued (%d%s): accept the tokens your token endpoint issues as bearer tokens on every SCIM request", r.Status, r.problem())
	}
	return nil
}

// pageSize is the validation run's count.
const pageSize = 5

func pagination(t *T, coll string) error {
	r, _, err := t.query("/"+coll+"?count=1", "counting the "+coll)
	if err != nil {
		return err
	}
	total, _ := integer(get(r.JSON(), "totalResults"))
	var mine []string
	for i := total; i < 11; i++ {
		if coll == "Users" {
			u, err := t.setupUser(nil)
			if err != nil {
				return err
			}
			mine = append(mine, u.id)
		} else {
			g, err := t.setupGroup()
			if err != nil {
				return err
			}
			mine = append(mine, g.id)
		}
	}
	const maxPages = 200
	seen := map[string]int{} // id → page
	pages, complete := 0, false
	var last *Response
	for page := 0; page < maxPages; page++ {
		start := page*pageSize + 1
		pr, res, err := t.query(fmt.Sprintf("/%s?startIndex=%d&count=%d", coll, start, pageSize), "the validation run pages through /"+coll+" five at a time")
		if err != nil {
			return err
		}
		last = pr
		pages++
		m := pr.Object()
		if si, ok := integer(get(m, "startIndex")); !ok || si != start {
			return failf(on(pr), "page %d answers startIndex %s, want %d (page×5+1): echo the startIndex that was asked (RFC 7644 §3.4.2.4)", page, show(get(m, "startIndex")), start)
		}
		if len(res) > pageSize {
			return failf(on(pr), "page %d has %d resources for count=%d: return at most count resources (RFC 7644 §3.4.2.4)", page, len(res), pageSize)
		}
		if ipp, ok := integer(get(m, "itemsPerPage")); ok && ipp != len(res) {
			return failf(on(pr), "page %d says itemsPerPage %d but holds %d resources", page, ipp, len(res))
		}
		for _, id := range ids(res) {
			if p, dup := seen[id]; dup {
				return failf(on(pr), "%s %q is on page %d and again on page %d: pages must not overlap, or a client walking them (Entra's account discovery, the validation run) counts the resource twice and misses another; order pages by a stable key such as the id (RFC 7644 §3.4.2.4)", strings.TrimSuffix(coll, "s"), id, p, page)
			}
			seen[id] = page
		}
		now, _ := integer(get(m, "totalResults"))
		if len(res) == 0 || start+pageSize > now {
			complete = true
			break
		}
	}
	if pages < 2 {
		return failf(on(last), "the walk ended after %d page with totalResults %d: at least 11 %s must give 3 pages of 5", pages, total, coll)
	}
	if complete {
		var lost []string
		for _, id := range mine {
			if _, ok := seen[id]; !ok {
				lost = append(lost, id)
			}
		}
		if len(lost) > 0 {
			return failf(on(last), "walking every page of /%s missed %s, created for this check: every resource must be on exactly one page (if nothing else deleted or created %s meanwhile)", coll, quote(lost), coll)
		}
	} else {
		t.note("walked the first %d pages of %d %s.", maxPages, total, coll)
	}
	return nil
}

func galleryManager(t *T) error {
	users, err := t.setupUsers(3)
	if err != nil {
		return err
	}
	m1, m2, u := users[0], users[1], users[2]
	path := enterpriseURN + ":manager"
	steps := []struct {
		name string
		op   obj
		want string
	}{
		{"set (Add)", op("add", path, obj{"value": m1.id}), m1.id},
		{"change (Replace)", op("replace", path, obj{"value": m2.id}), m2.id},
		{"remove (Replace with an empty value)", op("replace", path, ""), ""},
	}
	for _, s := range steps {
		pr, err := t.patch("/Users/"+u.id, patchOp(s.op), "the validation run writes the manager this way: "+s.name)
		if err != nil {
			return err
		}
		r, m, err := t.read("/Users/"+u.id, "the validation run reads the user back")
		if err != nil {
			return err
		}
		mgr := get(m, enterpriseURN, "manager")
		got := str(mgr, "value")
		if s.want == "" {
			if mgr != nil && got != "" {
				return failf(on(pr, r), "after the %s the manager still reads %s: a replace with an empty value removes the manager", s.name, show(mgr))
			}
			continue
		}
		if got != s.want {
			return failf(on(pr, r), "after the %s of the manager to %q, %s:manager reads %s: the server accepted the PATCH and lost the manager", s.name, s.want, enterpriseURN, show(mgr))
		}
	}
	return nil
}

func galleryDisable(t *T) error {
	u, err := t.setupUser(nil)
	if err != nil {
		return err
	}
	pr, err := t.patch("/Users/"+u.id, patchOp(op("replace", "active", false)), "soft delete is mandatory for the gallery: Entra disables users with active=false")
	if err != nil {
		return err
	}
	r, m, err := t.read("/Users/"+u.id, "a disabled user must still be readable")
	if err != nil {
		return err
	}
	if a := get(m, "active"); a != false {
		return failf(on(pr, r), "after the disable active reads %s, want false", show(a))
	}
	return nil
}

func galleryRestore(t *T) error {
	body := t.entraUser()
	u, err := t.setupUser(body)
	if err != nil {
		return err
	}
	dr, err := t.do("DELETE", "/Users/"+u.id, nil)
	if err != nil {
		return err
	}
	if err := expect(dr, "the validation run deprovisions the unassigned user", http.StatusNoContent); err != nil {
		return err
	}
	t.s.forget(u.id)
	fr, err := t.do("GET", "/Users?"+eqFilter("userName", u.userName), nil)
	if err != nil {
		return err
	}
	if err := emptyList(fr, "the validation run looks for the deleted user"); err != nil {
		return err
	}
	again, err := t.do("POST", "/Users", body)
	if err != nil {
		return err
	}
	if again.Status == http.StatusConflict {
		return failf(on(dr, again), "re-creating a deleted user with the same userName answered 409%s: a deleted user's userName must be free again, or a reassigned user can never come back", again.problem())
	}
	if err := expect(again, "the validation run re-creates the reassigned user with the same userName", http.StatusCreated); err != nil {
		return err
	}
	id := str(again.JSON(), "id")
	if id == "" {
		return failf(on(again), "the create's answer has no id")
	}
	return matchOne(t, "/Users?"+eqFilter("userName", u.userName), id, "the restored user must be found by userName")
}
