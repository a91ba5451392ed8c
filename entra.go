package scim

// This file names the compatibility rules: what Microsoft Entra ID, and
// the other clients of docs/clients.md, send that RFC 7643 and RFC 7644 do
// not allow or leave open, and what the handler does with it. Each rule has
// a stable name, a line saying what it accepts, the file that implements it
// and its source: the section of docs/clients.md, the project's reference
// of client behaviour, and the public sources (Microsoft's and Okta's
// documentation, reports of real traffic) that section links to.
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
	ruleEndpointCase         = "endpoint-case"
	ruleAttributesFilter     = "attributes-value-filter"
	ruleMemberBareID         = "member-bare-id"
	ruleMemberDisplayName    = "member-display-name"
	ruleSingleObject         = "single-object-as-array"
	ruleLegacyEnterprise     = "legacy-enterprise-urn"
	ruleAcceptJSON           = "accept-application-json"
	ruleFlatExtension        = "flat-extension-attributes"
)

// Public sources the newer rules cite.
const (
	srcMSReferenceTests = "Microsoft's SCIM reference tests, https://github.com/AzureAD/SCIMReferenceCode (PostmanCollection.json)"
	srcOneLogin         = "OneLogin's SCIM developer docs and its SCIM v2 Enterprise template, https://developers.onelogin.com/scim"
)

