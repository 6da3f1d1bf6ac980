package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/swillorg/swill-go/bench/internal/report"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

type pubsubFlags struct {
	runs                              int
	peers, subs, nodes                string
	latRate, latPubs, tpDeliv, tpRate int
	redis, profile                    string
	quietWait                         time.Duration
	md, json, from, binDir            string
	quick                             bool
	set                               map[string]bool
}

// runPubSub runs the pub/sub workloads (or redraws them from -from) and
// writes their section of docs/benchmarks.md, leaving the rest of the page
// as it is.
func runPubSub(ctx context.Context, f pubsubFlags) error {
	var res *suite.PubSubResults
	moduleDir := ""
	if f.from != "" {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return err
		}
		res = &suite.PubSubResults{}
		if err := json.Unmarshal(b, res); err != nil {
			return fmt.Errorf("%s: %w", f.from, err)
		}
	} else {
		if !f.set["runs"] {
			f.runs = 1
		}
		if f.quick {
			def := func(name string, apply func()) {
				if !f.set[name] {
					apply()
				}
			}
			def("subs", func() { f.subs = "200" })
			def("latency-rate", func() { f.latRate = 10_000 })
			def("latency-pubs", func() { f.latPubs = 20 })
			def("throughput-deliveries", func() { f.tpDeliv = 20_000 })
			def("quiet-wait", func() { f.quietWait = 0 })
			def("md", func() { f.md = "-" })
		}
		var err error
		moduleDir, err = suite.ModuleDir(ctx)
		if err != nil {
			return err
		}
		cfg := suite.PubSubConfig{
			ModuleDir: moduleDir, BinDir: f.binDir, Peers: splitList(f.peers),
			LatencyDeliveries: f.latRate, LatencyPublications: f.latPubs,
			ThroughputDeliveries: f.tpDeliv, ThroughputRate: f.tpRate,
			Runs: f.runs, RedisServer: f.redis, ProfileDir: f.profile, QuietWait: f.quietWait,
			Log: os.Stderr,
		}
		if cfg.Subscribers, err = splitInts(f.subs); err != nil {
			return err
		}
		if cfg.Nodes, err = splitInts(f.nodes); err != nil {
			return err
		}
		if f.profile != "" {
			if err := os.MkdirAll(f.profile, 0o755); err != nil {
				return err
			}
		}
		start := time.Now()
		if res, err = suite.ExecutePubSub(ctx, cfg); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "pub/sub workloads finished in %v\n", time.Since(start).Round(time.Second))
	}
	if f.json != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.json, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	md := f.md
	if md == "" {
		if moduleDir == "" {
			md = "benchmarks.md"
		} else {
			md = filepath.Join(moduleDir, "..", "docs", "benchmarks.md")
		}
	}
	if md == "-" {
		return report.PubSubMarkdown(os.Stdout, res)
	}
	old, err := os.ReadFile(md)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	page, err := report.ReplacePubSubSection(string(old), res)
	if err != nil {
		return err
	}
	if err := os.WriteFile(md, []byte(page), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", md)
	return nil
}

func splitInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
