package oauthsql

import (
	"context"
	"testing"
	"time"

	"github.com/scimhost/scim/oauth"
)

// BenchmarkClientRead measures one read of a client by its primary key:
// what a stateful access token (a random string looked up in the database)
// would cost on every SCIM request, against which package oauth's signed
// tokens, verified in memory, were chosen.
func BenchmarkClientRead(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			s := d.open(b)
			ctx := context.Background()
			c := oauth.Client{ID: oauth.NewClientID(), Tenant: "bench", Created: time.Now()}
			if err := s.CreateClient(ctx, c); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.DeleteClient(context.Background(), c.ID) })
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Client(ctx, c.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
