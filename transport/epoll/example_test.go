//go:build linux

package epoll_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
)

// upper answers every message with its upper-case copy.
type upper struct{ conn transport.Conn }

func (u upper) HandleMessage(_ transport.MessageType, data []byte) {
	u.conn.WriteMessage([]byte(strings.ToUpper(string(data))))
	u.conn.Flush()
}

func (u upper) HandleClose(error) {}

type printer struct {
	got    chan string
	closed chan error
}

func (p printer) HandleMessage(_ transport.MessageType, data []byte) { p.got <- string(data) }
func (p printer) HandleClose(err error)                              { p.closed <- err }

// An epoll Acceptor serves the server side; any dialer connects to it.
// A swill server takes it with swill.WithTransport(&epoll.Acceptor{}).
func Example() {
	a := &epoll.Acceptor{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.Accept(w, r, &transport.AcceptOptions{Subprotocols: []string{"swill.v1"}})
		if err != nil {
			return
		}
		c.Start(upper{c}) // no goroutine waits on this connection from now on
	}))
	defer srv.Close()

	c, err := gobwasws.Transport{}.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), &transport.DialOptions{Subprotocols: []string{"swill.v1"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := printer{got: make(chan string, 1), closed: make(chan error, 1)}
	c.Start(p)
	c.WriteMessage([]byte("quiet connections cost little"))
	c.Flush()
	fmt.Println(<-p.got)
	c.Close(transport.StatusNormalClosure, "")
	fmt.Println(<-p.closed)
	// Output:
	// QUIET CONNECTIONS COST LITTLE
	// transport: connection closed
}
