// Command benchrun runs the benchmark suite and writes its report.
//
// From the bench module (the directory holding bench/go.mod):
//
//	cd bench && go run ./cmd/benchrun
//
// builds the server and client programs, measures every peer in every
// scenario twice, and rewrites docs/benchmarks.md and docs/benchmarks.svg
// of the repository. Flags shrink or focus the run; -quick is a run of a
// few seconds that writes nothing unless -md or -svg is given.
//
//	go run ./cmd/benchrun -quick
//	go run ./cmd/benchrun -peers swill,grpc -scenarios throughput -payloads small
//	go run ./cmd/benchrun -json results.json          # keep the raw results too
//	go run ./cmd/benchrun -from results.json          # only redraw the report
//	go run ./cmd/benchrun -profile /tmp/prof -peers swill
//
// -profile runs one throughput measurement (the first -throughput shape,
// the first -payloads kind) per peer of -peers (default swill) with CPU and
// allocation profiles of both processes, for go tool pprof; with
// -scenarios stream it profiles the stream instead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/report"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		runs       = flag.Int("runs", 2, "times the whole suite runs")
		peers      = flag.String("peers", "", "peers to measure, comma-separated (default all; raw is always measured)")
		scenarios  = flag.String("scenarios", "latency,throughput,stream,idle", "scenarios to run")
		payloads   = flag.String("payloads", strings.Join(payload.Kinds, ","), "payloads: small, 4k")
		shapes     = flag.String("throughput", "1x64,16x16", "throughput shapes, CONNSxINFLIGHT, comma-separated")
		rounds     = flag.Int("rounds", 3, "rounds per latency and throughput measurement, each with fresh processes, peers taking turns")
		warmup     = flag.Duration("warmup", 500*time.Millisecond, "warm-up before each timed window")
		duration   = flag.Duration("duration", 3*time.Second, "measured time per peer and timed scenario, split over the rounds")
		quietWait  = flag.Duration("quiet-wait", time.Second, "wait up to this long before each round for other processes to leave the machine quiet")
		maxForeign = flag.Float64("max-foreign", 0.5, "measure a round again when other processes took more than this share of the machine")
		retries    = flag.Int("retries", 1, "times a disturbed round is measured again")
		calls      = flag.Int64("calls", 0, "end the windows after this many calls in all instead (duration stays a cap)")
		messages   = flag.Int("messages", 500_000, "items in the measured stream")
		idle       = flag.String("idle", "5000,20000", "idle connection counts, comma-separated, increasing")
		quick      = flag.Bool("quick", false, "a run of a few seconds with tiny counts; writes no report unless -md or -svg is given")
		mdPath     = flag.String("md", "", "Markdown report to write (default ../docs/benchmarks.md; - for none)")
		svgPath    = flag.String("svg", "", "SVG chart to write (default ../docs/benchmarks.svg; - for none)")
		jsonPath   = flag.String("json", "", "also write the raw results as JSON to this file")
		from       = flag.String("from", "", "do not run: redraw the report from this JSON file")
		profileDir = flag.String("profile", "", "profile -peers (default swill) under throughput, or the stream with -scenarios stream, into this directory instead of running the suite")
		binDir     = flag.String("bin", "", "directory for the built programs (default a temporary one)")

		pubsubRun = flag.Bool("pubsub", false, "run the pub/sub workloads against centrifuge instead of the RPC suite; rewrites the pub/sub section of docs/benchmarks.md")
		psSubs    = flag.String("subs", "1000,10000", "pub/sub: subscriber counts, one connection each")
		psNodes   = flag.String("nodes", "1,2", "pub/sub: node counts, 1 (in-process engine) and 2 (two servers through one Redis)")
		psLatRate = flag.Int("latency-rate", 10_000, "pub/sub: deliveries per second the latency phase offers")
		psLatPubs = flag.Int("latency-pubs", 30, "pub/sub: publications of the latency phase")
		psTpDeliv = flag.Int("throughput-deliveries", 500_000, "pub/sub: deliveries of the throughput phase")
		psTpRate  = flag.Int("throughput-rate", 10_000, "pub/sub: publications per second of the throughput phase (faster than the servers deliver)")
		psRedis   = flag.String("redis-server", "redis-server", "pub/sub: the redis-server program the two-node workloads start")
		psProfile = flag.String("pubsub-profile", "", "pub/sub: directory for CPU and allocation profiles of every server")
	)
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("runs", func() { *runs = 1 })
		def("rounds", func() { *rounds = 1 })
		def("quiet-wait", func() { *quietWait = 0 })
		def("retries", func() { *retries = 0 })
		def("warmup", func() { *warmup = 100 * time.Millisecond })
		def("duration", func() { *duration = 400 * time.Millisecond })
		def("messages", func() { *messages = 20_000 })
		def("idle", func() { *idle = "100,300" })
		def("md", func() { *mdPath = "-" })
		def("svg", func() { *svgPath = "-" })
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *pubsubRun {
		return runPubSub(ctx, pubsubFlags{
			runs: *runs, peers: *peers, subs: *psSubs, nodes: *psNodes,
			latRate: *psLatRate, latPubs: *psLatPubs, tpDeliv: *psTpDeliv, tpRate: *psTpRate,
			redis: *psRedis, profile: *psProfile, quietWait: *quietWait,
			md: *mdPath, json: *jsonPath, from: *from, binDir: *binDir, quick: *quick, set: set,
		})
	}

	var res *suite.Results
	moduleDir := ""
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		res = &suite.Results{}
		if err := json.Unmarshal(b, res); err != nil {
			return fmt.Errorf("%s: %w", *from, err)
		}
	} else {
		var err error
		moduleDir, err = suite.ModuleDir(ctx)
		if err != nil {
			return err
		}
		cfg := suite.Config{
			ModuleDir: moduleDir,
			BinDir:    *binDir,
			Peers:     splitList(*peers),
			Scenarios: splitList(*scenarios),
			Payloads:  splitList(*payloads),
			Warmup:    *warmup,
			Duration:  *duration,
			Calls:     *calls,
			Runs:      *runs,
			Rounds:    *rounds,

			QuietWait:  *quietWait,
			MaxForeign: *maxForeign,
			Retries:    *retries,
			Log:        os.Stderr,

			StreamMessages: *messages,
		}
		for _, s := range splitList(*shapes) {
			sh, err := suite.ParseShape(s)
			if err != nil {
				return err
			}
			cfg.Shapes = append(cfg.Shapes, sh)
		}
		for _, s := range splitList(*idle) {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return fmt.Errorf("bad idle count %q", s)
			}
			cfg.IdleSteps = append(cfg.IdleSteps, n)
		}
		if *profileDir != "" {
			return profile(ctx, cfg, *profileDir)
		}
		start := time.Now()
		res, err = suite.Execute(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "suite finished in %v\n", time.Since(start).Round(time.Second))
	}

	if *jsonPath != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	docs := func(p, name string) string {
		if p != "" {
			return p
		}
		if moduleDir == "" {
			return name // redrawing: next to the working directory
		}
		return filepath.Join(moduleDir, "..", "docs", name)
	}
	md, svg := docs(*mdPath, "benchmarks.md"), docs(*svgPath, "benchmarks.svg")
	if svg != "-" {
		if err := writeFile(svg, func(f *os.File) error { return report.SVG(f, res) }); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "wrote", svg)
	}
	if md != "-" {
		opts := report.Options{}
		if svg != "-" {
			rel, err := filepath.Rel(filepath.Dir(md), svg)
			if err != nil {
				rel = svg
			}
			opts.SVGName = rel
		}
		// The pub/sub section, written by -pubsub, stays as it was.
		var section string
		if old, err := os.ReadFile(md); err == nil {
			section = report.PubSubSection(string(old))
		}
		if err := writeFile(md, func(f *os.File) error {
			if err := report.Markdown(f, res, opts); err != nil {
				return err
			}
			if section != "" {
				_, err := fmt.Fprintf(f, "\n%s\n", section)
				return err
			}
			return nil
		}); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "wrote", md)
	}
	if md == "-" && svg == "-" {
		return report.Markdown(os.Stdout, res, report.Options{})
	}
	return nil
}

