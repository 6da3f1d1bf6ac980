package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

// The pub/sub section of the page sits between these lines, so that the
// RPC suite and the pub/sub workloads each rewrite only their own part.
const (
	PubSubBegin = "<!-- pubsub: begin (written by benchrun -pubsub) -->"
	PubSubEnd   = "<!-- pubsub: end -->"
)

// PubSubSection returns the pub/sub section of page, markers included, or
// "" when it has none.
func PubSubSection(page string) string {
	i := strings.Index(page, PubSubBegin)
	j := strings.Index(page, PubSubEnd)
	if i < 0 || j < i {
		return ""
	}
	return page[i : j+len(PubSubEnd)]
}

// ReplacePubSubSection returns page with its pub/sub section replaced by
// one drawn from res, or added at the end.
func ReplacePubSubSection(page string, res *suite.PubSubResults) (string, error) {
	var b strings.Builder
	if err := PubSubMarkdown(&b, res); err != nil {
		return "", err
	}
	section := strings.TrimRight(b.String(), "\n")
	if old := PubSubSection(page); old != "" {
		return strings.Replace(page, old, section, 1), nil
	}
	if page != "" && !strings.HasSuffix(page, "\n\n") {
		page = strings.TrimRight(page, "\n") + "\n\n"
	}
	return page + section + "\n", nil
}

// pubsubTarget is one target of the pub/sub workloads, measured against
// centrifuge in the same run.
type pubsubTarget struct {
	what  string
	nodes int
	subs  int
	// eval returns the cell and whether it meets the target.
	eval func(sw, cf *suite.PubSubMeasurement) (string, bool)
}

func pubsubTargets(subs []int, nodes []int) []pubsubTarget {
	var ts []pubsubTarget
	for _, n := range nodes {
		bound := 1.5
		if n == 2 {
			bound = 1.3
		}
		for _, s := range subs {
			ts = append(ts, pubsubTarget{
				what: fmt.Sprintf("deliveries/s ≥ %.1f× centrifuge", bound), nodes: n, subs: s,
				eval: func(sw, cf *suite.PubSubMeasurement) (string, bool) {
					r := sw.Throughput.Rate() / cf.Throughput.Rate()
					return fmtRatio(r), r >= bound
				},
			}, pubsubTarget{
				what: "p99 publish-to-delivery ≤ centrifuge's", nodes: n, subs: s,
				eval: func(sw, cf *suite.PubSubMeasurement) (string, bool) {
					r := float64(sw.Latency.P99) / float64(cf.Latency.P99)
					return fmt.Sprintf("%s (%s vs %s)", fmtRatio(r), fmtSeconds(sw.Latency.P99.Seconds()), fmtSeconds(cf.Latency.P99.Seconds())), r <= 1
				},
			})
			if n == 1 {
				ts = append(ts, pubsubTarget{
					what: "server RSS per subscribed connection ≤ centrifuge's", nodes: n, subs: s,
					eval: func(sw, cf *suite.PubSubMeasurement) (string, bool) {
						a, _ := sw.PerConn()
						c, _ := cf.PerConn()
						return fmt.Sprintf("%s (%s vs %s)", fmtRatio(a/c), fmtKiB(a), fmtKiB(c)), a <= c
					},
				})
			} else {
				ts = append(ts, pubsubTarget{
					what: "messages lost = 0", nodes: n, subs: s,
					eval: func(sw, cf *suite.PubSubMeasurement) (string, bool) {
						return fmt.Sprintf("%d (centrifuge %d)", sw.Lost(), cf.Lost()), sw.Lost() == 0
					},
				})
			}
		}
	}
	return ts
}

