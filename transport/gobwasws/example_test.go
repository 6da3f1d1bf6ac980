package gobwasws_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/gobwasws"
)

// echo writes every message back to its connection.
type echo struct{ conn transport.Conn }

func (e echo) HandleMessage(_ transport.MessageType, data []byte) {
	e.conn.WriteMessage(data)
	e.conn.Flush()
}

func (e echo) HandleClose(error) {}

// printer prints what it receives and says when the connection ends.
type printer struct {
	got    chan string
	closed chan error
}

func (p printer) HandleMessage(_ transport.MessageType, data []byte) { p.got <- string(data) }
func (p printer) HandleClose(err error)                              { p.closed <- err }

// A server and a client on the gobwas/ws transport: the server prefers
// swill.v1, the client also offers the legacy swill/1. Several messages
// written before one Flush arrive as separate messages.
func Example() {
	var t gobwasws.Transport
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := t.Accept(w, r, &transport.AcceptOptions{Subprotocols: []string{"swill.v1", "swill/1"}})
		if err != nil {
			return
		}
		c.Start(echo{c})
	}))
	defer srv.Close()

	ctx := context.Background()
	c, err := t.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &transport.DialOptions{Subprotocols: []string{"swill/1", "swill.v1"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := printer{got: make(chan string, 2), closed: make(chan error, 1)}
	c.Start(p)
	fmt.Println("subprotocol:", c.Subprotocol())

	c.WriteMessage([]byte("hello"))
	c.WriteMessage([]byte("world"))
	c.Flush() // both frames leave in one write
	fmt.Println(<-p.got)
	fmt.Println(<-p.got)

	c.Close(transport.StatusNormalClosure, "done")
	fmt.Println(<-p.closed)
	// Output:
	// subprotocol: swill.v1
	// hello
	// world
	// transport: connection closed
}
