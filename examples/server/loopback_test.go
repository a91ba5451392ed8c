package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoopbackEntraMix runs the demo (exactly what main runs: run
// with -db, -token and a loopback -addr, its request log on, written to a
// file as `server > log` would) and the loopback floor (loopfloor_test.go)
// each in a child process of its own, and drives both over loopback TCP
// with the same closed-loop load: SCIMHOST_LOOPBACK_CONNS keep-alive
// connections (default 8), each sending its next request when the last is
// answered. Each store (memory, SQLite, PostgreSQL) gets 10,000 users and
// 100 groups, created through POST in both servers; then the two are
// measured in alternate phases of SCIMHOST_LOOPBACK_SECONDS (default 3),
// after a warm-up phase each, so that the machine's other load falls on
// both alike. The server's CPU is the child's (utime+stime from
// /proc/<pid>/stat), so the load generator's is not in it; PostgreSQL's
// own processes are not counted either.
//
// The mix is roughly what Entra ID sends in a provisioning cycle, per 100
// requests:
//
//	 5  Test connection: GET /Users?filter=userName eq "<random GUID>" (no match)
//	 5  Test connection: GET /Groups?excludedAttributes=members&filter=displayName eq "<GUID>"
//	30  match: GET /Users?filter=userName eq "<existing user>"
//	25  GET /Users/<id>
//	25  PATCH /Users/<id>, one operation: replace title, or replace active (alternately)
//	 5  POST /Users, a new user as Entra ID sends it
//	 5  PATCH /Groups/<id>: add one member (204)
//
// Each b.Loop iteration is one round: a phase of the demo, then one of the
// floor. It reports per round, for demo and floor: requests/s, p50 and p99
// latency (µs), the server's CPU per request (µs), and the ratios
// demo/floor. Before measuring, checkSameBytes checks that the two answer
// every kind of request with the same status, headers and body. Run it
// with
//
//	cd examples && SCIMHOST_POSTGRES_URL=postgres://... go test -run '^$' -bench LoopbackEntraMix -benchtime 3x ./server
//
// (about 100 s with the defaults; -bench 'LoopbackEntraMix/memory' for one
// store).
func BenchmarkLoopbackEntraMix(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			dir := b.TempDir()
			demoDB, floorDB := be.db(b), be.db(b)
			if be.name == "sqlite" {
				demoDB, floorDB = filepath.Join(dir, "demo.db"), filepath.Join(dir, "floor.db")
			}
			demo := startLoopChild(b, "demo", demoDB, filepath.Join(dir, "demo.log"))
			floor := startLoopChild(b, "floor", floorDB, filepath.Join(dir, "floor.log"))
			client := loopClient()
			defer client.CloseIdleConnections()
			seedLoop(b, client, demo)
			seedLoop(b, client, floor)
			checkSameBytes(b, client, demo, floor)
			if os.Getenv("SCIMHOST_LOOPBACK_PROFILE") != "" {
				for _, s := range []*loopServer{demo, floor} {
					syscall.Kill(s.pid, syscall.SIGUSR1)
				}
			}
			dur := loopSeconds()
			for _, s := range []*loopServer{demo, floor} {
				drive(b, client, s, dur/3) // warm-up
			}
			var d, f []phase
			for b.Loop() {
				d = append(d, drive(b, client, demo, dur))
				f = append(f, drive(b, client, floor, dur))
			}
			reportLoop(b, d, f)
		})
	}
}

// The child's role comes in this variable: "demo" or "floor".
const loopRoleEnv = "SCIMHOST_LOOPBACK_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(loopRoleEnv); role != "" {
		os.Exit(loopChildMain(role))
	}
	os.Exit(m.Run())
}

