package scim

// This file names the compatibility rules: what Microsoft Entra ID, and
// the other clients of CLIENTS.md, send that RFC 7643 and RFC 7644 do not
// allow or leave open, and what the handler does with it. Each rule has a
// stable name, a line saying what it accepts, the file that implements it
// and its source in the project's survey of client traffic (CLIENTS.md, whose
// source keys Sx resolve to Microsoft's and Okta's documentation and to
// reports of real traffic).
//
// The rules are on by default, because Entra ID is the client this package
// exists for and none of them changes the meaning of a request that follows
// the RFCs. Options.Strict turns off those marked strictRefuses; a request
// that depends on one is then refused with a 400 whose detail names the
// rule. The others stay on in strict mode because the RFCs themselves allow
// what they accept; they are listed so that every client behaviour the
// library depends on has one place, one name and one source.
//
// The logic lives where it applies (decode.go, patch.go, filter_parse.go);
// entra_test.go shows each rule on and, where strict mode changes it, off.

// The names of the rules, used in strict mode's error details.
const (
	ruleOpNameCase           = "op-name-case"
	ruleStringBooleans       = "string-booleans"
	ruleNoPathAttributePaths = "no-path-attribute-paths"
	ruleValuePathCreates     = "value-path-creates"
	ruleRemoveByValue        = "remove-members-by-value"
	ruleMemberRefNull        = "member-ref-null"
	ruleManagerShapes        = "manager-shapes"
	ruleSingularFilter       = "filter-on-single-valued"
	ruleUnquotedFilterValues = "unquoted-filter-values"
	ruleValuePathComparison  = "value-path-comparison"
	ruleNoPathReplace        = "no-path-replace"
	ruleIDEcho               = "id-echo"
	rulePutReadOnly          = "put-read-only-and-password"
	rulePlusInQuery          = "plus-in-query"
	ruleUnknownQuery         = "unknown-query-parameters"
)

// compatRule is one compatibility rule.
type compatRule struct {
	name    string
	accepts string // what the rule accepts, one sentence
	where   string // the file that implements it
	source  string // the section of CLIENTS.md and its source keys
	// strictRefuses says whether Options.Strict turns the rule off; when
	// false, strict says why the RFCs allow what it accepts.
	strictRefuses bool
	strict        string
}

