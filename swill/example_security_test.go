package swill_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// userKey is where the auth examples keep the caller's name: in the
// call's context, or on the connection with Conn.Set.
type userKey struct{}

// Token authentication: the client sends its token as request metadata
// with every call, and an interceptor checks it before the handler runs,
// ending a call without a valid one with 401, and hands the user to the
// handler in its context.
func Example_authToken() {
	tokens := map[string]string{"s3cr3t": "ada"} // token → user; a real server asks its auth service
	auth := swill.InterceptorFunc(func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
		user, ok := tokens[strings.TrimPrefix(call.Metadata().String("authorization"), "Bearer ")]
		if !ok {
			return rpc.NewError(rpc.CodeUnauthorized, "a valid token is required")
		}
		return next(context.WithValue(ctx, userKey{}, user))
	})
	srv := swill.NewServer(swill.WithInterceptors(auth))
	err := srv.Register(swill.Unary("whoami", func(ctx context.Context, _ any) (string, error) {
		return ctx.Value(userKey{}).(string), nil
	}))
	if err != nil {
		panic(err)
	}
	url, stop := serve(srv)
	defer stop()

	client, err := clientgo.Dial(context.Background(), url)
	if err != nil {
		panic(err)
	}
	defer client.Close()
	_, err = clientgo.Call[any, string](context.Background(), client, "whoami", nil)
	fmt.Println(int(rpc.CodeOf(err)), err)
	who, err := clientgo.Call[any, string](context.Background(), client, "whoami", nil,
		clientgo.WithMetadata(rpc.Metadata{"authorization": "Bearer s3cr3t"}))
	fmt.Println(who, err)
	// Output:
	// 401 swill: 401 a valid token is required
	// ada <nil>
}

// Cookie sessions: the browser sends its session cookie with the
// WebSocket upgrade, so the connection is authenticated once, before it
// is accepted. BeforeConnection refuses a request without a valid
// session (HTTP 401, no WebSocket is opened); AfterAccept keeps the user
// on the connection for every call. Browsers send cookies cross-site
// too: keep the origin check on (the default), or anyone's page could
// open a connection with your users' cookies.
func Example_authCookie() {
	sessions := map[string]string{"9f86d08": "grace"} // session id → user; a real server asks its session store
	userOf := func(r *http.Request) (string, bool) {
		c, err := r.Cookie("session")
		if err != nil {
			return "", false
		}
		user, ok := sessions[c.Value]
		return user, ok
	}
	srv := swill.NewServer(swill.WithHooks(swill.Hooks{
		BeforeConnection: func(r *http.Request) error {
			if _, ok := userOf(r); !ok {
				return rpc.NewError(rpc.CodeUnauthorized, "log in first")
			}
			return nil
		},
		AfterAccept: func(ctx context.Context, conn *swill.Conn) error {
			user, _ := userOf(conn.Request())
			conn.Set(userKey{}, user)
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

	_, err = clientgo.Dial(context.Background(), url)
	fmt.Println(strings.Contains(err.Error(), "401"))

	client, err := clientgo.Dial(context.Background(), url,
		clientgo.WithHTTPHeader(http.Header{"Cookie": {"session=9f86d08"}}))
	if err != nil {
		panic(err)
	}
	defer client.Close()
	who, err := clientgo.Call[any, string](context.Background(), client, "whoami", nil)
	fmt.Println(who, err)
	// Output:
	// true
	// grace <nil>
}

// TLS: the server is an http.Handler, so TLS is the http.Server's
// (ListenAndServeTLS, or here httptest's TLS server) and clients dial
// wss://. The client trusts the server's certificate through
// WithTLSConfig; with a certificate from a public CA, the system roots
// do and no option is needed.
func Example_tls() {
	srv := swill.NewServer()
	err := srv.Register(swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) {
		return in[0] + in[1], nil
	}))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewUnstartedServer(mux)
	hs.Config.ReadHeaderTimeout = 10 * time.Second // as any http.Server facing the internet
	hs.StartTLS()                                  // in production: hs.ListenAndServeTLS(certFile, keyFile)
	defer func() {
		hs.Close()
		srv.Shutdown(context.Background())
	}()

	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	url := "wss" + strings.TrimPrefix(hs.URL, "https") + "/ws"
	client, err := clientgo.Dial(context.Background(), url, clientgo.WithTLSConfig(&tls.Config{RootCAs: roots}))
	if err != nil {
		panic(err)
	}
	defer client.Close()
	sum, err := clientgo.Call[[2]int, int](context.Background(), client, "add", [2]int{1, 2})
	fmt.Println(strings.HasPrefix(url, "wss://"), sum, err)
	// Output: true 3 <nil>
}

// Rate limiting: Limits.CallsPerSecond gives each connection a token
// bucket of CallBurst calls that refills at that rate. A call past it is
// answered with ERROR 429 and a retry hint, which rpc.RetryAfter reads;
// the connection stays open.
func Example_rateLimit() {
	srv := swill.NewServer(swill.WithLimits(swill.Limits{CallsPerSecond: 2, CallBurst: 2}))
	err := srv.Register(swill.Unary("ping", func(ctx context.Context, _ any) (string, error) {
		return "pong", nil
	}))
	if err != nil {
		panic(err)
	}
	url, stop := serve(srv)
	defer stop()
	client, err := clientgo.Dial(context.Background(), url)
	if err != nil {
		panic(err)
	}
	defer client.Close()

	for range 3 {
		_, err = clientgo.Call[any, string](context.Background(), client, "ping", nil)
		fmt.Println(int(rpc.CodeOf(err)))
	}
	wait, ok := rpc.RetryAfter(err)
	fmt.Println(ok, wait > 0 && wait <= 500*time.Millisecond)
	time.Sleep(wait) // real time: the bucket refills with the clock, as the hint says
	pong, err := clientgo.Call[any, string](context.Background(), client, "ping", nil)
	fmt.Println(pong, err)
	// Output:
	// 0
	// 0
	// 429
	// true true
	// pong <nil>
}

// Internal errors stay on the server: a handler's plain error (a wrapped
// database error, say) or panic reaches the client as a 500 with a
// generic message, and the logger gets the details. Only an *rpc.Error
// chooses what the client reads. WithDebug(true) sends the details too,
// for development.
func Example_internalErrors() {
	srv := swill.NewServer()
	err := srv.Register(swill.Unary("load", func(ctx context.Context, id int) (string, error) {
		return "", fmt.Errorf("load %d: %w", id, errors.New("dial db.internal:5432: password authentication failed for user admin"))
	}))
	if err != nil {
		panic(err)
	}
	client, closeAll := connectInMemory(srv)
	defer closeAll()
	_, err = clientgo.Call[int, string](context.Background(), client, "load", 7)
	fmt.Println(err)
	// Output: swill: 500 An internal server error occurred
}
