package oauth_test

import (
	"testing"

	"github.com/scimhost/scim/oauth"
	"github.com/scimhost/scim/oauth/oauthtest"
)

func TestMemoryStorage(t *testing.T) {
	oauthtest.Run(t, func(*testing.T) oauth.Storage { return &oauth.Memory{} })
}
