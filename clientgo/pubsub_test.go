package clientgo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

type chatLine struct {
	User string `msgpack:"user"`
	Text string `msgpack:"text"`
}

// psServer is a swill server with a pubsub hub on a loopback port. Its
// subscribe hook records each subscriber's connection, so that a test can
// drop it from the server side, and holds subscriptions back while a gate
// is set, so that a test can publish while a client is away.
type psServer struct {
	hub   *pubsub.Hub
	url   string
	conns chan *swill.Conn // the connection of each channel subscription

	mu      sync.Mutex
	gate    chan struct{} // when set, subscriptions wait for it to close
	entered chan struct{} // a subscription reached the gate
}

func startPS(t *testing.T, opts ...pubsub.Option) *psServer {
	t.Helper()
	p := &psServer{conns: make(chan *swill.Conn, 64), entered: make(chan struct{}, 64)}
	hooks := pubsub.Hooks{
		OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
			if ev.Call.Name() != rpc.SubscribeRPC {
				return nil
			}
			select {
			case p.conns <- ev.Conn:
			default:
			}
			ev.User = ev.Call.Metadata().String("user")
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			if gate != nil {
				p.entered <- struct{}{}
				select {
				case <-gate:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		},
		OnPublish: func(ctx context.Context, ev *pubsub.PublishEvent) error {
			if ev.Channel == "readonly" {
				return rpc.NewError(rpc.CodeForbidden, "read only")
			}
			return nil
		},
	}
	hub, err := pubsub.New(append([]pubsub.Option{pubsub.WithHooks(hooks), pubsub.WithLogger(testLogger(t))}, opts...)...)
	require.NoError(t, err)
	srv := swilltest.NewServer()
	require.NoError(t, srv.Mount(hub))
	s := swilltest.Start(t, srv)
	t.Cleanup(func() { hub.Close() })
	p.hub, p.url = hub, s.URL
	return p
}

// hold makes subscriptions wait until the returned function is called.
func (p *psServer) hold() (release func()) {
	g := make(chan struct{})
	p.mu.Lock()
	p.gate = g
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		p.gate = nil
		p.mu.Unlock()
		close(g)
	}
}

func (p *psServer) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-p.entered:
	case <-time.After(wait):
		t.Fatal("no subscription reached the server")
	}
}

func (p *psServer) lastConn(t *testing.T) *swill.Conn {
	t.Helper()
	select {
	case c := <-p.conns:
		return c
	case <-time.After(wait):
		t.Fatal("no subscription recorded")
		return nil
	}
}

func (p *psServer) publish(t *testing.T, channel string, msg any) rpc.Position {
	t.Helper()
	pos, err := p.hub.Publish(context.Background(), channel, msg)
	require.NoError(t, err)
	return pos
}

// quietLogger drops what it is given.
var quietLogger = slog.New(slog.DiscardHandler)

// fastReconnect is a reconnection policy for tests.
var fastReconnect = clientgo.WithReconnect(clientgo.ReconnectPolicy{InitialDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond})

func recvMsg[T any](t *testing.T, s *clientgo.Subscription[T]) clientgo.Message[T] {
	t.Helper()
	m, err := s.Recv()
	require.NoError(t, err)
	return m
}

