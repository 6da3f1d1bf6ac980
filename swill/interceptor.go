package swill

import (
	"context"
)

// UnaryFunc is a unary handler as interceptors see it: req is a pointer to
// the decoded request (*Req), the result is the handler's Res value (a
// pointer would cost every call an allocation). An interceptor may change
// *req before calling next, and may return a result of its own, which must
// be a Res.
type UnaryFunc func(ctx context.Context, req any) (any, error)

// StreamFunc is a streaming handler as interceptors see it: it runs the
// whole call and returns its final error. The call's name, kind and
// metadata are on [CallFromContext]; the individual messages are visible
// to hooks (see [Hooks]).
type StreamFunc func(ctx context.Context) error

// Interceptor wraps handlers for cross-cutting work: authentication,
// logging, metrics, timeouts. Interceptors run in the handler's goroutine,
// after the request was decoded and validated (for unary and server-stream
// calls) and before the handler; the first one given to
// [WithInterceptors] is the outermost.
type Interceptor interface {
	WrapUnary(next UnaryFunc) UnaryFunc
	WrapStream(next StreamFunc) StreamFunc
}

// InterceptorFunc is an [Interceptor] for every kind of call in one
// function: it gets the call and a next that runs the rest of the chain
// and the handler. Returning an error without calling next refuses the
// call; the error reaches the client like a handler's.
type InterceptorFunc func(ctx context.Context, call *Call, next func(context.Context) error) error

// WrapUnary implements [Interceptor].
func (f InterceptorFunc) WrapUnary(next UnaryFunc) UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		var res any
		err := f(ctx, CallFromContext(ctx), func(ctx context.Context) error {
			var err error
			res, err = next(ctx, req)
			return err
		})
		return res, err
	}
}

// WrapStream implements [Interceptor].
func (f InterceptorFunc) WrapStream(next StreamFunc) StreamFunc {
	return func(ctx context.Context) error {
		return f(ctx, CallFromContext(ctx), next)
	}
}

// UnaryInterceptorFunc is an [Interceptor] for unary calls only, which sees
// their request and result: it wraps next, the rest of the chain and the
// handler, in a [UnaryFunc] of its own. Streaming calls pass through it
// untouched. It is the unary counterpart of [StreamInterceptorFunc].
//
//	swill.UnaryInterceptorFunc(func(next swill.UnaryFunc) swill.UnaryFunc {
//		return func(ctx context.Context, req any) (any, error) {
//			res, err := next(ctx, req)
//			log.Printf("%s(%v) = %v, %v", swill.CallFromContext(ctx).Name(), req, res, err)
//			return res, err
//		}
//	})
type UnaryInterceptorFunc func(next UnaryFunc) UnaryFunc

// WrapUnary implements [Interceptor].
func (f UnaryInterceptorFunc) WrapUnary(next UnaryFunc) UnaryFunc { return f(next) }

// WrapStream implements [Interceptor]: it returns next.
func (f UnaryInterceptorFunc) WrapStream(next StreamFunc) StreamFunc { return next }

// StreamInterceptorFunc is an [Interceptor] for streaming calls only
// (server, client and bidirectional streams): it wraps next in a
// [StreamFunc] of its own. Unary calls pass through it untouched.
type StreamInterceptorFunc func(next StreamFunc) StreamFunc

// WrapUnary implements [Interceptor]: it returns next.
func (f StreamInterceptorFunc) WrapUnary(next UnaryFunc) UnaryFunc { return next }

// WrapStream implements [Interceptor].
func (f StreamInterceptorFunc) WrapStream(next StreamFunc) StreamFunc { return f(next) }

func (s *Server) unaryChain(h *Handler) UnaryFunc {
	fn := h.unary
	for i := len(s.interceptors) - 1; i >= 0; i-- {
		fn = s.interceptors[i].WrapUnary(fn)
	}
	return fn
}

func (s *Server) streamChain(h *Handler) StreamFunc {
	fn := func(ctx context.Context) error {
		return h.stream(ctx, CallFromContext(ctx))
	}
	for i := len(s.interceptors) - 1; i >= 0; i-- {
		fn = s.interceptors[i].WrapStream(fn)
	}
	return fn
}
