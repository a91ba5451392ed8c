package transcript_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/scimhost/scim"
	"github.com/scimhost/scim/memstore"
	"github.com/scimhost/scim/transcript"
)

// A host replays a transcript against its own handler, in process: here
// the library's Handler over memstore, mounted as a host mounts it.
func ExampleReplayer() {
	tr, err := transcript.Parse(`### Test connection: a user that does not exist is an empty list
> GET /scim/v2/Users?filter=userName+eq+%22c7a1d8e3-2b4f-4a6e-9d0c-1f2e3a4b5c6d%22
< 200 OK
{
  "schemas": [
    "urn:ietf:params:scim:api:messages:2.0:ListResponse"
  ],
  "totalResults": 0,
  "startIndex": 1,
  "itemsPerPage": 0,
  "Resources": []
}
`)
	if err != nil {
		panic(err)
	}
	store := memstore.New(memstore.WithClock(func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }))
	h, err := scim.NewHandler(store, scim.Options{BaseURL: transcript.Origin + "/scim/v2"})
	if err != nil {
		panic(err)
	}
	var tokens scim.Tokens
	_ = tokens.Add("contoso", scim.HashToken("t0ken"))
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", scim.BearerAuth(tokens.Lookup)(h)))

	rp := transcript.NewReplayer(transcript.Options{Send: transcript.InProcess(mux), Token: "t0ken"})
	for _, ex := range tr.Exchanges {
		got, err := rp.Do(context.Background(), ex)
		if err != nil {
			panic(err)
		}
		if diff := rp.Diff(ex, got); diff != "" {
			fmt.Printf("%s: the answer differs:\n%s", ex.Title, diff)
			continue
		}
		fmt.Printf("%s: %d as expected\n", ex.Title, got.Status)
	}
	// Output:
	// Test connection: a user that does not exist is an empty list: 200 as expected
}
