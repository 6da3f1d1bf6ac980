package clientgo_test

import (
	"hash/fnv"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
)

// A long stream into a consumer that does a little work per item, with
// the default buffer: when the reader outruns the consumer, the buffer
// fills and the connection is paused again and again, but the consumer
// keeps taking items, and the stream arrives whole.
func TestLongStreamIntoBusyConsumer(t *testing.T) {
	t.Parallel()
	srv, p := startServer(t)
	c := dial(t, srv.URL) // the default buffer and timeout
	const n = 60_000      // some 60 pauses of the connection with the default buffer
	s, err := clientgo.CallServerStream[int, int](testCtx(t), c, "flood", n)
	require.NoError(t, err)
	p.waitStarted(t, "flood")
	h := fnv.New64a()
	want := 0
	for v, err := range s.All() {
		require.NoError(t, err, "after %d items", want)
		require.Equal(t, want, v)
		want++
		for range 8 { // a little work per item
			h.Write(strconv.AppendInt(nil, int64(v), 10))
		}
	}
	assert.Equal(t, n, want)
	assert.NoError(t, p.waitEnded(t), "the handler sent everything")
	t.Logf("checksum %x", h.Sum64())
}
