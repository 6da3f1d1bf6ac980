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

	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	dir := flag.String("dir", "", "directory served at / (required)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "testserver: -dir is required")
		os.Exit(2)
	}
	if err := run(*addr, *dir, logger); err != nil {
		logger.Error("testserver failed", "err", err)
		os.Exit(1)
	}
}

func run(addr, dir string, logger *slog.Logger) error {
	srv := swill.NewServer(swill.WithLogger(logger), swill.WithValidator(validate.New()))
	if err := demosvc.Register(srv); err != nil {
		return err
	}
	ps, err := newPubSub()
	if err != nil {
		return err
	}
	defer ps.hub.Close()
	if err := srv.Mount(ps.hub); err != nil {
		return err
	}
	if err := srv.Register(ps.handlers()...); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/", noCache(http.FileServer(http.Dir(dir))))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("http://%s/\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return srv.Shutdown(sctx)
}

// noCache makes the browser fetch the freshly built bundle every run.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
