package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/rpc"
)

// connFlags are the flags of every command that may connect to a server.
type connFlags struct {
	httpHeaders headerList
	dialTimeout time.Duration
	insecure    bool
	caCert      string
	cert, key   string
}

func (cf *connFlags) register(fs *cmdFlags) {
	fs.Var(&cf.httpHeaders, "http-header", "`Name: value` header of the WebSocket upgrade request (repeatable), for instance for authentication")
	fs.DurationVar(&cf.dialTimeout, "dial-timeout", 10*time.Second, "how long connecting may take")
	fs.BoolVar(&cf.insecure, "insecure", false, "wss://: accept any server certificate (no verification; for tests only)")
	fs.StringVar(&cf.caCert, "cacert", "", "wss://: verify the server's certificate against the CA certificates in PEM `file` instead of the system's")
	fs.StringVar(&cf.cert, "cert", "", "wss://: client certificate PEM `file`, for servers that require one (with -key)")
	fs.StringVar(&cf.key, "key", "", "wss://: private key PEM `file` of the -cert certificate")
}

// tlsConfig returns the TLS settings the flags ask for, or nil for the
// defaults.
func (cf *connFlags) tlsConfig() (*tls.Config, error) {
	if !cf.insecure && cf.caCert == "" && cf.cert == "" && cf.key == "" {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: cf.insecure}
	if cf.caCert != "" {
		pem, err := os.ReadFile(cf.caCert)
		if err != nil {
			return nil, failWith(exitFailure, fmt.Errorf("-cacert: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fail(exitUsage, "-cacert: %s holds no PEM certificate", cf.caCert)
		}
		cfg.RootCAs = pool
	}
	if (cf.cert == "") != (cf.key == "") {
		return nil, fail(exitUsage, "-cert and -key go together: give both or neither")
	}
	if cf.cert != "" {
		pair, err := tls.LoadX509KeyPair(cf.cert, cf.key)
		if err != nil {
			return nil, fail(exitUsage, "-cert/-key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// headerList collects repeated "Name: value" flags.
type headerList []string

// String implements flag.Value.
func (h *headerList) String() string { return strings.Join(*h, ", ") }

// Set implements flag.Value: it adds one "Name: value" header.
func (h *headerList) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return errors.New(`want "Name: value"`)
	}
	*h = append(*h, strings.TrimSpace(name)+": "+strings.TrimSpace(value))
	return nil
}

// isURL reports whether a SOURCE argument names a server rather than a
// file.
func isURL(s string) bool {
	for _, p := range []string{"ws://", "wss://", "http://", "https://"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return true
		}
	}
	return false
}

// dial connects to the server at url, once: the command makes its call
// and leaves, so it never reconnects.
func dial(ctx context.Context, url string, cf *connFlags) (*clientgo.Client, error) {
	opts := []clientgo.Option{clientgo.WithoutReconnect(), clientgo.WithDialTimeout(cf.dialTimeout)}
	tc, err := cf.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, clientgo.WithTLSConfig(tc))
	}
	if len(cf.httpHeaders) > 0 {
		h := http.Header{}
		for _, kv := range cf.httpHeaders {
			name, value, _ := strings.Cut(kv, ": ")
			h.Add(name, value)
		}
		opts = append(opts, clientgo.WithHTTPHeader(h))
	}
	c, err := clientgo.Dial(ctx, url, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failWith(exitConnection, fmt.Errorf("connecting to %s: %w", url, err))
	}
	return c, nil
}

// describe obtains the description of the server behind c, telling on
// stderr how it falls short of swill.describe.
func describe(ctx context.Context, e *env, c *clientgo.Client) (*svcdesc.Description, error) {
	d, err := svcdesc.Fetch(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		code := exitConnection
		if rpc.IsWireError(err) {
			code = serverErrorStatus(rpc.CodeOf(err))
		}
		return nil, failWith(code, fmt.Errorf("describing the service: %w", err))
	}
	if note := d.Note(); note != "" {
		fmt.Fprintf(e.stderr, "swill: note: %s\n", note)
	}
	return d, nil
}

// load returns the description SOURCE names: a server's URL, a file, or
// "-" for standard input.
func load(ctx context.Context, e *env, src string, cf *connFlags) (*svcdesc.Description, error) {
	if isURL(src) {
		c, err := dial(ctx, src, cf)
		if err != nil {
			return nil, interrupted(ctx, err)
		}
		defer c.Close()
		d, err := describe(ctx, e, c)
		return d, interrupted(ctx, err)
	}
	f := e.stdin
	if src != "-" {
		file, err := os.Open(src)
		if err != nil {
			return nil, failWith(exitFailure, err)
		}
		defer file.Close()
		f = file
	}
	doc, err := svcdesc.Load(f)
	if err != nil {
		return nil, failWith(exitFailure, fmt.Errorf("%s: %w", src, err))
	}
	return &svcdesc.Description{Doc: doc}, nil
}

// interrupted turns the error of an operation cut short by ctx into the
// command's interruption or timeout.
func interrupted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failWith(exitTimeout, errors.New("deadline exceeded"))
	}
	return failWith(exitInterrupted, errors.New("interrupted"))
}
