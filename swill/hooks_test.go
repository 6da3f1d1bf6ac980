package swill_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// trace records hook stages in order, safe for concurrent use.
type trace struct {
	mu     sync.Mutex
	events []string
	closed chan struct{}
}

func (t *trace) add(format string, args ...any) {
	t.mu.Lock()
	t.events = append(t.events, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

func (t *trace) get() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.events...)
}

func tracingHooks(t *trace) swill.Hooks {
	return swill.Hooks{
		BeforeConnection: func(r *http.Request) error { t.add("before_connection"); return nil },
		AfterAccept:      func(ctx context.Context, c *swill.Conn) error { t.add("after_accept"); return nil },
		BeforeRequest: func(ctx context.Context, c *swill.Call) error {
			t.add("before_request %s", c.Name())
			return nil
		},
		BeforeRequestMetadata: func(ctx context.Context, c *swill.Call, md rpc.Metadata) error {
			t.add("before_request_metadata %v", md)
			return nil
		},
		BeforeRequestData: func(ctx context.Context, c *swill.Call, data []byte) error {
			t.add("before_request_data %x", data)
			return nil
		},
		BeforeRequestMessage: func(ctx context.Context, c *swill.Call, msg any) error {
			t.add("before_request_message %v", derefInt(msg))
			return nil
		},
		BeforeLeadingMetadata: func(ctx context.Context, c *swill.Call, md rpc.Metadata) error {
			t.add("before_leading_metadata %v", md)
			return nil
		},
		BeforeResponseMessage: func(ctx context.Context, c *swill.Call, msg any) error {
			t.add("before_response_message %v", msg)
			return nil
		},
		BeforeTrailingMetadata: func(ctx context.Context, c *swill.Call, md rpc.Metadata) error {
			t.add("before_trailing_metadata %v", md)
			return nil
		},
		AfterRequest: func(ctx context.Context, c *swill.Call, out swill.Outcome) {
			t.add("after_request %s result=%v err=%v canceled=%v", c.Name(), out.Result, out.Err, out.Canceled)
		},
		AfterConnection: func(ctx context.Context, c *swill.Conn, err error) {
			t.add("after_connection")
			close(t.closed)
		},
	}
}

func derefInt(v any) any {
	if p, ok := v.(*int); ok {
		return *p
	}
	return v
}

func response(tb testing.TB, b []byte) wire.Response {
	tb.Helper()
	var r wire.Response
	require.NoError(tb, wire.ParseResponse(b, &r))
	return r
}

// traceServer serves one handler of each kind, all of which set leading
// and trailing metadata.
func traceServer(t *testing.T, tr *trace, extra ...swill.Option) *swilltest.Server {
	srv := swilltest.NewServer(append([]swill.Option{swill.WithHooks(tracingHooks(tr))}, extra...)...)
	require.NoError(t, srv.Register(
		swill.Unary("unary", func(ctx context.Context, n int) (int, error) {
			call := swill.CallFromContext(ctx)
			call.SetHeader(rpc.Metadata{"lead": 1})
			call.SetTrailer(rpc.Metadata{"trail": 1})
			tr.add("handler unary")
			return n + 1, nil
		}),
		swill.ServerStream("server", func(ctx context.Context, n int, out chan<- int) error {
			call := swill.CallFromContext(ctx)
			call.SetHeader(rpc.Metadata{"lead": 2})
			tr.add("handler server")
			for i := 0; i < n; i++ {
				out <- i
			}
			return call.SetTrailer(rpc.Metadata{"trail": 2})
		}),
		swill.ClientStream("client", func(ctx context.Context, in <-chan int) (int, error) {
			total := 0
			for n := range in {
				total += n
			}
			tr.add("handler client")
			swill.CallFromContext(ctx).SetTrailer(rpc.Metadata{"trail": 3})
			return total, nil
		}),
		swill.BidiStream("bidi", func(ctx context.Context, in <-chan int, out chan<- int) error {
			for n := range in {
				out <- n * 10
			}
			tr.add("handler bidi")
			return nil
		}),
	))
	return swilltest.Start(t, srv)
}

