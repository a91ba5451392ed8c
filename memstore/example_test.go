package memstore_test

import (
	"context"
	"fmt"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
)

// The requests Entra ID makes in a provisioning cycle, answered by a
// memstore: match a user by userName, create it, add it to a group, and
// check the membership with `id eq <group> and members eq <user>`.
func Example() {
	ctx := context.Background()
	s := memstore.New()

	match := func(userName string) int {
		f, err := scim.ParseFilter(`userName eq "` + userName + `"`)
		if err != nil {
			panic(err)
		}
		page, err := s.ListUsers(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 100})
		if err != nil {
			panic(err)
		}
		return page.TotalResults
	}
	fmt.Println("before create:", match("bjensen@example.com"))

	u, err := s.CreateUser(ctx, &scim.User{UserName: "bjensen@example.com", Active: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("after create, in other case:", match("BJensen@Example.com"))

	g, err := s.CreateGroup(ctx, &scim.Group{DisplayName: "Tour Guides"})
	if err != nil {
		panic(err)
	}
	if _, err := s.PatchMembers(ctx, g.ID, scim.MemberPatch{Add: []scim.Member{{Value: u.ID, Type: "User"}}}); err != nil {
		panic(err)
	}
	f, err := scim.ParseFilter(`id eq "` + g.ID + `" and members eq "` + u.ID + `"`)
	if err != nil {
		panic(err)
	}
	page, err := s.ListGroups(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("member:", page.TotalResults == 1)

	got, err := s.GetUser(ctx, u.ID, scim.Projection{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("groups: %s (%s)\n", got.Groups[0].Display, got.Groups[0].Type)
	// Output:
	// before create: 0
	// after create, in other case: 1
	// member: true
	// groups: Tour Guides (direct)
}
