package clientgo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
)

func ExampleCall() {
	url, stop := startDemo()
	defer stop()
	ctx := context.Background()

	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum)
	// Output: 3
}

func ExampleCall_metadata() {
	url, stop := startDemo()
	defer stop()
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// The demo's "metadata" handler returns the request metadata, with
	// leading and trailing metadata of its own.
	var header, trailer rpc.Metadata
	got, err := clientgo.Call[any, rpc.Metadata](ctx, c, "metadata", nil,
		clientgo.WithMetadata(rpc.Metadata{"token": "s3cret"}),
		clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got["token"], header, trailer)
	// Output: s3cret map[hello:world] map[bye:world]
}

// A server error is an *rpc.Error; a validation error carries its
// per-field report in Data.
func ExampleCall_errors() {
	url, stop := startDemo()
	defer stop()
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	type Signup struct {
		Name  string `msgpack:"name"`
		Email string `msgpack:"email"`
		Age   int    `msgpack:"age"`
	}
	_, err = clientgo.Call[Signup, any](ctx, c, "signup", Signup{Name: "Al", Email: "al@example.com", Age: 9})
	var e *rpc.Error
	if errors.As(err, &e) {
		fmt.Println(int(e.Code), e.Message, rpc.IsWireError(err))
		fmt.Println(e.Data.(map[string]any)["age"])
	}
	// Output:
	// 422 Validation Error true
	// [map[description:less than 13]]
}

// Cancelling the context (here, its deadline passing) sends CANCEL to the
// server and returns at once.
func ExampleCall_deadline() {
	url, stop := startDemo()
	defer stop()
	c, err := clientgo.Dial(context.Background(), url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = clientgo.Call[int, int](ctx, c, "sleep", 10_000)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

func ExampleCallServerStream() {
	url, stop := startDemo()
	defer stop()
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	stream, err := clientgo.CallServerStream[int, int](ctx, c, "countdown", 3)
	if err != nil {
		log.Fatal(err)
	}
	for n, err := range stream.All() {
		if err != nil {
			log.Fatal(err)
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

func ExampleServerStream_Recv() {
	url, stop := startDemo()
	defer stop()
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// "lead" sends its leading metadata on its own, before any item.
	stream, err := clientgo.CallServerStream[int, int](ctx, c, "lead", 2)
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	for {
		n, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(n, stream.Header())
	}
	// Output:
	// 0 map[x:y]
	// 1 map[x:y]
}

func ExampleCallClientStream() {
	url, stop := startDemo()
	defer stop()
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	stream, err := clientgo.CallClientStream[int, int](ctx, c, "sum")
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 4} {
		if err := stream.Send(n); err != nil {
			break // the outcome comes from CloseAndReceive
		}
	}
	total, err := stream.CloseAndReceive()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(total)
	// Output: 10
}

func ExampleCallBidiStream() {
	url, stop := startDemo()
	defer stop()
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	stream, err := clientgo.CallBidiStream[string, string](ctx, c, "echo")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for _, s := range []string{"ping", "pong"} {
			if stream.Send(s) != nil {
				return
			}
		}
		stream.CloseSend()
	}()
	for s, err := range stream.All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s)
	}
	// Output:
	// ping
	// pong
}

func ExampleWithStateHook() {
	url, stop := startDemo()
	states := make(chan clientgo.State, 8)
	c, err := clientgo.Dial(context.Background(), url,
		clientgo.WithStateHook(func(s clientgo.State, err error) { states <- s }),
		clientgo.WithoutReconnect())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-states)
	stop() // the server goes away
	fmt.Println(<-states)
	_, err = clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	fmt.Println(errors.Is(err, clientgo.ErrConnectionLost))
	c.Close()
	fmt.Println(<-states)
	// Output:
	// connected
	// disconnected
	// true
	// closed
}