func TestSubscribeDelivers(t *testing.T) {
	p := startPS(t, pubsub.WithChannels(pubsub.Channel[chatLine]("chat.*", pubsub.WithHistory(10, 0))))
	ctx := testCtx(t)
	c := dial(t, p.url)
	s, err := clientgo.Subscribe[chatLine](ctx, c, "chat.lobby")
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, "chat.lobby", s.Channel())
	start := s.Position()
	assert.Equal(t, uint64(0), start.Offset)
	assert.NotEmpty(t, start.Epoch)

	// Subscribe returned once the server confirmed: a publication made
	// right after it arrives.
	p.publish(t, "chat.lobby", chatLine{User: "ann", Text: "hi"})
	pos, err := clientgo.Publish(ctx, c, "chat.lobby", chatLine{User: "bob", Text: "yo"})
	require.NoError(t, err)
	assert.Equal(t, rpc.Position{Offset: 2, Epoch: start.Epoch}, pos)

	m := recvMsg(t, s)
	assert.Equal(t, clientgo.Message[chatLine]{Channel: "chat.lobby", Data: chatLine{"ann", "hi"}, Offset: 1}, m)
	assert.Equal(t, clientgo.KindPublication, m.Kind())
	m = recvMsg(t, s)
	assert.Equal(t, "yo", m.Data.Text)
	assert.Equal(t, rpc.Position{Offset: 2, Epoch: start.Epoch}, s.Position())

	// The server's refusals are coded errors.
	_, err = clientgo.Publish(ctx, c, "readonly", 1)
	assert.Equal(t, rpc.CodeForbidden, rpc.CodeOf(err))
	_, err = clientgo.Publish(ctx, c, "chat.lobby", []int{1})
	assert.Equal(t, rpc.CodeBadRequest, rpc.CodeOf(err))

	// History, then a subscription from its position: no gap, no
	// duplicate.
	hist, hpos, err := clientgo.History[chatLine](ctx, c, "chat.lobby", 1)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, clientgo.Message[chatLine]{Channel: "chat.lobby", Data: chatLine{"bob", "yo"}, Offset: 2}, hist[0])
	assert.Equal(t, pos, hpos)
	p.publish(t, "chat.lobby", chatLine{User: "cy", Text: "after history"})
	s2, err := clientgo.Subscribe[chatLine](ctx, dial(t, p.url), "chat.lobby", clientgo.Since(hpos))
	require.NoError(t, err)
	defer s2.Close()
	m = recvMsg(t, s2)
	assert.Equal(t, "after history", m.Data.Text)
	assert.Equal(t, uint64(3), m.Offset)
	assert.Equal(t, "after history", recvMsg(t, s).Data.Text)
}

func TestSubscribeJoinLeaveAndPresence(t *testing.T) {
	p := startPS(t, pubsub.WithChannels(pubsub.Untyped("room", pubsub.WithJoinLeave())))
	ctx := testCtx(t)
	watcher, err := clientgo.Subscribe[string](ctx, dial(t, p.url), "room", clientgo.WithSubscribeMetadata(rpc.Metadata{"user": "watcher"}))
	require.NoError(t, err)
	defer watcher.Close()
	m := recvMsg(t, watcher) // its own join
	require.Equal(t, clientgo.KindJoin, m.Kind())
	assert.Equal(t, "watcher", m.Join.User)

	c := dial(t, p.url)
	sctx, cancel := context.WithCancel(ctx)
	ann, err := clientgo.Subscribe[string](sctx, c, "room", clientgo.WithSubscribeMetadata(rpc.Metadata{"user": "ann"}))
	require.NoError(t, err)
	m = recvMsg(t, watcher)
	require.Equal(t, clientgo.KindJoin, m.Kind())
	assert.Equal(t, "ann", m.Join.User)
	assert.Equal(t, "room", m.Channel)

	infos, err := clientgo.Presence(ctx, c, "room")
	require.NoError(t, err)
	require.Len(t, infos, 2)
	users := []string{infos[0].User, infos[1].User}
	assert.ElementsMatch(t, []string{"ann", "watcher"}, users)

	// Cancelling the context ends the subscription on the server too.
	cancel()
	_, err = ann.Recv()
	assert.ErrorIs(t, err, context.Canceled)
	m = recvMsg(t, watcher)
	require.Equal(t, clientgo.KindLeave, m.Kind())
	assert.Equal(t, "ann", m.Leave.User)
	assert.Equal(t, "leave", m.Kind().String())
	_, err = ann.Recv()
	assert.ErrorIs(t, err, context.Canceled, "the end is sticky")
}

func TestSubscribePattern(t *testing.T) {
	p := startPS(t)
	ctx := testCtx(t)
	s, err := clientgo.SubscribePattern[int](ctx, dial(t, p.url), "news.[ab]*")
	require.NoError(t, err)
	defer s.Close()
	p.publish(t, "news.alpha", 1)
	p.publish(t, "news.cat", 2)
	p.publish(t, "news.beta", 3)
	var got []string
	for m, err := range s.All() {
		require.NoError(t, err)
		got = append(got, fmt.Sprint(m.Channel, "=", m.Data))
		if len(got) == 2 {
			break
		}
	}
	assert.Equal(t, []string{"news.alpha=1", "news.beta=3"}, got)
	_, err = s.Recv()
	assert.ErrorIs(t, err, clientgo.ErrStreamClosed, "breaking out of All closes the subscription")

	_, err = clientgo.SubscribePattern[int](ctx, dial(t, p.url), "news.*", clientgo.Since(rpc.Position{Offset: 1}))
	assert.ErrorContains(t, err, "cannot recover")
}