// loopChildMain is the child process's main.
func loopChildMain(role string) int {
	// SCIMHOST_LOOPBACK_PROFILE=dir writes each child's CPU profile
	// there, as <role>.cpu.pprof, and its allocations, <role>.allocs.pprof.
	// The CPU profile starts when the parent signals SIGUSR1, once the
	// child is seeded, so that it holds the mix and not the 10,000
	// creates; <role>.seed.allocs.pprof is the allocations at that
	// moment, for pprof -diff_base.
	if dir := os.Getenv("SCIMHOST_LOOPBACK_PROFILE"); dir != "" {
		seeded := make(chan os.Signal, 1)
		signal.Notify(seeded, syscall.SIGUSR1)
		go func() {
			<-seeded
			writeAllocs(filepath.Join(dir, role+".seed.allocs.pprof"))
			if f, err := os.Create(filepath.Join(dir, role+".cpu.pprof")); err == nil {
				pprof.StartCPUProfile(f)
			}
		}()
		defer pprof.StopCPUProfile()
		defer writeAllocs(filepath.Join(dir, role+".allocs.pprof"))
	}
	if err := runLoopChild(role, os.Getenv("SCIMHOST_LOOPBACK_DB")); err != nil {
		fmt.Fprintln(os.Stderr, role+":", err)
		return 1
	}
	return 0
}

func writeAllocs(path string) {
	if f, err := os.Create(path); err == nil {
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
}

// runLoopChild serves as the demo or the floor until its standard input
// closes. It writes its address to file descriptor 3.
func runLoopChild(role, db string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	addrOut := os.NewFile(3, "addr")
	if role == "demo" {
		ready := make(chan string, 1)
		go func() { fmt.Fprintln(addrOut, <-ready); addrOut.Close() }()
		return run(ctx, []string{"-addr", "127.0.0.1:0", "-token", "secret", "-db", db}, os.Stdout, ready)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	f := &loopFloor{token: "secret", base: "http://" + ln.Addr().String() + "/scim/v2"}
	if db == "memory" {
		f.data = newLoopMemory(f)
	} else {
		sqlDB, dialect, _, err := openDB(db)
		if err != nil {
			return err
		}
		defer sqlDB.Close()
		if f.data, err = newLoopSQL(ctx, sqlDB, dialect); err != nil {
			return err
		}
	}
	srv := newServer(f)
	go func() { <-ctx.Done(); srv.Close() }()
	fmt.Fprintln(addrOut, ln.Addr())
	addrOut.Close()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// loopServer is a child process serving the demo or the floor.
type loopServer struct {
	role string
	pid  int
	base string // http://127.0.0.1:port/scim/v2
	// userIDs and groupIDs are the seeded users' and groups' ids, by
	// number.
	userIDs, groupIDs []string
	created           atomic.Int64 // users created by the mix
	// database is the PostgreSQL database the server uses, whose
	// backends' CPU drive measures; "" for memory and SQLite.
	database string
}

func startLoopChild(b *testing.B, role, db, logPath string) *loopServer {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	addrR, addrW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), loopRoleEnv+"="+role, "SCIMHOST_LOOPBACK_DB="+db)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = logFile, logFile, []*os.File{addrW}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	addrW.Close()
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("%s: %v", role, err)
		}
	})
	line, err := bufio.NewReader(addrR).ReadString('\n')
	addrR.Close()
	if err != nil {
		log, _ := os.ReadFile(logPath)
		b.Fatalf("%s did not start: %v\n%s", role, err, log)
	}
	s := &loopServer{role: role, pid: cmd.Process.Pid, base: "http://" + strings.TrimSpace(line) + "/scim/v2"}
	if u, err := url.Parse(db); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		s.database = strings.TrimPrefix(u.Path, "/")
	}
	return s
}

// loopConns is the number of concurrent keep-alive connections.
func loopConns() int {
	if n, err := strconv.Atoi(os.Getenv("SCIMHOST_LOOPBACK_CONNS")); err == nil && n > 0 {
		return n
	}
	return 8
}

// loopSeconds is how long a measured phase lasts.
func loopSeconds() time.Duration {
	if s, err := strconv.ParseFloat(os.Getenv("SCIMHOST_LOOPBACK_SECONDS"), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return 3 * time.Second
}

func loopClient() *http.Client {
	n := loopConns()
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n, DisableCompression: true}}
}

const (
	loopUsers  = 10_000
	loopGroups = 100
)

// loopReply is an answer as the client reads it.
type loopReply struct {
	status int
	header http.Header
	body   []byte
}

