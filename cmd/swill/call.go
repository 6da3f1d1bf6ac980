package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/cmd/swill/internal/jsonconv"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

// metadataFlags collects repeated -H key=value flags.
type metadataFlags struct {
	md rpc.Metadata
}

// String implements flag.Value.
func (m *metadataFlags) String() string {
	if m == nil || len(m.md) == 0 {
		return ""
	}
	b, _ := jsonconv.Marshal(map[string]any(m.md), false)
	return string(b)
}

// Set adds one pair, written key=value or, as for grpcurl and curl,
// "key: value" (whichever of = and : comes first separates them); the
// value is JSON when it parses as JSON, a string otherwise (-H n=1 is the
// integer 1, -H who=me and -H 'who: me' the string "me").
func (m *metadataFlags) Set(s string) error {
	i := strings.IndexAny(s, "=:")
	if i <= 0 {
		return errors.New(`want key=value or "key: value"`)
	}
	k, v := s[:i], s[i+1:]
	if s[i] == ':' {
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" {
			return errors.New(`want key=value or "key: value"`)
		}
	}
	if m.md == nil {
		m.md = rpc.Metadata{}
	}
	if val, err := jsonconv.Decode([]byte(v), nil, nil); err == nil {
		m.md[k] = val
	} else {
		m.md[k] = v
	}
	return nil
}

// caller is one "swill call".
type caller struct {
	e       *env
	ctx     context.Context // the command's: cancelled by Ctrl-C
	callCtx context.Context // the call's: ctx with the -timeout deadline
	name    string
	method  *introspect.Method // the call's description, when known
	defs    introspect.SchemaMap
	md      rpc.Metadata
	verbose bool
	pretty  bool
	timeout time.Duration
	input   io.Reader // the items of a request stream: stdin or -d's

	shownHeader bool
	streaming   bool // the response streams
	items       int  // the stream items printed
}

