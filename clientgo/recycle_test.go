package clientgo

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// The reader may still hold a unary call that has ended, been recycled and
// begun to serve another call (on the same connection or on another, whose
// sequence numbers overlap). What it then delivers for the old call must
// not reach the new one.
func TestRecycledCallIgnoresItsPast(t *testing.T) {
	c, s := startFake(t)
	ctx := context.Background()
	old, err := c.start(ctx, "add", rpc.KindUnary, [2]int{1, 2}, nil)
	require.NoError(t, err)
	s.recv()
	cn, oldSeq := old.cn, old.seq
	stale := cn.find(oldSeq) // what the reader holds
	require.Same(t, old, stale)

	require.True(t, old.cancel(context.Canceled))
	<-old.done
	// As recycle does, short of handing the call to the pool, where other
	// tests could get it too.
	old.clear()

	// The object now serves call newSeq on the same connection.
	newSeq := c.seq.Add(1)
	stale.reuse(ctx, cn, newSeq, "add")
	require.True(t, cn.register(stale))
	stale.deliver(cn, &wire.Response{Seq: oldSeq, Type: wire.TypeMetadata, Leading: rpc.Metadata{"old": true}})
	stale.deliver(cn, &wire.Response{Seq: oldSeq, Type: wire.TypeMessage, Data: []byte{0x03}})
	stale.deliver(cn, &wire.Response{Seq: oldSeq, Type: wire.TypeEndOfStream})
	stale.fail(cn, oldSeq, ErrConnectionLost)
	select {
	case <-stale.done:
		t.Fatal("the old call's frames ended the new call")
	default:
	}
	stale.deliver(cn, &wire.Response{Seq: newSeq, Type: wire.TypeMessage, Data: []byte{0x07}})
	<-stale.done
	b, leading, _, err := stale.outcome()
	require.NoError(t, err)
	assert.Equal(t, []byte{0x07}, b.B)
	assert.Nil(t, leading)
	wire.PutBuffer(b)
	stale.clear()

	// The object now serves a call with the old sequence number on another
	// connection.
	other := newConn(c, cn.tc)
	stale.reuse(ctx, other, oldSeq, "add")
	stale.deliver(cn, &wire.Response{Seq: oldSeq, Type: wire.TypeMessage, Data: []byte{0x03}})
	stale.fail(cn, oldSeq, ErrConnectionLost)
	select {
	case <-stale.done:
		t.Fatal("a frame of another connection ended the call")
	default:
	}
	stale.fail(other, oldSeq, ErrClosed) // its own connection's end does end it
	<-stale.done
	_, _, _, err = stale.outcome()
	assert.ErrorIs(t, err, ErrClosed)
}