func TestHooksOrderPerKind(t *testing.T) {
	cases := []struct {
		name   string
		frames func(t *testing.T) [][]byte
		recv   int
		want   []string
	}{
		{
			name: "unary",
			frames: func(t *testing.T) [][]byte {
				return [][]byte{requestFrameMD(t, 1, "unary", wire.TypeMessage, 41, rpc.Metadata{"m": 1})}
			},
			recv: 1,
			want: []string{
				"before_request unary",
				"before_request_metadata map[m:1]",
				"before_request_data 29",
				"before_request_message 41",
				"handler unary",
				"before_leading_metadata map[lead:1]",
				"before_response_message 42",
				"before_trailing_metadata map[trail:1]",
				"after_request unary result=42 err=<nil> canceled=false",
			},
		},
		{
			name: "server",
			frames: func(t *testing.T) [][]byte {
				return [][]byte{requestFrameMD(t, 1, "server", wire.TypeMessage, 2, nil)}
			},
			recv: 2,
			want: []string{
				"before_request server",
				"before_request_metadata map[]",
				"before_request_data 02",
				"before_request_message 2",
				"handler server",
				"before_leading_metadata map[lead:2]",
				"before_response_message 0",
				"before_response_message 1",
				"before_trailing_metadata map[trail:2]",
				"after_request server result=<nil> err=<nil> canceled=false",
			},
		},
		{
			name: "client",
			frames: func(t *testing.T) [][]byte {
				return [][]byte{
					requestFrameMD(t, 1, "client", wire.TypeMetadata, nil, rpc.Metadata{"m": 3}),
					requestFrameMD(t, 1, "client", wire.TypeMessage, 4, nil),
					requestFrameMD(t, 1, "client", wire.TypeMessage, 5, nil),
					requestFrameMD(t, 1, "client", wire.TypeEndOfStream, nil, nil),
				}
			},
			recv: 1,
			want: []string{
				"before_request client",
				"before_request_metadata map[m:3]",
				"before_request_data 04",
				"before_request_message 4",
				"before_request_data 05",
				"before_request_message 5",
				"handler client",
				"before_response_message 9",
				"before_trailing_metadata map[trail:3]",
				"after_request client result=9 err=<nil> canceled=false",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &trace{closed: make(chan struct{})}
			srv := traceServer(t, tr)
			c := swilltest.Dial(t, srv.URL)
			for _, f := range tc.frames(t) {
				c.Send(f)
			}
			var last wire.Response
			for i := 0; i < tc.recv; i++ {
				last = response(t, c.Recv(5*time.Second))
			}
			if tc.name == "server" {
				last = response(t, c.Recv(5*time.Second))
				assert.Equal(t, wire.TypeEndOfStream, last.Type)
			}
			require.NoError(t, c.Conn.Close(websocket.StatusNormalClosure, ""))
			select {
			case <-tr.closed:
			case <-time.After(5 * time.Second):
				t.Fatal("after_connection did not run")
			}
			want := append([]string{"before_connection", "after_accept"}, tc.want...)
			want = append(want, "after_connection")
			assert.Equal(t, want, tr.get())
		})
	}
}