func cmdCall(ctx context.Context, e *env, args []string) error {
	var (
		cf      connFlags
		md      metadataFlags
		kind    string
		timeout time.Duration
		verbose bool
		pretty  bool
	)
	fs := newFlags(e, "call", "swill call [flags] URL CALL [JSON|-]", `
Makes a call and prints its result as JSON on standard output.

The request is the JSON argument or -d's (null when there is none; "-"
and -d @- read one JSON value from standard input, -d @FILE from a file).
A client or bidirectional stream reads its items from standard input
instead (or from -d's data), one JSON value per line, sending each as
soon as it is read; the end of input ends the stream. A server stream
prints one JSON value per line as the items arrive. A negative number
needs no "--": swill call URL sleep -1.

JSON becomes MsgPack with integers as integers, other numbers as floats;
where the call's schema says bytes or a time, base64 and RFC 3339 strings
become MsgPack bin and timestamps. On the way back, binary data is written
in base64 and map keys that are not strings as strings.

An error from the server is printed on standard error (code, message and
data, then the line "swill-error: " and the error as JSON) and ends the
command with status code-390 for codes 400 to 519 (404 gives 14, 500
gives 110), 1 for other codes. Ctrl-C cancels the call (the server is
sent CANCEL) and ends it with status 130.`)
	cf.register(fs)
	var data *string
	fs.Func("d", "the request as `JSON` (instead of the argument); @FILE reads it from a file, @- from standard input; for a client or bidirectional stream, its items, one per line", func(s string) error {
		data = &s
		return nil
	})
	fs.Var(&md, "H", "request metadata `key=value` or \"key: value\" (repeatable); the value is JSON if it parses, a string otherwise")
	fs.BoolVar(&verbose, "v", false, "print the leading and trailing metadata on standard error")
	fs.DurationVar(&timeout, "timeout", 0, "deadline of the call (e.g. 500ms, 10s); the server is told, as swill-timeout-ms")
	fs.StringVar(&kind, "kind", "", "the call's kind (unary, server_stream, client_stream, bidi_stream); skips asking the server for its description")
	fs.BoolVar(&pretty, "pretty", false, "indent the JSON written")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || len(pos) > 3 {
		return usageError(fs, "want URL, CALL and at most one JSON argument, got %d arguments", len(pos))
	}
	url, name := pos[0], pos[1]
	if timeout < 0 {
		return usageError(fs, "-timeout must not be negative")
	}
	var k rpc.Kind
	if kind != "" {
		var ok bool
		if k, ok = (&introspect.Method{Kind: kind}).CallKind(); !ok {
			return usageError(fs, "unknown kind %q", kind)
		}
	}

	callCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c := &caller{e: e, ctx: ctx, callCtx: callCtx, name: name, md: md.md, verbose: verbose, pretty: pretty, timeout: timeout}

	client, err := dial(callCtx, url, &cf)
	if err != nil {
		return c.outcome(err)
	}
	defer client.Close()

	if kind == "" {
		d, err := describe(callCtx, e, client)
		if err != nil {
			return c.outcome(err)
		}
		c.method, c.defs = d.Doc.Method(name), d.Doc.Defs
		if c.method == nil {
			if d.Incomplete != nil {
				return fail(exitUsage, "call %q is not in the server's (incomplete) description; give its kind with -kind", name)
			}
			return fail(exitUsage, "the service has no call %q (swill list shows them)", name)
		}
		k, _ = c.method.CallKind()
	}

	if data != nil && len(pos) == 3 {
		return usageError(fs, "give the request either with -d or as an argument, not both")
	}
	if k.RequestStreams() && len(pos) == 3 {
		return usageError(fs, "a %s call reads its items from standard input (or -d), one JSON value per line; it takes no JSON argument", k)
	}
	c.input = e.stdin
	if data != nil {
		r, closeData, err := openData(e, *data)
		if err != nil {
			return err
		}
		defer closeData()
		c.input = r
	}
	// Without a request the payload is nil (MsgPack nil, JSON null): the
	// server answers as it does to any nil payload.
	var req any
	if !k.RequestStreams() && (len(pos) == 3 || data != nil) {
		var text []byte
		switch {
		case data != nil:
			if text, err = io.ReadAll(c.input); err != nil {
				return fail(exitFailure, "reading -d %s: %v", *data, err)
			}
		case pos[2] == "-":
			if text, err = io.ReadAll(e.stdin); err != nil {
				return fail(exitFailure, "reading standard input: %v", err)
			}
		default:
			text = []byte(pos[2])
		}
		if req, err = c.decode(text); err != nil {
			return failWith(exitUsage, err)
		}
	}

	switch k {
	case rpc.KindUnary:
		err = c.unary(client, req)
	case rpc.KindServerStream:
		err = c.serverStream(client, req)
	case rpc.KindClientStream:
		err = c.clientStream(client)
	case rpc.KindBidiStream:
		err = c.bidiStream(client)
	}
	return c.outcome(err)
}

// openData opens what -d names: "@-" standard input, "@FILE" a file, and
// anything else is the data itself.
func openData(e *env, d string) (io.Reader, func(), error) {
	switch {
	case d == "@-":
		return e.stdin, func() {}, nil
	case strings.HasPrefix(d, "@"):
		f, err := os.Open(d[1:])
		if err != nil {
			return nil, nil, fail(exitFailure, "-d: %v", err)
		}
		return f, func() { f.Close() }, nil
	}
	return strings.NewReader(d), func() {}, nil
}

// decode converts one JSON request (or item) to what is sent.
func (c *caller) decode(data []byte) (any, error) {
	var s *introspect.Schema
	if c.method != nil {
		s = c.method.Request.Schema
	}
	return jsonconv.Decode(data, s, c.defs)
}

func (c *caller) options() []clientgo.CallOption {
	if len(c.md) == 0 {
		return nil
	}
	return []clientgo.CallOption{clientgo.WithMetadata(c.md)}
}

