//go:build swill_gobwas

package swillpeer

import (
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/gobwasws"
)

func init() {
	fastDialer = gobwasws.Transport{}
	Register("swill-gobwas", "swill-go server + clientgo, transport/gobwasws (gobwas/ws, batched writes) on both sides", 21, Options{
		Acceptor: func() transport.Acceptor { return gobwasws.Transport{} },
		Dialer:   func() transport.Dialer { return gobwasws.Transport{} },
	})
}
