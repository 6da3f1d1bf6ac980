package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/hist"
	"github.com/swillorg/swill-go/bench/internal/load"
	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/peer"
	"github.com/swillorg/swill-go/bench/internal/procstat"
)

// Scenario names as they appear in results; throughput scenarios carry
// their shape, e.g. "throughput-16x16".
const (
	Latency    = load.Latency
	Throughput = load.Throughput
	Stream     = load.Stream
	Idle       = load.Idle
)

// Shape is a throughput scenario: InFlight calls on each of Conns
// connections.
type Shape struct {
	Conns    int `json:"conns"`
	InFlight int `json:"inflight"`
}

// Scenario returns the shape's scenario name.
func (s Shape) Scenario() string { return fmt.Sprintf("%s-%dx%d", Throughput, s.Conns, s.InFlight) }

// ParseShape parses "CONNSxINFLIGHT".
func ParseShape(s string) (Shape, error) {
	a, b, ok := strings.Cut(s, "x")
	c, err1 := strconv.Atoi(a)
	f, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || c <= 0 || f <= 0 {
		return Shape{}, fmt.Errorf("suite: bad throughput shape %q, want CONNSxINFLIGHT", s)
	}
	return Shape{Conns: c, InFlight: f}, nil
}

// Config says what to run.
type Config struct {
	// ModuleDir is the bench module's directory, for building.
	ModuleDir string
	// BinDir receives the built programs; empty means a temporary
	// directory removed at the end.
	BinDir string
	// Peers to measure, by name; empty means every peer built. The raw
	// baseline is always measured, since ratios are taken against it.
	Peers []string
	// Scenarios to run, from latency, throughput, stream and idle.
	Scenarios []string
	// Payloads, from payload.Kinds.
	Payloads []string
	// Shapes of the throughput scenario.
	Shapes []Shape
	// Warmup precedes each timed window. Duration is the total window of
	// a timed measurement, split evenly over Rounds; Calls, when
	// positive, ends the windows after that many calls in all instead.
	Warmup, Duration time.Duration
	Calls            int64
	// Rounds splits each latency and throughput measurement into this
	// many rounds, each with fresh processes, taken in turn by the peers
	// so that a noisy spell hits them alike; the rounds' calls, CPU and
	// latencies are added up. Zero means one. A stream is measured in
	// one round.
	Rounds int
	// StreamMessages is the length of the measured stream.
	StreamMessages int
	// IdleSteps are the idle connection counts. Counts beyond what the
	// open-file limit allows are lowered to fit, with a note.
	IdleSteps []int
	// IdleSettle is the pause before measuring idle memory. Zero means
	// one second.
	IdleSettle time.Duration
	// Runs is how many times the whole suite runs. Zero means one.
	Runs int
	// QuietWait is how long, at most, each timed round waits for the
	// machine to be quiet (other processes using under a tenth of it)
	// before it starts. Zero means no wait.
	QuietWait time.Duration
	// MaxForeign is the share of the machine's CPU that other processes
	// may use during a round's window; a round over it is measured again,
	// up to Retries times, and the quietest attempt kept. Zero means no
	// retries.
	MaxForeign float64
	// Retries is how many times a round over MaxForeign is measured
	// again.
	Retries int
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Results is everything a suite run produced.
type Results struct {
	Meta    Meta        `json:"meta"`
	Peers   []peer.Info `json:"peers"`
	Skipped []Skip      `json:"skipped,omitempty"`
	Notes   []string    `json:"notes,omitempty"`
	Runs    []Run       `json:"runs"`
}

// Meta describes the machine and the settings.
type Meta struct {
	Date           time.Time     `json:"date"`
	Command        string        `json:"command"`
	GoVersion      string        `json:"go_version"`
	CPU            string        `json:"cpu"`
	Cores          int           `json:"cores"`
	Kernel         string        `json:"kernel"`
	FileLimit      uint64        `json:"file_limit"`
	Warmup         time.Duration `json:"warmup_ns"`
	Duration       time.Duration `json:"duration_ns"`
	Calls          int64         `json:"calls,omitempty"`
	Rounds         int           `json:"rounds"`
	QuietWait      time.Duration `json:"quiet_wait_ns"`
	MaxForeign     float64       `json:"max_foreign"`
	Retries        int           `json:"retries"`
	StreamMessages int           `json:"stream_messages"`
	IdleSteps      []int         `json:"idle_steps"`
	Shapes         []Shape       `json:"shapes"`
	Payloads       []string      `json:"payloads"`
}

// Run is one pass over every scenario.
type Run struct {
	Measurements []Measurement `json:"measurements"`
}

// Measurement is one peer in one scenario with one payload.
type Measurement struct {
	Scenario string `json:"scenario"`
	Peer     string `json:"peer"`
	Payload  string `json:"payload,omitempty"`
	// Client is what the client process measured.
	Client *ctl.Result `json:"client,omitempty"`
	// ServerCPU is the server process's CPU time over the client's
	// window.
	ServerCPU procstat.CPU `json:"server_cpu"`
	// Machine is the whole machine's CPU time over the window, which
	// tells how much other processes took (see Foreign).
	Machine procstat.Machine `json:"machine"`
	// Idle holds the server's memory at each idle step.
	Idle []IdlePoint `json:"idle,omitempty"`
	// Rounds is how many rounds were added up.
	Rounds int `json:"rounds,omitempty"`
	// Err says why the measurement failed.
	Err string `json:"error,omitempty"`
}

// Foreign returns the share of the machine's CPU that processes other than
// the client and the server used during the window.
func (m *Measurement) Foreign() float64 {
	if m.Client == nil {
		return 0
	}
	return m.Machine.Share(m.Machine.Busy - m.Client.CPU.Total() - m.ServerCPU.Total())
}

// merge adds one round to m.
func (m *Measurement) merge(round Measurement) {
	if m.Err == "" {
		m.Err = round.Err
	}
	if round.Client == nil {
		return
	}
	m.Rounds++
	if m.Client == nil {
		c := *round.Client
		m.Client, m.ServerCPU, m.Machine = &c, round.ServerCPU, round.Machine
		return
	}
	c, rc := m.Client, round.Client
	c.Calls += rc.Calls
	c.Elapsed += rc.Elapsed
	c.Errors += rc.Errors
	if c.FirstError == "" {
		c.FirstError = rc.FirstError
	}
	c.CPU = c.CPU.Add(rc.CPU)
	c.Max = max(c.Max, rc.Max)
	if rc.Hist != nil {
		if c.Hist == nil {
			c.Hist = &hist.Hist{}
		}
		c.Hist.Merge(rc.Hist)
	}
	m.ServerCPU = m.ServerCPU.Add(round.ServerCPU)
	m.Machine.Busy += round.Machine.Busy
	m.Machine.Total += round.Machine.Total
}

// finish computes the percentiles of the merged latencies and drops the
// histogram.
func (m *Measurement) finish() {
	if m.Client != nil && m.Client.Hist != nil {
		load.SetPercentiles(m.Client)
		m.Client.Hist = nil
	}
}

// IdlePoint is the server's memory while Conns connections are open, and
// before any was.
type IdlePoint struct {
	Conns int             `json:"conns"`
	Base  procstat.Memory `json:"base"`
	At    procstat.Memory `json:"at"`
}

// PerConn returns the growth per connection of RSS, live Go heap, stacks
// and goroutines.
func (p IdlePoint) PerConn() (rss, heap, stack, goroutines float64) {
	n := float64(p.Conns)
	return (float64(p.At.RSS) - float64(p.Base.RSS)) / n,
		(float64(p.At.HeapAlloc) - float64(p.Base.HeapAlloc)) / n,
		(float64(p.At.StackInuse) - float64(p.Base.StackInuse)) / n,
		float64(p.At.Goroutines-p.Base.Goroutines) / n
}

// Find returns the measurement of peer in scenario with payload kind.
func (r *Run) Find(scenario, peerName, kind string) *Measurement {
	for i := range r.Measurements {
		m := &r.Measurements[i]
		if m.Scenario == scenario && m.Peer == peerName && m.Payload == kind {
			return m
		}
	}
	return nil
}

// fdReserve is how many descriptors a process needs besides its
// connections (standard streams, listener, poller, pipes).
const fdReserve = 64

// Execute builds the programs and runs the suite.
func Execute(ctx context.Context, cfg Config) (*Results, error) {
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) }
	if cfg.Runs <= 0 {
		cfg.Runs = 1
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 1
	}
	if cfg.IdleSettle <= 0 {
		cfg.IdleSettle = time.Second
	}
	for _, k := range cfg.Payloads {
		if !payload.Valid(k) {
			return nil, fmt.Errorf("suite: unknown payload %q", k)
		}
	}
	for _, s := range cfg.Scenarios {
		if !slices.Contains([]string{Latency, Throughput, Stream, Idle}, s) {
			return nil, fmt.Errorf("suite: unknown scenario %q", s)
		}
	}

	dir := cfg.BinDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "swill-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	logf("building the server and client programs into %s", dir)
	bins, skips, err := Build(ctx, cfg.ModuleDir, dir)
	if err != nil {
		return nil, err
	}
	for _, s := range skips {
		logf("skipping %s: %s", s.Peer, s.Reason)
	}
	infos, err := listPeers(ctx, bins.Client)
	if err != nil {
		return nil, err
	}
	res := &Results{Skipped: skips}
	var peers []peer.Info
	for _, in := range infos {
		if len(cfg.Peers) == 0 || in.Name == "raw" || slices.Contains(cfg.Peers, in.Name) {
			peers = append(peers, in)
		}
	}
	for _, want := range cfg.Peers {
		if !slices.ContainsFunc(infos, func(in peer.Info) bool { return in.Name == want }) &&
			!slices.ContainsFunc(skips, func(s Skip) bool { return s.Peer == want }) {
			return nil, fmt.Errorf("suite: no peer named %q", want)
		}
	}
	res.Peers = peers

	limit, err := procstat.RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	steps := make([]int, 0, len(cfg.IdleSteps))
	for _, n := range cfg.IdleSteps {
		if max := int(limit) - fdReserve; n > max {
			res.Notes = append(res.Notes, fmt.Sprintf(
				"%d idle connections asked for, %d measured: the hard open-file limit here is %d per process and cannot be raised without CAP_SYS_RESOURCE; the per-connection figures are taken at %d.",
				n, max, limit, max))
			n = max
		}
		if len(steps) == 0 || n > steps[len(steps)-1] {
			steps = append(steps, n)
		}
	}
	res.Meta = meta(cfg, limit, steps)

	r := &runner{cfg: cfg, bins: bins, idleSteps: steps, logf: logf}
	for i := range cfg.Runs {
		logf("run %d of %d", i+1, cfg.Runs)
		run, err := r.run(ctx, peers)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}