func (c *caller) unary(cl *clientgo.Client, req any) error {
	var header, trailer rpc.Metadata
	opts := append(c.options(), clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
	res, err := clientgo.Call[any, any](c.callCtx, cl, c.name, req, opts...)
	c.showHeader(header)
	c.showTrailer(trailer)
	if err != nil {
		return err
	}
	return c.print(res)
}

func (c *caller) serverStream(cl *clientgo.Client, req any) error {
	stream, err := clientgo.CallServerStream[any, any](c.callCtx, cl, c.name, req, c.options()...)
	if err != nil {
		return err
	}
	defer stream.Close()
	return c.receive(stream.Recv, stream.Header, stream.Trailer)
}

// receive prints a response stream's items as they arrive, and its
// metadata with -v.
func (c *caller) receive(recv func() (any, error), header, trailer func() rpc.Metadata) error {
	c.streaming = true
	for {
		item, err := recv()
		c.showHeader(header())
		// io.EOF is the server's END_OF_STREAM, and only that: a stream
		// cut short ends with another error.
		if err == io.EOF {
			c.showTrailer(trailer())
			return nil
		}
		if err != nil {
			c.showTrailer(trailer())
			return err
		}
		if err := c.print(item); err != nil {
			return err
		}
		c.items++
	}
}

func (c *caller) clientStream(cl *clientgo.Client) error {
	stream, err := clientgo.CallClientStream[any, any](c.callCtx, cl, c.name, c.options()...)
	if err != nil {
		return err
	}
	defer stream.Close()
	done := make(chan struct{})
	defer close(done)
	// errCallOver: the call ended while sending; its outcome says how.
	if err := c.sendInput(stream.Send, done); err != nil && !errors.Is(err, errCallOver) {
		return err
	}
	res, err := stream.CloseAndReceive()
	c.showHeader(stream.Header())
	c.showTrailer(stream.Trailer())
	if err != nil {
		return err
	}
	return c.print(res)
}

func (c *caller) bidiStream(cl *clientgo.Client) error {
	stream, err := clientgo.CallBidiStream[any, any](c.callCtx, cl, c.name, c.options()...)
	if err != nil {
		return err
	}
	defer stream.Close()
	// The sender reads standard input and sends while the items that
	// come back are printed here; it ends at the end of input (sending
	// END_OF_STREAM), at a bad line (cancelling the call) or when the
	// call is over.
	done := make(chan struct{})
	inputErr := make(chan error, 1)
	go func() {
		err := c.sendInput(stream.Send, done)
		if err == nil {
			err = stream.CloseSend()
		} else {
			stream.Close()
		}
		inputErr <- err
	}()
	err = c.receive(stream.Recv, stream.Header, stream.Trailer)
	close(done)
	if ierr := <-inputErr; ierr != nil && !errors.Is(ierr, errCallOver) {
		return ierr
	}
	return err
}

// errCallOver stops sending input to a call that has ended.
var errCallOver = errors.New("call over")

// sendInput sends each line of standard input as one item until the end
// of input, which gives nil. It returns errCallOver if the call ended
// first (send failed, or done was closed), and an error that ends the
// command for a line that is not JSON or input that cannot be read.
func (c *caller) sendInput(send func(any) error, done <-chan struct{}) error {
	lines := readLines(c.input, done)
	for n := 1; ; n++ {
		var l line
		var ok bool
		select {
		case l, ok = <-lines:
		case <-done:
			return errCallOver
		case <-c.callCtx.Done():
			return errCallOver
		}
		if !ok {
			return nil
		}
		if l.err != nil {
			return fail(exitFailure, "reading the input: %v", l.err)
		}
		if strings.TrimSpace(l.text) == "" {
			continue
		}
		v, err := c.decode([]byte(l.text))
		if err != nil {
			return fail(exitUsage, "input line %d: %v", n, err)
		}
		if err := send(v); err != nil {
			return errCallOver
		}
	}
}

type line struct {
	text string
	err  error
}

// maxLine bounds one line of input: one request item.
const maxLine = 64 << 20

// readLines reads r line by line on a goroutine of its own, sending each
// line until the end of input or an error (sent last) and then closing
// the channel. The goroutine stops early when done is closed, but a read
// in progress keeps it until the read returns: standard input cannot be
// interrupted, and ends when the process does.
func readLines(r io.Reader, done <-chan struct{}) <-chan line {
	out := make(chan line)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), maxLine)
		for sc.Scan() {
			select {
			case out <- line{text: sc.Text()}:
			case <-done:
				return
			}
		}
		if err := sc.Err(); err != nil {
			select {
			case out <- line{err: err}:
			case <-done:
			}
		}
	}()
	return out
}

