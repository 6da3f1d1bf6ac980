package suite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/procstat"
)

// PubSubConfig says what the pub/sub workloads run.
type PubSubConfig struct {
	// ModuleDir and BinDir are as in Config.
	ModuleDir, BinDir string
	// Peers are the pub/sub peers, by name; empty means swill and
	// centrifuge.
	Peers []string
	// Subscribers are the subscriber counts, one connection each.
	Subscribers []int
	// Nodes are the node counts: 1 (the in-process engine or broker) and
	// 2 (two servers through one Redis, the subscribers split over them,
	// publishing on the first).
	Nodes []int
	// LatencyDeliveries is the deliveries per second the latency phase
	// offers (publications per second × subscribers), well under what the
	// servers can do, and LatencyPublications its length.
	LatencyDeliveries   int
	LatencyPublications int
	// ThroughputDeliveries is the number of deliveries of the throughput
	// phase, published at ThroughputRate publications per second: faster
	// than the servers deliver, so that the phase measures how fast they
	// do.
	ThroughputDeliveries int
	ThroughputRate       int
	// Settle is the pause between the last subscription and the memory
	// sample.
	Settle time.Duration
	// Runs is how many times every workload runs; zero means one.
	Runs int
	// RedisServer is the redis-server program for the two-node workloads;
	// empty means "redis-server" on PATH. The suite starts its own on a
	// free loopback port and stops it at the end.
	RedisServer string
	// ProfileDir, when set, makes every server write CPU and allocation
	// profiles there, and a heap profile once every subscriber is
	// subscribed, named after the peer, the nodes and the
	// subscribers.
	ProfileDir string
	// QuietWait is as in Config.
	QuietWait time.Duration
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// PubSubResults is everything a pub/sub run produced.
type PubSubResults struct {
	Meta PubSubMeta `json:"meta"`
	// Peers names and describes the peers measured, in report order.
	Peers []PubSubPeer `json:"peers"`
	Runs  []PubSubRun  `json:"runs"`
	Notes []string     `json:"notes,omitempty"`
}

// PubSubPeer names a pub/sub peer.
type PubSubPeer struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// PubSubMeta describes the machine and the settings.
type PubSubMeta struct {
	Date                 time.Time `json:"date"`
	Command              string    `json:"command"`
	GoVersion            string    `json:"go_version"`
	CPU                  string    `json:"cpu"`
	Cores                int       `json:"cores"`
	Kernel               string    `json:"kernel"`
	Load                 string    `json:"load"`
	LoadAfter            string    `json:"load_after"`
	RedisVersion         string    `json:"redis_version,omitempty"`
	Subscribers          []int     `json:"subscribers"`
	Nodes                []int     `json:"nodes"`
	LatencyDeliveries    int       `json:"latency_deliveries"`
	LatencyPublications  int       `json:"latency_publications"`
	ThroughputDeliveries int       `json:"throughput_deliveries"`
	ThroughputRate       int       `json:"throughput_rate"`
}

// PubSubRun is one pass over every workload.
type PubSubRun struct {
	Measurements []PubSubMeasurement `json:"measurements"`
}

// PubSubMeasurement is one peer in one workload.
type PubSubMeasurement struct {
	Peer        string `json:"peer"`
	Nodes       int    `json:"nodes"`
	Subscribers int    `json:"subscribers"`
	// Latency and Throughput are the two phases.
	Latency    *ctl.PubSubResult `json:"latency,omitempty"`
	Throughput *ctl.PubSubResult `json:"throughput,omitempty"`
	// Base and At are each server's memory before the first subscriber
	// connected and once all were subscribed.
	Base []procstat.Memory `json:"base,omitempty"`
	At   []procstat.Memory `json:"at,omitempty"`
	// ServerCPU is the servers' CPU time over the throughput phase, and
	// Machine the machine's.
	ServerCPU procstat.CPU     `json:"server_cpu"`
	Machine   procstat.Machine `json:"machine"`
	Err       string           `json:"error,omitempty"`
}

// PerConn returns the servers' RSS and Go heap growth per subscribed
// connection.
func (m *PubSubMeasurement) PerConn() (rss, heap float64) {
	if len(m.At) == 0 || len(m.At) != len(m.Base) || m.Subscribers == 0 {
		return 0, 0
	}
	for i := range m.At {
		rss += float64(m.At[i].RSS) - float64(m.Base[i].RSS)
		heap += float64(m.At[i].HeapAlloc) - float64(m.Base[i].HeapAlloc)
	}
	n := float64(m.Subscribers)
	return rss / n, heap / n
}

// Lost is every expected delivery that did not arrive, both phases.
func (m *PubSubMeasurement) Lost() int64 {
	var n int64
	for _, r := range []*ctl.PubSubResult{m.Latency, m.Throughput} {
		if r != nil {
			n += r.Lost
		}
	}
	return n
}

// Find returns the measurement of peer with nodes and subs.
func (r *PubSubRun) Find(peerName string, nodes, subs int) *PubSubMeasurement {
	for i := range r.Measurements {
		m := &r.Measurements[i]
		if m.Peer == peerName && m.Nodes == nodes && m.Subscribers == subs {
			return m
		}
	}
	return nil
}

// pubsubPeers are the pub/sub peers in report order.
var pubsubPeers = []PubSubPeer{
	{Name: "swill", Description: "swill-go server with a `pubsub.Hub` (in-process engine; `pubsub/redisengine` for two nodes), default transport; raw WebSocket subscribers of `swill.subscribe`"},
	{Name: "centrifuge", Description: "centrifugal/centrifuge node (memory broker; its Redis broker for two nodes) and its WebSocket handler; raw WebSocket subscribers of its Protobuf protocol"},
}

// ExecutePubSub builds the programs and runs the pub/sub workloads, the
// peers taking turns within each.
func ExecutePubSub(ctx context.Context, cfg PubSubConfig) (*PubSubResults, error) {
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) }
	if cfg.Runs <= 0 {
		cfg.Runs = 1
	}
	if cfg.Settle <= 0 {
		cfg.Settle = time.Second
	}
	res := &PubSubResults{}
	for _, p := range pubsubPeers {
		if len(cfg.Peers) == 0 || containsStr(cfg.Peers, p.Name) {
			res.Peers = append(res.Peers, p)
		}
	}
	for _, want := range cfg.Peers {
		if !containsFunc(pubsubPeers, func(p PubSubPeer) bool { return p.Name == want }) {
			return nil, fmt.Errorf("suite: no pub/sub peer named %q", want)
		}
	}
	for _, n := range cfg.Nodes {
		if n != 1 && n != 2 {
			return nil, fmt.Errorf("suite: %d nodes: the pub/sub workloads run on 1 or 2", n)
		}
	}
	limit, err := procstat.RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	subsCounts := []int{}
	for _, n := range cfg.Subscribers {
		if max := int(limit) - fdReserve; n > max {
			res.Notes = append(res.Notes, fmt.Sprintf("%d subscribers asked for, %d measured: the open-file limit is %d per process.", n, max, limit))
			n = max
		}
		subsCounts = append(subsCounts, n)
	}

	dir := cfg.BinDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "swill-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	logf("building the server and client programs into %s", dir)
	bins, _, err := Build(ctx, cfg.ModuleDir, dir)
	if err != nil {
		return nil, err
	}

	var redisAddr string
	if containsInt(cfg.Nodes, 2) {
		rs, err := startRedis(cfg.RedisServer)
		if err != nil {
			return nil, err
		}
		defer rs.stop()
		redisAddr = rs.addr
		res.Meta.RedisVersion = rs.version
		logf("redis-server %s on %s", rs.version, rs.addr)
	}

	m := meta(Config{}, limit, nil)
	res.Meta = PubSubMeta{
		Date: m.Date, GoVersion: m.GoVersion, CPU: m.CPU, Cores: m.Cores, Kernel: m.Kernel,
		Command:              m.Command,
		Load:                 loadAvg(),
		RedisVersion:         res.Meta.RedisVersion,
		Subscribers:          subsCounts,
		Nodes:                cfg.Nodes,
		LatencyDeliveries:    cfg.LatencyDeliveries,
		LatencyPublications:  cfg.LatencyPublications,
		ThroughputDeliveries: cfg.ThroughputDeliveries,
		ThroughputRate:       cfg.ThroughputRate,
	}
	r := &runner{cfg: Config{QuietWait: cfg.QuietWait}, bins: bins, logf: logf}
	for run := range cfg.Runs {
		logf("pub/sub run %d of %d", run+1, cfg.Runs)
		var pr PubSubRun
		for _, nodes := range cfg.Nodes {
			for _, subs := range subsCounts {
				for _, p := range res.Peers {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					r.waitQuiet()
					meas := r.pubsub(cfg, p.Name, nodes, subs, redisAddr)
					logPubSub(logf, &meas)
					pr.Measurements = append(pr.Measurements, meas)
				}
			}
		}
		res.Runs = append(res.Runs, pr)
	}
	res.Meta.LoadAfter = loadAvg()
	return res, nil
}

