package ctl

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/swillorg/swill-go/bench/internal/hist"
	"github.com/swillorg/swill-go/bench/internal/procstat"
)

// Event kinds.
const (
	EventListening = "listening"
	EventCPU       = "cpu"
	EventMem       = "mem"
	EventReady     = "ready"
	EventIdle      = "idle"
	EventResult    = "result"
	// EventPublished: the server published what a CmdPublish asked for.
	EventPublished = "published"
)

// Commands.
const (
	CmdCPU  = "cpu"
	CmdMem  = "mem"
	CmdQuit = "quit"
	CmdGo   = "go"
	CmdNext = "next"
	// CmdPublish, followed by the phase, the count and the interval
	// ("publish 1 200 20ms"), asks a pub/sub server to publish that many
	// messages at that rate; it answers EventPublished.
	CmdPublish = "publish"
	// CmdHeap, followed by a file name ("heap /tmp/h.pprof"), asks a
	// server for a heap profile of its live objects; it answers EventMem.
	CmdHeap = "heap"
)

// Event is one line of a process's output.
type Event struct {
	Event  string           `json:"event"`
	Addr   string           `json:"addr,omitempty"`
	CPU    *procstat.CPU    `json:"cpu,omitempty"`
	Mem    *procstat.Memory `json:"mem,omitempty"`
	Conns  int              `json:"conns,omitempty"`
	Result *Result          `json:"result,omitempty"`
	PubSub *PubSubResult    `json:"pubsub,omitempty"`
	// Error says why a command failed.
	Error string `json:"error,omitempty"`
}

// PubSubResult is what the subscribers of one pub/sub phase received.
type PubSubResult struct {
	// Phase is the phase's number, as the publications carry it.
	Phase int `json:"phase"`
	// Subscribers is the number of subscribed connections.
	Subscribers int `json:"subscribers"`
	// Published is the publications of the phase; Expected is
	// Published × Subscribers.
	Published int   `json:"published"`
	Expected  int64 `json:"expected"`
	// Deliveries counts the publications received, all subscribers
	// together; Lost is what was expected and never came (counted per
	// subscriber), OutOfOrder the publications that came after a later
	// one or twice.
	Deliveries int64 `json:"deliveries"`
	Lost       int64 `json:"lost"`
	OutOfOrder int64 `json:"out_of_order"`
	// Ended counts the subscriptions that ended during the phase;
	// FirstError is the first reason.
	Ended      int64  `json:"ended"`
	FirstError string `json:"first_error,omitempty"`
	// Elapsed runs from the first publication of the phase to the last
	// delivery.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Publish-to-delivery latency percentiles over every delivery.
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
	// CPU is the client process's CPU time over the phase.
	CPU procstat.CPU `json:"cpu"`
}

// Rate is deliveries per second.
func (r *PubSubResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Deliveries) / r.Elapsed.Seconds()
}

// Result is what a client measured over its window.
type Result struct {
	// Calls counts the completed calls (or stream items) in the window.
	Calls int64 `json:"calls"`
	// Elapsed is the window's length.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Errors counts failed calls and wrong replies; FirstError is the
	// first one.
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Latency percentiles, for the latency scenario.
	P50  time.Duration `json:"p50_ns,omitempty"`
	P99  time.Duration `json:"p99_ns,omitempty"`
	P999 time.Duration `json:"p999_ns,omitempty"`
	Max  time.Duration `json:"max_ns,omitempty"`
	// Hist holds every latency, for merging rounds.
	Hist *hist.Hist `json:"hist,omitempty"`
	// CPU is the client process's CPU time over the window.
	CPU procstat.CPU `json:"cpu"`
}

// Rate is calls per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// Writer writes events, one per line; it is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewWriter writes events to w.
func NewWriter(w io.Writer) *Writer { return &Writer{enc: json.NewEncoder(w)} }

// Write sends one event.
func (w *Writer) Write(e Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.enc.Encode(e)
}

// Reader reads events, one per line.
type Reader struct {
	sc *bufio.Scanner
}

// NewReader reads events from r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &Reader{sc: sc}
}

// Read returns the next event; io.EOF at the end of the input.
func (r *Reader) Read() (Event, error) {
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			return Event{}, err
		}
		return Event{}, io.EOF
	}
	var e Event
	if err := json.Unmarshal(r.sc.Bytes(), &e); err != nil {
		return Event{}, fmt.Errorf("ctl: bad event line %q: %w", r.sc.Text(), err)
	}
	return e, nil
}

// Expect reads the next event and fails unless it is of kind want.
func (r *Reader) Expect(want string) (Event, error) {
	e, err := r.Read()
	if err != nil {
		return e, fmt.Errorf("ctl: waiting for %q: %w", want, err)
	}
	if e.Event != want {
		return e, fmt.Errorf("ctl: got event %q, want %q", e.Event, want)
	}
	return e, nil
}

// Commands reads commands, one per line, from r.
func Commands(r io.Reader) *bufio.Scanner { return bufio.NewScanner(r) }
