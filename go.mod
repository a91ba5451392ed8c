module github.com/scimhost/scim

go 1.24

require (
	github.com/elimity-com/scim v0.0.0-20260728105928-2641426a1539
	github.com/google/go-cmp v0.7.0
)

require github.com/q-uint/xsd-datetime v1.0.0 // indirect