func logPubSub(logf func(string, ...any), m *PubSubMeasurement) {
	name := fmt.Sprintf("  pubsub %d node(s) %5d subs %-10s", m.Nodes, m.Subscribers, m.Peer)
	if m.Err != "" {
		logf("%s FAILED: %s", name, m.Err)
		return
	}
	rss, heap := m.PerConn()
	logf("%s %.0f deliveries/s, p50 %v p99 %v (latency phase), lost %d, %.1f KiB RSS %.1f KiB heap per conn, %.2f deliveries per server write, others %.0f%%",
		name, m.Throughput.Rate(), m.Latency.P50, m.Latency.P99, m.Lost(), rss/1024, heap/1024,
		float64(m.Throughput.Deliveries)/float64(max(m.ServerCPU.Writes, 1)), 100*m.Foreign())
}

// pubsub measures one peer in one workload: fresh servers and a fresh
// subscribers' process.
func (r *runner) pubsub(cfg PubSubConfig, peerName string, nodes, subs int, redisAddr string) PubSubMeasurement {
	m := PubSubMeasurement{Peer: peerName, Nodes: nodes, Subscribers: subs}
	if err := r.pubsubMeasure(cfg, &m, redisAddr); err != nil {
		m.Err = err.Error()
	}
	return m
}

