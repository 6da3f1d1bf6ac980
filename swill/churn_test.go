package swill_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// churnConns is how many connections TestConnectionChurn opens and closes.
const churnConns = 10_000

// TestConnectionChurn opens and closes 10,000 connections to one server,
// a quarter in each way: closed cleanly after a call, dropped after a
// call, dropped with a call in flight, dropped in the middle of a server
// stream or of a bidi stream. Afterwards the process's goroutines and open files come back to
// what they were before, and its live heap to within a small margin:
// nothing a connection or its calls used is kept.
func TestConnectionChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections; run without -short")
	}
	srv := swilltest.StartDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	add := requestFrame(t, 1, "add", wire.TypeMessage, []int{20, 22})
	sleep := requestFrame(t, 2, "sleep", wire.TypeMessage, 60_000)
	countdown := requestFrame(t, 3, "countdown", wire.TypeMessage, 1000)
	echo := requestFrame(t, 4, "echo", wire.TypeMessage, "x")
	one := func(i int) error {
		c, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		defer c.CloseNow()
		switch i % 4 {
		case 0, 1: // a call answered, then a close handshake or a dropped socket
			if err := c.Write(ctx, websocket.MessageBinary, add); err != nil {
				return err
			}
			_, b, err := c.Read(ctx)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			var r wire.Response
			if err := wire.ParseResponse(b, &r); err != nil || r.Type != wire.TypeMessage {
				return fmt.Errorf("add answered % x (%v)", b, err)
			}
			if i%4 == 0 {
				return c.Close(websocket.StatusNormalClosure, "")
			}
		case 2: // dropped while a call runs
			return c.Write(ctx, websocket.MessageBinary, sleep)
		case 3: // dropped in the middle of a server stream, or of a bidi stream
			first := countdown
			if i%8 == 7 {
				first = echo
			}
			if err := c.Write(ctx, websocket.MessageBinary, first); err != nil {
				return err
			}
			if _, _, err := c.Read(ctx); err != nil {
				return fmt.Errorf("read: %w", err)
			}
		}
		return nil // CloseNow drops the socket
	}
	run := func(n int) {
		t.Helper()
		const workers = 16
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					if err := one(i); err != nil {
						select {
						case errs <- fmt.Errorf("connection %d: %w", i, err):
						default:
						}
					}
				}
			}()
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}

	run(64) // warm the pools and caches up before measuring
	g0, h0 := settle(t, 0)
	f0 := openFiles()
	run(churnConns)
	g1, h1 := settle(t, g0)
	// Memory that timers still hold (the close handshakes' timeouts of
	// the last connections) is freed when they fire: a leak is what stays.
	const margin = 4 << 20
	for deadline := time.Now().Add(20 * time.Second); h1 > h0+margin && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond) // a poll on the heap, which timers free as they fire
		_, h1 = settle(t, g0)
	}
	f1 := openFiles()
	t.Logf("%d connections: open files %d before, %d after; goroutines %d before, %d after; live heap %.1f MiB before, %.1f MiB after",
		churnConns, f0, f1, g0, g1, float64(h0)/(1<<20), float64(h1)/(1<<20))
	if f1 > f0 {
		t.Errorf("open files: %d before, %d after 10,000 connections: sockets left open", f0, f1)
	}
	if g1 > g0 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after 10,000 connections:\n%s", g0, g1, buf[:runtime.Stack(buf, true)])
	}
	// 10,000 connections that each kept 400 bytes would exceed the margin.
	if h1 > h0+margin {
		t.Fatalf("live heap %d bytes before, %d after 10,000 connections", h0, h1)
	}
}

// openFiles returns how many files the process has open, or 0 where
// /proc/self/fd does not tell.
func openFiles() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(fds)
}

// settle waits until the goroutines number at most want (any number when
// want is 0, after a pause for the last connections to end) and returns
// their number and the live heap after a full collection.
func settle(t *testing.T, want int) (goroutines int, heap uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	prev := -1
	for {
		n := runtime.NumGoroutine()
		if want > 0 && n <= want {
			break
		}
		if want == 0 && n == prev {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		prev = n
		time.Sleep(100 * time.Millisecond) // a poll on the goroutine count
	}
	var ms runtime.MemStats
	for range 3 { // sync.Pool keeps its contents for one collection more
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}
