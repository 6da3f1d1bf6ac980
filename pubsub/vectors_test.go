package pubsub_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
)

// A vector is one conversation with a hub, frame by frame: what the
// client sends, what the server's code publishes, and the exact bytes the
// client must receive.
type vector struct {
	Name  string `json:"name"`
	Steps []step `json:"steps"`
}

type step struct {
	// Dir is "send" (hex is written), "recv" (hex must be read next),
	// or "publish" (the server publishes data on channel).
	Dir     string `json:"dir"`
	Hex     string `json:"hex,omitempty"`
	Decoded any    `json:"decoded,omitempty"`
	Channel string `json:"channel,omitempty"`
	Data    any    `json:"data,omitempty"`
	// Unordered "recv" steps next to each other may arrive in any order:
	// frames of different calls ending at once.
	Unordered bool `json:"unordered,omitempty"`
}

// TestWireVectors replays testdata/vectors.json over a real loopback
// WebSocket: the bytes of the pub/sub frames documented in
// docs/pubsub.md, for clients in other languages to test against.
// SWILL_UPDATE_VECTORS=1 records the "recv" bytes instead of checking
// them.
func TestWireVectors(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var vs []vector
	require.NoError(t, json.Unmarshal(b, &vs))
	update := os.Getenv("SWILL_UPDATE_VECTORS") == "1"
	for i := range vs {
		v := &vs[i]
		t.Run(v.Name, func(t *testing.T) {
			hub, err := pubsub.New(
				pubsub.WithChannels(pubsub.Untyped("room.*", pubsub.WithJoinLeave())),
				pubsub.WithHooks(pubsub.Hooks{OnPublish: func(context.Context, *pubsub.PublishEvent) error { return nil }}))
			require.NoError(t, err)
			defer hub.Close()
			srv := swilltest.NewServer()
			require.NoError(t, srv.Mount(hub))
			s := swilltest.Start(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, s.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
			require.NoError(t, err)
			defer c.CloseNow()
			var unordered []string // received hex of the current unordered group
			for j := range v.Steps {
				st := &v.Steps[j]
				if !(st.Dir == "recv" && st.Unordered) && len(unordered) > 0 {
					t.Fatalf("step %d: an unordered group must end the vector", j)
				}
				switch st.Dir {
				case "send":
					raw, err := hex.DecodeString(st.Hex)
					require.NoError(t, err)
					require.NoError(t, c.Write(ctx, websocket.MessageBinary, raw))
				case "publish":
					_, err := hub.Publish(ctx, st.Channel, st.Data)
					require.NoError(t, err)
				case "recv":
					_, got, err := c.Read(ctx)
					require.NoError(t, err, "step %d", j)
					if update {
						st.Hex = hex.EncodeToString(got)
						var d any
						require.NoError(t, codec.Unmarshal(got, &d))
						st.Decoded = d
						continue
					}
					if st.Unordered {
						unordered = append(unordered, hex.EncodeToString(got))
						continue
					}
					assert.Equal(t, st.Hex, hex.EncodeToString(got), "step %d", j)
				}
			}
			if len(unordered) > 0 && !update {
				var want []string
				for _, st := range v.Steps {
					if st.Unordered {
						want = append(want, st.Hex)
					}
				}
				assert.ElementsMatch(t, want, unordered)
			}
		})
	}
	if update {
		out, err := json.MarshalIndent(vs, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(out, '\n'), 0o644))
	}
}
