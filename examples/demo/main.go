package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/swillorg/swill-go/examples/demo/chat"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/playground"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	debug := flag.Bool("debug", false, "send internal error details to clients")
	grace := flag.Duration("grace", 10*time.Second, "how long running calls may finish on SIGTERM before they end with 503")
	certFile := flag.String("tls-cert", "", "serve wss:// with this PEM certificate (and -tls-key)")
	keyFile := flag.String("tls-key", "", "the PEM private key of -tls-cert")
	redisURL := flag.String("redis", "", "share pub/sub and sessions with other demo processes through this Redis (redis://HOST:PORT/DB); in-process without it")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if (*certFile == "") != (*keyFile == "") {
		fmt.Fprintln(os.Stderr, "demo: give both -tls-cert and -tls-key, or neither")
		os.Exit(2)
	}
	if err := run(*addr, *debug, *grace, *certFile, *keyFile, *redisURL, logger); err != nil {
		logger.Error("demo failed", "err", err)
		os.Exit(1)
	}
}

func run(addr string, debug bool, grace time.Duration, certFile, keyFile, redisURL string, logger *slog.Logger) error {
	srv := swill.NewServer(
		swill.WithLogger(logger),
		swill.WithDebug(debug),
		swill.WithVersion("demo"),
		swill.WithValidator(validate.New()), // Signup checks validate tags
		swill.WithInsecureSkipOriginCheck(), // the demo is for trying things from any page
	)
	if err := demosvc.Register(srv); err != nil {
		return err
	}
	b, err := newBackends(context.Background(), redisURL, logger)
	if err != nil {
		return err
	}
	defer b.close()
	hub, err := chat.NewHub(b.engine) // nil: in-process, one node
	if err != nil {
		return err
	}
	defer hub.Close() // after srv.Shutdown
	if err := chat.Register(srv, hub); err != nil {
		return err
	}
	mux := routes(srv)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := registerVisits(srv, ln.Addr().String()); err != nil {
		return err
	}
	// ReadHeaderTimeout bounds the HTTP handshake: without it a client
	// that sends its request headers a byte at a time holds a socket and
	// a goroutine for as long as it likes.
	hs := &http.Server{Handler: b.sessions.Handler(mux), ReadHeaderTimeout: 10 * time.Second}
	ws, web := "ws", "http"
	if certFile != "" {
		ws, web = "wss", "https"
	}
	// The first line of stdout is the URL, for scripts and tests to read.
	fmt.Printf("%s://%s/ws\n", ws, ln.Addr())
	logger.Info("swill demo listening", "url", fmt.Sprintf("%s://%s/ws", ws, ln.Addr()), "docs", fmt.Sprintf("%s://%s/docs/", web, ln.Addr()), "chat", fmt.Sprintf("%s://%s/chat/", web, ln.Addr()))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// Stop the HTTP listener first, then the swill connections (hijacked
	// connections are not tracked by http.Server).
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return srv.Shutdown(sctx)
}

// routes serves the swill endpoint at /ws, the docs and playground page at
// /docs/, the chat at /chat/, and sends a browser opening / to the docs.
func routes(srv *swill.Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	// The docs and playground page; it connects to ../ws, the endpoint
	// above.
	mux.Handle("/docs/", playground.Handler(srv, playground.WithTitle("swill demo")))
	// The chat: one pub/sub channel per room; it connects to ../ws too.
	mux.Handle("/chat/", http.StripPrefix("/chat", chat.Handler()))
	mux.Handle("GET /{$}", http.RedirectHandler("/docs/", http.StatusFound))
	return mux
}
