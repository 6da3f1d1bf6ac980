//go:build swill_epoll

package swillpeer

import (
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
)

func init() {
	Register("swill-epoll", "swill-go server in event-driven mode (transport/epoll) + clientgo on transport/gobwasws (the default transport when gobwasws is not built)", 22, Options{
		Acceptor: func() transport.Acceptor { return &epoll.Acceptor{} },
		Dialer:   func() transport.Dialer { return fastDialer },
	})
}
