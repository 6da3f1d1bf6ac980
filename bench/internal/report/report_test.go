package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/peer"
	"github.com/swillorg/swill-go/bench/internal/procstat"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

// calls makes a measurement of n calls in one second.
func calls(scenario, p string, n int64) suite.Measurement {
	return suite.Measurement{Scenario: scenario, Peer: p, Payload: payload.Small,
		Client:    &ctl.Result{Calls: n, Elapsed: time.Second, CPU: procstat.CPU{User: time.Duration(n) * time.Microsecond}},
		ServerCPU: procstat.CPU{User: time.Duration(n) * time.Microsecond}}
}

func idleAt(p string, rssPerConn uint64) suite.Measurement {
	return suite.Measurement{Scenario: suite.Idle, Peer: p, Idle: []suite.IdlePoint{{
		Conns: 1000,
		Base:  procstat.Memory{RSS: 10 << 20},
		At:    procstat.Memory{RSS: 10<<20 + 1000*rssPerConn},
	}}}
}

func TestTargets(t *testing.T) {
	run := suite.Run{Measurements: []suite.Measurement{
		calls(oneConn, "raw", 100_000),
		calls(oneConn, "grpc", 40_000),
		calls(oneConn, "swill", 130_000),
		calls(oneConn, "swill-gobwas", 170_000),
		calls(suite.Stream, "raw", 600_000),
		calls(suite.Stream, "swill", 800_000),
		idleAt("raw", 20_000),
		idleAt("swill", 25_000),
		idleAt("swill-epoll", 3_000),
	}}
	got := map[string]string{}
	for _, tg := range Targets([]string{"raw", "grpc", "swill", "swill-gobwas", "swill-epoll"}) {
		cells, sum := verdict(tg, []suite.Run{run})
		got[tg.Who+": "+tg.What] = cells[0] + " → " + sum
	}
	for key, want := range map[string]string{
		"default transport: unary over 1 connection ≥ 1.2× raw":                     "1.30× → **met**",
		"default transport: unary over 1 connection ≥ 3× gRPC-go unary":             "3.25× → **met**",
		"default transport: streaming ≥ 1.5× raw":                                   "1.33× → not met",
		"default transport: idle memory (RSS) per connection ≤ 1.0× raw":            "1.25× → not met",
		"fastest transport: unary over 1 connection ≥ 1.6× raw":                     "1.70× (swill-gobwas) → **met**",
		"fastest transport: unary over 16 connections ≥ 1.3× raw":                   "not measured → not measured",
		"event-driven mode: ≤ 4 KiB (RSS) per idle connection at the largest count": "2.9 KiB → **met**",
		"fastest transport: CPU per call (client + server, 1×64) ≤ 0.75× raw":       "1.00× (swill-gobwas) → not met",
	} {
		if got[key] != want {
			t.Errorf("%s: got %q, want %q", key, got[key], want)
		}
	}
}

func TestRender(t *testing.T) {
	res := &suite.Results{
		Meta: suite.Meta{Date: time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC), Command: "go run ./cmd/benchrun",
			Payloads: []string{payload.Small}, Shapes: []suite.Shape{{Conns: 1, InFlight: 64}}, IdleSteps: []int{1000}},
		Peers: []peer.Info{{Name: "raw"}, {Name: "swill"}},
		Runs: []suite.Run{
			{Measurements: []suite.Measurement{calls(oneConn, "raw", 100_000), calls(oneConn, "swill", 150_000), idleAt("raw", 20_000), idleAt("swill", 10_000)}},
			{Measurements: []suite.Measurement{calls(oneConn, "raw", 100_000), calls(oneConn, "swill", 120_000), idleAt("raw", 20_000), idleAt("swill", 10_000)}},
		},
	}
	var md, svg bytes.Buffer
	if err := Markdown(&md, res, Options{SVGName: "benchmarks.svg"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| `swill` | small | 150.0k · 120.0k | 1.50× · 1.20× |",
		"| default transport | unary over 1 connection ≥ 1.2× raw | 1.50× | 1.20× | **met** |",
		"| `swill` | 1000 | 9.8 KiB · 9.8 KiB |",
		"2025-01-02",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the page lacks %q:\n%s", want, md.String())
		}
	}
	if err := SVG(&svg, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(svg.String(), "<title>swill, 1×64 calls/s small: 1.50× · 1.20×</title>") {
		t.Errorf("the chart lacks the swill bar:\n%s", svg.String())
	}
}