func loopDo(client *http.Client, method, url, body string) (loopReply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return loopReply{}, err
	}
	req.Header["Authorization"] = []string{"Bearer secret"}
	if body != "" {
		req.Header["Content-Type"] = []string{"application/scim+json"}
	}
	resp, err := client.Do(req)
	if err != nil {
		return loopReply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return loopReply{resp.StatusCode, resp.Header, raw}, err
}

// loopUserBody is the body of Entra ID's POST /Users for user name.
func loopUserBody(name string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
		`"externalId":"` + name + `","userName":"` + name + `@contoso.com","active":true,"displayName":"User ` + name + `",` +
		`"emails":[{"primary":true,"type":"work","value":"` + name + `@contoso.com"}],` +
		`"name":{"formatted":"User ` + name + `","familyName":"` + name + `","givenName":"User"},` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`
}

func loopGroupBody(i int) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"g` + strconv.Itoa(i) +
		`","displayName":"Group ` + strconv.Itoa(i) + `","members":[]}`
}

// seedLoop creates the users and groups in s through POST, concurrently.
func seedLoop(b *testing.B, client *http.Client, s *loopServer) {
	s.userIDs, s.groupIDs = make([]string, loopUsers), make([]string, loopGroups)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, loopConns())
	for range loopConns() {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= loopUsers+loopGroups {
					return
				}
				path, body, ids, j := "/Users", loopUserBody("lb"+strconv.Itoa(i)), s.userIDs, i
				if i >= loopUsers {
					j = i - loopUsers
					path, body, ids = "/Groups", loopGroupBody(j), s.groupIDs
				}
				r, err := loopDo(client, "POST", s.base+path, body)
				if err == nil && r.status != 201 {
					err = fmt.Errorf("%s: POST %s: %d %s", s.role, path, r.status, r.body)
				}
				var created struct{ ID string }
				if err == nil {
					err = json.Unmarshal(r.body, &created)
				}
				if err != nil {
					errs <- err
					return
				}
				ids[j] = created.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// loopRequest is one request of the mix.
type loopRequest struct {
	kind         string
	method, path string
	body         string
	want         int
}

// loopMix returns the request number n of the mix (rng picks its kind,
// user and group) for s.
func loopMix(s *loopServer, rng *rand.Rand, n int) loopRequest {
	user := rng.IntN(loopUsers)
	id := s.userIDs[user]
	switch k := rng.IntN(100); {
	case k < 5:
		return loopRequest{"testUsers", "GET", "/Users?filter=userName+eq+%22" + randomGUID(rng) + "%22", "", 200}
	case k < 10:
		return loopRequest{"testGroups", "GET", "/Groups?excludedAttributes=members&filter=displayName+eq+%22" + randomGUID(rng) + "%22", "", 200}
	case k < 40:
		return loopRequest{"match", "GET", "/Users?filter=userName+eq+%22lb" + strconv.Itoa(user) + "%40contoso.com%22", "", 200}
	case k < 65:
		return loopRequest{"get", "GET", "/Users/" + id, "", 200}
	case k < 90:
		op := `{"op":"Replace","path":"title","value":"Engineer ` + strconv.Itoa(n) + `"}`
		if n%2 == 1 {
			op = `{"op":"Replace","path":"active","value":` + strconv.FormatBool(n%4 == 1) + `}`
		}
		return loopRequest{"patch", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`, 200}
	case k < 95:
		name := "new" + strconv.FormatInt(s.created.Add(1), 10) + "-" + strconv.FormatInt(rng.Int64(), 36)
		return loopRequest{"create", "POST", "/Users", loopUserBody(name), 201}
	default:
		return loopRequest{"member", "PATCH", "/Groups/" + s.groupIDs[rng.IntN(loopGroups)],
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"` + id + `"}]}]}`, 204}
	}
}

func randomGUID(rng *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
}

// phase is what one measured phase of one server gave.
type phase struct {
	requests int
	elapsed  time.Duration
	cpu      time.Duration // the server's
	dbCPU    time.Duration // PostgreSQL's processes' (0 for memory and SQLite)
	p50, p99 time.Duration
}

// drive sends the mix to s from loopConns connections for dur.
func drive(b *testing.B, client *http.Client, s *loopServer, dur time.Duration) phase {
	conns := loopConns()
	lat := make([][]time.Duration, conns)
	errs := make(chan error, conns)
	cpu0, db0 := processCPUOf(b, s.pid), postgresCPU(s.database)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
			for n := 0; time.Now().Before(deadline); n++ {
				rq := loopMix(s, rng, n)
				t0 := time.Now()
				r, err := loopDo(client, rq.method, s.base+rq.path, rq.body)
				lat[c] = append(lat[c], time.Since(t0))
				if err == nil && r.status != rq.want {
					err = fmt.Errorf("%s: %s %s: %d %s", s.role, rq.method, rq.path, r.status, r.body)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, dbCPU := processCPUOf(b, s.pid)-cpu0, postgresCPU(s.database)-db0
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return phase{requests: len(all), elapsed: elapsed, cpu: cpu, dbCPU: dbCPU, p50: all[len(all)/2], p99: all[len(all)*99/100]}
}

// postgresCPU returns the CPU time that PostgreSQL's processes on this
// machine serving database have used: its backends (whose command line,
// "postgres: <cluster>: <user> <database> <client> <state>", names it),
// and the WAL writer, checkpointer and background writer, which write
// what the backends commit (and which other databases' work, none during
// the benchmark, would add to). It is 0 when database is "" or PostgreSQL
// runs elsewhere. The demo and the floor run their phases in turn, so
// what a phase adds is its server's statements' cost. A backend that
// exits during a phase takes its CPU with it: the pools keep their
// connections, so none does.
func postgresCPU(database string) time.Duration {
	if database == "" {
		return 0
	}
	dirs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmdline, []byte("postgres: ")) {
			continue
		}
		f := strings.Fields(string(cmdline))
		serves := len(f) >= 4 && f[3] == database
		background := strings.Contains(string(cmdline), " walwriter") || strings.Contains(string(cmdline), " checkpointer") ||
			strings.Contains(string(cmdline), " background writer")
		if !serves && !background {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		if cpu, ok := statCPU(raw); ok {
			ticks += cpu
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// processCPUOf returns the CPU time (user and system) process pid has used,
// from /proc/<pid>/stat, in clock ticks of 10 ms.
func processCPUOf(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	ticks, ok := statCPU(raw)
	if !ok {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// statCPU returns utime+stime, in clock ticks, from the text of a
// /proc/<pid>/stat: of the fields after the command's closing
// parenthesis, state is the first, utime the 12th, stime the 13th.
func statCPU(raw []byte) (int64, bool) {
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	return utime + stime, err1 == nil && err2 == nil
}

func (p phase) rate() float64          { return float64(p.requests) / p.elapsed.Seconds() }
func (p phase) cpuPerRequest() float64 { return float64(p.cpu.Microseconds()) / float64(p.requests) }
func (p phase) dbCPUPerRequest() float64 {
	return float64(p.dbCPU.Microseconds()) / float64(p.requests)
}

// reportLoop reports the medians of the rounds.
func reportLoop(b *testing.B, demo, floor []phase) {
	median := func(ps []phase, f func(phase) float64) float64 {
		v := make([]float64, len(ps))
		for i, p := range ps {
			v[i] = f(p)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	metrics := []struct {
		name string
		f    func(phase) float64
	}{
		{"req/s", phase.rate},
		{"p50-µs", func(p phase) float64 { return us(p.p50) }},
		{"p99-µs", func(p phase) float64 { return us(p.p99) }},
		{"cpu-µs/req", phase.cpuPerRequest},
		{"db-cpu-µs/req", phase.dbCPUPerRequest},
	}
	for _, m := range metrics {
		d, f := median(demo, m.f), median(floor, m.f)
		if f == 0 {
			continue // no PostgreSQL
		}
		b.ReportMetric(d, "demo-"+m.name)
		b.ReportMetric(f, "floor-"+m.name)
		b.ReportMetric(d/f, "ratio-"+m.name)
	}
	b.ReportMetric(0, "ns/op")
	for i := range demo {
		b.Logf("round %d: demo %.0f req/s p50 %v p99 %v cpu %.1f µs/req db %.1f | floor %.0f req/s p50 %v p99 %v cpu %.1f µs/req db %.1f",
			i+1, demo[i].rate(), demo[i].p50, demo[i].p99, demo[i].cpuPerRequest(), demo[i].dbCPUPerRequest(),
			floor[i].rate(), floor[i].p50, floor[i].p99, floor[i].cpuPerRequest(), floor[i].dbCPUPerRequest())
	}
}

// checkSameBytes sends every kind of request of the mix to the demo and
// the floor, about the same seeded user and group, and fails unless they
// answer with the same status, headers and body, once ids, times,
// versions and the base URL are written alike.
func checkSameBytes(b *testing.B, client *http.Client, demo, floor *loopServer) {
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
	name := "same" + strconv.FormatInt(time.Now().UnixNano(), 36)
	requests := func(s *loopServer) []loopRequest {
		g := rng()
		rs := []loopRequest{{"create", "POST", "/Users", loopUserBody(name), 201}}
		for kind := range 7 {
			for n := range 4 {
				// Pick each kind from the same seed for both servers.
				for {
					r := loopMix(s, g, n)
					if r.kind == []string{"testUsers", "testGroups", "match", "get", "patch", "create", "member"}[kind] {
						if r.kind == "create" {
							break // the first request already created one; the names differ
						}
						rs = append(rs, r)
						break
					}
				}
			}
		}
		return rs
	}
	dr, fr := requests(demo), requests(floor)
	var demoCreated, floorCreated string
	for i := range dr {
		d, err := loopDo(client, dr[i].method, demo.base+dr[i].path, dr[i].body)
		if err != nil {
			b.Fatal(err)
		}
		f, err := loopDo(client, fr[i].method, floor.base+fr[i].path, fr[i].body)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			demoCreated, floorCreated = createdID(d.body), createdID(f.body)
		}
		dn := normalizeReply(d, demo, demoCreated)
		fn := normalizeReply(f, floor, floorCreated)
		if d.status != dr[i].want || dn != fn {
			b.Fatalf("%s %s: the floor answers otherwise than the demo:\ndemo:\n%s\nfloor:\n%s", dr[i].method, dr[i].path, dn, fn)
		}
	}
}

func createdID(body []byte) string {
	var v struct{ ID string }
	json.Unmarshal(body, &v)
	return v.ID
}

var (
	timeField    = regexp.MustCompile(`"(created|lastModified)":"[^"]*"`)
	versionValue = regexp.MustCompile(`W/(\\?)"[0-9]+(\\?)"`)
)

// normalizeReply writes r's status, headers (but Date) and body with s's
// ids, base URL, times and versions written alike.
func normalizeReply(r loopReply, s *loopServer, extraID string) string {
	repl := []string{s.base, "BASE"}
	if extraID != "" {
		repl = append(repl, extraID, "NEWID")
	}
	for i, id := range s.userIDs {
		repl = append(repl, id, "USER"+strconv.Itoa(i))
	}
	for i, id := range s.groupIDs {
		repl = append(repl, id, "GROUP"+strconv.Itoa(i))
	}
	norm := func(v string) string {
		v = strings.NewReplacer(repl...).Replace(v)
		v = timeField.ReplaceAllString(v, `"$1":"T"`)
		return versionValue.ReplaceAllString(v, `W/${1}"V${2}"`)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d\n", r.status)
	if cl := r.header.Get("Content-Length"); r.status != 204 && cl != strconv.Itoa(len(r.body)) {
		fmt.Fprintf(&sb, "Content-Length %s for %d bytes\n", cl, len(r.body))
	}
	keys := make([]string, 0, len(r.header))
	for k := range r.header {
		if k != "Date" && k != "Content-Length" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s: %s\n", k, norm(strings.Join(r.header[k], ", ")))
	}
	sb.WriteString(norm(string(r.body)))
	return sb.String()
}