// After a connection dropped by the server, the subscription comes back
// by itself and recovers what was published meanwhile, exactly once and
// in order; when more was published than the history keeps, Recv says so
// with ErrUnrecovered and goes on live.
func TestSubscriptionRecoversAfterDroppedConnection(t *testing.T) {
	p := startPS(t, pubsub.WithChannels(pubsub.Untyped("feed", pubsub.WithHistory(5, 0))))
	ctx := testCtx(t)
	states := newStateLog()
	c := dial(t, p.url, fastReconnect, clientgo.WithStateHook(states.hook))
	states.expect(t, clientgo.StateConnected)
	s, err := clientgo.Subscribe[int](ctx, c, "feed")
	require.NoError(t, err)
	defer s.Close()
	conn := p.lastConn(t)
	p.publish(t, "feed", 1)
	assert.Equal(t, 1, recvMsg(t, s).Data)

	// A gap the history covers.
	release := p.hold()
	conn.Close("dropped by the test")
	states.expect(t, clientgo.StateConnecting)
	got := make(chan clientgo.Message[int], 16)
	errs := make(chan error, 16)
	go func() {
		for m, err := range s.All() {
			if err != nil {
				errs <- err
				if !errors.Is(err, clientgo.ErrUnrecovered) {
					return
				}
				continue
			}
			got <- m
		}
	}()
	p.waitEntered(t) // the client is back and resubscribing
	states.expect(t, clientgo.StateConnected)
	conn = p.lastConn(t)
	for i := 2; i <= 4; i++ {
		p.publish(t, "feed", i)
	}
	release()
	for i := 2; i <= 4; i++ {
		m := next(t, got, errs)
		assert.Equal(t, i, m.Data)
		assert.Equal(t, uint64(i), m.Offset)
	}
	p.publish(t, "feed", 5)
	assert.Equal(t, 5, next(t, got, errs).Data, "live after recovery, no duplicate")
	assert.Equal(t, uint64(5), s.Position().Offset)

	// A gap larger than the history.
	release = p.hold()
	conn.Close("dropped again")
	p.waitEntered(t)
	for i := 6; i <= 20; i++ {
		p.publish(t, "feed", i)
	}
	release()
	select {
	case err := <-errs:
		assert.ErrorIs(t, err, clientgo.ErrUnrecovered)
	case m := <-got:
		t.Fatalf("got %v before ErrUnrecovered", m)
	case <-time.After(wait):
		t.Fatal("no ErrUnrecovered")
	}
	p.publish(t, "feed", 21)
	m := next(t, got, errs)
	assert.Equal(t, 21, m.Data, "live after a failed recovery, without stale history")
	assert.Equal(t, uint64(21), m.Offset)
	assert.Equal(t, uint64(21), s.Position().Offset)
}

func next[T any](t *testing.T, got <-chan clientgo.Message[T], errs <-chan error) clientgo.Message[T] {
	t.Helper()
	select {
	case m := <-got:
		return m
	case err := <-errs:
		t.Fatalf("unexpected error %v", err)
	case <-time.After(wait):
		t.Fatal("no message")
	}
	return clientgo.Message[T]{}
}

// When the server drops a subscriber too slow for its connection's queue
// (ERROR 429), the subscription subscribes again from its last position
// and recovers from the history: the application sees every publication
// once, in order.
func TestSubscriptionRecoversAfterTooSlow(t *testing.T) {
	const n, size = 1500, 8 << 10
	hub, err := pubsub.New(pubsub.WithChannels(pubsub.Untyped("firehose", pubsub.WithHistory(n, 0))), pubsub.WithLogger(quietLogger))
	require.NoError(t, err)
	t.Cleanup(func() { hub.Close() })
	srv := swilltest.NewServer(swill.WithLimits(swill.Limits{MaxQueueBytes: 256 << 10}))
	require.NoError(t, srv.Mount(hub))
	url := swilltest.Start(t, srv).URL
	ctx := testCtx(t)
	// The client stops reading the connection while one message waits
	// for the application, for as long as the test needs.
	c := dial(t, url, clientgo.WithStreamBuffer(1, 0), clientgo.WithSlowConsumerTimeout(time.Minute))
	s, err := clientgo.Subscribe[[]byte](ctx, c, "firehose",
		clientgo.WithResubscribeBackoff(clientgo.ReconnectPolicy{InitialDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}))
	require.NoError(t, err)
	defer s.Close()
	payload := make([]byte, size)
	for i := 1; i <= n; i++ {
		payload[0], payload[1] = byte(i), byte(i>>8)
		_, err := hub.Publish(ctx, "firehose", payload)
		require.NoError(t, err)
	}
	for i := 1; i <= n; i++ {
		m, err := s.Recv()
		require.NoError(t, err)
		require.Equal(t, uint64(i), m.Offset)
		require.Equal(t, i, int(m.Data[0])|int(m.Data[1])<<8)
	}
	assert.NotZero(t, hub.Stats().SlowSubscribers, "12 MB past a 256 KiB queue: the server cut the subscriber off")
}