// compatRules is every compatibility rule, in the order of the README's
// table.
var compatRules = []compatRule{
	{
		name:          ruleOpNameCase,
		accepts:       `PATCH "op" in any case: "Add", "Replace", "Remove".`,
		where:         "patch.go (readOperation)",
		source:        `CLIENTS.md §5, §10: "Microsoft Entra ID emits the values of op as Add, Replace, and Remove" (S1); the default PATCH bodies (S2)`,
		strictRefuses: true,
		strict:        "400 invalidSyntax: op must be lower case",
	},
	{
		name:          ruleStringBooleans,
		accepts:       `"True" and "False", in any case, where the schema says boolean (active, primary) in POST, PUT and PATCH values, and in value filters such as roles[primary eq "True"].`,
		where:         "decode.go (stringBool), patch.go (fromFilter)",
		source:        `CLIENTS.md §5 "Disable user" default body {"op":"Replace","path":"active","value":"False"} (S2); §9 the default active mapping Switch([IsSoftDeleted], , "False", "True", "True", "False") (S40); §10; roles[primary eq "True"] (S4)`,
		strictRefuses: true,
		strict:        "400 invalidValue: expected a boolean",
	},
	{
		name:          ruleNoPathAttributePaths,
		accepts:       `An add or replace without "path" whose value object's keys are attribute paths, in any case: "name.givenName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", even value paths.`,
		where:         "patch.go (valueKeyPath)",
		source:        `CLIENTS.md §5 "Replace several attributes" with aadOptscim062020 (S2, S19); §10; DESIGN.md`,
		strictRefuses: true,
		strict:        "400 invalidPath: keys must be attribute names (URN-qualified names are allowed, as in a request body)",
	},
	{
		name:          ruleValuePathCreates,
		accepts:       `An add or replace on a value path that selects nothing creates the value the filter's equalities describe: emails[type eq "work"].value creates the work email, and several adds on addresses[type eq "work"].locality and .postalCode build one work address.`,
		where:         "patch.go (patchMulti)",
		source:        `CLIENTS.md §5 "Value-path on a missing element": the SCIM Validator's "Patch User - Add Attributes" (S25), one address from several adds (S26), a replace keeps the other emails (S27); §10`,
		strictRefuses: true,
		strict:        "400 noTarget (RFC 7644 §3.5.2.3)",
	},
	{
		name:          ruleRemoveByValue,
		accepts:       `A remove of a multi-valued attribute with a value list removes the listed values only: {"op":"Remove","path":"members","value":[{"value":"u1"}]} removes that member. Read by RFC 7644 it would remove every member; that never happens, in any mode. A remove of another attribute ignores its value.`,
		where:         "patch.go (patchMultiWhole, removeValue); patch_handler.go (the membership fast path)",
		source:        `CLIENTS.md §5 "Remove group member" default body (S2) and tutorial (S1); §10; JumpCloud's members remove (S70)`,
		strictRefuses: true,
		strict:        `400 invalidSyntax: remove takes no value; filter the values in the path instead (members[value eq "u1"])`,
	},
	{
		name:    ruleMemberRefNull,
		accepts: `"$ref": null in member values: [{"$ref":null,"value":"u1"}].`,
		where:   "decode.go (members)",
		source:  `CLIENTS.md §5 tutorial group Add and Remove members (S1); §10`,
		strict:  "accepted: null is unassigned (RFC 7643 §2.5)",
	},
	{
		name:          ruleManagerShapes,
		accepts:       `The Enterprise manager as a bare id ("271"), as {"value":"271"} or as [{"$ref":"...","value":"271"}], in POST, PUT and PATCH; it is always returned as {"value":..., "$ref":...} under the Enterprise URN, the only shape Entra ID reads back.`,
		where:         "decode.go (manager), encode.go",
		source:        `CLIENTS.md §5 "Manager" 1-4: the bare id in real traffic (S29, S30) and per Microsoft staff (S32), the array in the tutorial (S1), the read-back failure (S32, S33); §10`,
		strictRefuses: true,
		strict:        "400 invalidValue: the manager must be an object",
	},
	{
		name:          ruleSingularFilter,
		accepts:       `A value filter on the single-valued manager (or name): remove "manager[value eq \"271\"]" removes the manager when it is that one, and nothing otherwise.`,
		where:         "patch.go (patchUserSingular)",
		source:        `CLIENTS.md §5 "Manager" 5: the reported Entra removal (S34)`,
		strictRefuses: true,
		strict:        "400 invalidPath: a value filter selects values of a multi-valued attribute",
	},
	{
		name:          ruleUnquotedFilterValues,
		accepts:       `Bare filter values: externalId eq jyoung (a string unless it is true, false, null or a number).`,
		where:         "filter_parse.go",
		source:        `CLIENTS.md §3: the tutorial's filter (S1, S24)`,
		strictRefuses: true,
		strict:        "400 invalidFilter (invalidPath in a PATCH path)",
	},
	{
		name:          ruleValuePathComparison,
		accepts:       `A comparison after a value path's sub-attribute: emails[type eq "work"].value eq "x", read as emails[type eq "work" and value eq "x"].`,
		where:         "filter_parse.go",
		source:        `CLIENTS.md §3 "Match by work email" (S1, S15)`,
		strictRefuses: true,
		strict:        "400 invalidFilter",
	},
	{
		name:    ruleNoPathReplace,
		accepts: `A replace without "path" of {"active": false}: Okta's deactivate, which never sends DELETE /Users.`,
		where:   "patch.go (eachTarget)",
		source:  `CLIENTS.md §11 Okta "Deactivate" (S50, S53)`,
		strict:  "accepted: RFC 7644 §3.5.2.3 allows a replace without path",
	},
	{
		name:    ruleIDEcho,
		accepts: `"id" in a PATCH equal to the resource's own changes nothing: Okta renames groups with {"op":"replace","value":{"id":"42","displayName":"..."}}; "schemas" and "meta" in a value without path are ignored.`,
		where:   "patch.go (patchID, eachTarget)",
		source:  `CLIENTS.md §11 Okta "Groups (Push Groups)" (S50)`,
		strict:  "accepted: an equal value modifies nothing (RFC 7644 §3.5.2); another id is 400 mutability",
	},
	{
		name:    rulePutReadOnly,
		accepts: `Okta's PUT /Users carrying "groups" (ignored: read-only; membership changes through /Groups) and "password" (stored, never returned); a PUT without password keeps the stored one.`,
		where:   "decode.go (userAttr), resource.go (replaceUser)",
		source:  `CLIENTS.md §11 Okta "Updates" and "Create" (S50), PUT with groups (S57)`,
		strict:  "accepted: readOnly values are ignored on PUT (RFC 7644 §3.5.1)",
	},
	{
		name:    rulePlusInQuery,
		accepts: `"+" as a space in query strings: filter=userName+eq+%22x%22.`,
		where:   "query.go (listQueryParams, with net/url's form decoding)",
		source:  `CLIENTS.md §1.5: Entra's request log (S20) and the SCIM Validator (S31)`,
		strict:  "accepted: HTML form encoding of the query string",
	},
	{
		name:    ruleUnknownQuery,
		accepts: `Query parameters the protocol does not define are ignored, so a Tenant URL with ?aadOptscim062020 appended works whether or not Entra forwards the flag.`,
		where:   "query.go (listQueryParams) and resource.go (queryParams)",
		source:  `CLIENTS.md §1.6 (S2, S21, S22)`,
		strict:  "accepted: RFC 7644 defines no other parameters",
	},
}
