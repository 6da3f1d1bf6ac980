package redistest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvVar names the environment variable that holds the URL of the Redis
// server the tests share, such as redis://127.0.0.1:6379/0.
const EnvVar = "SWILL_REDIS_URL"

// errNotFound is the one line a test of [URL] fails with when it has no
// Redis, and errNotFoundStart the one of [Start].
var (
	errNotFound      = errors.New("redis-server not found: install it (apt-get install redis-server) or set " + EnvVar)
	errNotFoundStart = errors.New("redis-server not found: install it (apt-get install redis-server)")
)

// startTimeout bounds how long a redis-server may take to answer PING.
const startTimeout = 10 * time.Second

var shared struct {
	sync.Mutex
	url string
	srv *process
}

// URL returns the URL of the Redis server t may use: SWILL_REDIS_URL when
// it is set, or else the URL of a private redis-server started on the
// first call and shared by every test of the test binary. It fails t when
// there is neither.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvVar); u != "" {
		return u
	}
	shared.Lock()
	defer shared.Unlock()
	if shared.url == "" {
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			t.Fatal(err)
		}
		p, err := startFree(dir, true)
		if err != nil {
			_ = os.RemoveAll(dir)
			t.Fatal(err)
		}
		shared.srv, shared.url = p, p.url()
	}
	return shared.url
}

// Prefix returns a prefix for the keys and channels of t that no other
// test, in this run or in another one sharing the server, uses.
func Prefix(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", " ", "_", ":", ".").Replace(t.Name())
	return name + "." + hex.EncodeToString(b[:]) + ":"
}

// Server is a private redis-server started by [Start]. Its methods must
// be called from the test's goroutine.
type Server struct {
	t    testing.TB
	dir  string
	port int
	proc *process // nil while stopped
}

// Start starts a private redis-server for t on a free loopback port,
// without persistence, and stops it when t ends. It fails t when there is
// no redis-server on the PATH.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir()}
	p, err := startFree(s.dir, false)
	if errors.Is(err, errNotFound) {
		t.Fatal(errNotFoundStart)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.proc, s.port = p, p.port
	t.Cleanup(func() {
		if s.proc != nil {
			_ = s.proc.stop()
		}
	})
	return s
}

// URL returns the server's URL, redis://127.0.0.1:PORT/0; it stays the
// same across [Server.Restart].
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Addr returns the server's address, 127.0.0.1:PORT.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop kills the server at once, as a crash would: its clients' connections
// break and, as it keeps nothing on disk, its data is gone. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	if s.proc == nil {
		return
	}
	err := s.proc.stop()
	s.proc = nil
	if err != nil {
		s.t.Fatalf("redistest: stopping redis-server: %v", err)
	}
}

// Restart starts the server again on the same port, empty, stopping it
// first if it runs, and returns once it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	deadline := time.Now().Add(startTimeout)
	for {
		// The port may stay taken for a moment by the old server's sockets.
		if s.proc, err = start(s.dir, s.port, false); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("redistest: restarting redis-server on port %d: %v", s.port, err)
	}
}

// process is a redis-server run under a small shell that kills it when the
// pipe on the shell's standard input closes, which happens when stop is
// called or when the test binary exits, however it exits: no server
// outlives its tests.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	port  int
	dir   string
}

// wrapper runs redis-server ("$0" "$@") in the background, kills it when
// standard input reaches its end, and exits when it has exited; with
// RM_DIR set, it then removes that directory.
// (A background job's standard input is /dev/null unless redirected, hence
// the copy in descriptor 3.)
const wrapper = `exec 3<&0
"$0" "$@" </dev/null 3<&- & r=$!
(read _ <&3; kill -9 $r 2>/dev/null) &
wait $r
if [ -n "$RM_DIR" ]; then rm -rf "$RM_DIR"; fi`

func (p *process) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", p.port) }

// startFree starts a redis-server on a free loopback port, trying again
// on another if the one it picked is taken meanwhile.
func startFree(dir string, removeDir bool) (*process, error) {
	var err error
	for range 5 {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		var p *process
		if p, err = start(dir, port, removeDir); err == nil {
			return p, nil
		}
		if errors.Is(err, errNotFound) {
			return nil, err
		}
	}
	return nil, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server on port and waits until it answers PING.
func start(dir string, port int, removeDir bool) (*process, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNotFound
	}
	logPath := filepath.Join(dir, fmt.Sprintf("redis-%d.log", port))
	cmd := exec.Command("sh", "-c", wrapper, bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", logPath)
	cmd.Env = os.Environ()
	if removeDir {
		cmd.Env = append(cmd.Env, "RM_DIR="+dir)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: starting redis-server: %w", err)
	}
	p := &process{cmd: cmd, stdin: stdin, port: port, dir: dir}
	if err := waitReady(port, logPath); err != nil {
		_ = p.stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("redistest: redis-server on port %d did not answer: %v; its log ends: %s",
			port, err, lastLines(string(log), 3))
	}
	return p, nil
}

// stop kills the server and waits for it and its shell to end.
func (p *process) stop() error {
	_ = p.stdin.Close()
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // killed, as asked
	}
	return err
}

// waitReady waits until the server started with logPath answers on port,
// or its log says it could not listen.
func waitReady(port int, logPath string) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(startTimeout)
	var err error
	for time.Now().Before(deadline) {
		if err = ours(addr, logPath); err == nil {
			return nil
		}
		if log, _ := os.ReadFile(logPath); strings.Contains(string(log), "Could not create server TCP listening socket") {
			return errors.New("port taken")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// ours speaks just enough of the Redis protocol to tell that the server at
// addr serves and is the one that writes logPath, not another that took
// the port first.
func ours(addr, logPath string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "CONFIG GET logfile\r\n"); err != nil {
		return err
	}
	// The answer is *2, $7, logfile, $N, the path: five lines.
	r := bufio.NewReader(c)
	var lines []string
	for range 5 {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	if lines[4] != logPath {
		return fmt.Errorf("another server answers on %s (CONFIG GET logfile: %q)", addr, lines)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