func profile(ctx context.Context, cfg suite.Config, dir string) error {
	shape := suite.Shape{Conns: 1, InFlight: 64}
	if len(cfg.Shapes) > 0 {
		shape = cfg.Shapes[0]
	}
	names := cfg.Peers
	if len(names) == 0 {
		names = []string{"swill"}
	}
	kind := payload.Small
	if len(cfg.Payloads) > 0 {
		kind = cfg.Payloads[0]
	}
	for _, name := range names {
		pdir := filepath.Join(dir, name)
		stream := len(cfg.Scenarios) > 0 && cfg.Scenarios[0] == suite.Stream
		res, cpu, err := suite.Profile(ctx, cfg, suite.ProfileConfig{Dir: pdir, Peer: name, Stream: stream, Shape: shape, Kind: kind})
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%dx%d", shape.Conns, shape.InFlight)
		if stream {
			what = "stream"
		}
		fmt.Printf("%s %s %s: %.0f calls/s, client CPU %v, server CPU %v; profiles in %s\n",
			name, what, kind, res.Rate(), res.CPU.Total().Round(time.Millisecond), cpu.Total().Round(time.Millisecond), pdir)
		fmt.Printf("  go tool pprof -top %s %s\n", filepath.Join(pdir, "benchserver"), filepath.Join(pdir, "server.cpu.pprof"))
	}
	return nil
}

func writeFile(path string, fill func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
