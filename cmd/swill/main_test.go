package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/swill"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	if os.Getenv(childServerEnv) != "" {
		serveChild() // the test binary run as a server process to be killed
		return
	}
	goleak.VerifyTestMain(m)
}

// result is what one run of the command gave.
type result struct {
	stdout, stderr string
	code           int
}

// swillCmd runs the command in-process with args and stdin (nil for
// none).
func swillCmd(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	// A watchdog, not a deadline: a deadline would travel to the server
	// as swill-timeout-ms.
	ctx, cancel := context.WithCancel(context.Background())
	defer time.AfterFunc(30*time.Second, cancel).Stop()
	defer cancel()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, stdin, &stdout, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// golden compares got with testdata/name, or rewrites the file with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/swill -update to create the golden files")
	assert.Equal(t, string(want), got, "output differs from %s (rerun with -update if the change is intended)", path)
}

// demo serves the demo service on a loopback port, with a recorder of
// how its calls ended.
func demo(t *testing.T, opts ...swill.Option) (*swilltest.Server, *outcomes) {
	t.Helper()
	rec := &outcomes{ch: make(chan outcome, 64), started: make(chan string, 64)}
	opts = append([]swill.Option{
		swill.WithVersion("demo"),
		swill.WithHooks(swill.Hooks{BeforeRequest: rec.start, AfterRequest: rec.record}),
	}, opts...)
	return swilltest.StartDemo(t, opts...), rec
}

type outcome struct {
	name string
	swill.Outcome
}

// outcomes records which calls started on the server and how they ended.
type outcomes struct {
	ch      chan outcome
	started chan string
}

func (o *outcomes) start(ctx context.Context, call *swill.Call) error {
	select {
	case o.started <- call.Name():
	default:
	}
	return nil
}

// waitStart waits until a call named name has started on the server.
func (o *outcomes) waitStart(t *testing.T, name string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-o.started:
			if n == name {
				return
			}
		case <-deadline:
			t.Fatalf("no %q call started on the server", name)
		}
	}
}

func (o *outcomes) record(ctx context.Context, call *swill.Call, out swill.Outcome) {
	select {
	case o.ch <- outcome{name: call.Name(), Outcome: out}:
	default:
	}
}

// wait returns how the next call named name ended.
func (o *outcomes) wait(t *testing.T, name string) outcome {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case out := <-o.ch:
			if out.name == name {
				return out
			}
		case <-deadline:
			t.Fatalf("the server saw no end of a %q call", name)
		}
	}
}

// syncBuffer is a buffer written by the command while the test reads it.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the buffer holds want.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("output %q never contained %q", s.String(), want)
		}
	}
}

// background runs the command on a goroutine with ctx; wait returns its
// exit status once it has ended.
func background(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) (wait func() int) {
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdin, stdout, stderr) }()
	return func() int { return <-done }
}