func (r *runner) pubsubMeasure(cfg PubSubConfig, m *PubSubMeasurement, redisAddr string) error {
	var srvs []*proc
	defer func() {
		for _, s := range srvs {
			s.kill()
		}
	}()
	var addrs []string
	for i := range m.Nodes {
		args := []string{"-pubsub", m.Peer}
		if m.Nodes > 1 {
			args = append(args, "-redis", redisAddr)
		}
		if cfg.ProfileDir != "" {
			base := fmt.Sprintf("%s/%s-%dnode-%d-%d", cfg.ProfileDir, m.Peer, m.Nodes, m.Subscribers, i)
			args = append(args, "-cpuprofile", base+".cpu.pprof", "-memprofile", base+".alloc.pprof")
		}
		srv, err := startProc(r.bins.Server, args...)
		if err != nil {
			return err
		}
		srvs = append(srvs, srv)
		ev, err := srv.expect(ctl.EventListening, 30*time.Second)
		if err != nil {
			return err
		}
		addrs = append(addrs, ev.Addr)
	}
	time.Sleep(cfg.Settle / 4)
	for _, s := range srvs {
		mem, err := serverMem(s)
		if err != nil {
			return err
		}
		m.Base = append(m.Base, mem)
	}
	// The latency phase offers LatencyDeliveries per second; the
	// throughput phase publishes ThroughputDeliveries in all, as fast
	// as ThroughputRate.
	latRate := max(1, cfg.LatencyDeliveries/m.Subscribers)
	latInterval := time.Second / time.Duration(latRate)
	tpCount := max(1, cfg.ThroughputDeliveries/m.Subscribers)
	tpInterval := time.Second / time.Duration(max(cfg.ThroughputRate, 1))
	phaseTimeout := time.Duration(cfg.LatencyPublications)*latInterval + time.Duration(tpCount)*tpInterval + 2*time.Minute
	cl, err := startProc(r.bins.Client, "-pubsub", m.Peer, "-addr", strings.Join(addrs, ","),
		"-subs", strconv.Itoa(m.Subscribers), "-dial-concurrency", "64",
		"-phases", fmt.Sprintf("%d,%d", cfg.LatencyPublications, tpCount),
		"-phase-timeout", phaseTimeout.String())
	if err != nil {
		return err
	}
	defer cl.kill()
	if _, err := cl.expect(ctl.EventReady, 10*time.Minute); err != nil {
		return err
	}
	time.Sleep(cfg.Settle)
	for _, s := range srvs {
		mem, err := serverMem(s)
		if err != nil {
			return err
		}
		m.At = append(m.At, mem)
	}
	if cfg.ProfileDir != "" {
		for i, s := range srvs {
			if err := s.send(fmt.Sprintf("%s %s/%s-%dnode-%d-%d.heap.pprof", ctl.CmdHeap, cfg.ProfileDir, m.Peer, m.Nodes, m.Subscribers, i)); err != nil {
				return err
			}
			if _, err := s.expect(ctl.EventMem, time.Minute); err != nil {
				return err
			}
		}
	}
	if err := cl.send(ctl.CmdNext); err != nil {
		return err
	}
	phase := func(n int, count int, interval time.Duration, measure bool) (*ctl.PubSubResult, error) {
		var cpu0 []procstat.CPU
		var mach0 procstat.Machine
		if measure {
			for _, s := range srvs {
				c, err := serverCPU(s)
				if err != nil {
					return nil, err
				}
				cpu0 = append(cpu0, c)
			}
			mach0, _ = procstat.ReadMachine()
		}
		if err := cl.send(ctl.CmdGo); err != nil {
			return nil, err
		}
		pub := srvs[0]
		if err := pub.send(fmt.Sprintf("%s %d %d %s", ctl.CmdPublish, n, count, interval)); err != nil {
			return nil, err
		}
		ev, err := pub.expect(ctl.EventPublished, phaseTimeout)
		if err != nil {
			return nil, err
		}
		if ev.Error != "" {
			return nil, fmt.Errorf("publishing: %s", ev.Error)
		}
		res, err := cl.expect(ctl.EventResult, phaseTimeout+time.Minute)
		if err != nil {
			return nil, err
		}
		if res.PubSub == nil {
			return nil, errors.New("client result without pub/sub figures")
		}
		if measure {
			mach1, _ := procstat.ReadMachine()
			m.Machine = mach1.Sub(mach0)
			for i, s := range srvs {
				c, err := serverCPU(s)
				if err != nil {
					return nil, err
				}
				m.ServerCPU = m.ServerCPU.Add(c.Sub(cpu0[i]))
			}
		}
		return res.PubSub, nil
	}
	if m.Latency, err = phase(1, cfg.LatencyPublications, latInterval, false); err != nil {
		return err
	}
	if m.Throughput, err = phase(2, tpCount, tpInterval, true); err != nil {
		return err
	}
	if err := cl.wait(time.Minute); err != nil {
		return err
	}
	for _, s := range srvs {
		if err := s.send(ctl.CmdQuit); err != nil {
			return err
		}
	}
	for _, s := range srvs {
		if err := s.wait(time.Minute); err != nil {
			return err
		}
	}
	srvs = nil
	for _, ph := range []*ctl.PubSubResult{m.Latency, m.Throughput} {
		if ph.Ended > 0 {
			return fmt.Errorf("phase %d: %d subscriptions ended, the first: %s", ph.Phase, ph.Ended, ph.FirstError)
		}
	}
	return nil
}