// print writes one result or item as a line of JSON.
func (c *caller) print(v any) error {
	b, err := jsonconv.Marshal(v, c.pretty)
	if err != nil {
		return fail(exitFailure, "the response cannot be written as JSON: %v", err)
	}
	if _, err := c.e.stdout.Write(append(b, '\n')); err != nil {
		return fail(exitFailure, "writing the output: %v", err)
	}
	return nil
}

func (c *caller) showHeader(md rpc.Metadata) {
	if !c.verbose || c.shownHeader || len(md) == 0 {
		return
	}
	c.shownHeader = true
	c.showMetadata("leading", md)
}

func (c *caller) showTrailer(md rpc.Metadata) {
	if c.verbose && len(md) > 0 {
		c.showMetadata("trailing", md)
	}
}

func (c *caller) showMetadata(which string, md rpc.Metadata) {
	b, err := jsonconv.Marshal(map[string]any(md), false)
	if err != nil {
		b = []byte(fmt.Sprint(md))
	}
	fmt.Fprintf(c.e.stderr, "%s metadata: %s\n", which, b)
}

// outcome turns the error a call ended with into the command's: a
// server's error is printed (code, message, data); a cancelled or timed
// out call, a lost connection and the like get their exit status.
func (c *caller) outcome(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	if c.ctx.Err() != nil {
		return failWith(exitInterrupted, errors.New("interrupted: the call was cancelled"))
	}
	var re *rpc.Error
	if errors.As(err, &re) && rpc.IsWireError(err) {
		c.showError(re)
		if re.Code == rpc.CodeTimeout && c.timeout > 0 {
			return failWith(exitTimeout, errReported)
		}
		return failWith(serverErrorStatus(re.Code), errReported)
	}
	// The client may see the deadline pass a moment before the context
	// says so.
	if errors.Is(c.callCtx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fail(exitTimeout, "deadline exceeded: no answer within %v", c.timeout)
	}
	if errors.Is(err, clientgo.ErrConnectionLost) || errors.Is(err, clientgo.ErrClosed) {
		if c.streaming {
			return fail(exitConnection, "the connection was lost after %s, before the end of the stream: %v", plural(c.items, "item"), err)
		}
		return fail(exitConnection, "the connection was lost before the call ended: %v", err)
	}
	return failWith(exitFailure, err)
}

// showError writes a server's error on stderr: its code (and the code's
// name when the protocol gives it one), its message, and its data as
// JSON, for people; then the line for programs, "swill-error: " and the
// error as one line of JSON ({"code": ..., "message": ..., "data": ...}).
func (c *caller) showError(re *rpc.Error) {
	defer showErrorLine(c.e, re)
	code := fmt.Sprintf("code %d", re.Code)
	if name := re.Code.String(); name != fmt.Sprintf("code %d", re.Code) {
		code += " (" + name + ")"
	}
	fmt.Fprintf(c.e.stderr, "error: %s: %s\n", code, re.Message)
	if re.Data != nil {
		b, err := jsonconv.Marshal(re.Data, c.pretty)
		if err != nil {
			b = []byte(fmt.Sprint(re.Data))
		}
		fmt.Fprintf(c.e.stderr, "data: %s\n", b)
	}
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// showErrorLine writes the machine-readable line of a server's error:
// "swill-error: " and {"code": int, "message": string, "data": any} as one
// line of JSON ("data" only when the error has some). docs/cli.md promises
// its form.
func showErrorLine(e *env, re *rpc.Error) {
	v := map[string]any{"code": int64(re.Code), "message": re.Message}
	if re.Data != nil {
		v["data"] = re.Data
	}
	b, err := jsonconv.Marshal(v, false)
	if err != nil {
		v["data"] = fmt.Sprint(re.Data)
		b, _ = jsonconv.Marshal(v, false)
	}
	fmt.Fprintf(e.stderr, "swill-error: %s\n", b)
}

// serverErrorStatus is the exit status for a server's error of code:
// code-390 for the codes 400 to 519 (10 to 129: clear of the other
// statuses and of 128+signal), exitCallError for any other.
func serverErrorStatus(code rpc.Code) int {
	if code >= 400 && code <= 519 {
		return int(code) - 390
	}
	return exitCallError
}