// compatRule is one compatibility rule.
type compatRule struct {
	name    string
	accepts string // what the rule accepts, one sentence
	where   string // the file that implements it
	source  string // the section of docs/clients.md, as a Markdown link, and its sources there
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
		source:        `[PATCH bodies](docs/clients.md#patch-bodies): Entra ID sends op as "Add", "Replace" and "Remove", and its tutorial asks servers to match op in any case (Entra tutorial; Entra compatibility)`,
		strictRefuses: true,
		strict:        "400 invalidSyntax: op must be lower case",
	},
	{
		name:          ruleStringBooleans,
		accepts:       `"True" and "False", in any case, where the schema says boolean (active, primary) in POST, PUT and PATCH values, and in value filters such as roles[primary eq "True"].`,
		where:         "decode.go (stringBool), patch.go (fromFilter)",
		source:        `[PATCH bodies](docs/clients.md#patch-bodies): the default disable body {"op":"Replace","path":"active","value":"False"} (Entra compatibility); [attribute mappings](docs/clients.md#attribute-mappings): the default active mapping yields "True" and "False", and roles[primary eq "True"] (Entra attribute mappings)`,
		strictRefuses: true,
		strict:        "400 invalidValue: expected a boolean",
	},
	{
		name:          ruleNoPathAttributePaths,
		accepts:       `An add or replace without "path" whose value object's keys are attribute paths, in any case: "name.givenName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", even value paths.`,
		where:         "patch.go (valueKeyPath)",
		source:        `[PATCH bodies](docs/clients.md#patch-bodies): with aadOptscim062020, Entra folds a change of several attributes into one operation without path whose keys are paths (Entra compatibility)`,
		strictRefuses: true,
		strict:        "400 invalidPath: keys must be attribute names (URN-qualified names are allowed, as in a request body)",
	},
	{
		name:          ruleValuePathCreates,
		accepts:       `An add or replace on a value path that selects nothing creates the value the filter's equalities describe: emails[type eq "work"].value creates the work email, and several adds on addresses[type eq "work"].locality and .postalCode build one work address.`,
		where:         "patch.go (patchMulti)",
		source:        `[PATCH bodies](docs/clients.md#patch-bodies): an add on emails[type eq "work"].value creates the work email (the SCIM Validator; SCIM-SDK#416), several adds build one address (SCIM-SDK#680), a replace keeps the other emails (SCIM-SDK#668)`,
		strictRefuses: true,
		strict:        "400 noTarget (RFC 7644 §3.5.2.3)",
	},
	{
		name:          ruleRemoveByValue,
		accepts:       `A remove of a multi-valued attribute with a value list removes the listed values only: {"op":"Remove","path":"members","value":[{"value":"u1"}]} removes that member. Read by RFC 7644 it would remove every member; that never happens, in any mode. A remove of another attribute ignores its value.`,
		where:         "patch.go (patchMultiWhole, removeValue); patch_handler.go (the membership fast path)",
		source:        `[PATCH bodies](docs/clients.md#patch-bodies): Entra's default member removal (Entra compatibility; Entra tutorial); [JumpCloud](docs/clients.md#jumpcloud) sends the same shape (uni-moni JumpCloud)`,
		strictRefuses: true,
		strict:        `400 invalidSyntax: remove takes no value; filter the values in the path instead (members[value eq "u1"])`,
	},
	{
		name:    ruleMemberRefNull,
		accepts: `"$ref": null in member values: [{"$ref":null,"value":"u1"}].`,
		where:   "decode.go (members)",
		source:  `[PATCH bodies](docs/clients.md#patch-bodies): the tutorial's group add and remove of members (Entra tutorial)`,
		strict:  "accepted: null is unassigned (RFC 7643 §2.5)",
	},
	{
		name:          ruleManagerShapes,
		accepts:       `The Enterprise manager as a bare id ("271"), as {"value":"271"} or as [{"$ref":"...","value":"271"}], in POST, PUT and PATCH, and OneLogin's {"managerId":"271"} (and the path manager.managerId); it is always returned as {"value":..., "$ref":...} under the Enterprise URN, the only shape Entra ID reads back.`,
		where:         "decode.go (manager), encode.go",
		source:        `[PATCH bodies](docs/clients.md#patch-bodies), the manager 1-3: the bare id in real traffic (SCIM-SDK#541; SCIM-SDK#686) and per Microsoft staff (Q&A 188003), the list in the tutorial (Entra tutorial), the read-back failure (Q&A 188003; techcommunity manager sync); managerId: ` + srcOneLogin,
		strictRefuses: true,
		strict:        "400 invalidValue: the manager must be an object whose id is value",
	},
	{
		name:          ruleSingularFilter,
		accepts:       `A value filter on the single-valued manager (or name): remove "manager[value eq \"271\"]" removes the manager when it is that one, and nothing otherwise.`,
		where:         "patch.go (patchUserSingular)",
		source:        `[PATCH bodies](docs/clients.md#patch-bodies), the manager 4: the reported Entra removal (scim-patch#453)`,
		strictRefuses: true,
		strict:        "400 invalidPath: a value filter selects values of a multi-valued attribute",
	},
	{
		name:          ruleUnquotedFilterValues,
		accepts:       `Bare filter values: externalId eq jyoung (a string unless it is true, false, null or a number).`,
		where:         "filter_parse.go",
		source:        `[Filters](docs/clients.md#filters): the tutorial's externalId eq jyoung (Entra tutorial; azure-docs#83855)`,
		strictRefuses: true,
		strict:        "400 invalidFilter (invalidPath in a PATCH path)",
	},
	{
		name:          ruleValuePathComparison,
		accepts:       `A comparison after a value path's sub-attribute: emails[type eq "work"].value eq "x", read as emails[type eq "work" and value eq "x"].`,
		where:         "filter_parse.go",
		source:        `[Filters](docs/clients.md#filters): matching by work email (Entra tutorial; Entra validation troubleshooting)`,
		strictRefuses: true,
		strict:        "400 invalidFilter",
	},
	{
		name:    ruleNoPathReplace,
		accepts: `A replace without "path" of {"active": false}: Okta's deactivate, which never sends DELETE /Users.`,
		where:   "patch.go (eachTarget)",
		source:  `[Okta](docs/clients.md#okta): Okta deactivates with a replace without path and never deletes users (Okta SCIM 2.0; Okta SCIM FAQ)`,
		strict:  "accepted: RFC 7644 §3.5.2.3 allows a replace without path",
	},
	{
		name:    ruleIDEcho,
		accepts: `"id" in a PATCH equal to the resource's own changes nothing: Okta renames groups with {"op":"replace","value":{"id":"42","displayName":"..."}}; "schemas" and "meta" in a value without path are ignored.`,
		where:   "patch.go (patchID, eachTarget)",
		source:  `[Okta](docs/clients.md#okta): pushed groups are renamed with a value that repeats the group's id (Okta SCIM 2.0)`,
		strict:  "accepted: an equal value modifies nothing (RFC 7644 §3.5.2); another id is 400 mutability",
	},
	{
		name:    rulePutReadOnly,
		accepts: `Okta's PUT /Users carrying "groups" (ignored: read-only; membership changes through /Groups) and "password" (stored, never returned); a PUT without password keeps the stored one.`,
		where:   "decode.go (userAttr), resource.go (replaceUser)",
		source:  `[Okta](docs/clients.md#okta): updates by PUT of the whole object, creates with a password (Okta SCIM 2.0), memberships in a PUT (ory/polis#3136)`,
		strict:  "accepted: readOnly values are ignored on PUT (RFC 7644 §3.5.1)",
	},
	{
		name:    rulePlusInQuery,
		accepts: `"+" as a space in query strings: filter=userName+eq+%22x%22.`,
		where:   "query.go (listQueryParams, with net/url's form decoding)",
		source:  `[Endpoint and transport](docs/clients.md#endpoint-and-transport): Entra's logged request (azure-docs#11784) and the SCIM Validator (Q&A 2238842)`,
		strict:  "accepted: HTML form encoding of the query string",
	},
	{
		name:    ruleUnknownQuery,
		accepts: `Query parameters the protocol does not define are ignored, so a Tenant URL with ?aadOptscim062020 appended works whether or not Entra forwards the flag.`,
		where:   "query.go (listQueryParams) and resource.go (queryParams)",
		source:  `[Endpoint and transport](docs/clients.md#endpoint-and-transport): feature flags appended to the Tenant URL (Entra compatibility; entra-docs PR 469)`,
		strict:  "accepted: RFC 7644 defines no other parameters",
	},
	{
		name:          ruleEndpointCase,
		accepts:       `Resource endpoints in any case: GET /users, /groups, /serviceproviderconfig, /schemas, /resourcetypes.`,
		where:         "scim.go (canonicalEndpoint)",
		source:        srcMSReferenceTests + `: "Get empty Users" sends GET /users`,
		strictRefuses: true,
		strict:        "404: the endpoint is /Users (RFC 7644 §3.2)",
	},
	{
		name:          ruleAttributesFilter,
		accepts:       `A value filter in attributes or excludedAttributes: attributes=emails[type eq "work"] is read as attributes=emails (every value of the attribute is returned), emails[type eq "work"].value as emails.value.`,
		where:         "resource.go (projection)",
		source:        srcMSReferenceTests + `: "Get user attributes" sends attributes=emails[type eq "work"]`,
		strictRefuses: true,
		strict:        "400 invalidValue: attributes takes attribute names (RFC 7644 §3.4.2.5)",
	},
	{
		name:          ruleMemberBareID,
		accepts:       `A bare string where members are expected: {"op":"add","path":"members","value":"u1"} adds the member u1.`,
		where:         "decode.go (members)",
		source:        srcMSReferenceTests + `: "Group patch add member" sends "value": "string id 1"`,
		strictRefuses: true,
		strict:        "400 invalidValue: members is an array of objects",
	},
	{
		name:          ruleMemberDisplayName,
		accepts:       `"displayName" in a member value, read as its display: [{"value":"u1","displayName":"new User"}].`,
		where:         "decode.go (members)",
		source:        srcMSReferenceTests + `: "Patch add user4 to group1" sends displayName and reads it back`,
		strictRefuses: true,
		strict:        "400 invalidValue: the sub-attribute is display (RFC 7643 §4.2)",
	},
	{
		name:          ruleSingleObject,
		accepts:       `A lone object where a multi-valued attribute's array belongs, read as an array of one: "emails": {"value":"a@b.com","type":"work"}.`,
		where:         "decode.go (arrayOf, element)",
		source:        srcOneLogin + `: its Enterprise template sends emails as one object`,
		strictRefuses: true,
		strict:        "400 invalidValue: expected an array of objects (RFC 7643 §2.4)",
	},
	{
		name:          ruleLegacyEnterprise,
		accepts:       `The Enterprise object keyed by the SCIM 2.0 drafts' URN "urn:scim:schemas:extension:enterprise:2.0" (and attributes qualified by it), read as RFC 7643's Enterprise User; responses use urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.`,
		where:         "decode.go (userAttrOf)",
		source:        srcOneLogin + `: schemas "urn:scim:schemas:core:2.0" and "urn:scim:schemas:extension:enterprise:2.0"`,
		strictRefuses: true,
		strict:        "400 invalidValue: the Enterprise URN is RFC 7643 §4.3's",
	},
	{
		name:    ruleAcceptJSON,
		accepts: `Accept: application/json (without application/scim+json) is answered with Content-Type application/json; the body is the same.`,
		where:   "scim.go (writeJSON), errors.go",
		source:  srcOneLogin + `: responses in application/json`,
		strict:  "accepted: RFC 7644 §3.8 says service providers SHOULD support Accept: application/json",
	},
	{
		name:    ruleFlatExtension,
		accepts: `A custom extension's attribute sent flat in POST or PUT, "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:costCenter": "42", is stored and returned inside the extension's object, as a PATCH of that path stores it.`,
		where:   "decode.go (extra, putExtraAt)",
		source:  `Microsoft Learn, "Customize attribute mappings": custom extension attributes are named urn:ietf:params:scim:schemas:extension:<Name>:2.0:User:<attribute>, https://learn.microsoft.com/entra/identity/app-provisioning/customize-application-attributes`,
		strict:  "accepted: RFC 7643 §3.3 puts an extension's attributes in its own sub-object",
	},
}