// Foreign returns the share of the machine's CPU that processes other
// than the servers (the client's is not known here, so it is counted
// in) used during the throughput phase.
func (m *PubSubMeasurement) Foreign() float64 {
	if m.Throughput == nil {
		return 0
	}
	return m.Machine.Share(m.Machine.Busy - m.Throughput.CPU.Total() - m.ServerCPU.Total())
}

type redisServer struct {
	cmd     *exec.Cmd
	dir     string
	addr    string
	version string
}

// startRedis starts a private redis-server on a free loopback port,
// without persistence, and waits until it answers.
func startRedis(path string) (*redisServer, error) {
	if path == "" {
		path = "redis-server"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "swill-bench-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("suite: starting %s for the two-node workloads: %w", path, err)
	}
	rs := &redisServer{cmd: cmd, dir: dir, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := redisInfoVersion(rs.addr)
		if err == nil {
			rs.version = v
			return rs, nil
		}
		if time.Now().After(deadline) {
			rs.stop()
			return nil, fmt.Errorf("suite: redis-server on %s did not answer: %w", rs.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redisInfoVersion asks INFO server for redis_version over RESP.
func redisInfoVersion(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"); err != nil {
		return "", err
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "redis_version:"); ok {
			return v, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("no redis_version in INFO")
}

func (rs *redisServer) stop() {
	rs.cmd.Process.Kill()
	rs.cmd.Wait()
	os.RemoveAll(rs.dir)
}

// loadAvg is the machine's load average, as uptime shows it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

func containsStr(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsFunc[T any](s []T, f func(T) bool) bool {
	for _, x := range s {
		if f(x) {
			return true
		}
	}
	return false
}
