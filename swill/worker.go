package swill

import (
	"sync"
	"time"
)

// Calls that do not run inline (see inline.go) run on pooled goroutines. A goroutine started per call begins
// with a small stack and grows it, copying, on every call through the
// decoder, the handler and the encoder; a worker that has served a call
// keeps its grown stack for the next one. Workers are created on demand,
// so every call still runs concurrently with the others. Once a call ends
// its worker waits for the next call; idle workers beyond maxIdleWorkers,
// or idle for longer than workerIdleTime, end, so an idle server holds
// none.
//
// A handler that leaves something on its goroutine (a locked OS thread,
// pprof labels) leaves it to the calls that follow on that worker.
const (
	maxIdleWorkers = 256
	workerIdleTime = 10 * time.Second
)

// workerPool holds the server's idle workers, most recently idle last.
type workerPool struct {
	wg       *sync.WaitGroup // the server's: every worker is counted in it
	idleTime time.Duration   // workerIdleTime, shorter in tests

	mu      sync.Mutex
	idle    []*worker
	stopped bool
	timer   *time.Timer // ends workers idle for too long; armed while idle is not empty
	armed   bool
}

type worker struct {
	next  chan *Call // the next call, or nil to end; never more than one waits
	since time.Time  // when the worker became idle
}

// run runs call on an idle worker, or on a new one. The connection of
// call is open, so the server's WaitGroup is above zero and may grow.
func (p *workerPool) run(call *Call) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.next <- call
		return
	}
	p.mu.Unlock()
	p.wg.Add(1)
	go p.work(&worker{next: make(chan *Call, 1)}, call)
}

func (p *workerPool) work(w *worker, call *Call) {
	defer p.wg.Done()
	for call != nil {
		call.conn.run(call)
		call = nil // the worker must not keep it alive while idle
		if !p.park(w) {
			return
		}
		call = <-w.next
	}
}

// park makes w idle. It reports false when w should end instead.
func (p *workerPool) park(w *worker) bool {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || len(p.idle) >= maxIdleWorkers {
		return false
	}
	w.since = now
	p.idle = append(p.idle, w)
	if !p.armed {
		p.armed = true
		if p.timer == nil {
			p.timer = time.AfterFunc(p.idleTime, p.expire)
		} else {
			p.timer.Reset(p.idleTime)
		}
	}
	return true
}

// expire ends the workers idle for longer than idleTime, the
// oldest ones, at the front.
func (p *workerPool) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	now := time.Now()
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].since) >= p.idleTime {
		p.idle[n].next <- nil
		p.idle[n] = nil
		n++
	}
	p.idle = append(p.idle[:0], p.idle[n:]...)
	clear(p.idle[len(p.idle):cap(p.idle)])
	if len(p.idle) == 0 {
		p.armed = false
		return
	}
	p.timer.Reset(p.idleTime - now.Sub(p.idle[0].since))
}

// stop ends every idle worker; the busy ones end after their call.
func (p *workerPool) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for i, w := range p.idle {
		w.next <- nil
		p.idle[i] = nil
	}
	p.idle = nil
	if p.timer != nil {
		p.timer.Stop()
	}
}