func meta(cfg Config, limit uint64, steps []int) Meta {
	m := Meta{
		Date:           time.Now().UTC(),
		Command:        strings.TrimSpace("go run ./cmd/benchrun " + strings.Join(measuringArgs(os.Args[1:]), " ")),
		GoVersion:      runtime.Version(),
		Cores:          runtime.NumCPU(),
		FileLimit:      limit,
		Warmup:         cfg.Warmup,
		Duration:       cfg.Duration,
		Calls:          cfg.Calls,
		Rounds:         cfg.Rounds,
		QuietWait:      cfg.QuietWait,
		MaxForeign:     cfg.MaxForeign,
		Retries:        cfg.Retries,
		StreamMessages: cfg.StreamMessages,
		IdleSteps:      steps,
		Shapes:         cfg.Shapes,
		Payloads:       cfg.Payloads,
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// outputFlags say where results go, not what is measured; the command
// recorded with the results leaves them out.
var outputFlags = []string{"json", "md", "svg", "bin"}

func measuringArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		name, _, hasValue := strings.Cut(name, "=")
		if slices.Contains(outputFlags, name) {
			if !hasValue {
				i++ // the value is the next argument
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

type runner struct {
	cfg       Config
	bins      Binaries
	idleSteps []int
	logf      func(string, ...any)
}

func (r *runner) run(ctx context.Context, peers []peer.Info) (Run, error) {
	var run Run
	add := func(m Measurement) {
		if m.Err != "" {
			r.logf("  %-18s %-8s %-14s FAILED: %s", m.Scenario, m.Payload, m.Peer, m.Err)
		} else {
			r.logf("  %-18s %-8s %-14s %s", m.Scenario, m.Payload, m.Peer, summary(&m))
		}
		run.Measurements = append(run.Measurements, m)
	}
	for _, sc := range r.cfg.Scenarios {
		if sc == Idle {
			if len(r.idleSteps) == 0 {
				continue
			}
			for _, p := range peers {
				if err := ctx.Err(); err != nil {
					return run, err
				}
				add(r.idle(p))
			}
			continue
		}
		var variants []timed
		switch sc {
		case Throughput:
			for _, s := range r.cfg.Shapes {
				variants = append(variants, timed{name: s.Scenario(), scenario: Throughput, shape: s})
			}
		default:
			variants = []timed{{name: sc, scenario: sc}}
		}
		for _, v := range variants {
			rounds := r.cfg.Rounds
			if v.scenario == Stream {
				rounds = 1
			}
			for _, kind := range r.cfg.Payloads {
				acc := make([]Measurement, len(peers))
				for i, p := range peers {
					acc[i] = Measurement{Scenario: v.name, Peer: p.Name, Payload: kind}
				}
				for range rounds {
					for i, p := range peers {
						if err := ctx.Err(); err != nil {
							return run, err
						}
						acc[i].merge(r.quietTimed(p, v, kind, rounds))
					}
				}
				for _, m := range acc {
					m.finish()
					add(m)
				}
			}
		}
	}
	return run, nil
}

func summary(m *Measurement) string {
	if m.Idle != nil {
		var parts []string
		for _, pt := range m.Idle {
			rss, heap, _, g := pt.PerConn()
			parts = append(parts, fmt.Sprintf("%d conns: %.1f KiB RSS, %.1f KiB heap, %.1f goroutines per conn", pt.Conns, rss/1024, heap/1024, g))
		}
		return strings.Join(parts, "; ")
	}
	c := m.Client
	cpu := float64(c.CPU.Total()+m.ServerCPU.Total()) / float64(max(c.Calls, 1)) * 1000
	s := fmt.Sprintf("%.0f/s, cpu %.1f ms per 1k, calls per write %.1f client %.1f server, others %.0f%%", c.Rate(), cpu/1e6,
		float64(c.Calls)/float64(max(c.CPU.Writes, 1)), float64(c.Calls)/float64(max(m.ServerCPU.Writes, 1)), 100*m.Foreign())
	if c.P50 > 0 {
		s += fmt.Sprintf(", p50 %v p99 %v p99.9 %v", c.P50, c.P99, c.P999)
	}
	return s
}

type timed struct {
	name     string
	scenario string
	shape    Shape
}

// timeout bounds each wait for a process.
func (r *runner) timeout() time.Duration {
	return 2*(r.cfg.Warmup+r.cfg.Duration) + 2*time.Minute
}

func (r *runner) startServer(name string, extra ...string) (*proc, string, error) {
	srv, err := startProc(r.bins.Server, append([]string{"-peer", name}, extra...)...)
	if err != nil {
		return nil, "", err
	}
	ev, err := srv.expect(ctl.EventListening, 30*time.Second)
	if err != nil {
		srv.kill()
		return nil, "", err
	}
	return srv, ev.Addr, nil
}

// clientArgs are the client's flags for one of rounds rounds.
func (r *runner) clientArgs(p peer.Info, addr, scenario, kind string, rounds int) []string {
	calls := r.cfg.Calls
	if calls > 0 {
		calls = max(1, calls/int64(rounds))
	}
	return []string{
		"-peer", p.Name, "-addr", addr, "-scenario", scenario, "-payload", kind,
		"-warmup", r.cfg.Warmup.String(), "-duration", (r.cfg.Duration / time.Duration(rounds)).String(),
		"-calls", strconv.FormatInt(calls, 10),
		"-messages", strconv.Itoa(r.cfg.StreamMessages),
	}
}

// quietTimed measures one round when the machine is quiet enough,
// measuring again a round that other processes disturbed.
func (r *runner) quietTimed(p peer.Info, v timed, kind string, rounds int) Measurement {
	var best Measurement
	for attempt := 0; ; attempt++ {
		r.waitQuiet()
		m := r.timed(p, v, kind, rounds)
		if m.Err != "" {
			return m // a failure is reported, never retried away
		}
		if attempt == 0 || m.Foreign() < best.Foreign() {
			best = m
		}
		if r.cfg.MaxForeign <= 0 || m.Foreign() <= r.cfg.MaxForeign || attempt >= r.cfg.Retries {
			return best
		}
		r.logf("    %s %s %s: other processes took %.0f%% of the machine, measuring again", v.name, kind, p.Name, 100*m.Foreign())
	}
}

// quietShare is the share of the machine other processes may use for it
// to count as quiet.
const quietShare = 0.10

// waitQuiet waits, up to QuietWait, until the machine is quiet.
func (r *runner) waitQuiet() {
	deadline := time.Now().Add(r.cfg.QuietWait)
	for time.Now().Before(deadline) {
		m0, err := procstat.ReadMachine()
		if err != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
		m1, err := procstat.ReadMachine()
		if err != nil {
			return
		}
		d := m1.Sub(m0)
		if d.Share(d.Busy) < quietShare {
			return
		}
	}
}

// timed measures one round of a timed scenario.
func (r *runner) timed(p peer.Info, v timed, kind string, rounds int) Measurement {
	m := Measurement{Scenario: v.name, Peer: p.Name, Payload: kind}
	args := r.clientArgs(p, "", v.scenario, kind, rounds)
	if v.scenario == Throughput {
		args = append(args, "-conns", strconv.Itoa(v.shape.Conns), "-inflight", strconv.Itoa(v.shape.InFlight))
	}
	w, err := r.measure(p, args, nil, nil)
	if err != nil {
		m.Err = err.Error()
		return m
	}
	m.Client, m.ServerCPU, m.Machine = w.client, w.serverCPU, w.machine
	if w.client.Errors > 0 {
		m.Err = fmt.Sprintf("%d failed calls, the first: %s", w.client.Errors, w.client.FirstError)
	}
	return m
}

// measure runs one server and one client through a timed scenario; the
// server's CPU is sampled at the client's marks.
func (r *runner) measure(p peer.Info, clientArgs, serverExtra, clientExtra []string) (window, error) {
	srv, addr, err := r.startServer(p.Server, serverExtra...)
	if err != nil {
		return window{}, err
	}
	w, err := r.drive(srv, addr, clientArgs, clientExtra)
	if err != nil {
		srv.kill()
		return w, err
	}
	if err := srv.send(ctl.CmdQuit); err != nil {
		srv.kill()
		return w, err
	}
	return w, srv.wait(30 * time.Second)
}

// window is what one client window measured on both sides.
type window struct {
	client    *ctl.Result
	serverCPU procstat.CPU
	machine   procstat.Machine
}

func (r *runner) drive(srv *proc, addr string, clientArgs, clientExtra []string) (window, error) {
	for i := range clientArgs {
		if clientArgs[i] == "-addr" {
			clientArgs[i+1] = addr
		}
	}
	cl, err := startProc(r.bins.Client, append(clientArgs, clientExtra...)...)
	if err != nil {
		return window{}, err
	}
	fail := func(err error) (window, error) {
		cl.kill()
		return window{}, err
	}
	if _, err := cl.expect(ctl.EventReady, r.timeout()); err != nil {
		return fail(err)
	}
	cpu0, err := serverCPU(srv)
	if err != nil {
		return fail(err)
	}
	mach0, err := procstat.ReadMachine()
	if err != nil {
		return fail(err)
	}
	if err := cl.send(ctl.CmdGo); err != nil {
		return fail(err)
	}
	ev, err := cl.expect(ctl.EventResult, r.timeout())
	if err != nil {
		return fail(err)
	}
	mach1, err := procstat.ReadMachine()
	if err != nil {
		return fail(err)
	}
	cpu1, err := serverCPU(srv)
	if err != nil {
		return fail(err)
	}
	if err := cl.wait(time.Minute); err != nil {
		return window{}, err
	}
	if ev.Result == nil {
		return window{}, errors.New("client result event without a result")
	}
	return window{client: ev.Result, serverCPU: cpu1.Sub(cpu0), machine: mach1.Sub(mach0)}, nil
}

func serverCPU(srv *proc) (procstat.CPU, error) {
	if err := srv.send(ctl.CmdCPU); err != nil {
		return procstat.CPU{}, err
	}
	ev, err := srv.expect(ctl.EventCPU, 30*time.Second)
	if err != nil {
		return procstat.CPU{}, err
	}
	return *ev.CPU, nil
}

func serverMem(srv *proc) (procstat.Memory, error) {
	if err := srv.send(ctl.CmdMem); err != nil {
		return procstat.Memory{}, err
	}
	ev, err := srv.expect(ctl.EventMem, time.Minute)
	if err != nil {
		return procstat.Memory{}, err
	}
	return *ev.Mem, nil
}

func (r *runner) idle(p peer.Info) Measurement {
	m := Measurement{Scenario: Idle, Peer: p.Name}
	pts, err := r.idlePoints(p)
	if err != nil {
		m.Err = err.Error()
	}
	m.Idle = pts
	return m
}

func (r *runner) idlePoints(p peer.Info) ([]IdlePoint, error) {
	srv, addr, err := r.startServer(p.Server)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	time.Sleep(r.cfg.IdleSettle / 4)
	base, err := serverMem(srv)
	if err != nil {
		return nil, err
	}
	steps := make([]string, len(r.idleSteps))
	for i, n := range r.idleSteps {
		steps[i] = strconv.Itoa(n)
	}
	args := r.clientArgs(p, addr, Idle, payload.Small, 1)
	args = append(args, "-idle", strings.Join(steps, ","))
	cl, err := startProc(r.bins.Client, args...)
	if err != nil {
		return nil, err
	}
	defer cl.kill()
	var pts []IdlePoint
	for range r.idleSteps {
		ev, err := cl.expect(ctl.EventIdle, 10*time.Minute)
		if err != nil {
			return pts, err
		}
		time.Sleep(r.cfg.IdleSettle)
		at, err := serverMem(srv)
		if err != nil {
			return pts, err
		}
		pts = append(pts, IdlePoint{Conns: ev.Conns, Base: base, At: at})
		if err := cl.send(ctl.CmdNext); err != nil {
			return pts, err
		}
	}
	if _, err := cl.expect(ctl.EventResult, 5*time.Minute); err != nil {
		return pts, err
	}
	if err := cl.wait(time.Minute); err != nil {
		return pts, err
	}
	if err := srv.send(ctl.CmdQuit); err != nil {
		return pts, err
	}
	return pts, srv.wait(time.Minute)
}

// ProfileConfig says where to write profiles of a throughput or stream
// measurement.
type ProfileConfig struct {
	Dir  string
	Peer string
	// Stream profiles the stream scenario instead of throughput.
	Stream bool
	Shape  Shape
	Kind   string
}

// profile runs one throughput (or stream) measurement of a peer with CPU
// and allocation profiles of both processes, written to dir as
// server.cpu.pprof, server.alloc.pprof, client.cpu.pprof and
// client.alloc.pprof.
func (r *runner) profile(pc ProfileConfig, p peer.Info) (*ctl.Result, procstat.CPU, error) {
	w, err := r.profileWindow(pc, p)
	return w.client, w.serverCPU, err
}

func (r *runner) profileWindow(pc ProfileConfig, p peer.Info) (window, error) {
	var args []string
	if pc.Stream {
		args = r.clientArgs(p, "", Stream, pc.Kind, 1)
	} else {
		args = r.clientArgs(p, "", Throughput, pc.Kind, 1)
		args = append(args, "-conns", strconv.Itoa(pc.Shape.Conns), "-inflight", strconv.Itoa(pc.Shape.InFlight))
	}
	f := func(n string) string { return filepath.Join(pc.Dir, n) }
	return r.measure(p, args,
		[]string{"-cpuprofile", f("server.cpu.pprof"), "-memprofile", f("server.alloc.pprof")},
		[]string{"-cpuprofile", f("client.cpu.pprof"), "-memprofile", f("client.alloc.pprof")})
}

// Profile builds the programs and profiles one peer under throughput, or
// streaming.
func Profile(ctx context.Context, cfg Config, pc ProfileConfig) (*ctl.Result, procstat.CPU, error) {
	if err := os.MkdirAll(pc.Dir, 0o755); err != nil {
		return nil, procstat.CPU{}, err
	}
	bins, _, err := Build(ctx, cfg.ModuleDir, pc.Dir)
	if err != nil {
		return nil, procstat.CPU{}, err
	}
	infos, err := listPeers(ctx, bins.Client)
	if err != nil {
		return nil, procstat.CPU{}, err
	}
	i := slices.IndexFunc(infos, func(in peer.Info) bool { return in.Name == pc.Peer })
	if i < 0 {
		return nil, procstat.CPU{}, fmt.Errorf("suite: no peer named %q", pc.Peer)
	}
	r := &runner{cfg: cfg, bins: bins, logf: func(string, ...any) {}}
	return r.profile(pc, infos[i])
}
