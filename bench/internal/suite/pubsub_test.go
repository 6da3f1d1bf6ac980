package suite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

// TestPubSubSmoke runs every pub/sub peer on one node and on two nodes
// through a private redis-server, with few subscribers and publications,
// in separate processes as the full run does, and checks that every
// publication reached every subscriber.
func TestPubSubSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := suite.ModuleDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := suite.PubSubConfig{
		ModuleDir:            dir,
		BinDir:               t.TempDir(),
		Subscribers:          []int{20},
		Nodes:                []int{1, 2},
		LatencyDeliveries:    2000,
		LatencyPublications:  10,
		ThroughputDeliveries: 1000,
		ThroughputRate:       1000,
		Settle:               50 * time.Millisecond,
	}
	if testing.Verbose() {
		cfg.Log = tlog{t}
	}
	res, err := suite.ExecutePubSub(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(res.Runs))
	}
	run := &res.Runs[0]
	for _, p := range []string{"swill", "centrifuge"} {
		for _, nodes := range cfg.Nodes {
			m := run.Find(p, nodes, 20)
			if m == nil {
				t.Errorf("%s on %d node(s): not measured", p, nodes)
				continue
			}
			if m.Err != "" {
				t.Errorf("%s on %d node(s): %s", p, nodes, m.Err)
				continue
			}
			checkPhase(t, p, nodes, "latency", m.Latency, 10, 20)
			checkPhase(t, p, nodes, "throughput", m.Throughput, 50, 20)
			if len(m.Base) != nodes || len(m.At) != nodes {
				t.Errorf("%s on %d node(s): memory of %d and %d servers", p, nodes, len(m.Base), len(m.At))
			}
			if m.ServerCPU.Total() <= 0 {
				t.Errorf("%s on %d node(s): no server CPU time", p, nodes)
			}
		}
	}
	if res.Meta.RedisVersion == "" {
		t.Error("the Redis version was not recorded")
	}
}

func checkPhase(t *testing.T, peerName string, nodes int, phase string, r *ctl.PubSubResult, published, subs int) {
	t.Helper()
	name := fmt.Sprintf("%s on %d node(s), %s phase", peerName, nodes, phase)
	if r == nil {
		t.Errorf("%s: no result", name)
		return
	}
	want := int64(published * subs)
	if r.Published != published || r.Subscribers != subs || r.Expected != want {
		t.Errorf("%s: %d publications to %d subscribers, %d expected; want %d to %d", name, r.Published, r.Subscribers, r.Expected, published, subs)
	}
	if r.Deliveries != want || r.Lost != 0 || r.OutOfOrder != 0 || r.Ended != 0 {
		t.Errorf("%s: %d delivered of %d, %d lost, %d out of order, %d ended (%s)", name, r.Deliveries, want, r.Lost, r.OutOfOrder, r.Ended, r.FirstError)
	}
	if r.Rate() <= 0 || !(0 < r.P50 && r.P50 <= r.P99 && r.P99 <= r.P999 && r.P999 <= r.Max*101/100) {
		t.Errorf("%s: implausible figures: %.0f/s, p50 %v p99 %v p99.9 %v max %v", name, r.Rate(), r.P50, r.P99, r.P999, r.Max)
	}
}