// failingHub serves swill.subscribe itself: it ends the first
// subscriptions with an ERROR the test chooses, and reports each request.
type failingHub struct {
	fail     []*rpc.Error
	requests chan rpc.SubscribeRequest
	calls    atomic.Int32
}

func (f *failingHub) Builtins() []*swill.Handler {
	return []*swill.Handler{swill.ServerStream(rpc.SubscribeRPC, func(ctx context.Context, req rpc.SubscribeRequest, out chan<- map[string]any) error {
		f.requests <- req
		call := swill.CallFromContext(ctx)
		if err := call.SendHeader(rpc.Metadata{rpc.PositionOffsetKey: 7, rpc.PositionEpochKey: "e", rpc.RecoveredKey: req.Since != nil}); err != nil {
			return err
		}
		i := int(f.calls.Add(1)) - 1
		if i < len(f.fail) {
			return f.fail[i]
		}
		out <- map[string]any{"channel": req.Channel, "data": "live", "offset": 8}
		<-ctx.Done()
		return nil
	})}
}

func TestSubscriptionRetriesUnavailable(t *testing.T) {
	f := &failingHub{
		fail: []*rpc.Error{
			rpc.NewError(rpc.CodeUnavailable, "missed"),
			rpc.NewError(rpc.CodeTooManyRequests, "slow").WithMetadata(rpc.Metadata{rpc.RetryAfterKey: 30}),
		},
		requests: make(chan rpc.SubscribeRequest, 8),
	}
	srv := swilltest.NewServer()
	require.NoError(t, srv.Mount(f))
	url := swilltest.Start(t, srv).URL
	ctx := testCtx(t)
	s, err := clientgo.Subscribe[string](ctx, dial(t, url), "x",
		clientgo.WithResubscribeBackoff(clientgo.ReconnectPolicy{InitialDelay: time.Millisecond}))
	require.NoError(t, err)
	defer s.Close()
	start := time.Now()
	m := recvMsg(t, s)
	assert.Equal(t, "live", m.Data)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "the server's retry hint is kept")
	assert.Equal(t, rpc.SubscribeRequest{Channel: "x"}, <-f.requests)
	for i := 0; i < 2; i++ {
		assert.Equal(t, rpc.SubscribeRequest{Channel: "x", Since: &rpc.Position{Offset: 7, Epoch: "e"}}, <-f.requests)
	}
	assert.Equal(t, rpc.Position{Offset: 8, Epoch: "e"}, s.Position())

	// With a limit on attempts, the server's error ends the subscription.
	f2 := &failingHub{fail: []*rpc.Error{rpc.NewError(rpc.CodeUnavailable, "a"), rpc.NewError(rpc.CodeUnavailable, "b")},
		requests: make(chan rpc.SubscribeRequest, 8)}
	srv2 := swilltest.NewServer()
	require.NoError(t, srv2.Mount(f2))
	s2, err := clientgo.Subscribe[string](ctx, dial(t, swilltest.Start(t, srv2).URL), "x",
		clientgo.WithResubscribeBackoff(clientgo.ReconnectPolicy{InitialDelay: time.Millisecond, MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = s2.Recv()
	var last *rpc.Error
	require.ErrorAs(t, err, &last)
	assert.Equal(t, rpc.CodeUnavailable, last.Code)
	assert.Equal(t, "b", last.Message, "the last attempt's error")
}

func TestSubscribeRefused(t *testing.T) {
	hub, err := pubsub.New(pubsub.WithHooks(pubsub.Hooks{OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
		return rpc.NewError(rpc.CodeForbidden, "no")
	}}))
	require.NoError(t, err)
	t.Cleanup(func() { hub.Close() })
	srv := swilltest.NewServer()
	require.NoError(t, srv.Mount(hub))
	c := dial(t, swilltest.Start(t, srv).URL)
	_, err = clientgo.Subscribe[int](testCtx(t), c, "x")
	assert.Equal(t, rpc.CodeForbidden, rpc.CodeOf(err))
	_, err = clientgo.Subscribe[int](testCtx(t), c, "")
	assert.ErrorContains(t, err, "empty channel")
}

func TestSubscriptionEnds(t *testing.T) {
	p := startPS(t)
	ctx := testCtx(t)

	// Close, from another goroutine, while Recv waits.
	c := dial(t, p.url, clientgo.WithoutReconnect())
	s, err := clientgo.Subscribe[int](ctx, c, "n")
	require.NoError(t, err)
	conn := p.lastConn(t)
	go func() {
		waitBlocked(t, "clientgo.(*call).next") // Recv waits for a message
		s.Close()
	}()
	_, err = s.Recv()
	assert.ErrorIs(t, err, clientgo.ErrStreamClosed)
	_, err = s.Recv()
	assert.ErrorIs(t, err, clientgo.ErrStreamClosed, "and at every later call")

	// A second subscription to the same channel on the same client
	// replaces the first, which ends normally.
	first, err := clientgo.Subscribe[int](ctx, c, "n")
	require.NoError(t, err)
	second, err := clientgo.Subscribe[int](ctx, c, "n")
	require.NoError(t, err)
	_, err = first.Recv()
	assert.Equal(t, io.EOF, err)
	for _, err := range first.All() {
		t.Fatalf("All after the end yields nothing, got %v", err)
	}

	// Without reconnection, a lost connection ends it.
	conn.Close("dropped by the test")
	_, err = second.Recv()
	assert.ErrorIs(t, err, clientgo.ErrConnectionLost)

	// Client.Close ends it with ErrClosed.
	c2 := dial(t, p.url)
	s2, err := clientgo.Subscribe[int](ctx, c2, "n")
	require.NoError(t, err)
	c2.Close()
	_, err = s2.Recv()
	assert.ErrorIs(t, err, clientgo.ErrClosed)
}

func TestInbox(t *testing.T) {
	hub, err := pubsub.New()
	require.NoError(t, err)
	t.Cleanup(func() { hub.Close() })
	conns := make(chan *swill.Conn, 4)
	srv := swilltest.NewServer(swill.WithHooks(swill.Hooks{AfterAccept: func(ctx context.Context, conn *swill.Conn) error {
		conns <- conn
		return nil
	}}))
	require.NoError(t, srv.Mount(hub))
	url := swilltest.Start(t, srv).URL
	ctx := testCtx(t)
	c := dial(t, url, fastReconnect)
	in, err := clientgo.Inbox[string](ctx, c)
	require.NoError(t, err)
	defer in.Close()
	conn := <-conns
	require.NoError(t, hub.Subscribe(ctx, conn, "user.42", false))
	p := func(msg string) {
		_, err := hub.Publish(ctx, "user.42", msg)
		require.NoError(t, err)
	}
	p("for you")
	m := recvMsg(t, in)
	assert.Equal(t, "user.42", m.Channel)
	assert.Equal(t, "for you", m.Data)

	// After a reconnection the inbox opens again, and says that what was
	// sent meanwhile is lost.
	conn.Close("dropped by the test")
	conn = <-conns
	require.NoError(t, hub.Subscribe(ctx, conn, "user.42", false))
	_, err = in.Recv()
	assert.ErrorIs(t, err, clientgo.ErrUnrecovered)
	p("again")
	m = recvMsg(t, in)
	assert.Equal(t, "again", m.Data)

	_, err = clientgo.Inbox[string](ctx, c, clientgo.Since(rpc.Position{}))
	assert.Error(t, err)
}

// The messages decode like call results; one that does not fit T ends
// the subscription with the decoding error.
func TestSubscriptionDecodingError(t *testing.T) {
	p := startPS(t)
	ctx := testCtx(t)
	s, err := clientgo.Subscribe[int](ctx, dial(t, p.url), "n")
	require.NoError(t, err)
	p.publish(t, "n", "not a number")
	_, err = s.Recv()
	require.Error(t, err)
	assert.False(t, errors.Is(err, clientgo.ErrUnrecovered))
	assert.False(t, rpc.IsWireError(err))
	_, err2 := s.Recv()
	assert.Equal(t, err, err2)
}
