package scim

import (
	stdcmp "cmp"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ApplyPatchForTest parses a PATCH body and applies it to u, as the handler
// does, for the benchmarks of package scim_test. It exists only in tests.
func ApplyPatchForTest(u *User, body []byte, strict bool) error {
	opt := patchOptions{decode: decodeOptions{strict: strict}}
	ops, err := parsePatch(body, opt)
	if err != nil {
		return err
	}
	return applyUserPatch(u, ops, opt)
}

// ClientsPatchBodiesForTest returns the bodies of clientsPatchCases, the
// PATCH bodies of docs/clients.md, to seed the fuzz targets of package
// scim_test. It exists only in tests.
func ClientsPatchBodiesForTest() (users, groups [][]byte) {
	for _, c := range clientsPatchCases {
		if c.group {
			groups = append(groups, c.body)
		} else {
			users = append(users, c.body)
		}
	}
	return users, groups
}

// patchBody builds a PatchOp body.
func patchBody(ops ...string) []byte {
	return []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`)
}

// entraUser is a user as Entra ID creates it (docs/clients.md#create-bodies-and-responses), with the
// attributes its default mappings fill (docs/clients.md#attribute-mappings).
func entraUser() *User {
	return &User{
		ID: "2819c223-7f76-453a-919d-413861904646", ExternalID: "bjensen", UserName: "bjensen@contoso.com",
		Name:        Name{Formatted: "Barbara Jensen", FamilyName: "Jensen", GivenName: "Barbara"},
		DisplayName: "Babs Jensen", Title: "Tour Guide", Active: true,
		Emails:       []MultiValue{{Value: "bjensen@contoso.com", Type: "work", Primary: true}},
		PhoneNumbers: []MultiValue{{Value: "555-555-5555", Type: "work"}},
		Enterprise:   &EnterpriseUser{EmployeeNumber: "701984", Department: "Tour Operations"},
	}
}

// entraGroup is a group with the members of docs/clients.md#patch-bodies's samples.
func entraGroup() *Group {
	return &Group{
		ID: "e9e30dba-f08f-4109-8486-d5c6a331660a", ExternalID: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", DisplayName: "Tour Guides",
		Members: []Member{{Value: "u1091"}, {Value: "7f4bc1a3-285e-48ae-8202-5accb43efb0e"}, {Value: "f648f8d5ea4e4cd38e9c"}},
	}
}

// patchCase is one PATCH body applied in default and in strict mode.
type patchCase struct {
	name  string
	group bool // apply to entraGroup rather than entraUser
	body  []byte
	// check tests the result in default mode, where every body succeeds.
	checkUser  func(t *testing.T, u *User)
	checkGroup func(t *testing.T, g *Group)
	// strict is "" when strict mode accepts the body too, else a part of
	// the detail of its 400.
	strict string
}

func (c patchCase) run(t *testing.T) {
	t.Helper()
	for _, strict := range []bool{false, true} {
		opt := patchOptions{decode: decodeOptions{strict: strict}}
		var err error
		var before, after any
		ops, err := parsePatch(c.body, opt)
		if c.group {
			g := entraGroup()
			before = g.Clone()
			if err == nil {
				err = applyGroupPatch(g, ops, opt)
			}
			after = g
			if err == nil && !strict {
				c.checkGroup(t, g)
			}
		} else {
			u := entraUser()
			before = u.Clone()
			if err == nil {
				err = applyUserPatch(u, ops, opt)
			}
			after = u
			if err == nil && !strict {
				c.checkUser(t, u)
			}
		}
		switch {
		case !strict && err != nil:
			t.Errorf("default mode refused it: %v", err)
		case strict && c.strict == "" && err != nil:
			t.Errorf("strict mode refused it: %v", err)
		case strict && c.strict != "" && err == nil:
			t.Errorf("strict mode accepted it; want a 400 mentioning %q", c.strict)
		case strict && c.strict != "":
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Detail, c.strict) {
				t.Errorf("strict mode: %v; want a 400 mentioning %q", err, c.strict)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a refused PATCH changed the resource (-before +after):\n%s", diff)
			}
		}
	}
}

// clientsPatchCases is every PATCH body of docs/clients.md#patch-bodies,
// and Okta's and JumpCloud's (docs/clients.md#okta, docs/clients.md#jumpcloud).
var clientsPatchCases = []patchCase{
	// The table of docs/clients.md#patch-bodies, "Disable a user".
	{
		name: "disable, default: capitalised op, string boolean",
		body: patchBody(`{"op":"Replace","path":"active","value":"False"}`),
		checkUser: func(t *testing.T, u *User) {
			if u.Active {
				t.Error("still active")
			}
		},
		strict: ruleOpNameCase,
	},
	{
		name: "disable, aadOptscim062020",
		body: patchBody(`{"op":"replace","path":"active","value":false}`),
		checkUser: func(t *testing.T, u *User) {
			if u.Active {
				t.Error("still active")
			}
		},
	},
	{
		name: "tutorial disable: capitalised op, real boolean",
		body: patchBody(`{"op":"Replace","path":"active","value":false}`),
		checkUser: func(t *testing.T, u *User) {
			if u.Active {
				t.Error("still active")
			}
		},
		strict: ruleOpNameCase,
	},
	// The table, "Add a string".
	{
		name:      "add a single-valued string, default",
		body:      patchBody(`{"op":"Add","path":"nickName","value":"Babs"}`),
		checkUser: wantUser(func(u *User) { u.NickName = "Babs" }),
		strict:    ruleOpNameCase,
	},
	{
		name:      "add a single-valued string, aadOptscim062020",
		body:      patchBody(`{"op":"add","path":"nickName","value":"Babs"}`),
		checkUser: wantUser(func(u *User) { u.NickName = "Babs" }),
	},
	// The table, "Replace several attributes".
	{
		name: "replace several attributes, default: one Replace each",
		body: patchBody(
			`{"op":"Replace","path":"displayName","value":"Bjfe"}`,
			`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"bjfe@contoso.com"}`,
			`{"op":"Replace","path":"name.givenName","value":"Kkom"}`,
			`{"op":"Replace","path":"name.familyName","value":"Unua"}`,
			`{"op":"Replace","path":"externalId","value":"bjfe"}`,
			`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Aklq"}`,
		),
		checkUser: wantUser(func(u *User) {
			u.DisplayName, u.Emails[0].Value, u.Name.GivenName, u.Name.FamilyName, u.ExternalID = "Bjfe", "bjfe@contoso.com", "Kkom", "Unua", "bjfe"
			u.Enterprise.EmployeeNumber = "Aklq"
		}),
		strict: ruleOpNameCase,
	},
	{
		name: "replace several attributes, aadOptscim062020: one replace without path, dotted and URN keys",
		body: patchBody(
			`{"op":"replace","path":"emails[type eq \"work\"].value","value":"bjfe@contoso.com"}`,
			`{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}`,
		),
		checkUser: wantUser(func(u *User) {
			u.DisplayName, u.Emails[0].Value, u.Name.GivenName, u.Name.FamilyName = "Bjfe", "bjfe@contoso.com", "Kkom", "Unua"
			u.Enterprise.EmployeeNumber = "Aklq"
		}),
		strict: ruleNoPathAttributePaths,
	},
	// The table, "Remove a member".
	{
		name:       "remove a member, default: Remove with a value list",
		group:      true,
		body:       patchBody(`{"op":"Remove","path":"members","value":[{"value":"u1091"}]}`),
		checkGroup: wantMembers("7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c"),
		strict:     ruleOpNameCase,
	},
	{
		name:       "remove a member, aadOptscim062020: value filter",
		group:      true,
		body:       patchBody(`{"op":"remove","path":"members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}`),
		checkGroup: wantMembers("u1091", "f648f8d5ea4e4cd38e9c"),
	},
	// The 2020 version of the Entra compatibility page's samples.
	{
		name:      "2020 sample: add an Enterprise attribute",
		body:      patchBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tech Infrastructure"}`),
		checkUser: wantUser(func(u *User) { u.Enterprise.Department = "Tech Infrastructure" }),
	},
	{
		name:       "2020 sample: add a member",
		group:      true,
		body:       patchBody(`{"op":"add","path":"members","value":[{"value":"10263a6910a84ef9a581dd9b8dcc0eae"}]}`),
		checkGroup: wantMembers("u1091", "7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c", "10263a6910a84ef9a581dd9b8dcc0eae"),
	},
	{
		name:      "2020 sample: primary with a real boolean",
		body:      patchBody(`{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}`),
		checkUser: wantUser(func(*User) {}),
	},
	{
		name:      "2020 sample: replace without path of active and userName",
		body:      patchBody(`{"op":"replace","value":{"active":false,"userName":"someone"}}`),
		checkUser: wantUser(func(u *User) { u.Active, u.UserName = false, "someone" }),
	},
	// The samples of the Entra tutorial.
	{
		name: "tutorial: replace the work email and the family name",
		body: patchBody(
			`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"}`,
			`{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}`,
		),
		checkUser: wantUser(func(u *User) {
			u.Emails[0].Value, u.Name.FamilyName = "updatedEmail@microsoft.com", "updatedFamilyName"
		}),
		strict: ruleOpNameCase,
	},
	{
		name:      "tutorial: rename",
		body:      patchBody(`{"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}`),
		checkUser: wantUser(func(u *User) { u.UserName = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" }),
		strict:    ruleOpNameCase,
	},
	{
		name:       "tutorial: add a member with $ref null",
		group:      true,
		body:       patchBody(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9d"}]}`),
		checkGroup: wantMembers("u1091", "7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c", "f648f8d5ea4e4cd38e9d"),
		strict:     ruleOpNameCase,
	},
	{
		name:       "tutorial: remove a member with $ref null",
		group:      true,
		body:       patchBody(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}`),
		checkGroup: wantMembers("u1091", "7f4bc1a3-285e-48ae-8202-5accb43efb0e"),
		strict:     ruleOpNameCase,
	},
	// A value path that selects nothing (SCIM-SDK#416, #680, #668), and the
	// default targets of Entra's mappings (Entra attribute mappings).
	{
		name: "validator: add the work email of a user without one",
		body: patchBody(`{"op":"remove","path":"emails"}`, `{"op":"add","path":"emails[type eq \"work\"].value","value":"x@contoso.com"}`),
		checkUser: wantUser(func(u *User) {
			u.Emails = []MultiValue{{Value: "x@contoso.com", Type: "work"}}
		}),
		strict: ruleValuePathCreates,
	},
	{
		name: "several adds on addresses[type eq \"work\"] build one address",
		body: patchBody(
			`{"op":"add","path":"addresses[type eq \"work\"].formatted","value":"1 Main St, Springfield"}`,
			`{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Springfield"}`,
			`{"op":"add","path":"addresses[type eq \"work\"].region","value":"IL"}`,
		),
		checkUser: wantUser(func(u *User) {
			u.Addresses = []Address{{Formatted: "1 Main St, Springfield", Locality: "Springfield", Region: "IL", Type: "work"}}
		}),
		strict: ruleValuePathCreates,
	},
	{
		name: "replace the work email keeps the other emails",
		body: patchBody(`{"op":"add","path":"emails","value":[{"value":"b@home.example","type":"home"}]}`, `{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@contoso.com"}`),
		checkUser: wantUser(func(u *User) {
			u.Emails = []MultiValue{{Value: "new@contoso.com", Type: "work", Primary: true}, {Value: "b@home.example", Type: "home"}}
		}),
	},
	{
		name: "default mapping: phone numbers by type, and an other email with Value in capitals",
		body: patchBody(
			`{"op":"Replace","path":"phoneNumbers[type eq \"work\"].value","value":"555-555-0100"}`,
			`{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"555-555-0101"}`,
			`{"op":"Add","path":"phoneNumbers[type eq \"fax\"].value","value":"555-555-0102"}`,
			`{"op":"Add","path":"emails[type eq \"other\"].Value","value":"smtp:babs@contoso.com"}`,
			`{"op":"Add","path":"addresses[type eq \"other\"].Formatted","value":"Building 4"}`,
		),
		checkUser: wantUser(func(u *User) {
			u.PhoneNumbers = []MultiValue{{Value: "555-555-0100", Type: "work"}, {Value: "555-555-0101", Type: "mobile"}, {Value: "555-555-0102", Type: "fax"}}
			u.Emails = append(u.Emails, MultiValue{Value: "smtp:babs@contoso.com", Type: "other"})
			u.Addresses = []Address{{Formatted: "Building 4", Type: "other"}}
		}),
		strict: ruleOpNameCase,
	},
	{
		name: "default mapping: SingleAppRoleAssignment: roles[primary eq \"True\"]",
		body: patchBody(
			`{"op":"Add","path":"roles[primary eq \"True\"].value","value":"Admin"}`,
			`{"op":"Add","path":"roles[primary eq \"True\"].display","value":"Administrator"}`,
			`{"op":"Add","path":"roles[primary eq \"True\"].type","value":"WindowsAzureActiveDirectoryRole"}`,
		),
		checkUser: wantUser(func(u *User) {
			u.Roles = []MultiValue{{Value: "Admin", Display: "Administrator", Type: "WindowsAzureActiveDirectoryRole", Primary: true}}
		}),
		strict: ruleOpNameCase,
	},
	{
		name: "roles: AppRoleAssignmentsComplex: a role whose value is JSON in a string",
		body: patchBody(`{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"8a4a8f5c-9bbd-4d8e-9b66-9b1b1f1f4a1e\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}`),
		checkUser: wantUser(func(u *User) {
			u.Roles = []MultiValue{{Value: `{"id":"8a4a8f5c-9bbd-4d8e-9b66-9b1b1f1f4a1e","value":"Admin","displayName":"Admin"}`}}
		}),
		strict: ruleOpNameCase,
	},
	{
		name: "roles: AssertiveAppRoleAssignmentsComplex: replace every role",
		body: patchBody(`{"op":"replace","path":"roles","value":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Admin","value":"Admin"},{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Reader","value":"Reader"}]}`),
		checkUser: wantUser(func(u *User) {
			u.Roles = []MultiValue{{Value: "Admin", Display: "Admin", Type: "WindowsAzureActiveDirectoryRole", NotPrimary: true}, {Value: "Reader", Display: "Reader", Type: "WindowsAzureActiveDirectoryRole", NotPrimary: true}}
		}),
	},
	// The manager (docs/clients.md#patch-bodies).
	{
		name:      "manager 1: the bare id, Add",
		body:      patchBody(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"271"}`),
		checkUser: wantUser(func(u *User) { u.Enterprise.Manager = &Manager{Value: "271"} }),
		strict:    ruleOpNameCase,
	},
	{
		name:      "manager 1: the bare id, add",
		body:      patchBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"271"}`),
		checkUser: wantUser(func(u *User) { u.Enterprise.Manager = &Manager{Value: "271"} }),
		strict:    "bare manager id",
	},
	{
		name:      "manager 2: the tutorial's array with $ref",
		body:      patchBody(`{"op":"Add","path":"manager","value":[{"$ref":"http://example.com/scim/Users/271","value":"271"}]}`),
		checkUser: wantUser(func(u *User) { u.Enterprise.Manager = &Manager{Value: "271", Ref: "http://example.com/scim/Users/271"} }),
		strict:    ruleOpNameCase,
	},
	{
		name:      "manager 5: remove with a value filter",
		body:      patchBody(`{"op":"add","path":"manager","value":{"value":"271"}}`, `{"op":"remove","path":"manager[value eq \"271\"]"}`),
		checkUser: wantUser(func(*User) {}),
		strict:    ruleSingularFilter,
	},
	{
		name:      "manager 5: replace with empty",
		body:      patchBody(`{"op":"add","path":"manager","value":{"value":"271"}}`, `{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}`),
		checkUser: wantUser(func(*User) {}),
		strict:    ruleOpNameCase,
	},
	// The other shapes of docs/clients.md#patch-bodies.
	{
		name:      "string boolean on primary",
		body:      patchBody(`{"op":"replace","path":"emails[type eq \"work\"].primary","value":"True"}`),
		checkUser: wantUser(func(*User) {}),
		strict:    "strict mode does not accept",
	},
	{
		name: "replace on a value path creates the value too",
		body: patchBody(`{"op":"replace","path":"emails[type eq \"other\"].value","value":"babs@other.example"}`),
		checkUser: wantUser(func(u *User) {
			u.Emails = append(u.Emails, MultiValue{Value: "babs@other.example", Type: "other"})
		}),
		strict: ruleValuePathCreates,
	},
	{
		name:      "a value path as a key of a value without path",
		body:      patchBody(`{"op":"replace","value":{"emails[type eq \"work\"].value":"v@contoso.com","URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT":"Tours"}}`),
		checkUser: wantUser(func(u *User) { u.Emails[0].Value, u.Enterprise.Department = "v@contoso.com", "Tours" }),
		strict:    ruleNoPathAttributePaths,
	},
	// docs/clients.md#okta.
	{
		name:      "Okta deactivate",
		body:      patchBody(`{"op":"replace","value":{"active":false}}`),
		checkUser: wantUser(func(u *User) { u.Active = false }),
	},
	{
		name:      "Okta password",
		body:      patchBody(`{"op":"replace","value":{"password":"t1meMa$heen"}}`),
		checkUser: wantUser(func(u *User) { u.Password = "t1meMa$heen" }),
	},
	{
		name:  "Okta group rename repeats the id",
		group: true,
		body:  patchBody(`{"op":"replace","value":{"id":"e9e30dba-f08f-4109-8486-d5c6a331660a","displayName":"Test SCIMv2"}}`),
		checkGroup: func(t *testing.T, g *Group) {
			if g.DisplayName != "Test SCIMv2" || len(g.Members) != 3 {
				t.Errorf("got %+v", g)
			}
		},
	},
	{
		name:       "Okta membership: remove by filter and add with display",
		group:      true,
		body:       patchBody(`{"op":"remove","path":"members[value eq \"u1091\"]"}`, `{"op":"add","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"}]}`),
		checkGroup: wantMembers("7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c", "23a35c27-23d3-4c03-b4c5-6443c09e7173"),
	},
	{
		name:       "Okta full push",
		group:      true,
		body:       patchBody(`{"op":"replace","path":"members","value":[{"value":"u1091","display":"u1091@okta.local"}]}`),
		checkGroup: wantMembers("u1091"),
	},
	{
		name:       "Okta full push of an empty group",
		group:      true,
		body:       patchBody(`{"op":"replace","path":"members","value":[]}`),
		checkGroup: wantMembers(),
	},
	// docs/clients.md#jumpcloud.
	{
		name:       "JumpCloud remove with a value list",
		group:      true,
		body:       patchBody(`{"op":"remove","path":"members","value":[{"value":"u1091"}]}`),
		checkGroup: wantMembers("7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c"),
		strict:     ruleRemoveByValue,
	},
}

// wantUser checks that the result is entraUser changed by change.
func wantUser(change func(u *User)) func(t *testing.T, u *User) {
	return func(t *testing.T, u *User) {
		t.Helper()
		want := entraUser()
		change(want)
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
	}
}

func wantMembers(ids ...string) func(t *testing.T, g *Group) {
	return func(t *testing.T, g *Group) {
		t.Helper()
		got := []string{}
		for _, m := range g.Members {
			got = append(got, m.Value)
		}
		if diff := cmp.Diff(append([]string{}, ids...), got); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
	}
}

// TestClientsPatchBodies applies every PATCH body of
// docs/clients.md#patch-bodies, #okta and #jumpcloud: each succeeds with the effect its client means, and strict mode
// refuses exactly those that need a compatibility rule, naming it.
func TestClientsPatchBodies(t *testing.T) {
	for _, c := range clientsPatchCases {
		t.Run(c.name, c.run)
	}
}

// ruleCase shows one compatibility rule at work: in default mode, and in
// strict mode.
type ruleCase struct {
	name string
	// run applies the input with the handler's rules; strict turns them off.
	run func(t *testing.T, strict bool) error
	// strict is "" when strict mode accepts the input too, else a part of the
	// detail of its 400 (or of its strictStatus, when not 0).
	strict       string
	strictStatus int
}

func decodeCase(body string, check func(t *testing.T, u *User)) func(*testing.T, bool) error {
	return func(t *testing.T, strict bool) error {
		u, err := decodeUser([]byte(body), decodeOptions{strict: strict})
		if err == nil && !strict {
			check(t, u)
		}
		return err
	}
}

func patchUserCase(body []byte, check func(t *testing.T, u *User)) func(*testing.T, bool) error {
	return func(t *testing.T, strict bool) error {
		u := entraUser()
		err := ApplyPatchForTest(u, body, strict)
		if err == nil && !strict {
			check(t, u)
		}
		return err
	}
}

func patchGroupCase(body []byte, check func(t *testing.T, g *Group)) func(*testing.T, bool) error {
	return func(t *testing.T, strict bool) error {
		opt := patchOptions{decode: decodeOptions{strict: strict}}
		g := entraGroup()
		ops, err := parsePatch(body, opt)
		if err == nil {
			err = applyGroupPatch(g, ops, opt)
		}
		if err == nil && !strict {
			check(t, g)
		}
		return err
	}
}

func filterCase(filter string, want string) func(*testing.T, bool) error {
	return func(t *testing.T, strict bool) error {
		f, err := parseFilter(filter, filterLimits{strict: strict})
		if err == nil && f.String() != want {
			t.Errorf("%s parsed as %s, want %s", filter, f, want)
		}
		return err
	}
}

// ruleCases shows every compatibility rule, by name.
var ruleCases = map[string][]ruleCase{
	ruleOpNameCase: {
		{name: "Add", run: patchUserCase(patchBody(`{"op":"Add","path":"title","value":"x"}`), wantUser(func(u *User) { u.Title = "x" })), strict: "must be lower case (strict mode turns off the compatibility rule op-name-case)"},
		{name: "REMOVE", run: patchUserCase(patchBody(`{"op":"REMOVE","path":"title"}`), wantUser(func(u *User) { u.Title = "" })), strict: "op-name-case"},
	},
	ruleStringBooleans: {
		{name: "active in a POST", run: decodeCase(`{"userName":"x","active":"False"}`, func(t *testing.T, u *User) {
			if u.Active {
				t.Error("active")
			}
		}), strict: `"active": expected a boolean`},
		{name: "primary in a PUT", run: decodeCase(`{"userName":"x","emails":[{"value":"x@contoso.com","primary":"TRUE"}]}`, func(t *testing.T, u *User) {
			if !u.Emails[0].Primary {
				t.Error("not primary")
			}
		}), strict: `"emails.primary": expected a boolean`},
		{name: "active in a PATCH", run: patchUserCase(patchBody(`{"op":"replace","path":"active","value":"false"}`), wantUser(func(u *User) { u.Active = false })), strict: `"active": expected a boolean`},
		{name: "a string boolean in a value filter creates a primary value", run: patchUserCase(patchBody(`{"op":"add","path":"roles[primary eq \"True\"].value","value":"Admin"}`), wantUser(func(u *User) {
			u.Roles = []MultiValue{{Value: "Admin", Primary: true}}
		})), strict: "filter selects no value"},
	},
	ruleNoPathAttributePaths: {
		{name: "dotted key", run: patchUserCase(patchBody(`{"op":"replace","value":{"name.givenName":"Kkom"}}`), wantUser(func(u *User) { u.Name.GivenName = "Kkom" })), strict: `"value" member "name.givenName" is an attribute path, not an attribute name (strict mode turns off the compatibility rule no-path-attribute-paths)`},
		{name: "URN-qualified attribute names are names in strict mode too", run: patchUserCase(patchBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"}}`), wantUser(func(u *User) { u.Enterprise.EmployeeNumber = "7" }))},
		{name: "URN-qualified path", run: patchUserCase(patchBody(`{"op":"add","value":{"urn:ietf:params:scim:schemas:core:2.0:User:name.middleName":"J"}}`), wantUser(func(u *User) { u.Name.MiddleName = "J" })), strict: "no-path-attribute-paths"},
	},
	ruleValuePathCreates: {
		{name: "add", run: patchUserCase(patchBody(`{"op":"add","path":"emails[type eq \"home\"].value","value":"b@home.example"}`), wantUser(func(u *User) {
			u.Emails = append(u.Emails, MultiValue{Value: "b@home.example", Type: "home"})
		})), strict: "the filter selects no value of \"emails\" (strict mode turns off the compatibility rule value-path-creates)"},
		{name: "replace", run: patchUserCase(patchBody(`{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Seattle"}`), wantUser(func(u *User) {
			u.Addresses = []Address{{Locality: "Seattle", Type: "work"}}
		})), strict: "value-path-creates"},
	},
	ruleRemoveByValue: {
		{name: "members", run: patchGroupCase(patchBody(`{"op":"remove","path":"members","value":[{"value":"u1091"},{"value":"f648f8d5ea4e4cd38e9c"}]}`), wantMembers("7f4bc1a3-285e-48ae-8202-5accb43efb0e")), strict: "remove takes no \"value\"; to remove some values of \"members\", filter them in the path"},
		{name: "a member is its value: $ref and display in the list do not narrow it", run: patchGroupCase(patchBody(`{"op":"remove","path":"members","value":[{"$ref":"https://x.example/scim/Users/u1091","value":"U1091","display":"Old name"}]}`), wantMembers("7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c")), strict: ruleRemoveByValue},
		{name: "an empty list removes nothing, never everything", run: patchGroupCase(patchBody(`{"op":"remove","path":"members","value":[]}`), wantMembers("u1091", "7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c")), strict: ruleRemoveByValue},
		{name: "emails", run: patchUserCase(patchBody(`{"op":"remove","path":"emails","value":[{"value":"BJENSEN@contoso.com"}]}`), wantUser(func(u *User) { u.Emails = nil })), strict: ruleRemoveByValue},
		{name: "a value on another remove is ignored", run: patchUserCase(patchBody(`{"op":"remove","path":"title","value":"Tour Guide"}`), wantUser(func(u *User) { u.Title = "" })), strict: ruleRemoveByValue},
	},
	ruleMemberRefNull: {
		{name: "in a PATCH", run: patchGroupCase(patchBody(`{"op":"add","path":"members","value":[{"$ref":null,"value":"u2"}]}`), wantMembers("u1091", "7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c", "u2"))},
		{name: "in a POST", run: func(t *testing.T, strict bool) error {
			g, err := decodeGroup([]byte(`{"displayName":"x","members":[{"$ref":null,"value":"u2"}]}`), decodeOptions{strict: strict})
			if err == nil && !cmp.Equal(g.Members, []Member{{Value: "u2"}}) {
				t.Errorf("members %v", g.Members)
			}
			return err
		}},
	},
	ruleManagerShapes: {
		{name: "a bare id in a POST", run: decodeCase(`{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"271"}}`, func(t *testing.T, u *User) {
			if u.Enterprise.Manager.Value != "271" {
				t.Errorf("manager %+v", u.Enterprise.Manager)
			}
		}), strict: "bare manager id"},
		{name: "an array in a PATCH", run: patchUserCase(patchBody(`{"op":"add","path":"manager","value":[{"$ref":"../Users/271","value":"271"}]}`), wantUser(func(u *User) {
			u.Enterprise.Manager = &Manager{Value: "271", Ref: "../Users/271"}
		})), strict: "manager array"},
		{name: "the complex form is RFC 7643's", run: patchUserCase(patchBody(`{"op":"add","path":"manager","value":{"value":"271"}}`), wantUser(func(u *User) {
			u.Enterprise.Manager = &Manager{Value: "271"}
		}))},
		{name: "always returned in the complex form", run: func(t *testing.T, strict bool) error {
			u := entraUser()
			u.Enterprise.Manager = &Manager{Value: "271"}
			out := string(appendUser(nil, u, Projection{}, "https://x.example/scim"))
			if want := `"manager":{"value":"271","$ref":"https://x.example/scim/Users/271"}`; !strings.Contains(out, want) {
				t.Errorf("%s lacks %s", out, want)
			}
			return nil
		}},
	},
	ruleSingularFilter: {
		{name: "remove the manager it names", run: func(t *testing.T, strict bool) error {
			u := entraUser()
			u.Enterprise.Manager = &Manager{Value: "271"}
			err := ApplyPatchForTest(u, patchBody(`{"op":"remove","path":"manager[value eq \"271\"]"}`), strict)
			if err == nil && u.Enterprise.Manager != nil {
				t.Errorf("manager %+v", u.Enterprise.Manager)
			}
			return err
		}, strict: `attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" is single-valued: strict mode takes a value filter on a multi-valued attribute only (compatibility rule filter-on-single-valued)`},
		{name: "another manager stays", run: func(t *testing.T, strict bool) error {
			u := entraUser()
			u.Enterprise.Manager = &Manager{Value: "300"}
			err := ApplyPatchForTest(u, patchBody(`{"op":"remove","path":"manager[value eq \"271\"]"}`), strict)
			if err == nil && u.Enterprise.Manager == nil {
				t.Error("the manager was removed")
			}
			return err
		}, strict: ruleSingularFilter},
	},
	ruleUnquotedFilterValues: {
		{name: "a filter", run: filterCase(`externalId eq jyoung`, `externalId eq "jyoung"`), strict: "position"},
		{name: "a PATCH path", run: patchGroupCase(patchBody(`{"op":"remove","path":"members[value eq u1091]"}`), wantMembers("7f4bc1a3-285e-48ae-8202-5accb43efb0e", "f648f8d5ea4e4cd38e9c")), strict: "position"},
	},
	ruleValuePathComparison: {
		{name: "work email", run: filterCase(`emails[type eq "work"].value eq "user@contoso.com"`, `emails[type eq "work" and value eq "user@contoso.com"]`), strict: "position"},
	},
	ruleNoPathReplace: {
		{name: "Okta's deactivate", run: patchUserCase(patchBody(`{"op":"replace","value":{"active":false}}`), wantUser(func(u *User) { u.Active = false }))},
	},
	ruleIDEcho: {
		{name: "Okta's group rename", run: patchGroupCase(patchBody(`{"op":"replace","value":{"id":"e9e30dba-f08f-4109-8486-d5c6a331660a","displayName":"Renamed","schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"meta":{"resourceType":"Group"}}}`), func(t *testing.T, g *Group) {
			if g.DisplayName != "Renamed" {
				t.Errorf("displayName %q", g.DisplayName)
			}
		})},
		{name: "another id is refused in every mode", run: func(t *testing.T, strict bool) error {
			err := ApplyPatchForTest(entraUser(), patchBody(`{"op":"replace","value":{"id":"other"}}`), strict)
			var e *Error
			if !errors.As(err, &e) || e.Type != Mutability {
				t.Errorf("got %v, want 400 mutability", err)
			}
			return nil
		}},
	},
	rulePutReadOnly: {
		{name: "Okta's PUT", run: func(t *testing.T, strict bool) error {
			u, err := decodeUser([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"x","userName":"a@okta.local","groups":[{"value":"g1","display":"G"}],"password":"1mz050nq","active":true,"meta":{"resourceType":"User"}}`), decodeOptions{strict: strict})
			if err != nil {
				return err
			}
			if u.Groups != nil || u.Password != "1mz050nq" || u.ID != "" {
				t.Errorf("decoded %+v", u)
			}
			stored := &User{ID: "42", UserName: "a@okta.local", Password: "old", Groups: []GroupRef{{Value: "g2"}}}
			u.Password = ""
			replaceUser(stored, u)
			if stored.ID != "42" || stored.Password != "old" || len(stored.Groups) != 1 {
				t.Errorf("after the PUT %+v", stored)
			}
			return nil
		}},
	},
	rulePlusInQuery: {
		{name: "Entra's match query", run: func(t *testing.T, strict bool) error {
			v, err := url.ParseQuery("filter=externalId+eq+%22johnwong%22")
			if err != nil {
				return err
			}
			return filterCase(queryParams(v).filter, `externalId eq "johnwong"`)(t, strict)
		}},
	},
	ruleUnknownQuery: {
		{name: "the aadOptscim062020 flag", run: func(t *testing.T, strict bool) error {
			h := &Handler{opts: Options{MaxResults: 100}, limits: filterLimits{strict: strict}}
			with, err := url.ParseQuery("aadOptscim062020&filter=userName+eq+%22a%22")
			if err != nil {
				return err
			}
			q1, err := h.listQuery(queryParams(with), "User")
			if err != nil {
				return err
			}
			q2, err := h.listQuery(queryParams(url.Values{"filter": {`userName eq "a"`}}), "User")
			if err != nil {
				return err
			}
			if !cmp.Equal(q1, q2) {
				t.Errorf("the flag changed the query: %+v, %+v", q1, q2)
			}
			return nil
		}},
	},
}

// TestCompatRules checks the registry and shows every rule on and, where
// strict mode turns it off, off.
func TestCompatRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range compatRules {
		if r.name == "" || r.accepts == "" || r.where == "" || r.source == "" || r.strict == "" {
			t.Errorf("rule %q lacks a field: %+v", r.name, r)
		}
		if seen[r.name] {
			t.Errorf("rule %q is listed twice", r.name)
		}
		seen[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			cases := ruleCases[r.name]
			if len(cases) == 0 {
				t.Fatal("no case shows this rule")
			}
			refused := false
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if err := c.run(t, false); err != nil {
						t.Errorf("default mode: %v", err)
					}
					err := c.run(t, true)
					switch {
					case c.strict == "" && err != nil:
						t.Errorf("strict mode: %v", err)
					case c.strict != "":
						var e *Error
						want := stdcmp.Or(c.strictStatus, 400)
						if !errors.As(err, &e) || e.Status != want || !strings.Contains(e.Detail, c.strict) {
							t.Errorf("strict mode: %v; want a %d mentioning %q", err, want, c.strict)
						}
						refused = true
					}
				})
			}
			if refused != r.strictRefuses {
				t.Errorf("strictRefuses is %v, but the cases show strict mode refusing: %v", r.strictRefuses, refused)
			}
		})
	}
	for name := range ruleCases {
		if !seen[name] {
			t.Errorf("ruleCases shows %q, which compatRules does not list", name)
		}
	}
}

// TestREADMEListsEveryRule keeps the README's table in step with the
// registry, column by column.
func TestREADMEListsEveryRule(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	_, section, ok := strings.Cut(readme, "\n## Compatibility rules\n")
	if !ok {
		t.Fatal(`README.md has no "## Compatibility rules" section`)
	}
	// Each row is the rule's name, what it accepts, its source and what
	// strict mode does, exactly as the registry says.
	var rows []string
	for line := range strings.SplitSeq(section, "\n") {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, line)
		}
	}
	var want []string
	for _, r := range compatRules {
		mode := "on: "
		if r.strictRefuses {
			mode = "off: "
		}
		want = append(want, "| `"+r.name+"` | "+r.accepts+" | "+r.source+" | "+mode+r.strict+" |")
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("the README's rules differ from compatRules (-registry +README):\n%s", diff)
	}
	if !slices.Contains(strings.Fields(readme), "PATCH") {
		t.Error("README.md does not describe PATCH")
	}
}
