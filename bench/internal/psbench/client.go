package psbench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/hist"
	"github.com/swillorg/swill-go/bench/internal/procstat"
)

// ClientConfig says what the subscribers' process does.
type ClientConfig struct {
	Peer Peer
	// Addrs are the servers, host:port; subscriber i connects to
	// Addrs[i % len(Addrs)].
	Addrs []string
	// Subs is the number of subscribers, one connection each.
	Subs int
	// DialConcurrency is how many subscribers connect at once.
	DialConcurrency int
	// Phases holds the number of publications of each phase; phase i+1
	// is Phases[i].
	Phases []int
	// PhaseTimeout ends a phase whose publications did not all arrive.
	PhaseTimeout time.Duration
}

// Marks are the client's meeting points with the runner.
type Marks interface {
	// Ready says that every subscriber is subscribed, and waits for the
	// runner to go on.
	Ready(subs int) error
	// Phase waits for the runner's go for the phase (numbered from 1).
	Phase(phase int) error
	// Result reports a phase.
	Result(r *ctl.PubSubResult) error
}

// phaseStats is what one subscriber got of one phase.
type phaseStats struct {
	got, outOfOrder int
	lastSeq         uint64
	firstTS         int64
	lastRecv        int64
	lat             []int64
	finished        bool
}

type subscriber struct {
	mu     sync.Mutex
	phases []phaseStats
	err    error
}

type phaseDone struct {
	finished atomic.Int64
	done     chan struct{}
}

// RunClient subscribes cfg.Subs connections, then measures each phase:
// after the runner's go it waits until every subscriber has the phase's
// publications (or PhaseTimeout passed) and reports what arrived.
func RunClient(ctx context.Context, cfg ClientConfig, marks Marks) error {
	if cfg.Subs <= 0 || len(cfg.Addrs) == 0 || len(cfg.Phases) == 0 {
		return errors.New("psbench: subscribers, addresses and phases are needed")
	}
	conc := max(cfg.DialConcurrency, 1)
	subs := make([]Subscriber, cfg.Subs)
	states := make([]*subscriber, cfg.Subs)
	defer func() {
		for _, s := range subs {
			if s != nil {
				s.Close()
			}
		}
	}()
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		dialErr error
		sem     = make(chan struct{}, conc)
	)
	for i := range subs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s, err := cfg.Peer.Subscribe(dialCtx, cfg.Addrs[i%len(cfg.Addrs)])
			if err != nil {
				errOnce.Do(func() { dialErr = fmt.Errorf("subscriber %d: %w", i, err); cancel() })
				return
			}
			subs[i] = s
		}()
	}
	wg.Wait()
	if dialErr != nil {
		return dialErr
	}

	done := make([]*phaseDone, len(cfg.Phases))
	for p := range done {
		done[p] = &phaseDone{done: make(chan struct{})}
	}
	finish := func(st *phaseStats, p int) {
		if !st.finished {
			st.finished = true
			if done[p].finished.Add(1) == int64(cfg.Subs) {
				close(done[p].done)
			}
		}
	}
	readCtx, stopReading := context.WithCancel(ctx)
	var readers sync.WaitGroup
	for i, s := range subs {
		st := &subscriber{phases: make([]phaseStats, len(cfg.Phases))}
		for p, n := range cfg.Phases {
			st.phases[p].lat = make([]int64, 0, n)
		}
		states[i] = st
		readers.Add(1)
		go func() {
			defer readers.Done()
			var m Msg
			for {
				err := s.Next(readCtx, &m)
				now := time.Now().UnixNano()
				st.mu.Lock()
				if err != nil {
					st.err = err
					for p := range st.phases {
						finish(&st.phases[p], p)
					}
					st.mu.Unlock()
					return
				}
				p := int(m.Phase) - 1
				if p < 0 || p >= len(st.phases) {
					st.mu.Unlock()
					continue
				}
				ps := &st.phases[p]
				if m.Seq <= ps.lastSeq {
					ps.outOfOrder++
				}
				if m.Seq > ps.lastSeq {
					ps.lastSeq = m.Seq
				}
				if ps.got == 0 || m.TS < ps.firstTS {
					ps.firstTS = m.TS
				}
				ps.got++
				ps.lastRecv = now
				ps.lat = append(ps.lat, now-m.TS)
				if ps.got >= cfg.Phases[p] {
					finish(ps, p)
				}
				st.mu.Unlock()
			}
		}()
	}
	defer func() {
		stopReading()
		for _, s := range subs {
			s.Close()
		}
		readers.Wait()
	}()

	if err := marks.Ready(cfg.Subs); err != nil {
		return err
	}
	for p, n := range cfg.Phases {
		if err := marks.Phase(p + 1); err != nil {
			return err
		}
		cpu0, err := procstat.ReadCPU()
		if err != nil {
			return err
		}
		t := time.NewTimer(cfg.PhaseTimeout)
		select {
		case <-done[p].done:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
		cpu1, err := procstat.ReadCPU()
		if err != nil {
			return err
		}
		r := collect(states, p, n)
		r.CPU = cpu1.Sub(cpu0)
		if err := marks.Result(r); err != nil {
			return err
		}
	}
	return nil
}

// collect adds up phase p of every subscriber.
func collect(states []*subscriber, p, published int) *ctl.PubSubResult {
	r := &ctl.PubSubResult{Phase: p + 1, Subscribers: len(states), Published: published, Expected: int64(published) * int64(len(states))}
	var h hist.Hist
	var first, last int64
	for _, st := range states {
		st.mu.Lock()
		ps := &st.phases[p]
		r.Deliveries += int64(ps.got)
		r.Lost += int64(max(published-ps.got, 0))
		r.OutOfOrder += int64(ps.outOfOrder)
		if st.err != nil && ps.got < published {
			r.Ended++
			if r.FirstError == "" {
				r.FirstError = st.err.Error()
			}
		}
		if ps.got > 0 {
			if first == 0 || ps.firstTS < first {
				first = ps.firstTS
			}
			last = max(last, ps.lastRecv)
		}
		for _, d := range ps.lat {
			h.Add(time.Duration(d))
			r.Max = max(r.Max, time.Duration(d))
		}
		ps.lat = nil
		st.mu.Unlock()
	}
	if first > 0 {
		r.Elapsed = time.Duration(last - first)
	}
	if h.Count() > 0 {
		r.P50, r.P99, r.P999 = h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999)
	}
	return r
}
