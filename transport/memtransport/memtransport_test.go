package memtransport_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/memtransport"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type recorder struct {
	msgs   chan recorded
	closed chan struct{}
	mu     sync.Mutex
	err    error
	closes int
	after  bool // a message arrived after HandleClose
}

type recorded struct {
	typ  transport.MessageType
	data string
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan recorded, 1024), closed: make(chan struct{})}
}

func (r *recorder) HandleMessage(typ transport.MessageType, data []byte) {
	r.mu.Lock()
	if r.closes > 0 {
		r.after = true
	}
	r.mu.Unlock()
	r.msgs <- recorded{typ, string(bytes.Clone(data))}
}

func (r *recorder) HandleClose(err error) {
	r.mu.Lock()
	r.closes++
	first := r.closes == 1
	if first {
		r.err = err
	}
	r.mu.Unlock()
	if first {
		close(r.closed)
	}
}

func (r *recorder) next(tb testing.TB) recorded {
	tb.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(5 * time.Second):
		tb.Fatal("no message within 5s")
	}
	return recorded{}
}

func (r *recorder) waitClosed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-r.closed:
	case <-time.After(5 * time.Second):
		tb.Fatal("not closed within 5s")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Equal(tb, 1, r.closes, "HandleClose runs once")
	assert.False(tb, r.after, "no message after HandleClose")
	return r.err
}

func TestPipeDeliversFlushedMessagesInOrder(t *testing.T) {
	t.Parallel()
	a, b := memtransport.Pipe("swill.v1")
	ra, rb := newRecorder(), newRecorder()
	a.Start(ra)
	b.Start(rb)
	assert.Equal(t, "swill.v1", a.Subprotocol())
	assert.Equal(t, "swill.v1", b.Subprotocol())

	buf := []byte("one")
	require.NoError(t, a.WriteMessage(buf))
	copy(buf, "XXX") // the transport keeps its own copy
	require.NoError(t, a.WriteMessage([]byte("two")))
	select {
	case m := <-rb.msgs:
		t.Fatalf("message %q delivered before Flush", m.data)
	case <-time.After(20 * time.Millisecond):
	}
	require.NoError(t, a.Flush())
	assert.Equal(t, recorded{transport.Binary, "one"}, rb.next(t))
	assert.Equal(t, recorded{transport.Binary, "two"}, rb.next(t))

	require.NoError(t, b.WriteMessage([]byte("back")))
	require.NoError(t, b.Flush())
	assert.Equal(t, "back", ra.next(t).data)

	require.NoError(t, memtransport.WriteText(a, []byte("text")))
	assert.Equal(t, recorded{transport.Text, "text"}, rb.next(t))

	require.NoError(t, a.Close(transport.StatusNormalClosure, ""))
	ra.waitClosed(t)
	rb.waitClosed(t)
}

func TestPipeClose(t *testing.T) {
	t.Parallel()
	a, b := memtransport.Pipe("swill/1")
	ra, rb := newRecorder(), newRecorder()
	a.Start(ra)
	b.Start(rb)

	require.NoError(t, a.WriteMessage([]byte("last")))
	require.NoError(t, a.Flush())
	require.NoError(t, a.Close(transport.StatusGoingAway, "bye"))
	require.NoError(t, a.Close(transport.StatusNormalClosure, "again"), "a second Close does nothing")

	assert.Equal(t, "last", rb.next(t).data, "messages flushed before Close arrive first")
	err := rb.waitClosed(t)
	var ce *transport.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, transport.StatusGoingAway, ce.Code)
	assert.Equal(t, "bye", ce.Reason)
	assert.ErrorIs(t, ra.waitClosed(t), transport.ErrClosed)

	assert.ErrorIs(t, a.WriteMessage([]byte("x")), transport.ErrClosed)
	assert.ErrorIs(t, a.Flush(), transport.ErrClosed)
	assert.ErrorIs(t, a.Ping(context.Background()), transport.ErrClosed)
	assert.ErrorIs(t, memtransport.WriteText(a, []byte("x")), transport.ErrClosed)
	b.Close(transport.StatusNormalClosure, "")
}

func TestPipePing(t *testing.T) {
	t.Parallel()
	a, b := memtransport.Pipe("swill.v1")
	defer a.Close(transport.StatusNormalClosure, "")
	defer b.Close(transport.StatusNormalClosure, "")
	assert.NoError(t, a.Ping(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, a.Ping(ctx), context.Canceled)
}

func TestWriteTextNeedsAPipe(t *testing.T) {
	t.Parallel()
	assert.ErrorIs(t, memtransport.WriteText(nil, []byte("x")), transport.ErrClosed)
}

func TestDialer(t *testing.T) {
	t.Parallel()
	served := make(chan transport.Conn, 1)
	d := memtransport.Dialer{Serve: func(c transport.Conn) { served <- c }}
	var _ transport.Dialer = d

	client, err := d.Dial(context.Background(), "ws://ignored/ws", nil)
	require.NoError(t, err)
	server := <-served
	assert.Equal(t, "swill.v1", client.Subprotocol(), "the default subprotocol")
	assert.Equal(t, "swill.v1", server.Subprotocol())

	rs, rc := newRecorder(), newRecorder()
	server.Start(rs)
	client.Start(rc)
	require.NoError(t, client.WriteMessage([]byte("ping")))
	require.NoError(t, client.Flush())
	assert.Equal(t, "ping", rs.next(t).data)
	client.Close(transport.StatusNormalClosure, "")
	rc.waitClosed(t)
	assert.Equal(t, transport.StatusNormalClosure, transport.CloseStatus(rs.waitClosed(t)))

	legacy := memtransport.Dialer{Subprotocol: "swill/1", Serve: func(c transport.Conn) { served <- c }}
	client, err = legacy.Dial(context.Background(), "", nil)
	require.NoError(t, err)
	assert.Equal(t, "swill/1", client.Subprotocol())
	assert.Equal(t, "swill/1", (<-served).Subprotocol())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = d.Dial(ctx, "", nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, served, "a cancelled dial serves nothing")
}

// Many writers' worth of messages, written and flushed in bursts by one
// goroutine while the reader drains, arrive complete and in order.
func TestPipeOrderUnderLoad(t *testing.T) {
	t.Parallel()
	a, b := memtransport.Pipe("swill.v1")
	rb := newRecorder()
	b.Start(rb)
	a.Start(newRecorder())
	const n = 5000
	go func() {
		for i := 0; i < n; i++ {
			a.WriteMessage([]byte{byte(i >> 8), byte(i)})
			if i%7 == 0 {
				a.Flush()
			}
		}
		a.Flush()
	}()
	for i := 0; i < n; i++ {
		m := rb.next(t)
		require.Equal(t, string([]byte{byte(i >> 8), byte(i)}), m.data, "message %d", i)
	}
	a.Close(transport.StatusNormalClosure, "")
	rb.waitClosed(t)
}
