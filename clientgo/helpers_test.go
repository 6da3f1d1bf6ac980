package clientgo_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// wait bounds every blocking step of a test, so that a bug shows up as a
// failure rather than a hung test.
const wait = 5 * time.Second

// testCtx returns a context that ends with the test, or after a generous
// bound.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLogger sends the client's logs to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

// dial connects to url and closes the client when the test ends.
func dial(t *testing.T, url string, opts ...clientgo.Option) *clientgo.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := clientgo.Dial(ctx, url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// probe lets a test see what the server's handlers observed.
type probe struct {
	started chan string // a handler began (its name)
	ended   chan error  // a handler's context ended (its error)
}

func newProbe() *probe {
	return &probe{started: make(chan string, 64), ended: make(chan error, 64)}
}

// waitStarted waits until a handler reports that it started.
func (p *probe) waitStarted(t *testing.T, name string) {
	t.Helper()
	select {
	case got := <-p.started:
		require.Equal(t, name, got)
	case <-time.After(wait):
		t.Fatalf("handler %s did not start", name)
	}
}

// waitEnded returns the error of the handler context that ended.
func (p *probe) waitEnded(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.ended:
		return err
	case <-time.After(wait):
		t.Fatal("the handler did not observe the end of its context")
		return nil
	}
}

// Deadline is what the "deadline" test handler reports.
type Deadline struct {
	Has    bool  `msgpack:"has"`
	LeftMS int64 `msgpack:"left_ms"`
}

// testHandlers are handlers the demo lacks: they report to p what their
// context saw, and echo metadata for every kind of call.
func testHandlers(p *probe) []*swill.Handler {
	echoMD := func(ctx context.Context) {
		call := swill.CallFromContext(ctx)
		call.SetHeader(rpc.Metadata{"kind": call.Kind().String()})
		call.SetTrailer(rpc.Metadata{"request": map[string]any(call.Metadata())})
	}
	return []*swill.Handler{
		swill.Unary("block", func(ctx context.Context, _ any) (int, error) {
			p.started <- "block"
			<-ctx.Done()
			p.ended <- ctx.Err()
			return 0, ctx.Err()
		}),
		swill.Unary("deadline", func(ctx context.Context, _ any) (Deadline, error) {
			d, ok := ctx.Deadline()
			return Deadline{Has: ok, LeftMS: time.Until(d).Milliseconds()}, nil
		}),
		swill.ServerStream("ticker", func(ctx context.Context, _ any, out chan<- int) error {
			p.started <- "ticker"
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case out <- i:
				case <-ctx.Done():
					p.ended <- ctx.Err()
					return ctx.Err()
				}
				select {
				case <-t.C:
				case <-ctx.Done():
					p.ended <- ctx.Err()
					return ctx.Err()
				}
			}
		}),
		swill.ServerStream("flood", func(ctx context.Context, n int, out chan<- int) error {
			p.started <- "flood"
			for i := 0; i < n; i++ {
				select {
				case out <- i:
				case <-ctx.Done():
					p.ended <- ctx.Err()
					return ctx.Err()
				}
			}
			p.ended <- nil
			return nil
		}),
		swill.ClientStream("collect", func(ctx context.Context, in <-chan int) (int, error) {
			p.started <- "collect"
			n := 0
			for {
				select {
				case _, ok := <-in:
					if !ok {
						p.ended <- nil
						return n, nil
					}
					n++
				case <-ctx.Done():
					p.ended <- ctx.Err()
					return n, ctx.Err()
				}
			}
		}),
		swill.ClientStream("hold", func(ctx context.Context, in <-chan int) (int, error) {
			p.started <- "hold"
			for range in {
			}
			// The client's stream is over; wait for the call to be
			// cancelled.
			<-ctx.Done()
			p.ended <- ctx.Err()
			return 0, ctx.Err()
		}),
		swill.BidiStream("chat", func(ctx context.Context, in <-chan string, out chan<- string) error {
			p.started <- "chat"
			for {
				select {
				case s, ok := <-in:
					if !ok {
						p.ended <- nil
						return nil
					}
					select {
					case out <- "re: " + s:
					case <-ctx.Done():
						p.ended <- ctx.Err()
						return ctx.Err()
					}
				case <-ctx.Done():
					p.ended <- ctx.Err()
					return ctx.Err()
				}
			}
		}),
		swill.Unary("md_unary", func(ctx context.Context, in int) (int, error) {
			echoMD(ctx)
			return in, nil
		}),
		swill.ServerStream("md_server", func(ctx context.Context, n int, out chan<- int) error {
			echoMD(ctx)
			for i := 0; i < n; i++ {
				out <- i
			}
			return nil
		}),
		swill.ClientStream("md_client", func(ctx context.Context, in <-chan int) (int, error) {
			echoMD(ctx)
			n := 0
			for v := range in {
				n += v
			}
			return n, nil
		}),
		swill.BidiStream("md_bidi", func(ctx context.Context, in <-chan int, out chan<- int) error {
			echoMD(ctx)
			for v := range in {
				out <- v * 10
			}
			return nil
		}),
	}
}

// startServer serves the demo plus the test handlers on a loopback port.
func startServer(t *testing.T, opts ...swill.Option) (*swilltest.Server, *probe) {
	t.Helper()
	p := newProbe()
	srv := swilltest.NewServer(opts...)
	require.NoError(t, demosvc.Register(srv))
	require.NoError(t, srv.Register(testHandlers(p)...))
	return swilltest.Start(t, srv), p
}
