package transport_test

import (
	"testing"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/transporttest"
)

func TestWebSocketConformance(t *testing.T) {
	transporttest.Run(t, func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return transport.WebSocket{}, transport.WebSocket{}
	})
}
