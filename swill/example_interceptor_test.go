package swill_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// serve mounts srv on a loopback port and returns its ws:// URL and a
// function that stops it.
func serve(srv *swill.Server) (string, func()) {
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", func() {
		hs.Close()
		srv.Shutdown(context.Background())
	}
}

// TokenAuth refuses calls whose request metadata does not carry the token.
func TokenAuth(token string) swill.InterceptorFunc {
	return func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
		if call.Metadata().String("authorization") != "Bearer "+token {
			return rpc.NewError(rpc.CodeUnauthorized, "invalid token")
		}
		return next(ctx)
	}
}

// Logging logs every call with its kind, outcome and duration.
func Logging(logger *slog.Logger) swill.InterceptorFunc {
	return func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
		start := time.Now()
		err := next(ctx)
		logger.LogAttrs(ctx, slog.LevelInfo, "call",
			slog.String("rpc", call.Name()),
			slog.String("kind", call.Kind().String()),
			slog.Int("code", int(rpc.CodeOf(err))),
			slog.Duration("took", time.Since(start)))
		return err
	}
}

// Logging and authentication as interceptors: the logger is outermost, so
// it also sees the calls the token check refuses.
func ExampleInterceptorFunc() {
	// Log to stdout without the time and the duration, so the output is
	// stable.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "took" {
				return slog.Attr{}
			}
			return a
		},
	}))
	srv := swill.NewServer(swill.WithInterceptors(Logging(logger), TokenAuth("s3cret")))
	err := srv.Register(swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) {
		return in[0] + in[1], nil
	}))
	if err != nil {
		panic(err)
	}
	url, stop := serve(srv)
	defer stop()

	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		panic(err)
	}
	defer c.Close()

	_, err = clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2})
	var e *rpc.Error
	if errors.As(err, &e) {
		fmt.Println("without a token:", e.Code, e.Message)
	}
	sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2},
		clientgo.WithMetadata(rpc.Metadata{"authorization": "Bearer s3cret"}))
	fmt.Println("with the token:", sum, err)
	// Output:
	// level=INFO msg=call rpc=add kind=unary code=401
	// without a token: unauthorized invalid token
	// level=INFO msg=call rpc=add kind=unary code=0
	// with the token: 3 <nil>
}

// Hooks at the connection stages: refuse upgrades without a token, and
// keep per-connection state for later calls.
func ExampleHooks() {
	type userKey struct{}
	srv := swill.NewServer(swill.WithHooks(swill.Hooks{
		BeforeConnection: func(r *http.Request) error {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				return rpc.NewError(rpc.CodeUnauthorized, "log in first")
			}
			return nil
		},
		AfterAccept: func(ctx context.Context, c *swill.Conn) error {
			c.Set(userKey{}, strings.TrimPrefix(c.Request().Header.Get("Authorization"), "Bearer "))
			return nil
		},
	}))
	err := srv.Register(swill.Unary("whoami", func(ctx context.Context, _ any) (string, error) {
		return swill.ConnFromContext(ctx).Value(userKey{}).(string), nil
	}))
	if err != nil {
		panic(err)
	}
	url, stop := serve(srv)
	defer stop()

	ctx := context.Background()
	_, err = clientgo.Dial(ctx, url, clientgo.WithoutReconnect())
	fmt.Println("refused:", err != nil)

	c, err := clientgo.Dial(ctx, url, clientgo.WithHTTPHeader(http.Header{"Authorization": {"Bearer alice"}}))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	who, err := clientgo.Call[any, string](ctx, c, "whoami", nil)
	fmt.Println(who, err)
	// Output:
	// refused: true
	// alice <nil>
}

// A unary interceptor that sees the request and the result: it doubles
// every result of "add", and leaves streaming calls alone.
func ExampleUnaryInterceptorFunc() {
	double := swill.UnaryInterceptorFunc(func(next swill.UnaryFunc) swill.UnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			in := req.(*[2]int) // the decoded request, which it may change
			fmt.Println("request:", *in)
			res, err := next(ctx, req)
			if err != nil {
				return nil, err
			}
			fmt.Println("result:", res)
			return res.(int) * 2, nil
		}
	})
	srv := swill.NewServer(swill.WithInterceptors(double))
	err := srv.Register(swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) {
		return in[0] + in[1], nil
	}))
	if err != nil {
		panic(err)
	}
	url, stop := serve(srv)
	defer stop()

	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2})
	fmt.Println("client:", sum, err)
	// Output:
	// request: [1 2]
	// result: 3
	// client: 6 <nil>
}
