// Command soak runs many connections doing mixed calls against a separate
// server process for a long time, then checks that nothing was lost and
// nothing leaked.
//
//	go run ./cmd/soak [-conns 2000] [-duration 5m] [-pause 20ms] [-sample 30s] [-json FILE]
//
// (from the bench directory). It starts itself again as the server process
// (soak -serve), which serves five handlers on a loopback port with the
// default transport, and opens -conns clientgo connections to it. Each
// connection loops over unary calls, server streams, client streams, bidi
// streams and calls it cancels (a unary call at its deadline, a slow server
// stream cut short),
// checking every answer, with -pause between calls. Every -sample it prints
// the server's resident memory, goroutines and heap. At the end it closes
// every connection and waits for the server's goroutines and heap, and its
// own goroutines, to come back to what they were after a first connection
// came and went. It exits with status 1 when any call failed unexpectedly or
// anything stayed above its baseline.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/bench/internal/procstat"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/swill"
)

func main() {
	serve := flag.Bool("serve", false, "run as the server process (the command starts it itself)")
	conns := flag.Int("conns", 2000, "connections")
	duration := flag.Duration("duration", 5*time.Minute, "how long the connections make calls")
	pause := flag.Duration("pause", 20*time.Millisecond, "pause between two calls of a connection")
	sample := flag.Duration("sample", 30*time.Second, "how often to print the server's memory")
	jsonOut := flag.String("json", "", "also write the report as JSON to this file")
	flag.Parse()
	if *serve {
		if err := runServer(); err != nil {
			fmt.Fprintln(os.Stderr, "soak -serve:", err)
			os.Exit(1)
		}
		return
	}
	rep, err := runSoak(*conns, *duration, *pause, *sample)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(1)
		}
	}
	if !rep.OK {
		os.Exit(1)
	}
}

// Stats is what the server process reports at /stats.
type Stats struct {
	Goroutines int    `json:"goroutines"`
	HeapAlloc  uint64 `json:"heap_alloc"`
	RSS        uint64 `json:"rss"`
}

