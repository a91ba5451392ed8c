// Package scim lets a Go service accept SCIM 2.0 provisioning (RFC 7643,
// RFC 7644) from Microsoft Entra ID, Okta, OneLogin, Google Workspace,
// JumpCloud and Ping.
//
// The manual is being written with the package; see README.md.
package scim
