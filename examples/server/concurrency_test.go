package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentMemberPatches: Entra ID provisions a large group with many
// PATCHes at once, each adding one member (its workers run in parallel).
// 200 of them in flight together through the demo server must all answer
// 204 and leave the group with exactly the 200 members: none lost to a
// read-modify-write race, none failing on a lock. A PATCH that waits its
// turn beyond the SQL store's 5 s budget (the race detector on a shared
// machine slows every turn) is answered 503 with Retry-After, and sent
// again as a client does.
func TestConcurrentMemberPatches(t *testing.T) {
	const n = 200
	shapes := []struct {
		name string
		op   func(id string) string
	}{
		{"RFC 7644", func(id string) string {
			return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`
		}},
		{"Entra ID default", func(id string) string {
			return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + id + `"}]}]}`
		}},
	}
	eachBackend(t, func(t *testing.T, db string) {
		base := startServer(t, db)
		// A client of its own, so that the 200 connections it opens are
		// closed before the server stops.
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
		t.Cleanup(client.CloseIdleConnections)

		users := createUsers(t, client, base, n)

		for _, shape := range shapes {
			t.Run(shape.name, func(t *testing.T) {
				status, _, body, err := send(client, "POST", base+"/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"All hands `+shape.name+`"}`)
				if err != nil || status != http.StatusCreated {
					t.Fatalf("create group: %d %v %s", status, err, body)
				}
				var g struct{ ID string }
				if err := json.Unmarshal(body, &g); err != nil || g.ID == "" {
					t.Fatalf("create group: no id in %s", body)
				}

				statuses := make([]int, n)
				etags := make([]string, n)
				bodies := make([][]byte, n)
				errs := make([]error, n)
				var start, wg sync.WaitGroup
				start.Add(1)
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start.Wait()
						statuses[i], etags[i], bodies[i], errs[i] = sendRetrying(client, "PATCH", base+"/Groups/"+g.ID, shape.op(users[i]))
					}()
				}
				start.Done()
				wg.Wait()
				for i := range n {
					switch {
					case errs[i] != nil:
						t.Errorf("PATCH %d: %v", i, errs[i])
					case statuses[i] != http.StatusNoContent:
						t.Errorf("PATCH %d: %d %s, want 204", i, statuses[i], bodies[i])
					}
				}
				// Every PATCH added a member, so each made a version of its own.
				if distinct := len(slices.Compact(slices.Sorted(slices.Values(etags)))); distinct != n {
					t.Errorf("the %d PATCHes answered %d distinct ETags, want %d", n, distinct, n)
				}

				status, _, body, err = send(client, "GET", base+"/Groups/"+g.ID, "")
				if err != nil || status != http.StatusOK {
					t.Fatalf("GET the group: %d %v %s", status, err, body)
				}
				var got struct {
					Members []struct{ Value string }
				}
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("GET the group: %v: %s", err, body)
				}
				var members []string
				for _, m := range got.Members {
					members = append(members, m.Value)
				}
				slices.Sort(members)
				if want := slices.Sorted(slices.Values(users)); !slices.Equal(members, want) {
					t.Errorf("the group has %d members after %d concurrent adds, want the %d users", len(members), n, n)
				}
			})
		}
	})
}

// createUsers creates n users, a few at a time, and returns their ids.
func createUsers(t *testing.T, client *http.Client, base string, n int) []string {
	t.Helper()
	users := make([]string, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				status, _, body, err := send(client, "POST", base+"/Users",
					fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"member%03d@contoso.com","active":true}`, i))
				var u struct{ ID string }
				switch {
				case err != nil:
					errs[i] = err
				case status != http.StatusCreated:
					errs[i] = fmt.Errorf("status %d: %s", status, body)
				case json.Unmarshal(body, &u) != nil || u.ID == "":
					errs[i] = fmt.Errorf("no id in %s", body)
				}
				users[i] = u.ID
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create user %d: %v", i, err)
		}
	}
	return users
}

// send sends a SCIM request with the demo's token from any goroutine and
// returns the status, the ETag header and the body.
func send(client *http.Client, method, url, body string) (status int, etag string, respBody []byte, err error) {
	status, h, respBody, err := sendHeaders(client, method, url, body)
	return status, h.Get("ETag"), respBody, err
}

// sendRetrying is send that, as a provisioning client does, waits the
// Retry-After of a 503 (the store's budget ran out while the request
// waited its turn) and sends again, up to 10 times: a 503 changed nothing,
// so every update must still land.
func sendRetrying(client *http.Client, method, url, body string) (status int, etag string, respBody []byte, err error) {
	for range 10 {
		var h http.Header
		status, h, respBody, err = sendHeaders(client, method, url, body)
		if err != nil || status != http.StatusServiceUnavailable {
			return status, h.Get("ETag"), respBody, err
		}
		wait, _ := strconv.Atoi(h.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
	return status, "", respBody, err
}

func sendHeaders(client *http.Client, method, url, body string) (status int, h http.Header, respBody []byte, err error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer secret")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, respBody, err
}
