package swill

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/rpc"
)

// Handler is a registered call: its name, kind, types and the function
// that serves it. Build one with [Unary], [ServerStream], [ClientStream] or
// [BidiStream] and give it to [Server.Register].
type Handler struct {
	name     string
	kind     rpc.Kind
	doc      string
	errCodes []rpc.Code
	reqType  reflect.Type
	resType  reflect.Type
	err      error // a construction mistake, reported by Register

	// decode decodes one request payload into a new *Req, boxed.
	decode func(data []byte) (any, error)
	// decodeInto decodes one request payload into req, a boxed *Req.
	decodeInto func(data []byte, req any) error
	// newCall returns a new call; for unary and server-stream calls its
	// first field holds a *Req allocated with it.
	newCall func() *Call
	// unary serves a unary call; req is the *Req from decode.
	unary UnaryFunc
	// stream serves the three streaming kinds; see Call.
	stream func(ctx context.Context, c *Call) error
}

// Name returns the name clients call the handler by.
func (h *Handler) Name() string { return h.name }

// Kind returns the handler's kind of call.
func (h *Handler) Kind() rpc.Kind { return h.kind }

// Doc returns the documentation given with [WithDoc].
func (h *Handler) Doc() string { return h.doc }

// ErrorCodes returns the error codes declared with [WithErrors].
func (h *Handler) ErrorCodes() []rpc.Code { return append([]rpc.Code(nil), h.errCodes...) }

// RequestType returns the Go type of one request message.
func (h *Handler) RequestType() reflect.Type { return h.reqType }

// ResponseType returns the Go type of one response message.
func (h *Handler) ResponseType() reflect.Type { return h.resType }

// HandlerOption configures a [Handler].
type HandlerOption interface {
	applyToHandler(*Handler)
}

type handlerOptionFunc func(*Handler)

func (f handlerOptionFunc) applyToHandler(h *Handler) { f(h) }

// WithDoc sets the handler's documentation, shown by introspection, the
// generated docs and the playground.
func WithDoc(doc string) HandlerOption {
	return handlerOptionFunc(func(h *Handler) { h.doc = doc })
}

// WithErrors declares the error codes the handler may return, for
// documentation and client generation. It does not restrict what the
// handler returns.
func WithErrors(codes ...rpc.Code) HandlerOption {
	return handlerOptionFunc(func(h *Handler) { h.errCodes = append(h.errCodes, codes...) })
}

// Unary returns a handler for calls with one request and one response.
//
// fn receives the decoded (and validated) request and returns the result,
// or an error: an [*rpc.Error] in its chain chooses the code and message
// the client sees; any other error becomes 500. Request metadata, leading
// and trailing metadata are reached through [CallFromContext].
func Unary[Req, Res any](name string, fn func(ctx context.Context, req Req) (Res, error), opts ...HandlerOption) *Handler {
	h := newHandler[Req, Res](name, rpc.KindUnary, fn == nil, opts)
	h.unary = func(ctx context.Context, req any) (any, error) {
		return fn(ctx, *req.(*Req))
	}
	return h
}

// ServerStream returns a handler for calls with one request and a stream
// of responses.
//
// The framework creates out and is its only receiver; fn is its only
// sender. The stream ends when fn returns: its error, if any, ends the
// call with an ERROR frame, otherwise END_OF_STREAM follows the last item.
// fn may close out before returning, but need not. The framework keeps
// receiving from out until fn returns, even after the call was cancelled
// (the items are then dropped), so a send on out never blocks forever; fn
// should still watch ctx.Done() to stop early.
func ServerStream[Req, Res any](name string, fn func(ctx context.Context, req Req, out chan<- Res) error, opts ...HandlerOption) *Handler {
	h := newHandler[Req, Res](name, rpc.KindServerStream, fn == nil, opts)
	h.stream = func(ctx context.Context, c *Call) error {
		req := *c.first.(*Req)
		return runOut(ctx, c, func(ctx context.Context, out chan<- Res) error { return fn(ctx, req, out) })
	}
	return h
}

// ServerPush returns a handler for server streams whose items other code
// pushes, already encoded, with [Call.TrySendRaw]: a subscription fed by
// a publish/subscribe hub, for one. fn runs for the stream's whole life on
// the call's goroutine, and its return ends the stream (END_OF_STREAM, or
// ERROR for an error), as for [ServerStream]; it has no out channel, which
// spares each stream a goroutine and a channel while it waits. Res is the
// type of the items for introspection, codegen and the playground.
func ServerPush[Req, Res any](name string, fn func(ctx context.Context, req Req) error, opts ...HandlerOption) *Handler {
	h := newHandler[Req, Res](name, rpc.KindServerStream, fn == nil, opts)
	h.stream = func(ctx context.Context, c *Call) error {
		return fn(ctx, *c.first.(*Req))
	}
	return h
}

