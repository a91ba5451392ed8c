package sqlstore

import (
	"testing"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/storetest"
)

// TestStoretest runs the Store contract of package storetest on both
// dialects: on PostgreSQL every check gets a fresh tenant of the shared test
// schema, on SQLite a fresh database file.
func TestStoretest(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			var shared *DB
			if d.name == "postgres" {
				shared = d.open(t) // skips or fails here when unreachable
			}
			storetest.Run(t, func(t *testing.T) scim.Store {
				if shared != nil {
					return newStore(t, shared)
				}
				return newStore(t, d.open(t))
			})
		})
	}
}
