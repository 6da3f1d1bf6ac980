package redistest_test

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	switch os.Getenv("REDISTEST_CHILD") {
	case "shared":
		// A test binary that takes the shared server and exits at once,
		// without running any cleanup.
		var u string
		if msg := failure(func(t testing.TB) { u = redistest.URL(t) }); msg != "" {
			fmt.Println(msg)
			os.Exit(1)
		}
		fmt.Println(u)
		os.Exit(0)
	case "notfound":
		// A test binary with no redis-server on its PATH.
		fmt.Println(failure(func(t testing.TB) { redistest.URL(t) }))
		fmt.Println(failure(func(t testing.TB) { redistest.Start(t) }))
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// do sends one command to the Redis server at addr and returns the first
// line of its answer.
func do(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "$") && line != "$-1" {
		line, err = r.ReadString('\n')
		line = strings.TrimSpace(line)
	}
	return line, err
}

func hostOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "redis" || p.Path != "/0" {
		t.Fatalf("bad URL %q: %v", u, err)
	}
	return p.Host
}

func TestURLFromEnvironment(t *testing.T) {
	t.Setenv(redistest.EnvVar, "redis://example.invalid:6379/3")
	if got := redistest.URL(t); got != "redis://example.invalid:6379/3" {
		t.Fatalf("URL() = %q, want the environment's", got)
	}
}

func TestURLStartsOneSharedServer(t *testing.T) {
	t.Setenv(redistest.EnvVar, "")
	u := redistest.URL(t)
	addr := hostOf(t, u)
	if got, err := do(addr, "PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING: %q, %v", got, err)
	}
	if again := redistest.URL(t); again != u {
		t.Fatalf("second URL() = %q, want the same server %q", again, u)
	}
	if got, err := do(addr, "CONFIG", "GET", "save"); err != nil || got != "*2" {
		t.Fatalf("CONFIG GET save: %q, %v", got, err)
	}
	// No persistence: save is empty.
	c, _ := net.Dial("tcp", addr)
	defer c.Close()
	fmt.Fprint(c, "CONFIG GET save\r\nCONFIG GET appendonly\r\n")
	r := bufio.NewReader(c)
	var lines []string
	for range 10 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	if lines[4] != "" || lines[9] != "no" {
		t.Fatalf("persistence configured: %q", lines)
	}
}

// TestSharedServerEndsWithTestBinary checks that the shared server does
// not outlive a test binary that exits without cleaning up.
func TestSharedServerEndsWithTestBinary(t *testing.T) {
	addr := hostOf(t, strings.TrimSpace(child(t, "shared")))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := do(addr, "PING"); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s still answers after its test binary exited", addr)
		}
		time.Sleep(20 * time.Millisecond) // the poll's interval: the server is another process, with no event to wait on
	}
}

func TestStartStopRestart(t *testing.T) {
	s := redistest.Start(t)
	if s.URL() != "redis://"+s.Addr()+"/0" {
		t.Fatalf("URL %q and Addr %q disagree", s.URL(), s.Addr())
	}
	if got, err := do(s.Addr(), "SET", "k", "v"); err != nil || got != "+OK" {
		t.Fatalf("SET: %q, %v", got, err)
	}
	s.Stop()
	if got, err := do(s.Addr(), "PING"); err == nil {
		t.Fatalf("stopped server answered %q", got)
	}
	s.Stop() // stopping twice is harmless
	s.Restart()
	if got, err := do(s.Addr(), "PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING after Restart: %q, %v", got, err)
	}
	if got, err := do(s.Addr(), "GET", "k"); err != nil || got != "$-1" {
		t.Fatalf("GET after Restart: %q, %v; want the data gone", got, err)
	}
	s.Restart() // restarting a running server stops it first
	if got, err := do(s.Addr(), "PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING after second Restart: %q, %v", got, err)
	}
}

func TestStartIsPrivate(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("two servers on %s", a.Addr())
	}
	t.Setenv(redistest.EnvVar, "")
	if redistest.URL(t) == a.URL() {
		t.Fatal("Start returned the shared server")
	}
}

func TestPrefixUnique(t *testing.T) {
	a, b := redistest.Prefix(t), redistest.Prefix(t)
	if a == b || !strings.HasPrefix(a, "TestPrefixUnique.") || !strings.HasSuffix(a, ":") {
		t.Fatalf("prefixes %q and %q", a, b)
	}
}

// fakeT records the failure of a helper and ends its goroutine, as
// testing.T's Fatal does.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper()                   {}
func (f *fakeT) Fatal(args ...any)         { f.failed = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeT) Fatalf(s string, a ...any) { f.failed = fmt.Sprintf(s, a...); runtime.Goexit() }
func (f *fakeT) TempDir() string           { return os.TempDir() }
func (f *fakeT) Cleanup(func())            {}
func (f *fakeT) Name() string              { return "fake" }

func failure(fn func(t testing.TB)) string {
	f := &fakeT{TB: &testing.T{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.failed
}

func TestNotFoundFailsInOneLine(t *testing.T) {
	out := child(t, "notfound", "PATH="+t.TempDir())
	want := "redis-server not found: install it (apt-get install redis-server) or set SWILL_REDIS_URL\n" +
		"redis-server not found: install it (apt-get install redis-server)\n"
	if out != want {
		t.Fatalf("URL and Start failed with\n%s\nwant\n%s", out, want)
	}
}

// child runs this test binary in the given REDISTEST_CHILD mode, with
// SWILL_REDIS_URL unset, and returns what it printed.
func child(t *testing.T, mode string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "REDISTEST_CHILD="+mode, redistest.EnvVar+"=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v: %s", mode, err, out)
	}
	return string(out)
}
