package memtransport_test

import (
	"context"
	"fmt"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/memtransport"
)

// collect passes what it receives to the test's goroutine.
type collect chan string

func (c collect) HandleMessage(_ transport.MessageType, data []byte) { c <- string(data) }
func (c collect) HandleClose(error)                                  {}

// A pipe is two connected ends in memory: what one end writes and flushes
// the other receives, in order.
func ExamplePipe() {
	a, b := memtransport.Pipe("swill.v1")
	got := make(collect, 2)
	b.Start(got)
	a.Start(make(collect, 1))

	a.WriteMessage([]byte("one"))
	a.WriteMessage([]byte("two"))
	a.Flush()
	fmt.Println(<-got, <-got, b.Subprotocol())
	a.Close(transport.StatusNormalClosure, "")
	// Output:
	// one two swill.v1
}

// A Dialer connects a Go client to a server without a network: each Dial
// makes a pipe and serves its other end, here with a swill server.
func ExampleDialer() {
	srv := swill.NewServer()
	err := srv.Register(swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) {
		return in[0] + in[1], nil
	}))
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown(context.Background())

	dialer := memtransport.Dialer{Serve: func(c transport.Conn) { srv.ServeConn(c, nil) }}
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, "mem://demo", clientgo.WithDialer(dialer))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{2, 3})
	fmt.Println(sum, err)
	// Output:
	// 5 <nil>
}
