package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/hist"
	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/peer"
	"github.com/swillorg/swill-go/bench/internal/procstat"
)

// Config says what to measure and how long.
type Config struct {
	// Dial connects one client to Addr.
	Dial func(ctx context.Context, addr string) (peer.Client, error)
	Addr string
	// Payload is payload.Small or payload.Large.
	Payload string
	// Warmup runs before the window; Duration is the window's length.
	Warmup, Duration time.Duration
	// Calls, when positive, ends the window after this many calls, with
	// Duration as a cap.
	Calls int64
	// Conns and InFlight shape the throughput scenario: InFlight calls
	// kept in flight on each of Conns connections.
	Conns, InFlight int
	// Messages is the length of the measured stream.
	Messages int
	// IdleSteps are the connection counts at which the idle scenario
	// stops for the runner, in increasing order.
	IdleSteps []int
	// DialConcurrency bounds the dials in progress at once. Zero means 32.
	DialConcurrency int
}

// Marks is how a scenario hands control to the runner.
type Marks interface {
	// Ready says the scenario is warmed up and waits for the go-ahead.
	Ready() error
	// Idle says conns connections are open and waits for the go-ahead.
	Idle(conns int) error
}

// Scenario names.
const (
	Latency    = "latency"
	Throughput = "throughput"
	Stream     = "stream"
	Idle       = "idle"
)

// Run runs the scenario named name.
func Run(ctx context.Context, name string, cfg Config, m Marks) (*ctl.Result, error) {
	if !payload.Valid(cfg.Payload) {
		return nil, fmt.Errorf("load: unknown payload %q", cfg.Payload)
	}
	switch name {
	case Latency:
		return runLatency(ctx, cfg, m)
	case Throughput:
		return runThroughput(ctx, cfg, m)
	case Stream:
		return runStream(ctx, cfg, m)
	case Idle:
		return runIdle(ctx, cfg, m)
	}
	return nil, fmt.Errorf("load: unknown scenario %q", name)
}

// window tracks the measured span: its start and the CPU used since.
type window struct {
	start time.Time
	cpu   procstat.CPU
}

func openWindow() (window, error) {
	cpu, err := procstat.ReadCPU()
	return window{start: time.Now(), cpu: cpu}, err
}

func (w window) close(r *ctl.Result) error {
	r.Elapsed = time.Since(w.start)
	cpu, err := procstat.ReadCPU()
	r.CPU = cpu.Sub(w.cpu)
	return err
}

func (c *Config) over(start time.Time, calls int64) bool {
	if c.Calls > 0 && calls >= c.Calls {
		return true
	}
	return time.Since(start) >= c.Duration
}

// errs keeps the count and the first of a scenario's errors.
type errs struct {
	n     atomic.Int64
	once  sync.Once
	first error
	done  chan struct{} // closed at the first error
}

func newErrs() *errs { return &errs{done: make(chan struct{})} }

func (e *errs) add(err error) {
	e.n.Add(1)
	e.once.Do(func() {
		e.first = err
		close(e.done)
	})
}

func (e *errs) fill(r *ctl.Result) {
	r.Errors = e.n.Load()
	if r.Errors > 0 {
		r.FirstError = e.first.Error()
	}
}

func call(ctx context.Context, c peer.Client, kind string, id int64) error {
	req := payload.New(kind, id)
	got, err := c.Call(ctx, &req)
	if err != nil {
		return err
	}
	return payload.CheckReply(&req, &got)
}

func runLatency(ctx context.Context, cfg Config, m Marks) (*ctl.Result, error) {
	c, err := cfg.Dial(ctx, cfg.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var id int64
	for start := time.Now(); time.Since(start) < cfg.Warmup; id++ {
		if err := call(ctx, c, cfg.Payload, id); err != nil {
			return nil, fmt.Errorf("warmup: %w", err)
		}
	}
	if err := m.Ready(); err != nil {
		return nil, err
	}
	h := &hist.Hist{}
	r := &ctl.Result{Hist: h}
	w, err := openWindow()
	if err != nil {
		return nil, err
	}
	for !cfg.over(w.start, r.Calls) {
		id++
		t0 := time.Now()
		err := call(ctx, c, cfg.Payload, id)
		d := time.Since(t0)
		if err != nil {
			r.Errors, r.FirstError = 1, err.Error()
			break
		}
		h.Add(d)
		r.Calls++
		r.Max = max(r.Max, d)
	}
	if err := w.close(r); err != nil {
		return nil, err
	}
	SetPercentiles(r)
	return r, nil
}

// SetPercentiles fills r's percentiles from its histogram.
func SetPercentiles(r *ctl.Result) {
	r.P50 = r.Hist.Quantile(0.50)
	r.P99 = r.Hist.Quantile(0.99)
	r.P999 = r.Hist.Quantile(0.999)
}

// dialAll opens n connections, at most cfg.DialConcurrency at a time, and
// makes one call on each so that both ends hold an established
// connection.
func dialAll(ctx context.Context, cfg Config, n int, idBase int64) ([]peer.Client, error) {
	conc := cfg.DialConcurrency
	if conc <= 0 {
		conc = 32
	}
	clients := make([]peer.Client, n)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		sem <- struct{}{}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := cfg.Dial(ctx, cfg.Addr)
			if err == nil {
				clients[i] = c
				err = call(ctx, c, cfg.Payload, idBase+int64(i))
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("connection %d: %w", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(clients)
		return nil, firstErr
	}
	return clients, nil
}

func closeAll(clients []peer.Client) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range clients {
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.Close()
		}()
	}
	wg.Wait()
}

