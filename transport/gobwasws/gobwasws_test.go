package gobwasws_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/gobwasws"
	"github.com/swillorg/swill-go/transport/transporttest"
)

func TestMain(m *testing.M) {
	transporttest.ChildMain()
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return gobwasws.Transport{}, gobwasws.Transport{}
	})
}

// The two cross runs check that each side speaks the protocol as another
// implementation does, not only as its own other half expects.
func TestConformanceAcceptorWithDefaultDialer(t *testing.T) {
	transporttest.Run(t, func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return gobwasws.Transport{}, transport.WebSocket{}
	})
}

func TestConformanceDialerWithDefaultAcceptor(t *testing.T) {
	transporttest.Run(t, func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return transport.WebSocket{}, gobwasws.Transport{}
	})
}

func BenchmarkTransport(b *testing.B) {
	f := func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return gobwasws.Transport{}, gobwasws.Transport{}
	}
	b.Run("Stream", func(b *testing.B) { transporttest.Stream(b, f, 60) })
	b.Run("RoundTrip64", func(b *testing.B) { transporttest.RoundTrip(b, f, 60, 64) })
	b.Run("RoundTrip1", func(b *testing.B) { transporttest.RoundTrip(b, f, 60, 1) })
}
