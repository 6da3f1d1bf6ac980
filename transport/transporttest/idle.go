package transporttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/internal/wstest"
)

// Environment of the child process that holds the idle clients.
const (
	envIdleURL   = "SWILL_TRANSPORTTEST_IDLE_URL"
	envIdleConns = "SWILL_TRANSPORTTEST_IDLE_CONNS"
)

// IdleStats is what one idle connection costs the server, averaged over
// Conns connections. Kernel socket buffers are not included.
type IdleStats struct {
	Conns int
	// HeapBytes is the live Go heap per connection, after collection.
	HeapBytes float64
	// StackBytes is the goroutine stack memory per connection.
	StackBytes float64
	// Goroutines is the number of goroutines per connection.
	Goroutines float64
}

// Total returns heap and stack bytes per connection.
func (s IdleStats) Total() float64 { return s.HeapBytes + s.StackBytes }

// String formats s for a test log.
func (s IdleStats) String() string {
	return fmt.Sprintf("%d idle connections: %.0f B/conn (heap %.0f + stacks %.0f), %.2f goroutines/conn",
		s.Conns, s.Total(), s.HeapBytes, s.StackBytes, s.Goroutines)
}

type nopHandler struct{ closed *sync.WaitGroup }

func (nopHandler) HandleMessage(transport.MessageType, []byte) {}
func (h nopHandler) HandleClose(error)                         { h.closed.Done() }

// MeasureIdle accepts n connections with a, starts each with a handler
// that does nothing, and measures the server's memory growth once they
// are all idle. The clients are raw TCP connections that completed the
// handshake, held by a child process (the test binary, run again), so
// that only the server's side is counted. The calling package's TestMain
// must call [ChildMain] first.
func MeasureIdle(tb testing.TB, a transport.Acceptor, n int) IdleStats {
	tb.Helper()
	var (
		mu     sync.Mutex
		conns  []transport.Conn
		closed sync.WaitGroup
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.Accept(w, r, &transport.AcceptOptions{Subprotocols: serverProtocols})
		if err != nil {
			return
		}
		closed.Add(1)
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.Start(nopHandler{&closed})
	})
	s := MeasureIdleHandler(tb, h, n, func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	})
	mu.Lock()
	for _, c := range conns {
		c.Close(transport.StatusGoingAway, "")
	}
	mu.Unlock()
	closed.Wait()
	return s
}

// MeasureIdleHandler is [MeasureIdle] for any HTTP handler that upgrades
// requests for "/" offering swill.v1, such as a whole swill server: it
// measures the memory n idle connections cost, as counted by accepted
// (the number of connections the handler has taken so far), while the
// child process holds them. Once it returns, the clients are gone; the
// caller ends the server's side of the connections.
func MeasureIdleHandler(tb testing.TB, h http.Handler, n int, accepted func() int) IdleStats {
	tb.Helper()
	hs := httptest.NewServer(h)
	defer hs.Close()

	before := settle()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envIdleURL+"="+hs.URL, envIdleConns+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		tb.Fatalf("idle clients: %q, %v", line, err)
	}
	for deadline := time.Now().Add(time.Minute); accepted() < n; {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d connections accepted", accepted(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := settle()
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return IdleStats{
		Conns:      n,
		HeapBytes:  per(after.HeapAlloc, before.HeapAlloc),
		StackBytes: per(after.StackInuse, before.StackInuse),
		Goroutines: float64(after.goroutines-before.goroutines) / float64(n),
	}
}

type memSample struct {
	runtime.MemStats
	goroutines int
}

// settle lets short-lived goroutines (the HTTP server's, after a hijack)
// end, collects garbage and samples memory.
func settle() memSample {
	var s memSample
	prev := -1
	for i := 0; i < 50; i++ {
		runtime.GC()
		g := runtime.NumGoroutine()
		if g == prev {
			break
		}
		prev = g
		time.Sleep(20 * time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&s.MemStats)
	s.goroutines = runtime.NumGoroutine()
	return s
}

// ChildMain runs the idle clients when the process is the child
// [MeasureIdle] started, and exits; otherwise it returns at once. Call it
// first in TestMain.
func ChildMain() {
	u := os.Getenv(envIdleURL)
	if u == "" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv(envIdleConns))
	if err := holdIdleClients(u, n); err != nil {
		fmt.Fprintln(os.Stderr, "idle clients:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// holdIdleClients opens n WebSocket connections to the http URL u, says
// "ready" on stdout and keeps them open until stdin ends.
func holdIdleClients(u string, n int) error {
	pu, err := url.Parse(u)
	if err != nil {
		return err
	}
	conns := make([]net.Conn, n)
	errs := make(chan error, 8)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := wstest.Dial(pu.Host, nil)
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return nil
}
