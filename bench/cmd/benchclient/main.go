// Command benchclient is the client process of the benchmark suite. The
// runner (benchrun) starts it; it is not meant to be run by hand.
//
//	benchclient -peer NAME -addr HOST:PORT -scenario latency|throughput|stream|idle [flags]
//	benchclient -pubsub NAME -addr HOST:PORT[,HOST:PORT] -subs N -phases 200,500 [flags]
//	benchclient -list
//
// It reports on standard output with the events of package ctl and waits
// for the runner's commands on standard input at each mark.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/load"
	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/peer"
	_ "github.com/swillorg/swill-go/bench/internal/peer/all"
	"github.com/swillorg/swill-go/bench/internal/procstat"
	"github.com/swillorg/swill-go/bench/internal/psbench"
)

func main() {
	var (
		name       = flag.String("peer", "", "peer to run")
		addr       = flag.String("addr", "", "server address, host:port")
		scenario   = flag.String("scenario", "", "latency, throughput, stream or idle")
		kind       = flag.String("payload", payload.Small, "payload: small or 4k")
		warmup     = flag.Duration("warmup", time.Second, "warm-up before the window")
		duration   = flag.Duration("duration", 5*time.Second, "length of the window")
		calls      = flag.Int64("calls", 0, "end the window after this many calls (0: by duration)")
		conns      = flag.Int("conns", 1, "throughput: connections")
		inflight   = flag.Int("inflight", 64, "throughput: calls in flight per connection")
		messages   = flag.Int("messages", 500_000, "stream: items in the measured stream")
		idle       = flag.String("idle", "5000,20000", "idle: connection counts, comma-separated")
		dialConc   = flag.Int("dial-concurrency", 32, "dials in progress at once")
		list       = flag.Bool("list", false, "print the compiled-in peers as JSON and exit")
		pubsubName = flag.String("pubsub", "", "pub/sub peer whose subscribers to run (instead of -peer and -scenario)")
		subs       = flag.Int("subs", 1000, "pub/sub: subscribers, one connection each, spread over the -addr servers")
		phases     = flag.String("phases", "100", "pub/sub: publications of each phase, comma-separated")
		phaseWait  = flag.Duration("phase-timeout", time.Minute, "pub/sub: end a phase whose publications did not all arrive after this long")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the window to this file")
		memProfile = flag.String("memprofile", "", "write an allocation profile to this file at the end")
	)
	flag.Parse()
	if *list {
		json.NewEncoder(os.Stdout).Encode(peer.Infos())
		return
	}
	if *pubsubName != "" {
		runPubSub(*pubsubName, *addr, *subs, *phases, *phaseWait, *dialConc, *cpuProfile)
		return
	}
	p, ok := peer.Lookup(*name)
	if !ok {
		fail(fmt.Errorf("no peer named %q", *name))
	}
	steps, err := parseSteps(*idle)
	if err != nil {
		fail(err)
	}
	if _, err := procstat.RaiseFileLimit(); err != nil {
		fail(err)
	}
	cfg := load.Config{
		Dial: p.Dial, Addr: *addr, Payload: *kind,
		Warmup: *warmup, Duration: *duration, Calls: *calls,
		Conns: *conns, InFlight: *inflight, Messages: *messages,
		IdleSteps: steps, DialConcurrency: *dialConc,
	}
	out := ctl.NewWriter(os.Stdout)
	m := &marks{out: out, in: ctl.Commands(os.Stdin), cpuProfile: *cpuProfile}
	res, err := load.Run(context.Background(), *scenario, cfg, m)
	m.stopProfile()
	if err != nil {
		fail(err)
	}
	if *memProfile != "" {
		if err := writeAllocs(*memProfile); err != nil {
			fail(err)
		}
	}
	if err := out.Write(ctl.Event{Event: ctl.EventResult, Result: res}); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchclient:", err)
	os.Exit(1)
}

func parseSteps(s string) ([]int, error) {
	var steps []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad idle step %q", f)
		}
		steps = append(steps, n)
	}
	return steps, nil
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// marks reports each mark on stdout and waits for the runner's command.
type marks struct {
	out *ctl.Writer
	in  interface {
		Scan() bool
		Text() string
		Err() error
	}
	cpuProfile string
	profiling  *os.File
}

func (m *marks) wait(want string) error {
	if !m.in.Scan() {
		if err := m.in.Err(); err != nil {
			return err
		}
		return fmt.Errorf("runner went away before %q", want)
	}
	if got := m.in.Text(); got != want {
		return fmt.Errorf("got command %q, want %q", got, want)
	}
	return nil
}

// Ready also starts the CPU profile, so that it covers the window only.
func (m *marks) Ready() error {
	if err := m.out.Write(ctl.Event{Event: ctl.EventReady}); err != nil {
		return err
	}
	if err := m.wait(ctl.CmdGo); err != nil {
		return err
	}
	if m.cpuProfile != "" {
		f, err := os.Create(m.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		m.profiling = f
	}
	return nil
}

func (m *marks) stopProfile() {
	if m.profiling != nil {
		pprof.StopCPUProfile()
		m.profiling.Close()
		m.profiling = nil
	}
}

func (m *marks) Idle(conns int) error {
	if err := m.out.Write(ctl.Event{Event: ctl.EventIdle, Conns: conns}); err != nil {
		return err
	}
	return m.wait(ctl.CmdNext)
}

// runPubSub runs the subscribers of a pub/sub peer: it says ready (with
// the subscribed count) once all are subscribed and waits for "next",
// then for each phase waits for "go" and reports the phase's result.
func runPubSub(name, addrs string, subs int, phases string, phaseWait time.Duration, dialConc int, cpuProfile string) {
	p, ok := psbench.Lookup(name)
	if !ok {
		fail(fmt.Errorf("no pub/sub peer named %q", name))
	}
	counts, err := parseSteps(phases)
	if err != nil {
		fail(err)
	}
	if _, err := procstat.RaiseFileLimit(); err != nil {
		fail(err)
	}
	out := ctl.NewWriter(os.Stdout)
	m := &pubsubMarks{marks: marks{out: out, in: ctl.Commands(os.Stdin), cpuProfile: cpuProfile}}
	cfg := psbench.ClientConfig{
		Peer: p, Addrs: strings.Split(addrs, ","), Subs: subs,
		DialConcurrency: dialConc, Phases: counts, PhaseTimeout: phaseWait,
	}
	err = psbench.RunClient(context.Background(), cfg, m)
	m.stopProfile()
	if err != nil {
		fail(err)
	}
}

type pubsubMarks struct{ marks }

func (m *pubsubMarks) Ready(subs int) error {
	if err := m.out.Write(ctl.Event{Event: ctl.EventReady, Conns: subs}); err != nil {
		return err
	}
	return m.wait(ctl.CmdNext)
}

// Phase also starts the CPU profile at the first phase.
func (m *pubsubMarks) Phase(int) error {
	if err := m.wait(ctl.CmdGo); err != nil {
		return err
	}
	if m.cpuProfile != "" && m.profiling == nil {
		f, err := os.Create(m.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		m.profiling = f
	}
	return nil
}

func (m *pubsubMarks) Result(r *ctl.PubSubResult) error {
	return m.out.Write(ctl.Event{Event: ctl.EventResult, PubSub: r})
}
