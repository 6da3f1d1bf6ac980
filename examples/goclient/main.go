package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
)

// SignupRequest is the demo's signup request. The client declares the
// types it sends and receives; it does not import the server's packages.
type SignupRequest struct {
	Name  string `msgpack:"name"`
	Email string `msgpack:"email"`
	Age   int    `msgpack:"age"`
}

// SignupResponse is the user the demo's signup creates.
type SignupResponse struct {
	ID   string `msgpack:"id"`
	Name string `msgpack:"name"`
}

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080/ws", "URL of the demo server's swill endpoint")
	timeout := flag.Duration("timeout", 10*time.Second, "bound on the whole run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *url, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url string, out io.Writer) error {
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close()

	// Unary.
	sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2})
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	fmt.Fprintln(out, "add(1, 2) =", sum)

	// Server stream, with trailing metadata.
	countdown, err := clientgo.CallServerStream[int, int](ctx, c, "countdown", 3)
	if err != nil {
		return fmt.Errorf("countdown: %w", err)
	}
	fmt.Fprint(out, "countdown(3):")
	for n, err := range countdown.All() {
		if err != nil {
			return fmt.Errorf("countdown: %w", err)
		}
		fmt.Fprint(out, " ", n)
	}
	fmt.Fprintln(out, "; trailer", countdown.Trailer())

	// Client stream.
	up, err := clientgo.CallClientStream[int, int](ctx, c, "sum")
	if err != nil {
		return fmt.Errorf("sum: %w", err)
	}
	for i := 1; i <= 4; i++ {
		if err := up.Send(i); err != nil {
			break // CloseAndReceive reports why
		}
	}
	total, err := up.CloseAndReceive()
	if err != nil {
		return fmt.Errorf("sum: %w", err)
	}
	fmt.Fprintln(out, "sum(1, 2, 3, 4) =", total)

	// Bidirectional.
	echo, err := clientgo.CallBidiStream[string, string](ctx, c, "echo")
	if err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	for _, s := range []string{"hello", "world"} {
		if err := echo.Send(s); err != nil {
			return fmt.Errorf("echo: %w", err)
		}
		got, err := echo.Recv()
		if err != nil {
			return fmt.Errorf("echo: %w", err)
		}
		fmt.Fprintln(out, "echo:", got)
	}
	echo.CloseSend()
	if _, err := echo.Recv(); err != io.EOF {
		return fmt.Errorf("echo: want the end of the stream, got %v", err)
	}

	// Metadata both ways.
	var header, trailer rpc.Metadata
	md, err := clientgo.Call[any, rpc.Metadata](ctx, c, "metadata", nil,
		clientgo.WithMetadata(rpc.Metadata{"user": "ada"}),
		clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	fmt.Fprintln(out, "metadata: user =", md["user"], "header", header, "trailer", trailer)

	// Errors: a coded error, then a validation error with its fields.
	_, err = clientgo.Call[map[string]any, any](ctx, c, "fail", map[string]any{"code": 418, "message": "I'm a teapot"})
	var e *rpc.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("fail: want an *rpc.Error, got %v", err)
	}
	fmt.Fprintln(out, "fail:", int(e.Code), e.Message)

	_, err = clientgo.Call[SignupRequest, SignupResponse](ctx, c, "signup", SignupRequest{Name: "A", Email: "a@example.com", Age: 12})
	if !errors.As(err, &e) || e.Code != rpc.CodeValidation {
		return fmt.Errorf("signup: want a validation error, got %v", err)
	}
	fmt.Fprintln(out, "signup:", int(e.Code), e.Message, e.Data)
	user, err := clientgo.Call[SignupRequest, SignupResponse](ctx, c, "signup", SignupRequest{Name: "Ada", Email: "ada@example.com", Age: 36})
	if err != nil {
		return fmt.Errorf("signup: %w", err)
	}
	fmt.Fprintf(out, "signup: %+v\n", user)

	// Cancellation through a deadline: the server's handler is cancelled
	// too.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = clientgo.Call[int, int](short, c, "sleep", 5000)
	fmt.Fprintln(out, "sleep(5000) with a 50ms deadline:", err)
	return nil
}
