package swill_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/memtransport"
)

// connectInMemory returns a client connected to srv through an in-memory
// pipe, and a function that closes both.
func connectInMemory(srv *swill.Server) (*clientgo.Client, func()) {
	dialer := memtransport.Dialer{Serve: func(c transport.Conn) { srv.ServeConn(c, nil) }}
	client, err := clientgo.Dial(context.Background(), "mem://demo", clientgo.WithDialer(dialer), clientgo.WithoutReconnect())
	if err != nil {
		panic(err)
	}
	return client, func() {
		client.Close()
		srv.Shutdown(context.Background())
	}
}

// A unary handler takes one request and returns one response. Fixed-size
// arrays travel as MsgPack arrays, so [2]int is the tuple [a, b].
func ExampleUnary() {
	srv := swill.NewServer()
	err := srv.Register(swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) {
		return in[0] + in[1], nil
	}, swill.WithDoc("Adds two integers.")))
	if err != nil {
		panic(err)
	}

	client, closeAll := connectInMemory(srv)
	defer closeAll()
	sum, err := clientgo.Call[[2]int, int](context.Background(), client, "add", [2]int{1, 2})
	fmt.Println(sum, err)
	// Output: 3 <nil>
}

// A server-stream handler sends its items on out; returning ends the
// stream. Trailing metadata set before returning goes out with the
// END_OF_STREAM frame.
func ExampleServerStream() {
	srv := swill.NewServer()
	err := srv.Register(swill.ServerStream("countdown", func(ctx context.Context, n int, out chan<- int) error {
		for i := n; i > 0; i-- {
			select {
			case out <- i:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return swill.CallFromContext(ctx).SetTrailer(rpc.Metadata{"total": n})
	}))
	if err != nil {
		panic(err)
	}

	client, closeAll := connectInMemory(srv)
	defer closeAll()
	stream, err := clientgo.CallServerStream[int, int](context.Background(), client, "countdown", 3)
	if err != nil {
		panic(err)
	}
	for n, err := range stream.All() {
		if err != nil {
			panic(err)
		}
		fmt.Println(n)
	}
	fmt.Println("trailer:", stream.Trailer())
	// Output:
	// 3
	// 2
	// 1
	// trailer: map[total:3]
}

// A client-stream handler ranges over the client's items; the framework
// closes in when the client ends its stream.
func ExampleClientStream() {
	srv := swill.NewServer()
	err := srv.Register(swill.ClientStream("sum", func(ctx context.Context, in <-chan int) (int, error) {
		total := 0
		for n := range in {
			total += n
		}
		return total, ctx.Err()
	}))
	if err != nil {
		panic(err)
	}

	client, closeAll := connectInMemory(srv)
	defer closeAll()
	stream, err := clientgo.CallClientStream[int, int](context.Background(), client, "sum")
	if err != nil {
		panic(err)
	}
	for _, n := range []int{1, 2, 3, 4} {
		if err := stream.Send(n); err != nil {
			panic(err)
		}
	}
	total, err := stream.CloseAndReceive()
	fmt.Println(total, err)
	// Output: 10 <nil>
}

// A bidirectional handler reads the client's stream and writes its own,
// as items come.
func ExampleBidiStream() {
	srv := swill.NewServer()
	err := srv.Register(swill.BidiStream("shout", func(ctx context.Context, in <-chan string, out chan<- string) error {
		for s := range in {
			select {
			case out <- strings.ToUpper(s) + "!":
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}))
	if err != nil {
		panic(err)
	}

	client, closeAll := connectInMemory(srv)
	defer closeAll()
	stream, err := clientgo.CallBidiStream[string, string](context.Background(), client, "shout")
	if err != nil {
		panic(err)
	}
	for _, word := range []string{"hello", "world"} {
		if err := stream.Send(word); err != nil {
			panic(err)
		}
		reply, err := stream.Recv()
		fmt.Println(reply, err)
	}
	stream.CloseSend()
	_, err = stream.Recv()
	fmt.Println(errors.Is(err, io.EOF))
	// Output:
	// HELLO! <nil>
	// WORLD! <nil>
	// true
}

// A handler chooses the error the client sees with an *rpc.Error; any
// other error is an internal error whose text stays on the server.
func ExampleUnary_errors() {
	srv := swill.NewServer()
	err := srv.Register(
		swill.Unary("divide", func(ctx context.Context, in [2]int) (int, error) {
			if in[1] == 0 {
				return 0, rpc.NewError(rpc.CodeBadRequest, "division by zero").WithData(map[string]any{"dividend": in[0]})
			}
			return in[0] / in[1], nil
		}, swill.WithErrors(rpc.CodeBadRequest)),
		swill.Unary("secret", func(ctx context.Context, _ any) (int, error) {
			return 0, errors.New("connection refused by db.internal:5432")
		}),
	)
	if err != nil {
		panic(err)
	}

	client, closeAll := connectInMemory(srv)
	defer closeAll()
	ctx := context.Background()
	_, err = clientgo.Call[[2]int, int](ctx, client, "divide", [2]int{1, 0})
	var e *rpc.Error
	if errors.As(err, &e) {
		fmt.Println(int(e.Code), e.Message, e.Data)
	}
	_, err = clientgo.Call[any, int](ctx, client, "secret", nil)
	fmt.Println(int(rpc.CodeOf(err)), errors.As(err, &e) && e.Message == "An internal server error occurred")
	// Output:
	// 400 division by zero map[dividend:1]
	// 500 true
}

// Request metadata, leading metadata (the client's header) and trailing
// metadata are reached through the call.
func ExampleCall_SetHeader() {
	srv := swill.NewServer()
	err := srv.Register(swill.Unary("greet", func(ctx context.Context, name string) (string, error) {
		call := swill.CallFromContext(ctx)
		if err := call.SetHeader(rpc.Metadata{"served-by": "example"}); err != nil {
			return "", err
		}
		if err := call.SetTrailer(rpc.Metadata{"cost": 1}); err != nil {
			return "", err
		}
		return call.Metadata().String("greeting") + ", " + name, nil
	}))
	if err != nil {
		panic(err)
	}

	client, closeAll := connectInMemory(srv)
	defer closeAll()
	var header, trailer rpc.Metadata
	reply, err := clientgo.Call[string, string](context.Background(), client, "greet", "Ada",
		clientgo.WithMetadata(rpc.Metadata{"greeting": "Hello"}),
		clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
	fmt.Println(reply, err)
	fmt.Println(header, trailer)
	// Output:
	// Hello, Ada <nil>
	// map[served-by:example] map[cost:1]
}

// The server is an http.Handler: mount it at the WebSocket path of any
// router. Clients offer the subprotocol swill.v1 (or the reference's
// swill/1); a plain GET is answered 426.
func ExampleServer_ServeHTTP() {
	srv := swill.NewServer()
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	resp, err := http.Get(hs.URL + "/ws")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Upgrade"))
	// Output: 426 websocket
}