func TestHooksBidiItemsInterleave(t *testing.T) {
	tr := &trace{closed: make(chan struct{})}
	srv := traceServer(t, tr)
	c := swilltest.Dial(t, srv.URL)
	c.Send(requestFrameMD(t, 7, "bidi", wire.TypeMessage, 1, nil))
	r := response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeMessage, r.Type)
	c.Send(requestFrameMD(t, 7, "bidi", wire.TypeMessage, 2, nil))
	response(t, c.Recv(5*time.Second))
	c.Send(requestFrameMD(t, 7, "bidi", wire.TypeEndOfStream, nil, nil))
	r = response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeEndOfStream, r.Type)
	c.Conn.Close(websocket.StatusNormalClosure, "")
	<-tr.closed
	got := tr.get()
	// Item hooks run in the order the items flowed.
	assert.Equal(t, []string{
		"before_connection", "after_accept",
		"before_request bidi", "before_request_metadata map[]",
		"before_request_data 01", "before_request_message 1", "before_response_message 10",
		"before_request_data 02", "before_request_message 2", "before_response_message 20",
		"handler bidi",
		"after_request bidi result=<nil> err=<nil> canceled=false",
		"after_connection",
	}, got)
}

func TestHookRefusesConnection(t *testing.T) {
	srv := swilltest.NewServer(swill.WithHooks(swill.Hooks{
		BeforeConnection: func(r *http.Request) error {
			if r.Header.Get("Authorization") != "Bearer good" {
				return rpc.NewError(rpc.CodeUnauthorized, "missing or bad token")
			}
			return nil
		},
	}))
	s := swilltest.Start(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, s.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	c, _, err := websocket.Dial(ctx, s.URL, &websocket.DialOptions{
		Subprotocols: []string{rpc.Subprotocol},
		HTTPHeader:   http.Header{"Authorization": {"Bearer good"}},
	})
	require.NoError(t, err)
	c.CloseNow()
}

func TestHookAfterAcceptRefuses(t *testing.T) {
	srv := swilltest.NewServer(swill.WithHooks(swill.Hooks{
		AfterAccept: func(ctx context.Context, c *swill.Conn) error {
			return rpc.NewError(rpc.CodeForbidden, "not today")
		},
	}))
	s := swilltest.Start(t, srv)
	c := swilltest.Dial(t, s.URL)
	err := c.Closed(5 * time.Second)
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err))
}

func TestHookFailsCall(t *testing.T) {
	srv := swilltest.NewServer(swill.WithHooks(swill.Hooks{
		BeforeRequestMetadata: func(ctx context.Context, c *swill.Call, md rpc.Metadata) error {
			if md.String("tenant") == "" {
				return rpc.NewError(rpc.CodeForbidden, "tenant required")
			}
			md["seen"] = true // hooks may change request metadata
			return nil
		},
	}))
	ran := make(chan struct{}, 1)
	require.NoError(t, srv.Register(swill.Unary("who", func(ctx context.Context, _ any) (rpc.Metadata, error) {
		ran <- struct{}{}
		return swill.CallFromContext(ctx).Metadata(), nil
	})))
	s := swilltest.Start(t, srv)
	c := swilltest.Dial(t, s.URL)

	c.Send(requestFrameMD(t, 1, "who", wire.TypeMessage, nil, nil))
	r := response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeError, r.Type)
	e, err := wire.DecodeError(r.Data)
	require.NoError(t, err)
	assert.Equal(t, rpc.CodeForbidden, e.Code)
	assert.Equal(t, "tenant required", e.Message)
	assert.Empty(t, ran, "the handler must not run when a hook fails the call")

	c.Send(requestFrameMD(t, 2, "who", wire.TypeMessage, nil, rpc.Metadata{"tenant": "acme"}))
	r = response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeMessage, r.Type)
	var md map[string]any
	require.NoError(t, codec.Unmarshal(r.Data, &md))
	assert.Equal(t, map[string]any{"tenant": "acme", "seen": true}, md)
}

