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

func BenchmarkWebSocket(b *testing.B) {
	f := func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return transport.WebSocket{}, transport.WebSocket{}
	}
	b.Run("Stream", func(b *testing.B) { transporttest.Stream(b, f, 60) })
	b.Run("RoundTrip64", func(b *testing.B) { transporttest.RoundTrip(b, f, 60, 64) })
	b.Run("RoundTrip1", func(b *testing.B) { transporttest.RoundTrip(b, f, 60, 1) })
}