func handlers() []*swill.Handler {
	return []*swill.Handler{
		swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) { return in[0] + in[1], nil }),
		swill.Unary("sleep", func(ctx context.Context, ms int) (int, error) {
			t := time.NewTimer(time.Duration(ms) * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
				return ms, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}),
		swill.ServerStream("count", func(ctx context.Context, n int, out chan<- int) error {
			for i := range n {
				select {
				case out <- i:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}),
		swill.ServerStream("ticks", func(ctx context.Context, n int, out chan<- int) error {
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for i := range n {
				select {
				case <-t.C:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case out <- i:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}),
		swill.ClientStream("sum", func(ctx context.Context, in <-chan int) (int, error) {
			total := 0
			for n := range in {
				total += n
			}
			return total, nil
		}),
		swill.BidiStream("echo", func(ctx context.Context, in <-chan string, out chan<- string) error {
			for s := range in {
				select {
				case out <- s:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}),
	}
}

// runServer serves the handlers and /stats, prints its address, and stops
// when its standard input ends.
func runServer() error {
	if _, err := procstat.RaiseFileLimit(); err != nil {
		return err
	}
	srv := swill.NewServer()
	if err := srv.Register(handlers()...); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") != "" {
			for range 3 {
				runtime.GC()
			}
		}
		if r.URL.Query().Get("stacks") != "" {
			buf := make([]byte, 1<<20)
			w.Write(buf[:runtime.Stack(buf, true)])
			return
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, _ := procstat.ReadRSS()
		json.NewEncoder(w).Encode(Stats{Goroutines: runtime.NumGoroutine(), HeapAlloc: ms.HeapAlloc, RSS: rss})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	fmt.Println(ln.Addr().String())
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hs.Shutdown(ctx)
	return srv.Shutdown(ctx)
}

// Report is the outcome of a soak run.
type Report struct {
	Date        string         `json:"date"`
	Conns       int            `json:"conns"`
	Duration    string         `json:"duration"`
	Calls       map[string]int `json:"calls"`
	Total       int64          `json:"total_calls"`
	Unexpected  int64          `json:"unexpected_errors"`
	FirstErrors []string       `json:"first_errors,omitempty"`
	Before      Stats          `json:"server_before"`
	Peak        Stats          `json:"server_peak"`
	After       Stats          `json:"server_after"`
	RSS         []Sample       `json:"rss_over_time"`
	ClientG     [2]int         `json:"client_goroutines_before_after"`
	OK          bool           `json:"ok"`
}

// Sample is the server's state at one moment of the run.
type Sample struct {
	At string `json:"at"`
	Stats
	Calls int64 `json:"calls"`
}

var kinds = []string{"unary", "server-stream", "client-stream", "bidi", "cancel-unary", "cancel-stream"}

type counters struct {
	calls      [6]atomic.Int64
	unexpected atomic.Int64
	mu         sync.Mutex
	first      []string
}

func (c *counters) fail(kind string, err error) {
	c.unexpected.Add(1)
	c.mu.Lock()
	if len(c.first) < 10 {
		c.first = append(c.first, kind+": "+err.Error())
	}
	c.mu.Unlock()
}

func (c *counters) total() int64 {
	var n int64
	for i := range c.calls {
		n += c.calls[i].Load()
	}
	return n
}

func runSoak(conns int, duration, pause, sample time.Duration) (*Report, error) {
	if _, err := procstat.RaiseFileLimit(); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	var addr string
	if _, err := fmt.Fscanln(stdout, &addr); err != nil {
		return nil, fmt.Errorf("reading the server's address: %w", err)
	}
	url := "ws://" + addr + "/ws"
	// No keep-alive: an idle HTTP connection would count as goroutines on
	// both sides.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	stats := func(gc bool) (Stats, error) {
		q := ""
		if gc {
			q = "?gc=1"
		}
		resp, err := hc.Get("http://" + addr + "/stats" + q)
		if err != nil {
			return Stats{}, err
		}
		defer resp.Body.Close()
		var s Stats
		return s, json.NewDecoder(resp.Body).Decode(&s)
	}

	rep := &Report{Date: time.Now().UTC().Format(time.RFC3339), Conns: conns, Duration: duration.String(), Calls: map[string]int{}}
	// Baselines: the server and this process after one connection has
	// come and gone (the server starts its keepalive ticker with its first
	// connection, for good).
	{
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cl, err := clientgo.Dial(dctx, url)
		if err == nil {
			_, err = clientgo.Call[[2]int, int](dctx, cl, "add", [2]int{1, 2})
			cl.Close()
		}
		cancel()
		if err != nil {
			return nil, fmt.Errorf("warming up: %w", err)
		}
		time.Sleep(time.Second)
	}
	runtime.GC()
	rep.ClientG[0] = runtime.NumGoroutine()
	if rep.Before, err = stats(true); err != nil {
		return nil, err
	}
	fmt.Printf("server before: %d goroutines, heap %.1f MiB, RSS %.1f MiB\n",
		rep.Before.Goroutines, mib(rep.Before.HeapAlloc), mib(rep.Before.RSS))

	var c counters
	ctx, stop := context.WithTimeout(context.Background(), duration)
	defer stop()
	clients := make([]*clientgo.Client, conns)
	for i := range clients {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cl, err := clientgo.Dial(dctx, url)
		cancel()
		if err != nil {
			for _, cl := range clients[:i] {
				cl.Close()
			}
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
		clients[i] = cl
	}
	fmt.Printf("%d connections open\n", conns)

	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx, cl, i, pause, &c)
		}()
	}
	start := time.Now()
	ticker := time.NewTicker(sample)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	take := func() {
		s, err := stats(false)
		if err != nil {
			c.fail("stats", err)
			return
		}
		if s.RSS > rep.Peak.RSS {
			rep.Peak.RSS = s.RSS
		}
		if s.Goroutines > rep.Peak.Goroutines {
			rep.Peak.Goroutines = s.Goroutines
		}
		if s.HeapAlloc > rep.Peak.HeapAlloc {
			rep.Peak.HeapAlloc = s.HeapAlloc
		}
		at := time.Since(start).Round(time.Second)
		rep.RSS = append(rep.RSS, Sample{At: at.String(), Stats: s, Calls: c.total()})
		fmt.Printf("%8s  calls %9d  unexpected %d  server RSS %6.1f MiB  heap %6.1f MiB  goroutines %d\n",
			at, c.total(), c.unexpected.Load(), mib(s.RSS), mib(s.HeapAlloc), s.Goroutines)
	}
wait:
	for {
		select {
		case <-ticker.C:
			take()
		case <-done:
			break wait
		}
	}
	ticker.Stop()
	take()
	for _, cl := range clients {
		cl.Close()
	}
	clients = nil

	// Back to baseline: wait for the server's connections to end.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if rep.After, err = stats(true); err != nil {
			return nil, err
		}
		if rep.After.Goroutines <= rep.Before.Goroutines || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if rep.After.Goroutines > rep.Before.Goroutines {
		if resp, err := hc.Get("http://" + addr + "/stats?stacks=1"); err == nil {
			fmt.Println("server goroutines left:")
			io.Copy(os.Stdout, resp.Body)
			resp.Body.Close()
		}
	}
	for range 100 {
		runtime.GC()
		if rep.ClientG[1] = runtime.NumGoroutine(); rep.ClientG[1] <= rep.ClientG[0] {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, k := range kinds {
		rep.Calls[k] = int(c.calls[i].Load())
	}
	rep.Total, rep.Unexpected, rep.FirstErrors = c.total(), c.unexpected.Load(), c.first
	const heapMargin = 4 << 20
	rep.OK = rep.Unexpected == 0 && rep.Total > 0 &&
		rep.After.Goroutines <= rep.Before.Goroutines &&
		rep.After.HeapAlloc <= rep.Before.HeapAlloc+heapMargin &&
		rep.ClientG[1] <= rep.ClientG[0]

	fmt.Printf("\n%d connections for %s: %d calls (", conns, duration, rep.Total)
	for i, k := range kinds {
		if i > 0 {
			fmt.Print(", ")
		}
		fmt.Printf("%s %d", k, rep.Calls[k])
	}
	fmt.Printf("), %d unexpected errors\n", rep.Unexpected)
	for _, e := range rep.FirstErrors {
		fmt.Println("  error:", e)
	}
	fmt.Printf("server goroutines: %d before, %d peak, %d after\n", rep.Before.Goroutines, rep.Peak.Goroutines, rep.After.Goroutines)
	fmt.Printf("server heap: %.1f MiB before, %.1f MiB peak, %.1f MiB after\n", mib(rep.Before.HeapAlloc), mib(rep.Peak.HeapAlloc), mib(rep.After.HeapAlloc))
	fmt.Printf("server RSS: %.1f MiB before, %.1f MiB peak, %.1f MiB after\n", mib(rep.Before.RSS), mib(rep.Peak.RSS), mib(rep.After.RSS))
	fmt.Printf("client goroutines: %d before, %d after\n", rep.ClientG[0], rep.ClientG[1])
	if rep.OK {
		fmt.Println("OK")
	} else {
		fmt.Println("FAILED")
	}
	return rep, nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// loop makes calls on cl until ctx ends, each kind in turn, starting at a
// different kind on each connection.
func loop(ctx context.Context, cl *clientgo.Client, i int, pause time.Duration, c *counters) {
	for n := i; ctx.Err() == nil; n++ {
		k := n % len(kinds)
		err := one(ctx, cl, k, n)
		if ctx.Err() != nil {
			return // the run ended during the call: neither counted nor failed
		}
		if err != nil {
			c.fail(kinds[k], err)
		} else {
			c.calls[k].Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

func one(ctx context.Context, cl *clientgo.Client, kind, n int) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch kinds[kind] {
	case "unary":
		v, err := clientgo.Call[[2]int, int](cctx, cl, "add", [2]int{n, 1})
		if err != nil {
			return err
		}
		if v != n+1 {
			return fmt.Errorf("add(%d, 1) = %d", n, v)
		}
	case "server-stream":
		s, err := clientgo.CallServerStream[int, int](cctx, cl, "count", 5)
		if err != nil {
			return err
		}
		want := 0
		for v, err := range s.All() {
			if err != nil {
				return err
			}
			if v != want {
				return fmt.Errorf("count: item %d is %d", want, v)
			}
			want++
		}
		if want != 5 {
			return fmt.Errorf("count: %d items, want 5", want)
		}
	case "client-stream":
		s, err := clientgo.CallClientStream[int, int](cctx, cl, "sum")
		if err != nil {
			return err
		}
		for j := 1; j <= 4; j++ {
			if err := s.Send(j); err != nil {
				return err
			}
		}
		v, err := s.CloseAndReceive()
		if err != nil {
			return err
		}
		if v != 10 {
			return fmt.Errorf("sum(1..4) = %d", v)
		}
	case "bidi":
		s, err := clientgo.CallBidiStream[string, string](cctx, cl, "echo")
		if err != nil {
			return err
		}
		for _, w := range []string{"a", "b", "c"} {
			if err := s.Send(w); err != nil {
				return err
			}
			got, err := s.Recv()
			if err != nil {
				return err
			}
			if got != w {
				return fmt.Errorf("echo %q gave %q", w, got)
			}
		}
		if err := s.CloseSend(); err != nil {
			return err
		}
		if _, err := s.Recv(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("echo after CloseSend: %v, want io.EOF", err)
		}
	case "cancel-unary":
		c2, cancel2 := context.WithTimeout(cctx, 5*time.Millisecond)
		defer cancel2()
		_, err := clientgo.Call[int, int](c2, cl, "sleep", 60_000)
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("sleep cancelled after 5ms: %v, want context.DeadlineExceeded", err)
		}
	case "cancel-stream":
		c2, cancel2 := context.WithCancel(cctx)
		defer cancel2()
		s, err := clientgo.CallServerStream[int, int](c2, cl, "ticks", 1_000_000)
		if err != nil {
			return err
		}
		for range 3 {
			if _, err := s.Recv(); err != nil {
				return err
			}
		}
		cancel2()
		for {
			if _, err := s.Recv(); err != nil {
				if !errors.Is(err, context.Canceled) {
					return fmt.Errorf("count after cancel: %v, want context.Canceled", err)
				}
				break
			}
		}
	}
	return nil
}
