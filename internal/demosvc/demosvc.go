package demosvc

import (
	"context"
	"time"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// FailRequest asks fail for an error with this code and message.
type FailRequest struct {
	Code    int    `msgpack:"code" validate:"required"`
	Message string `msgpack:"message" validate:"required"`
}

// SignupRequest is a new user's details.
type SignupRequest struct {
	Name  string `msgpack:"name" validate:"required,min=2"`
	Email string `msgpack:"email" validate:"required"`
	Age   int    `msgpack:"age" validate:"required,gte=13"`
}

// SignupResponse is the created user.
type SignupResponse struct {
	ID   string `msgpack:"id"`
	Name string `msgpack:"name"`
}

// Add returns the sum of two integers.
func Add(ctx context.Context, in [2]int) (int, error) {
	return in[0] + in[1], nil
}

// Countdown streams n, n-1, ..., 1 and sets the trailing metadata
// {"total": n}.
func Countdown(ctx context.Context, n int, out chan<- int) error {
	for i := n; i > 0; i-- {
		select {
		case out <- i:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return swill.CallFromContext(ctx).SetTrailer(rpc.Metadata{"total": n})
}

// Sum adds up the client's stream once it has ended.
func Sum(ctx context.Context, in <-chan int) (int, error) {
	total := 0
	for n := range in {
		total += n
	}
	return total, ctx.Err()
}

// Fail returns the error it is asked for.
func Fail(ctx context.Context, req FailRequest) (codec.None, error) {
	return codec.None{}, rpc.NewError(rpc.Code(req.Code), req.Message)
}

// Sleep waits ms milliseconds, or until the call is cancelled, and
// returns ms.
func Sleep(ctx context.Context, ms int) (int, error) {
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return ms, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Boom panics, to show how the server recovers.
func Boom(ctx context.Context, _ any) (any, error) {
	panic("boom")
}

// Lead sends the leading metadata {"x": "y"} on its own at once, then
// streams 0 ... n-1.
func Lead(ctx context.Context, n int, out chan<- int) error {
	if err := swill.CallFromContext(ctx).SendHeader(rpc.Metadata{"x": "y"}); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		select {
		case out <- i:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Echo sends back every value as it arrives.
func Echo(ctx context.Context, in <-chan any, out chan<- any) error {
	for v := range in {
		select {
		case out <- v:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Metadata returns the request metadata, with the leading metadata
// {"hello": "world"} and the trailing metadata {"bye": "world"}.
func Metadata(ctx context.Context, _ any) (rpc.Metadata, error) {
	call := swill.CallFromContext(ctx)
	if err := call.SetHeader(rpc.Metadata{"hello": "world"}); err != nil {
		return nil, err
	}
	if err := call.SetTrailer(rpc.Metadata{"bye": "world"}); err != nil {
		return nil, err
	}
	return call.Metadata(), nil
}

// Signup creates a user from a validated request.
func Signup(ctx context.Context, req SignupRequest) (SignupResponse, error) {
	return SignupResponse{ID: "u1", Name: req.Name}, nil
}

// Handlers returns the demo handlers in the reference's registration
// order.
func Handlers() []*swill.Handler {
	return []*swill.Handler{
		swill.Unary("add", Add, swill.WithDoc("Adds two integers.")),
		swill.ServerStream("countdown", Countdown, swill.WithDoc("Counts down from n to 1; trailing metadata {\"total\": n}.")),
		swill.ClientStream("sum", Sum, swill.WithDoc("Adds up a stream of integers.")),
		swill.Unary("fail", Fail, swill.WithDoc("Fails with the requested code and message.")),
		swill.Unary("sleep", Sleep, swill.WithDoc("Waits the given number of milliseconds, or until cancelled.")),
		swill.Unary("boom", Boom, swill.WithDoc("Panics inside the handler: an internal error."), swill.WithErrors(rpc.CodeInternal)),
		swill.ServerStream("lead", Lead, swill.WithDoc("Sends leading metadata {\"x\": \"y\"} alone, then 0 ... n-1.")),
		swill.BidiStream("echo", Echo, swill.WithDoc("Echoes every value as it arrives.")),
		swill.Unary("metadata", Metadata, swill.WithDoc("Returns the request metadata; leading {\"hello\": \"world\"}, trailing {\"bye\": \"world\"}.")),
		swill.BidiStream("echo_untyped", Echo, swill.WithDoc("Same as echo.")),
		swill.Unary("signup", Signup, swill.WithDoc("Creates a user."), swill.WithErrors(rpc.CodeValidation)),
	}
}

// Register registers the demo handlers on s.
func Register(s *swill.Server) error {
	return s.Register(Handlers()...)
}