// counter is one worker's count of calls, alone on its cache line.
type counter struct {
	n atomic.Int64
	_ [56]byte
}

func runThroughput(ctx context.Context, cfg Config, m Marks) (*ctl.Result, error) {
	if cfg.Conns <= 0 || cfg.InFlight <= 0 {
		return nil, errors.New("load: throughput needs conns and in-flight calls")
	}
	clients, err := dialAll(ctx, cfg, cfg.Conns, 0)
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)

	workers := cfg.Conns * cfg.InFlight
	counters := make([]counter, workers)
	e := newErrs()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		c := clients[w%cfg.Conns]
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := int64(w+1) << 40
			for !stop.Load() {
				id++
				if err := call(ctx, c, cfg.Payload, id); err != nil {
					if !stop.Load() {
						e.add(err)
					}
					return
				}
				counters[w].n.Add(1)
			}
		}()
	}
	sum := func() int64 {
		var s int64
		for i := range counters {
			s += counters[i].n.Load()
		}
		return s
	}
	finish := func() {
		stop.Store(true)
		wg.Wait()
	}

	select {
	case <-time.After(cfg.Warmup):
	case <-e.done:
	}
	if err := m.Ready(); err != nil {
		finish()
		return nil, err
	}
	r := &ctl.Result{}
	c0 := sum()
	w, err := openWindow()
	if err != nil {
		finish()
		return nil, err
	}
	tick := time.NewTicker(time.Millisecond)
	for !cfg.over(w.start, sum()-c0) {
		select {
		case <-tick.C:
		case <-e.done:
		}
		if e.n.Load() > 0 {
			break
		}
	}
	tick.Stop()
	r.Calls = sum() - c0
	if err := w.close(r); err != nil {
		finish()
		return nil, err
	}
	finish()
	e.fill(r)
	return r, nil
}

// warmupItems is the length of the stream run before the measured one.
func warmupItems(n int) int { return max(100, min(n/10, 50_000)) }

func runStream(ctx context.Context, cfg Config, m Marks) (*ctl.Result, error) {
	if cfg.Messages <= 0 {
		return nil, errors.New("load: stream needs a message count")
	}
	c, err := cfg.Dial(ctx, cfg.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stream := func(n int) (int, error) {
		req := &payload.StreamRequest{Count: n, Item: payload.New(cfg.Payload, 0)}
		got := 0
		err := c.Stream(ctx, req, func(i int, item *payload.Payload) error {
			if err := payload.CheckItem(req, i, item); err != nil {
				return err
			}
			got++
			return nil
		})
		if err == nil && got != n {
			err = fmt.Errorf("stream ended after %d of %d items", got, n)
		}
		return got, err
	}
	if _, err := stream(warmupItems(cfg.Messages)); err != nil {
		return nil, fmt.Errorf("warmup: %w", err)
	}
	if err := m.Ready(); err != nil {
		return nil, err
	}
	r := &ctl.Result{}
	w, err := openWindow()
	if err != nil {
		return nil, err
	}
	got, serr := stream(cfg.Messages)
	if err := w.close(r); err != nil {
		return nil, err
	}
	r.Calls = int64(got)
	if serr != nil {
		r.Errors, r.FirstError = 1, serr.Error()
	}
	return r, nil
}

func runIdle(ctx context.Context, cfg Config, m Marks) (*ctl.Result, error) {
	if len(cfg.IdleSteps) == 0 {
		return nil, errors.New("load: idle needs connection counts")
	}
	var clients []peer.Client
	defer func() { closeAll(clients) }()
	r := &ctl.Result{}
	start := time.Now()
	for _, n := range cfg.IdleSteps {
		if n < len(clients) {
			return nil, fmt.Errorf("load: idle steps must increase, got %v", cfg.IdleSteps)
		}
		more, err := dialAll(ctx, cfg, n-len(clients), int64(len(clients)))
		if err != nil {
			return nil, fmt.Errorf("opening connections %d to %d: %w", len(clients)+1, n, err)
		}
		clients = append(clients, more...)
		if err := m.Idle(len(clients)); err != nil {
			return nil, err
		}
	}
	r.Calls = int64(len(clients))
	r.Elapsed = time.Since(start)
	return r, nil
}
