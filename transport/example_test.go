package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// upper answers every message with its upper-case copy.
type upper struct{ conn transport.Conn }

func (u upper) HandleMessage(_ transport.MessageType, data []byte) {
	u.conn.WriteMessage([]byte(strings.ToUpper(string(data)))) // data is valid only until return
	u.conn.Flush()
}

func (u upper) HandleClose(error) {}

// collect passes what it receives to the test's goroutine.
type collect struct {
	got    chan string
	closed chan error
}

func (c collect) HandleMessage(_ transport.MessageType, data []byte) { c.got <- string(data) }
func (c collect) HandleClose(err error)                              { c.closed <- err }

// The default transport, on coder/websocket: a server accepts upgrades
// with the swill subprotocols, a client dials it, and each side hands the
// connection a Handler that receives its messages.
func Example() {
	var ws transport.WebSocket
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &transport.AcceptOptions{
			Subprotocols: []string{rpc.Subprotocol, rpc.LegacySubprotocol},
		})
		if err != nil {
			return // Accept has answered the request
		}
		c.Start(upper{c})
	}))
	defer srv.Close()

	c, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"),
		&transport.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := collect{got: make(chan string, 1), closed: make(chan error, 1)}
	c.Start(h)
	fmt.Println("subprotocol:", c.Subprotocol())

	c.WriteMessage([]byte("hello"))
	c.Flush()
	fmt.Println(<-h.got)

	c.Close(transport.StatusNormalClosure, "bye")
	fmt.Println(<-h.closed)
	// Output:
	// subprotocol: swill.v1
	// HELLO
	// transport: connection closed
}
