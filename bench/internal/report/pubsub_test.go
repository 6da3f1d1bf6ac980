package report

import (
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/procstat"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

func pubsubAt(peer string, nodes int, rate float64, p99 time.Duration, rssPerConn uint64, lost int64) suite.PubSubMeasurement {
	const subs = 100
	mem := func(rss uint64) []procstat.Memory {
		out := make([]procstat.Memory, nodes)
		for i := range out {
			out[i] = procstat.Memory{RSS: rss}
		}
		return out
	}
	return suite.PubSubMeasurement{
		Peer: peer, Nodes: nodes, Subscribers: subs,
		Latency:    &ctl.PubSubResult{Deliveries: 1000, Elapsed: time.Second, P50: p99 / 2, P99: p99, P999: p99, Max: p99},
		Throughput: &ctl.PubSubResult{Deliveries: int64(rate), Elapsed: time.Second, Lost: lost},
		Base:       mem(1 << 20),
		At:         mem(1<<20 + rssPerConn*subs/uint64(nodes)),
	}
}

func TestPubSubTargets(t *testing.T) {
	res := &suite.PubSubResults{
		Meta:  suite.PubSubMeta{Subscribers: []int{100}, Nodes: []int{1, 2}},
		Peers: []suite.PubSubPeer{{Name: "swill"}, {Name: "centrifuge"}},
		Runs: []suite.PubSubRun{{Measurements: []suite.PubSubMeasurement{
			pubsubAt("swill", 1, 300, time.Millisecond, 4096, 0),
			pubsubAt("centrifuge", 1, 100, 2*time.Millisecond, 8192, 0),
			pubsubAt("swill", 2, 120, 3*time.Millisecond, 4096, 2),
			pubsubAt("centrifuge", 2, 100, 2*time.Millisecond, 8192, 0),
		}}},
	}
	var b strings.Builder
	if err := PubSubMarkdown(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| 1 | 100 | deliveries/s ≥ 1.5× centrifuge | 3.00× | **met** |",
		"| 1 | 100 | server RSS per subscribed connection ≤ centrifuge's | 0.50× (4.0 KiB vs 8.0 KiB) | **met** |",
		"| 2 | 100 | deliveries/s ≥ 1.3× centrifuge | 1.20× | **not met** |",
		"| 2 | 100 | p99 publish-to-delivery ≤ centrifuge's | 1.50× (3.00 ms vs 2.00 ms) | **not met** |",
		"| 2 | 100 | messages lost = 0 | 2 (centrifuge 0) | **not met** |",
		"3 of 6 targets met.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the section lacks %q:\n%s", want, out)
		}
	}
	page := "# Benchmarks\n\nRPC tables.\n"
	once, err := ReplacePubSubSection(page, res)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := ReplacePubSubSection(once, res)
	if err != nil {
		t.Fatal(err)
	}
	if once != twice || !strings.HasPrefix(once, page) || strings.Count(once, PubSubBegin) != 1 {
		t.Errorf("replacing the section is not idempotent, or lost the page:\n%s", twice)
	}
	if PubSubSection(once) == "" || PubSubSection(page) != "" {
		t.Error("PubSubSection does not find the section")
	}
}
