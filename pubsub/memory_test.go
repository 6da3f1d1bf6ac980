package pubsub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/rpc"
)

// Channels without history leave nothing behind in the engine; those with
// history keep at most their size, and start a new epoch once expired.
func TestMemoryEngineState(t *testing.T) {
	e := NewMemoryEngine()
	now := time.Unix(1000, 0)
	e.now = func() time.Time { return now }
	ctx := context.Background()
	require.NoError(t, e.Start(ctx, func(string, bool, Publication) {}))
	for i := range 1000 {
		_, err := e.Publish(ctx, Publication{Channel: fmt.Sprintf("user.%d", i), Data: []byte{1}}, PublishOptions{})
		require.NoError(t, err)
	}
	assert.Empty(t, e.channels)

	opts := PublishOptions{HistorySize: 3, HistoryTTL: time.Minute}
	for i := range 10 {
		pos, err := e.Publish(ctx, Publication{Channel: "feed", Data: []byte{byte(i)}}, opts)
		require.NoError(t, err)
		assert.Equal(t, uint64(i+1), pos.Offset)
	}
	pubs, pos, err := e.History(ctx, "feed", HistoryOptions{Limit: -1, PublishOptions: opts})
	require.NoError(t, err)
	require.Len(t, pubs, 3)
	assert.Equal(t, []uint64{8, 9, 10}, []uint64{pubs[0].Offset, pubs[1].Offset, pubs[2].Offset})
	pubs, _, err = e.History(ctx, "feed", HistoryOptions{Since: &rpc.Position{Offset: 8, Epoch: pos.Epoch}, Limit: -1, PublishOptions: opts})
	require.NoError(t, err)
	assert.Len(t, pubs, 2)

	now = now.Add(2 * time.Minute) // quiet for longer than the TTL: the history is lost
	pubs, pos2, err := e.History(ctx, "feed", HistoryOptions{Limit: -1, PublishOptions: opts})
	require.NoError(t, err)
	assert.Empty(t, pubs)
	assert.NotEqual(t, pos.Epoch, pos2.Epoch)
	assert.Equal(t, uint64(0), pos2.Offset)
}
