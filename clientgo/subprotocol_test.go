package clientgo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// legacyServer accepts only the given subprotocols, as the reference
// Python server accepts only swill/1, and answers every unary call with 3.
func legacyServer(t *testing.T, subprotocols ...string) string {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: subprotocols})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			var req wire.Request
			if wire.ParseRequest(data, &req) != nil || req.Type != wire.TypeMessage {
				continue
			}
			b := wire.GetBuffer()
			enc := wire.GetEncoder()
			enc.Response(b, req.Seq, wire.TypeMessage, 3, nil, nil)
			wire.PutEncoder(enc)
			err = c.Write(ctx, websocket.MessageBinary, b.B)
			wire.PutBuffer(b)
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func TestLegacySubprotocol(t *testing.T) {
	url := legacyServer(t, rpc.LegacySubprotocol)
	c := dial(t, url)
	sum, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	require.NoError(t, err)
	assert.Equal(t, 3, sum)
}

func TestNoSubprotocolRefused(t *testing.T) {
	url := legacyServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := clientgo.Dial(ctx, url)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "subprotocol")
}
