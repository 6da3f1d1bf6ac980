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