// PubSubMarkdown writes the pub/sub section of the page, markers
// included.
func PubSubMarkdown(w io.Writer, res *suite.PubSubResults) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := res.Meta
	p("%s\n\n", PubSubBegin)
	p("## Pub/sub: swill-go against centrifuge\n\n")
	p("Fan-out of one channel to many subscribers, one subscription per connection, with swill-go's\n")
	p("`pubsub.Hub` and with [centrifuge](https://github.com/centrifugal/centrifuge) as the peer, measured by\n")
	p("`benchrun -pubsub` in the same run: a fresh server process (two for two nodes) and a separate\n")
	p("subscribers' process for every measurement, on loopback, the peers taking turns.\n\n")
	p("Produced on %s with:\n\n", m.Date.Format("2006-01-02 15:04 MST"))
	p("```sh\ncd bench && %s\n```\n\n", m.Command)
	p("Machine: %d × %s, %s, %s", m.Cores, orUnknown(m.CPU), orUnknown(m.Kernel), m.GoVersion)
	if m.RedisVersion != "" {
		p("; Redis %s (a private redis-server on a free loopback port, no persistence)", m.RedisVersion)
	}
	p(". Load average (1, 5, 15 min) %s at the start, %s at the end.\n\n", m.Load, m.LoadAfter)
	for i := range res.Runs {
		mean, worst := pubsubForeign(&res.Runs[i])
		p("Other processes took %.0f%% of the machine's CPU on average during the throughput phases of run %d (%.0f%% in the worst).\n", 100*mean, i+1, 100*worst)
	}
	p("\n")
	p("How it measures:\n\n")
	p("- Every subscriber connects and subscribes to channel `bench`; once all are subscribed and a second has\n")
	p("  passed, the server's memory is sampled (VmRSS and the live Go heap after a forced collection, as in\n")
	p("  the idle scenario) and compared with the sample taken before the first connection.\n")
	p("- The publisher is the server's own code (the first server's, for two nodes), asked through its control\n")
	p("  channel to publish at a fixed rate; every message is the same struct, about 60 bytes of MsgPack\n")
	p("  (`{seq, phase, ts, text}`): swill-go's hub encodes it as the item's data, centrifuge carries the\n")
	p("  same MsgPack bytes as the publication's data (`node.Publish`). No history, no presence on either side.\n")
	p("- **Latency phase**: %d publications at a rate that offers %d deliveries per second (publications per\n", m.LatencyPublications, m.LatencyDeliveries)
	p("  second × subscribers), well under what either server delivers; the latency of every delivery is\n")
	p("  the subscriber's clock at arrival minus the time stamped at publication (one machine, one clock).\n")
	p("- **Throughput phase**: %d deliveries in all (%d ÷ subscribers publications), published at %d per\n", m.ThroughputDeliveries, m.ThroughputDeliveries, m.ThroughputRate)
	p("  second, faster than either server fans out; deliveries/s is what arrived divided by the time from\n")
	p("  the first publication to the last delivery.\n")
	p("- **Lost**: every subscriber counts each phase's publications; lost is what was expected and did not\n")
	p("  arrive, both phases; a subscription that ended, or a publication out of order, fails the measurement.\n")
	p("- Subscribers: for both peers, raw clients of each server's own wire protocol on coder/websocket, one\n")
	p("  goroutine per connection, reading into a reused buffer and decoding the frame with the protocol's own\n")
	p("  decoder. swill-go's speaks `swill.subscribe` (the METADATA frame first, then `{channel, data, offset}`\n")
	p("  items); centrifuge's its Protobuf protocol (connect, subscribe, publication pushes, answering pings).\n")
	p("  The SDKs (clientgo, centrifuge-go) were left out because the subscribers share the machine's two cores\n")
	p("  with the server: the lighter and more alike the clients, the more the figures tell about the servers.\n\n")

	p("| peer | what |\n|---|---|\n")
	for _, pe := range res.Peers {
		p("| `%s` | %s |\n", pe.Name, pe.Description)
	}
	p("\n")

	if len(res.Runs) == 0 {
		p("%s\n", PubSubEnd)
		_, err := io.WriteString(w, b.String())
		return err
	}
	p("### Targets\n\n")
	p("| nodes | subscribers | target |%s verdict |\n|---|---:|---|%s---|\n", runHeaders(len(res.Runs)), strings.Repeat("---|", len(res.Runs)))
	met, total := 0, 0
	for _, t := range pubsubTargets(m.Subscribers, m.Nodes) {
		var cells []string
		ok := true
		measured := true
		for i := range res.Runs {
			sw := res.Runs[i].Find("swill", t.nodes, t.subs)
			cf := res.Runs[i].Find("centrifuge", t.nodes, t.subs)
			if !usable(sw) || !usable(cf) {
				cells = append(cells, "n/a")
				measured = false
				continue
			}
			c, good := t.eval(sw, cf)
			cells = append(cells, c)
			ok = ok && good
		}
		verdict := "**not met**"
		switch {
		case !measured:
			verdict = "not measured"
		case ok:
			verdict = "**met**"
			met++
		}
		total++
		p("| %d | %d | %s | %s | %s |\n", t.nodes, t.subs, t.what, strings.Join(cells, " | "), verdict)
	}
	p("\n%d of %d targets met.\n\n", met, total)

	p("### Results\n\n")
	p("Each cell shows the runs in order, separated by `·`. Latencies are from the latency phase,\n")
	p("deliveries/s, server CPU and write system calls (syscw of /proc/self/io) from the throughput phase,\n")
	p("all servers together for two nodes (the redis-server's own CPU is not counted); memory is per\n")
	p("subscribed connection.\n\n")
	p("| nodes | subscribers | peer | deliveries/s | ÷ centrifuge | p50 | p99 | p99.9 | lost | server RSS per conn | server heap per conn | server CPU per 1k deliveries | deliveries per server write |\n")
	p("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range m.Nodes {
		for _, s := range m.Subscribers {
			for _, pe := range res.Peers {
				cells := func(f func(sw, cf *suite.PubSubMeasurement) string) string {
					var out []string
					for i := range res.Runs {
						me := res.Runs[i].Find(pe.Name, n, s)
						cf := res.Runs[i].Find("centrifuge", n, s)
						if !usable(me) {
							if me != nil && me.Err != "" {
								out = append(out, "failed")
							} else {
								out = append(out, "–")
							}
							continue
						}
						out = append(out, f(me, cf))
					}
					return strings.Join(out, " · ")
				}
				lat := func(pick func(r *ctl.PubSubResult) float64) string {
					return cells(func(me, _ *suite.PubSubMeasurement) string { return fmtSeconds(pick(me.Latency)) })
				}
				p("| %d | %d | `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, s, pe.Name,
					cells(func(me, _ *suite.PubSubMeasurement) string { return fmtRate(me.Throughput.Rate()) }),
					cells(func(me, cf *suite.PubSubMeasurement) string {
						if !usable(cf) {
							return "–"
						}
						return fmtRatio(me.Throughput.Rate() / cf.Throughput.Rate())
					}),
					lat(func(r *ctl.PubSubResult) float64 { return r.P50.Seconds() }),
					lat(func(r *ctl.PubSubResult) float64 { return r.P99.Seconds() }),
					lat(func(r *ctl.PubSubResult) float64 { return r.P999.Seconds() }),
					cells(func(me, _ *suite.PubSubMeasurement) string { return fmt.Sprint(me.Lost()) }),
					cells(func(me, _ *suite.PubSubMeasurement) string { rss, _ := me.PerConn(); return fmtKiB(rss) }),
					cells(func(me, _ *suite.PubSubMeasurement) string { _, heap := me.PerConn(); return fmtKiB(heap) }),
					cells(func(me, _ *suite.PubSubMeasurement) string {
						return fmtMillis(me.ServerCPU.Total().Seconds() / float64(max(me.Throughput.Deliveries, 1)) * 1000)
					}),
					cells(func(me, _ *suite.PubSubMeasurement) string {
						return fmtCount(float64(me.Throughput.Deliveries) / float64(max(me.ServerCPU.Writes, 1)))
					}),
				)
			}
		}
	}
	p("\n")
	var failed []string
	for i := range res.Runs {
		for _, me := range res.Runs[i].Measurements {
			if me.Err != "" {
				failed = append(failed, fmt.Sprintf("- run %d, `%s`, %d node(s), %d subscribers: %s", i+1, me.Peer, me.Nodes, me.Subscribers, me.Err))
			}
		}
	}
	if len(failed) > 0 {
		p("Failed:\n\n%s\n\n", strings.Join(failed, "\n"))
	}
	for _, n := range res.Notes {
		p("- %s\n", n)
	}
	if len(res.Notes) > 0 {
		p("\n")
	}
	p("%s\n", PubSubEnd)
	_, err := io.WriteString(w, b.String())
	return err
}

func usable(m *suite.PubSubMeasurement) bool {
	return m != nil && m.Err == "" && m.Latency != nil && m.Throughput != nil && m.Throughput.Rate() > 0
}

func pubsubForeign(r *suite.PubSubRun) (mean, worst float64) {
	n := 0
	for i := range r.Measurements {
		m := &r.Measurements[i]
		if !usable(m) {
			continue
		}
		f := m.Foreign()
		mean += f
		worst = max(worst, f)
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return mean, worst
}
