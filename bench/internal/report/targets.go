package report

import (
	"fmt"
	"strings"

	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

// Names of the swill-go peers the targets speak of.
const (
	DefaultPeer = "swill"
	EpollPeer   = "swill-epoll"
	swillPrefix = "swill"
)

// Scenarios the targets are taken on.
var (
	oneConn   = suite.Shape{Conns: 1, InFlight: 64}.Scenario()
	manyConns = suite.Shape{Conns: 16, InFlight: 16}.Scenario()
)

// Target is one goal of the project for swill-go, as a ratio measured in
// the same run, small payload.
type Target struct {
	// Who is "default transport", "fastest transport", "event-driven
	// mode" or a peer name.
	Who string
	// What states the goal, e.g. "unary over 1 connection ≥ 1.2× raw".
	What string
	// Eval measures the goal in one run: the value as shown, whether it
	// is met, and whether it could be measured at all.
	Eval func(r *suite.Run) (shown string, met, ok bool)
}

// named adds the name of the peer pick chose to the value shown, for
// goals whose peer depends on the run.
func named(pick func(*suite.Run) string, eval func(*suite.Run) (string, bool, bool)) func(*suite.Run) (string, bool, bool) {
	return func(r *suite.Run) (string, bool, bool) {
		shown, met, ok := eval(r)
		if ok {
			shown += " (" + pick(r) + ")"
		}
		return shown, met, ok
	}
}

// atLeast and atMost build the evaluation of a ratio goal for the peer
// chosen by pick.
func atLeast(pick func(*suite.Run) string, f metric, against string, bound float64) func(*suite.Run) (string, bool, bool) {
	return bounded(pick, f, against, bound, true)
}

func atMost(pick func(*suite.Run) string, f metric, against string, bound float64) func(*suite.Run) (string, bool, bool) {
	return bounded(pick, f, against, bound, false)
}

func bounded(pick func(*suite.Run) string, f metric, against string, bound float64, above bool) func(*suite.Run) (string, bool, bool) {
	return func(r *suite.Run) (string, bool, bool) {
		p := pick(r)
		if p == "" {
			return "", false, false
		}
		v, ok := f(r, p)
		b, okb := f(r, against)
		if !ok || !okb || b == 0 {
			return "", false, false
		}
		q := v / b
		met := q <= bound
		if above {
			met = q >= bound
		}
		return fmtRatio(q), met, true
	}
}

// absAtMost is the goal of an absolute per-connection figure.
func absAtMost(peer string, f metric, bound float64, format func(float64) string) func(*suite.Run) (string, bool, bool) {
	return func(r *suite.Run) (string, bool, bool) {
		v, ok := f(r, peer)
		if !ok {
			return "", false, false
		}
		return format(v), v <= bound, true
	}
}

func fixed(name string) func(*suite.Run) string {
	return func(r *suite.Run) string {
		if r.Find(oneConn, name, payload.Small) == nil && r.Find(suite.Latency, name, payload.Small) == nil && r.Find(suite.Idle, name, "") == nil {
			return ""
		}
		return name
	}
}

// fastest picks the swill-go peer with the most calls per second over one
// connection in this run.
func fastest(r *suite.Run) string {
	best, bestRate := "", 0.0
	for _, m := range r.Measurements {
		if m.Scenario != oneConn || m.Payload != payload.Small || !strings.HasPrefix(m.Peer, swillPrefix) {
			continue
		}
		if v, ok := rate(oneConn, payload.Small)(r, m.Peer); ok && v > bestRate {
			best, bestRate = m.Peer, v
		}
	}
	return best
}

// Targets returns the project's targets, with one latency pair per
// swill-go peer in peers.
func Targets(peers []string) []Target {
	def := fixed(DefaultPeer)
	small := payload.Small
	ts := []Target{
		{"default transport", "unary over 1 connection ≥ 1.2× raw", atLeast(def, rate(oneConn, small), Baseline, 1.2)},
		{"default transport", "unary over 1 connection ≥ 3× gRPC-go unary", atLeast(def, rate(oneConn, small), "grpc", 3)},
		{"default transport", "streaming ≥ 1.5× raw", atLeast(def, rate(suite.Stream, small), Baseline, 1.5)},
		{"default transport", "idle memory (RSS) per connection ≤ 1.0× raw", atMost(def, idle(-1, "rss"), Baseline, 1.0)},
		{"fastest transport", "unary over 1 connection ≥ 1.6× raw", named(fastest, atLeast(fastest, rate(oneConn, small), Baseline, 1.6))},
		{"fastest transport", "unary over 16 connections ≥ 1.3× raw", named(fastest, atLeast(fastest, rate(manyConns, small), Baseline, 1.3))},
		{"fastest transport", "streaming ≥ 2× raw", named(fastest, atLeast(fastest, rate(suite.Stream, small), Baseline, 2))},
		{"fastest transport", "CPU per call (client + server, 1×64) ≤ 0.75× raw", named(fastest, atMost(fastest, cpuPer1k(oneConn, small, "total"), Baseline, 0.75))},
		{"event-driven mode", "≤ 4 KiB (RSS) per idle connection at the largest count", absAtMost(EpollPeer, idle(-1, "rss"), 4096, fmtKiB)},
	}
	for _, p := range peers {
		if !strings.HasPrefix(p, swillPrefix) {
			continue
		}
		ts = append(ts,
			Target{p, "sequential latency p50 ≤ 1.1× raw", atMost(fixed(p), latency(small, p50), Baseline, 1.1)},
			Target{p, "sequential latency p99 ≤ 1.3× raw", atMost(fixed(p), latency(small, p99), Baseline, 1.3)},
		)
	}
	return ts
}

// verdict sums up a target over the runs.
func verdict(t Target, runs []suite.Run) (cells []string, summary string) {
	met, measured := 0, 0
	for i := range runs {
		shown, ok, measurable := t.Eval(&runs[i])
		if !measurable {
			cells = append(cells, "not measured")
			continue
		}
		measured++
		if ok {
			met++
		}
		cells = append(cells, shown)
	}
	switch {
	case measured == 0:
		summary = "not measured"
	case met == measured:
		summary = "**met**"
	case met == 0:
		summary = "not met"
	default:
		summary = fmt.Sprintf("met in %d of %d runs", met, measured)
	}
	return cells, summary
}
