module github.com/scimhost/scim/oauth

go 1.24.0

require (
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/scimhost/scim v0.1.0
)

require (
	github.com/elimity-com/scim v0.0.0-20260728105928-2641426a1539 // indirect
	github.com/q-uint/xsd-datetime v1.0.0 // indirect
)

// Local work: the committed go.work joins the modules; this replace keeps
// `GOWORK=off go mod tidy` working offline. Go ignores it when oauth is a
// dependency, where the required version above is what resolves.
replace github.com/scimhost/scim => ../
