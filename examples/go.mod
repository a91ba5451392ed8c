module github.com/scimhost/scim/examples

go 1.24

require github.com/scimhost/scim v0.0.0

require (
	github.com/elimity-com/scim v0.0.0-20260728105928-2641426a1539 // indirect
	github.com/q-uint/xsd-datetime v1.0.0 // indirect
)

replace github.com/scimhost/scim => ../