func TestHooksRunInRegistrationOrder(t *testing.T) {
	var order []string
	var mu sync.Mutex
	hook := func(name string) swill.Hooks {
		return swill.Hooks{BeforeRequest: func(ctx context.Context, c *swill.Call) error {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			if name == "second" {
				return errors.New("stop here")
			}
			return nil
		}}
	}
	srv := swilltest.NewServer(swill.WithHooks(hook("first")), swill.WithHooks(hook("second")), swill.WithHooks(hook("third")))
	require.NoError(t, srv.Register(swill.Unary("x", func(ctx context.Context, _ any) (int, error) { return 1, nil })))
	s := swilltest.Start(t, srv)
	c := swilltest.Dial(t, s.URL)
	c.Send(requestFrameMD(t, 1, "x", wire.TypeMessage, nil, nil))
	r := response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeError, r.Type)
	e, _ := wire.DecodeError(r.Data)
	assert.Equal(t, rpc.CodeInternal, e.Code, "a plain error from a hook is an internal error")
	mu.Lock()
	assert.Equal(t, []string{"first", "second"}, order)
	mu.Unlock()
}

func TestInterceptorsCompose(t *testing.T) {
	var mu sync.Mutex
	var got []string
	record := func(name string) swill.InterceptorFunc {
		return func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
			mu.Lock()
			got = append(got, name+" in "+call.Name()+" "+call.Kind().String())
			mu.Unlock()
			err := next(ctx)
			mu.Lock()
			got = append(got, name+" out")
			mu.Unlock()
			return err
		}
	}
	srv := swilltest.NewServer(swill.WithInterceptors(record("outer"), record("inner")))
	require.NoError(t, srv.Register(
		swill.Unary("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil }),
		swill.ServerStream("count", func(ctx context.Context, n int, out chan<- int) error {
			for i := 0; i < n; i++ {
				out <- i
			}
			return nil
		}),
	))
	s := swilltest.Start(t, srv)
	c := swilltest.Dial(t, s.URL)
	c.Send(requestFrameMD(t, 1, "double", wire.TypeMessage, 21, nil))
	r := response(t, c.Recv(5*time.Second))
	var n int
	require.NoError(t, codec.Unmarshal(r.Data, &n))
	assert.Equal(t, 42, n, "the unary result passes through every interceptor")
	c.Send(requestFrameMD(t, 2, "count", wire.TypeMessage, 2, nil))
	for i := 0; i < 3; i++ {
		response(t, c.Recv(5*time.Second))
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"outer in double unary", "inner in double unary", "inner out", "outer out",
		"outer in count server_stream", "inner in count server_stream", "inner out", "outer out",
	}, got)
}

// TestKindInterceptors: a UnaryInterceptorFunc sees only unary calls,
// with their request and result, and a StreamInterceptorFunc only
// streaming ones; both compose with the others.
func TestKindInterceptors(t *testing.T) {
	var mu sync.Mutex
	var got []string
	unary := swill.UnaryInterceptorFunc(func(next swill.UnaryFunc) swill.UnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			*req.(*int)++ // the decoded request, before the handler
			res, err := next(ctx, req)
			mu.Lock()
			got = append(got, fmt.Sprintf("unary %s %v", swill.CallFromContext(ctx).Name(), res))
			mu.Unlock()
			return res.(int) + 1, err
		}
	})
	stream := swill.StreamInterceptorFunc(func(next swill.StreamFunc) swill.StreamFunc {
		return func(ctx context.Context) error {
			mu.Lock()
			got = append(got, "stream "+swill.CallFromContext(ctx).Name())
			mu.Unlock()
			return next(ctx)
		}
	})
	srv := swilltest.NewServer(swill.WithInterceptors(unary, stream))
	require.NoError(t, srv.Register(
		swill.Unary("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil }),
		swill.ServerStream("count", func(ctx context.Context, n int, out chan<- int) error {
			for i := 0; i < n; i++ {
				out <- i
			}
			return nil
		}),
	))
	s := swilltest.Start(t, srv)
	c := swilltest.Dial(t, s.URL)
	c.Send(requestFrameMD(t, 1, "double", wire.TypeMessage, 20, nil))
	r := response(t, c.Recv(5*time.Second))
	var n int
	require.NoError(t, codec.Unmarshal(r.Data, &n))
	assert.Equal(t, 43, n, "2*(20+1), plus one on the way out")
	c.Send(requestFrameMD(t, 2, "count", wire.TypeMessage, 1, nil))
	for i := 0; i < 2; i++ {
		response(t, c.Recv(5*time.Second))
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"unary double 42", "stream count"}, got)
}

