package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/swillorg/swill-go/bench/internal/suite"
)

// Baseline is the peer ratios are taken against.
const Baseline = "raw"

// metric extracts one number from a run; ok is false when the run has no
// valid measurement for it.
type metric func(r *suite.Run, peer string) (v float64, ok bool)

func client(r *suite.Run, scenario, peer, kind string) *suite.Measurement {
	m := r.Find(scenario, peer, kind)
	if m == nil || m.Err != "" || m.Client == nil || m.Client.Calls == 0 {
		return nil
	}
	return m
}

// rate is calls (or stream items) per second.
func rate(scenario, kind string) metric {
	return func(r *suite.Run, peer string) (float64, bool) {
		m := client(r, scenario, peer, kind)
		if m == nil {
			return 0, false
		}
		return m.Client.Rate(), true
	}
}

// latency is a percentile of the latency scenario, in seconds.
func latency(kind string, pick func(m *suite.Measurement) time.Duration) metric {
	return func(r *suite.Run, peer string) (float64, bool) {
		m := client(r, suite.Latency, peer, kind)
		if m == nil {
			return 0, false
		}
		return pick(m).Seconds(), true
	}
}

func p50(m *suite.Measurement) time.Duration  { return m.Client.P50 }
func p99(m *suite.Measurement) time.Duration  { return m.Client.P99 }
func p999(m *suite.Measurement) time.Duration { return m.Client.P999 }

// cpuPer1k is CPU seconds per 1,000 calls; side is "client", "server" or
// "total".
func cpuPer1k(scenario, kind, side string) metric {
	return func(r *suite.Run, peer string) (float64, bool) {
		m := client(r, scenario, peer, kind)
		if m == nil {
			return 0, false
		}
		var d time.Duration
		switch side {
		case "client":
			d = m.Client.CPU.Total()
		case "server":
			d = m.ServerCPU.Total()
		default:
			d = m.Client.CPU.Total() + m.ServerCPU.Total()
		}
		return d.Seconds() / float64(m.Client.Calls) * 1000, true
	}
}

// perWrite is calls per write system call of one side ("client" or
// "server"): how many frames a write carries.
func perWrite(scenario, kind, side string) metric {
	return func(r *suite.Run, peer string) (float64, bool) {
		m := client(r, scenario, peer, kind)
		if m == nil {
			return 0, false
		}
		w := m.Client.CPU.Writes
		if side == "server" {
			w = m.ServerCPU.Writes
		}
		if w == 0 {
			return 0, false
		}
		return float64(m.Client.Calls) / float64(w), true
	}
}

// idle is a per-connection figure of the server at idle step i (counted
// from the end when negative); field is "rss", "heap", "stack" or
// "goroutines".
func idle(step int, field string) metric {
	return func(r *suite.Run, peer string) (float64, bool) {
		m := r.Find(suite.Idle, peer, "")
		if m == nil || m.Err != "" {
			return 0, false
		}
		if step < 0 {
			step += len(m.Idle)
		}
		if step < 0 || step >= len(m.Idle) {
			return 0, false
		}
		rss, heap, stack, g := m.Idle[step].PerConn()
		switch field {
		case "rss":
			return rss, true
		case "heap":
			return heap, true
		case "stack":
			return stack, true
		}
		return g, true
	}
}

// ratio divides peer's value by the baseline's.
func ratio(f metric, r *suite.Run, peer string) (float64, bool) {
	v, ok := f(r, peer)
	b, okb := f(r, Baseline)
	if !ok || !okb || b == 0 {
		return 0, false
	}
	return v / b, true
}

func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtSeconds(v float64) string {
	switch {
	case v >= 1:
		return fmt.Sprintf("%.2f s", v)
	case v >= 1e-3:
		return fmt.Sprintf("%.2f ms", v*1e3)
	}
	return fmt.Sprintf("%.1f µs", v*1e6)
}

func fmtMillis(v float64) string { return fmt.Sprintf("%.1f ms", v*1e3) }

func fmtKiB(v float64) string { return fmt.Sprintf("%.1f KiB", v/1024) }

func fmtCount(v float64) string { return fmt.Sprintf("%.2f", v) }

func fmtFew(v float64) string { return fmt.Sprintf("%.1f", v) }

func fmtRatio(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// cell joins one value per run: "108.2k · 110.5k".
func cell(runs []suite.Run, peer string, f metric, format func(float64) string) string {
	parts := make([]string, len(runs))
	for i := range runs {
		v, ok := f(&runs[i], peer)
		if !ok || math.IsNaN(v) {
			parts[i] = "n/a"
			continue
		}
		parts[i] = format(v)
	}
	return strings.Join(parts, " · ")
}

func ratioCell(runs []suite.Run, peer string, f metric) string {
	parts := make([]string, len(runs))
	for i := range runs {
		v, ok := ratio(f, &runs[i], peer)
		if !ok {
			parts[i] = "n/a"
			continue
		}
		parts[i] = fmtRatio(v)
	}
	return strings.Join(parts, " · ")
}
