package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/swillorg/swill-go/bench/internal/suite"
)

// Options adds to the page what the results do not hold.
type Options struct {
	// SVGName is the chart's file name, relative to the page.
	SVGName string
	// Notes are extra remarks listed under "Notes".
	Notes []string
}

// Markdown writes the results page.
func Markdown(w io.Writer, res *suite.Results, opts Options) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	peers := make([]string, len(res.Peers))
	for i, in := range res.Peers {
		peers[i] = in.Name
	}
	runs := res.Runs
	m := res.Meta

	p("# Benchmarks\n\n")
	p("swill-go side by side with gRPC-go and with hand-written WebSocket code, measured by the suite in\n")
	p("[`bench/`](../bench) (a Go module of its own, so that gRPC stays out of the library's `go.mod`).\n")
	p("Every measurement starts a fresh server process and a separate client process on loopback;\n")
	p("the peers take turns within each scenario so that a noisy spell of the machine hits them alike.\n")
	p("The whole suite ran %d times; every cell shows the runs in order, separated by `·`.\n", len(runs))
	p("The pub/sub workloads against centrifuge (`benchrun -pubsub`) are measured on their own, in\n")
	p("[their section](#pubsub-swill-go-against-centrifuge) at the end of this page.\n\n")

	p("Produced on %s with:\n\n", m.Date.Format("2006-01-02 15:04 MST"))
	p("```sh\ncd bench && %s\n```\n\n", m.Command)
	p("Machine: %d × %s, %s, %s. ", m.Cores, orUnknown(m.CPU), orUnknown(m.Kernel), m.GoVersion)
	p("Each latency and throughput figure adds up %d rounds, each with fresh processes and a warm-up of %v, %v measured in all", max(m.Rounds, 1), m.Warmup, m.Duration)
	if m.Calls > 0 {
		p(" (or %d calls)", m.Calls)
	}
	p("; streams of %d items; idle steps %s connections.", m.StreamMessages, joinInts(m.IdleSteps))
	if m.QuietWait > 0 {
		p(" Each round waited up to %v for the machine to be quiet", m.QuietWait)
		if m.Retries > 0 && m.MaxForeign > 0 {
			p(", and was measured again (up to %d time(s), the quietest attempt kept) when other processes took over %.0f%% of its CPU", m.Retries, 100*m.MaxForeign)
		}
		p(".")
	}
	p("\n\n")
	for i := range runs {
		mean, worst := foreignLoad(&runs[i])
		p("Other processes on the machine took %.0f%% of its CPU on average during the measured windows of run %d (%.0f%% in the worst measurement).\n", 100*mean, i+1, 100*worst)
	}
	p("\n")

	p("Run the full suite (10 to 20 minutes for two runs, depending on how busy the machine is; it rewrites\nthis page and its chart):\n\n")
	p("```sh\ncd bench && go run ./cmd/benchrun\n```\n\n")
	p("`-runs`, `-rounds`, `-duration`, `-warmup`, `-calls`, `-messages`, `-idle`, `-peers`, `-scenarios`, `-payloads` and `-throughput`\n")
	p("shrink it; `-quick` is a run of a few seconds. The smoke test runs every peer and scenario with tiny counts:\n\n")
	p("```sh\ncd bench && go test ./...\n```\n\n")

	p("## Peers\n\n| peer | what |\n|---|---|\n")
	for _, in := range res.Peers {
		p("| `%s` | %s |\n", in.Name, in.Description)
	}
	for _, s := range res.Skipped {
		p("| `%s` | not measured: %s |\n", s.Peer, s.Reason)
	}
	p("\nThe payload is a struct of five fields, about 60 bytes of MsgPack (`small`), or the same struct\n")
	p("carrying 4 KiB of bytes (`4k`). Every server returns it with its `id` incremented; every client checks\n")
	p("every reply, and every stream item, field by field.\n\n")

	p("## Targets\n\nRatios measured in the same run, small payload. \"Fastest transport\" is the swill-go peer with the\n")
	p("most calls per second over one connection in that run.\n\n")
	p("| for | target |%s verdict |\n|---|---|%s---|\n", runHeaders(len(runs)), strings.Repeat("---|", len(runs)))
	for _, t := range Targets(peers) {
		cells, sum := verdict(t, runs)
		p("| %s | %s | %s | %s |\n", t.Who, t.What, strings.Join(cells, " | "), sum)
	}
	p("\n")

	if opts.SVGName != "" {
		p("## Chart\n\n![Ratios against the raw baseline](%s)\n\n", opts.SVGName)
		p("Bars are the mean of the runs, dots the runs themselves; the dashed line is the raw baseline.\n\n")
	}

	shapes := m.Shapes
	p("## Throughput\n\nCalls per second with many calls in flight, and the ratio to raw.\n\n")
	p("| peer | payload |")
	for _, s := range shapes {
		p(" %d×%d calls/s | ÷ raw |", s.Conns, s.InFlight)
	}
	p("\n|---|---|%s\n", strings.Repeat("---:|---:|", len(shapes)))
	for _, kind := range m.Payloads {
		for _, peer := range peers {
			p("| `%s` | %s |", peer, kind)
			for _, s := range shapes {
				f := rate(s.Scenario(), kind)
				p(" %s | %s |", cell(runs, peer, f, fmtRate), ratioCell(runs, peer, f))
			}
			p("\n")
		}
	}

	p("\n## Latency\n\nOne connection, one call at a time.\n\n")
	p("| peer | payload | p50 | p99 | p99.9 | p50 ÷ raw | p99 ÷ raw |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, kind := range m.Payloads {
		for _, peer := range peers {
			p("| `%s` | %s | %s | %s | %s | %s | %s |\n", peer, kind,
				cell(runs, peer, latency(kind, p50), fmtSeconds),
				cell(runs, peer, latency(kind, p99), fmtSeconds),
				cell(runs, peer, latency(kind, p999), fmtSeconds),
				ratioCell(runs, peer, latency(kind, p50)),
				ratioCell(runs, peer, latency(kind, p99)))
		}
	}

	p("\n## Server stream\n\nItems per second of one stream of %d items on one connection.\n\n", m.StreamMessages)
	p("| peer | payload | items/s | ÷ raw |\n|---|---|---:|---:|\n")
	for _, kind := range m.Payloads {
		for _, peer := range peers {
			f := rate(suite.Stream, kind)
			p("| `%s` | %s | %s | %s |\n", peer, kind, cell(runs, peer, f, fmtRate), ratioCell(runs, peer, f))
		}
	}

	p("\n## Efficiency\n\nCPU time per 1,000 calls, from getrusage in each process over the measured window\n")
	p("(user + system), in the throughput scenarios; and how many calls each write system call carried\n")
	p("(syscw of /proc/self/io), which shows how well each side batches its frames.\n\n")
	p("| peer | payload | shape | client CPU | server CPU | total CPU | total ÷ raw | calls per client write | calls per server write |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range shapes {
		for _, kind := range m.Payloads {
			for _, peer := range peers {
				sc := s.Scenario()
				p("| `%s` | %s | %d×%d | %s | %s | %s | %s | %s | %s |\n", peer, kind, s.Conns, s.InFlight,
					cell(runs, peer, cpuPer1k(sc, kind, "client"), fmtMillis),
					cell(runs, peer, cpuPer1k(sc, kind, "server"), fmtMillis),
					cell(runs, peer, cpuPer1k(sc, kind, "total"), fmtMillis),
					ratioCell(runs, peer, cpuPer1k(sc, kind, "total")),
					cell(runs, peer, perWrite(sc, kind, "client"), fmtFew),
					cell(runs, peer, perWrite(sc, kind, "server"), fmtFew))
			}
		}
	}

	p("\n## Idle connections\n\nWhat the server process holds per open connection, each connection having made one call:\n")
	p("growth of its resident memory (VmRSS), of its live Go heap and of its goroutine stacks over the server\n")
	p("before any connection, after a forced collection that returns freed memory to the system.\n\n")
	p("| peer | connections | RSS / conn | heap / conn | stacks / conn | goroutines / conn | RSS ÷ raw |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for i, n := range m.IdleSteps {
		for _, peer := range peers {
			p("| `%s` | %d | %s | %s | %s | %s | %s |\n", peer, n,
				cell(runs, peer, idle(i, "rss"), fmtKiB),
				cell(runs, peer, idle(i, "heap"), fmtKiB),
				cell(runs, peer, idle(i, "stack"), fmtKiB),
				cell(runs, peer, idle(i, "goroutines"), fmtCount),
				ratioCell(runs, peer, idle(i, "rss")))
		}
	}

	p("\n## Reading the numbers\n\n")
	p("- Compare ratios within a run, not absolute figures across runs or machines.\n")
	p("- On a virtual machine, sequential latency depends heavily on whether the virtual CPUs halt between calls:\n")
	p("  waking a halted one takes tens of microseconds, so a run with other load on the machine can show lower\n")
	p("  latencies than a quiet one.\n")
	p("- coder/websocket writes the header and the payload of a large message with two system calls, hence 0.5\n")
	p("  calls per write for the raw peer with 4 KiB payloads.\n")
	p("- The Go heap per connection can exceed the RSS per connection: memory allocated but never written (large\n")
	p("  buffers) counts in the heap but never becomes resident.\n")

	var failures []string
	for ri, r := range runs {
		for _, ms := range r.Measurements {
			if ms.Err != "" {
				failures = append(failures, fmt.Sprintf("run %d, %s, %s %s: %s", ri+1, ms.Peer, ms.Scenario, ms.Payload, ms.Err))
			}
		}
	}
	notes := slices.Concat(res.Notes, opts.Notes)
	if len(notes)+len(failures) > 0 {
		p("\n## Notes\n\n")
		for _, n := range notes {
			p("- %s\n", n)
		}
		for _, f := range failures {
			p("- Failed: %s\n", strings.ReplaceAll(f, "\n", " "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// foreignLoad returns the mean share of the machine's CPU that other
// processes took during a run's measured windows, weighted by window, and
// the worst share of one measurement.
func foreignLoad(r *suite.Run) (mean, worst float64) {
	var foreign, total float64
	for i := range r.Measurements {
		m := &r.Measurements[i]
		if m.Client == nil || m.Machine.Total <= 0 {
			continue
		}
		f := m.Foreign()
		foreign += f * float64(m.Machine.Total)
		total += float64(m.Machine.Total)
		worst = max(worst, f)
	}
	if total == 0 {
		return 0, 0
	}
	return foreign / total, worst
}

func runHeaders(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " run %d |", i+1)
	}
	return b.String()
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, " and ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