// tokenAuth is the interceptor of the docs: it refuses calls whose request
// metadata lacks the right token.
func tokenAuth(token string) swill.InterceptorFunc {
	return func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
		if call.Metadata().String("authorization") != "Bearer "+token {
			return rpc.NewError(rpc.CodeUnauthorized, "invalid token")
		}
		return next(ctx)
	}
}

func TestTokenInterceptor(t *testing.T) {
	var calls int
	srv := swilltest.NewServer(swill.WithInterceptors(tokenAuth("s3cret")))
	require.NoError(t, srv.Register(swill.Unary("secret", func(ctx context.Context, _ any) (string, error) {
		calls++
		return "the answer", nil
	})))
	s := swilltest.Start(t, srv)
	c := swilltest.Dial(t, s.URL)
	c.Send(requestFrameMD(t, 1, "secret", wire.TypeMessage, nil, rpc.Metadata{"authorization": "Bearer wrong"}))
	r := response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeError, r.Type)
	e, _ := wire.DecodeError(r.Data)
	assert.Equal(t, rpc.CodeUnauthorized, e.Code)
	c.Send(requestFrameMD(t, 2, "secret", wire.TypeMessage, nil, rpc.Metadata{"authorization": "Bearer s3cret"}))
	r = response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeMessage, r.Type)
	var s2 string
	require.NoError(t, codec.Unmarshal(r.Data, &s2))
	assert.Equal(t, "the answer", s2)
	assert.Equal(t, 1, calls)
}

func TestAfterRequestSeesCancel(t *testing.T) {
	done := make(chan swill.Outcome, 1)
	srv := swilltest.NewServer(swill.WithHooks(swill.Hooks{
		AfterRequest: func(ctx context.Context, c *swill.Call, out swill.Outcome) { done <- out },
	}))
	started := make(chan struct{})
	require.NoError(t, srv.Register(swill.Unary("wait", func(ctx context.Context, _ any) (int, error) {
		close(started)
		<-ctx.Done()
		return 0, ctx.Err()
	})))
	s := swilltest.Start(t, srv)
	c := swilltest.Dial(t, s.URL)
	c.Send(requestFrameMD(t, 1, "wait", wire.TypeMessage, nil, nil))
	<-started
	c.Send(requestFrameMD(t, 1, "wait", wire.TypeCancel, nil, nil))
	select {
	case out := <-done:
		assert.True(t, out.Canceled)
		assert.ErrorIs(t, out.Err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("after_request did not run after CANCEL")
	}
	c.Quiet(100 * time.Millisecond)
}

func TestDeadlineEndsIdleStreamWith408(t *testing.T) {
	srv := swilltest.StartDemo(t)
	c := swilltest.Dial(t, srv.URL)
	// echo with a 50 ms deadline and no item: the deadline, not the
	// client, ends its input, so the call ends with 408.
	c.Send(requestFrameMD(t, 1, "echo", wire.TypeMetadata, nil, rpc.Metadata{rpc.TimeoutKey: 50}))
	r := response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeError, r.Type)
	e, err := wire.DecodeError(r.Data)
	require.NoError(t, err)
	assert.Equal(t, rpc.CodeTimeout, e.Code)
	// The same for a client stream.
	c.Send(requestFrameMD(t, 2, "sum", wire.TypeMetadata, nil, rpc.Metadata{rpc.TimeoutKey: 50}))
	c.Send(requestFrameMD(t, 2, "sum", wire.TypeMessage, 5, nil))
	r = response(t, c.Recv(5*time.Second))
	require.Equal(t, wire.TypeError, r.Type)
	e, err = wire.DecodeError(r.Data)
	require.NoError(t, err)
	assert.Equal(t, rpc.CodeTimeout, e.Code)
}
