package suite_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/report"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

// TestSmoke runs every peer through every scenario with tiny counts, in
// separate processes as the full suite does, and checks that every
// measurement is sane and every reply was right.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := suite.ModuleDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const (
		calls    = 300
		messages = 500
	)
	shapes := []suite.Shape{{Conns: 1, InFlight: 8}, {Conns: 3, InFlight: 4}}
	cfg := suite.Config{
		ModuleDir:      dir,
		BinDir:         t.TempDir(),
		Scenarios:      []string{suite.Latency, suite.Throughput, suite.Stream, suite.Idle},
		Payloads:       payload.Kinds,
		Shapes:         shapes,
		Warmup:         20 * time.Millisecond,
		Duration:       20 * time.Second, // a cap: the windows end after calls
		Calls:          calls,
		StreamMessages: messages,
		IdleSteps:      []int{20, 50},
		IdleSettle:     50 * time.Millisecond,
		Rounds:         2,
	}
	if testing.Verbose() {
		cfg.Log = tlog{t}
	}
	res, err := suite.Execute(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(res.Runs))
	}
	names := map[string]bool{}
	for _, p := range res.Peers {
		names[p.Name] = true
	}
	for _, want := range []string{"raw", "grpc", "grpc-pipe", "swill"} {
		if !names[want] {
			t.Errorf("peer %q was not measured", want)
		}
	}
	for _, s := range res.Skipped {
		t.Logf("skipped %s: %s", s.Peer, s.Reason)
	}

	run := &res.Runs[0]
	timed := []string{suite.Latency, suite.Stream}
	for _, s := range shapes {
		timed = append(timed, s.Scenario())
	}
	for _, p := range res.Peers {
		for _, sc := range timed {
			for _, kind := range payload.Kinds {
				m := run.Find(sc, p.Name, kind)
				if m == nil {
					t.Errorf("%s %s %s: not measured", p.Name, sc, kind)
					continue
				}
				checkTimed(t, m, sc == suite.Stream, calls, messages)
			}
		}
		m := run.Find(suite.Idle, p.Name, "")
		if m == nil {
			t.Errorf("%s idle: not measured", p.Name)
			continue
		}
		checkIdle(t, m, cfg.IdleSteps)
	}

	var md, svg bytes.Buffer
	if err := report.Markdown(&md, res, report.Options{SVGName: "benchmarks.svg"}); err != nil {
		t.Fatal(err)
	}
	if err := report.SVG(&svg, res); err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Peers {
		if !strings.Contains(md.String(), "`"+p.Name+"`") {
			t.Errorf("the report does not mention %s", p.Name)
		}
	}
	if strings.Contains(md.String(), "Failed:") {
		t.Errorf("the report lists failures:\n%s", md.String())
	}
	checkXML(t, svg.Bytes())
}

func checkTimed(t *testing.T, m *suite.Measurement, stream bool, calls, messages int64) {
	t.Helper()
	name := m.Peer + " " + m.Scenario + " " + m.Payload
	if m.Err != "" {
		t.Errorf("%s: %s", name, m.Err)
		return
	}
	c := m.Client
	if c == nil || c.Errors != 0 {
		t.Errorf("%s: no result or failed calls: %+v", name, c)
		return
	}
	want := calls
	if stream {
		want = messages
	} else if m.Rounds != 2 {
		t.Errorf("%s: %d rounds added up, want 2", name, m.Rounds)
	}
	if c.Calls < want {
		t.Errorf("%s: %d calls, want at least %d", name, c.Calls, want)
	}
	if c.Rate() <= 0 || c.Elapsed <= 0 {
		t.Errorf("%s: rate %f over %v", name, c.Rate(), c.Elapsed)
	}
	if c.CPU.Total() <= 0 || m.ServerCPU.Total() <= 0 {
		t.Errorf("%s: client CPU %v, server CPU %v", name, c.CPU.Total(), m.ServerCPU.Total())
	}
	if m.Scenario == suite.Latency {
		if !(0 < c.P50 && c.P50 <= c.P99 && c.P99 <= c.P999 && c.P999 <= c.Max*101/100) {
			t.Errorf("%s: latencies out of order: p50 %v p99 %v p99.9 %v max %v", name, c.P50, c.P99, c.P999, c.Max)
		}
		if c.Hist != nil {
			t.Errorf("%s: the merged histogram was kept", name)
		}
	}
}

func checkIdle(t *testing.T, m *suite.Measurement, steps []int) {
	t.Helper()
	if m.Err != "" {
		t.Errorf("%s idle: %s", m.Peer, m.Err)
		return
	}
	if len(m.Idle) != len(steps) {
		t.Errorf("%s idle: %d points, want %d", m.Peer, len(m.Idle), len(steps))
		return
	}
	for i, pt := range m.Idle {
		if pt.Conns != steps[i] {
			t.Errorf("%s idle: point %d at %d connections, want %d", m.Peer, i, pt.Conns, steps[i])
		}
		// Every server holds at least one goroutine per connection or,
		// event-driven, none; either way the count cannot drop.
		if pt.At.Goroutines < pt.Base.Goroutines || pt.At.RSS == 0 || pt.At.HeapAlloc == 0 {
			t.Errorf("%s idle at %d: implausible memory %+v over %+v", m.Peer, pt.Conns, pt.At, pt.Base)
		}
	}
}

func checkXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("the chart's root element is %q", root)
	}
}

type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
