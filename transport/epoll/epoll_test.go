//go:build linux

package epoll_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
	"github.com/swillorg/swill-go/transport/transporttest"
)

func TestMain(m *testing.M) {
	transporttest.ChildMain()
	goleak.VerifyTestMain(m)
}

func TestConformanceWithGobwasDialer(t *testing.T) {
	transporttest.Run(t, func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return &epoll.Acceptor{}, gobwasws.Transport{}
	})
}

func TestConformanceWithDefaultDialer(t *testing.T) {
	transporttest.Run(t, func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return &epoll.Acceptor{Workers: 1}, transport.WebSocket{}
	})
}

// The dialed end is gobwasws: epoll serves the server side only.
func BenchmarkAcceptor(b *testing.B) {
	f := func(testing.TB) (transport.Acceptor, transport.Dialer) {
		return &epoll.Acceptor{}, gobwasws.Transport{}
	}
	b.Run("Stream", func(b *testing.B) { transporttest.Stream(b, f, 60) })
	b.Run("RoundTrip64", func(b *testing.B) { transporttest.RoundTrip(b, f, 60, 64) })
	b.Run("RoundTrip1", func(b *testing.B) { transporttest.RoundTrip(b, f, 60, 1) })
}