// ClientStream returns a handler for calls with a stream of requests and
// one response.
//
// The framework is the only sender on in and closes it when the client
// ends its stream (END_OF_STREAM) or when the call ends early (cancel, a
// failed validation, connection loss); ranging over in always terminates.
// fn may return before in is closed: the remaining items are discarded.
// The call's request metadata is available from the start, even when the
// client sent it in a METADATA frame before its first item.
func ClientStream[Req, Res any](name string, fn func(ctx context.Context, in <-chan Req) (Res, error), opts ...HandlerOption) *Handler {
	h := newHandler[Req, Res](name, rpc.KindClientStream, fn == nil, opts)
	h.stream = func(ctx context.Context, c *Call) error {
		in, stop := runIn[Req](ctx, c)
		res, err := fn(ctx, in)
		stop()
		if err == nil {
			err = ctx.Err() // in was closed by the deadline or a cancel, not by the client
		}
		if err != nil {
			return err
		}
		c.setResult(res)
		return nil
	}
	return h
}

// BidiStream returns a handler for calls with streams in both directions.
//
// in follows the rules of [ClientStream] and out those of [ServerStream]:
// the framework sends on and closes in; fn sends on out, and returning
// from fn ends the call with END_OF_STREAM (or ERROR).
func BidiStream[Req, Res any](name string, fn func(ctx context.Context, in <-chan Req, out chan<- Res) error, opts ...HandlerOption) *Handler {
	h := newHandler[Req, Res](name, rpc.KindBidiStream, fn == nil, opts)
	h.stream = func(ctx context.Context, c *Call) error {
		in, stop := runIn[Req](ctx, c)
		defer stop()
		err := runOut(ctx, c, func(ctx context.Context, out chan<- Res) error { return fn(ctx, in, out) })
		if err == nil {
			err = ctx.Err() // in was closed by the deadline or a cancel, not by the client
		}
		return err
	}
	return h
}

// errNilPayload is the decode error of a nil payload for a request type
// that has no nil value.
var errNilPayload = errors.New("the payload is nil")

// acceptsNil says whether a nil payload is a value of t: it is for
// pointers and interfaces (nil), for slices and maps, whose nil the
// MsgPack encoders write as nil, and for types that decode themselves
// (msgpack.CustomDecoder, msgpack.Unmarshaler), such as codec.None. Any
// other type (a struct, a number, a string, an array) would decode nil as
// its zero value, as if the client had sent zeros, so a nil payload is
// refused with ERROR 400 instead.
func acceptsNil(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return true
	}
	pt := reflect.PointerTo(t)
	return pt.Implements(customDecoderType) || pt.Implements(unmarshalerType)
}

// callWithReq is a call and its request message in one allocation.
type callWithReq[Req any] struct {
	Call
	req Req
}

func newHandler[Req, Res any](name string, kind rpc.Kind, nilFn bool, opts []HandlerOption) *Handler {
	h := &Handler{
		name:    name,
		kind:    kind,
		reqType: reflect.TypeFor[Req](),
		resType: reflect.TypeFor[Res](),
	}
	for _, o := range opts {
		o.applyToHandler(h)
	}
	nilOK := acceptsNil(h.reqType)
	h.decodeInto = func(data []byte, req any) error {
		if !nilOK && len(data) == 1 && data[0] == 0xc0 {
			return errNilPayload
		}
		return codec.Unmarshal(data, req)
	}
	h.decode = func(data []byte) (any, error) {
		v := new(Req)
		if err := h.decodeInto(data, v); err != nil {
			return nil, err
		}
		return v, nil
	}
	if kind.RequestStreams() {
		h.newCall = func() *Call { return &Call{} }
	} else {
		h.newCall = func() *Call {
			x := &callWithReq[Req]{}
			x.first = &x.req
			return &x.Call
		}
	}
	var errs []error
	if nilFn {
		errs = append(errs, ErrNilFunc)
	}
	if name == "" {
		errs = append(errs, ErrEmptyName)
	}
	if err := checkWireType(h.reqType, "request"); err != nil {
		errs = append(errs, err)
	}
	if err := checkWireType(h.resType, "response"); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		h.err = &RegisterError{Name: name, Err: errors.Join(errs...)}
	}
	return h
}

// checkWireType rejects types MsgPack cannot carry: channels, functions,
// unsafe pointers and complex numbers, anywhere inside t.
func checkWireType(t reflect.Type, what string) error {
	var walk func(t reflect.Type, path string, seen map[reflect.Type]bool) error
	walk = func(t reflect.Type, path string, seen map[reflect.Type]bool) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128, reflect.Uintptr:
			return fmt.Errorf("%s type %s: %s %w", what, path, t, ErrUnsupportedType)
		case reflect.Pointer, reflect.Slice, reflect.Array:
			return walk(t.Elem(), path+"[]", seen)
		case reflect.Map:
			if err := walk(t.Key(), path+"{key}", seen); err != nil {
				return err
			}
			return walk(t.Elem(), path+"{}", seen)
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() && !f.Anonymous {
					continue
				}
				if tag := f.Tag.Get("msgpack"); strings.HasPrefix(tag, "-") && (tag == "-" || strings.HasPrefix(tag, "-,")) {
					continue
				}
				if err := walk(f.Type, path+"."+f.Name, seen); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(t, t.String(), map[reflect.Type]bool{})
}
