package swill

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/typeinfo"
	"github.com/swillorg/swill-go/rpc"
	"github.com/vmihailenco/msgpack/v5"
)

// The generic message of ERROR 500, the reference's wording.
const internalMessage = "An internal server error occurred"

// wireError turns what a handler, hook or interceptor returned into the
// error the client sees.
func (s *Server) wireError(ctx context.Context, call *Call, err error) *rpc.Error {
	var e *rpc.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded):
		return rpc.NewError(rpc.CodeTimeout, "deadline exceeded")
	case errors.Is(err, context.Canceled) && s.closing.Load():
		return errShuttingDown()
	case errors.Is(err, context.Canceled):
		// The connection is gone (the frame will be dropped) or the
		// handler gave up on a context of its own: nothing to log.
		return rpc.NewError(rpc.CodeUnavailable, "call cancelled")
	}
	s.logger.Error("swill: handler failed", "rpc", call.h.name, "conn", call.conn.id, "seq", call.seq, "err", err)
	if s.debug {
		return rpc.NewError(rpc.CodeInternal, internalMessage+": "+err.Error())
	}
	return rpc.NewError(rpc.CodeInternal, internalMessage)
}

// panicError carries a recovered panic to wireError.
type panicError struct {
	value any
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// panicked logs a recovered panic with its stack and returns the error
// that ends the call: 500, with the panic value only in debug mode.
func (s *Server) panicked(ctx context.Context, call *Call, p any) error {
	s.logger.Error("swill: handler panicked", "rpc", call.h.name, "conn", call.conn.id, "seq", call.seq,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if s.debug {
		return rpc.NewError(rpc.CodeInternal, fmt.Sprintf("%s: panic: %v", internalMessage, p))
	}
	return rpc.NewError(rpc.CodeInternal, internalMessage)
}

// decodeError builds the 400 for a payload that does not fit the
// handler's request type, naming the mismatch where it can be found.
func decodeError(h *Handler, data []byte, err error) *rpc.Error {
	want := typeName(h.reqType)
	var re *codec.RangeError
	if errors.As(err, &re) {
		where := fmt.Sprintf("%s does not fit in %s", re.Value, re.Type)
		if re.Path != "" {
			where = re.Path + ": " + where
		}
		return rpc.Errorf(rpc.CodeBadRequest, "invalid request for %q: %s", h.name, where).WithCause(err)
	}
	if errors.Is(err, errNilPayload) {
		return rpc.Errorf(rpc.CodeBadRequest, "invalid request for %q: the payload is nil, want %s", h.name, want).WithCause(err)
	}
	var v any
	if codec.Unmarshal(data, &v) == nil {
		if where := mismatch(h.reqType, v, ""); where != "" {
			return rpc.Errorf(rpc.CodeBadRequest, "invalid request for %q: %s", h.name, where).WithCause(err)
		}
	}
	return rpc.Errorf(rpc.CodeBadRequest, "invalid request for %q: want %s: %v", h.name, want, err).WithCause(err)
}

// mismatch walks a generically decoded value against t and describes the
// first place where they disagree, or returns "".
func mismatch(t reflect.Type, v any, path string) string {
	return shapeCheck{}.mismatch(t, v, path)
}

// shapeCheck compares a generically decoded value with a Go type.
type shapeCheck struct{}

func (sc shapeCheck) mismatch(t reflect.Type, v any, path string) string {
	if decodesItself(t) {
		return ""
	}
	at := func(msg string) string {
		if path == "" {
			return msg
		}
		return fmt.Sprintf("%s: %s", path, msg)
	}
	want := func() string { return at(fmt.Sprintf("want %s, got %s", typeName(t), wireKind(v))) }
	if v == nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return ""
		}
		return want()
	}
	switch t.Kind() {
	case reflect.Interface:
		return ""
	case reflect.Pointer:
		return sc.mismatch(t.Elem(), v, path)
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return want()
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return want()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// Ranges are codec's to check (see codec.RangeError).
		if !isInt(v) {
			return want()
		}
	case reflect.Float32, reflect.Float64:
		switch v.(type) {
		case float32, float64:
		default:
			if !isInt(v) {
				return want()
			}
		}
	case reflect.Array:
		list, ok := v.([]any)
		if !ok {
			return want()
		}
		if len(list) != t.Len() {
			return at(fmt.Sprintf("want an array of %d elements, got %d", t.Len(), len(list)))
		}
		for i, x := range list {
			if m := sc.mismatch(t.Elem(), x, fmt.Sprintf("%s[%d]", path, i)); m != "" {
				return m
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			switch v.(type) {
			case []byte, string:
				return ""
			}
		}
		list, ok := v.([]any)
		if !ok {
			return want()
		}
		for i, x := range list {
			if m := sc.mismatch(t.Elem(), x, fmt.Sprintf("%s[%d]", path, i)); m != "" {
				return m
			}
		}
	case reflect.Map:
		switch m := v.(type) {
		case map[string]any:
			for k, x := range m {
				if r := sc.mismatch(t.Elem(), x, joinPath(path, k)); r != "" {
					return r
				}
			}
		case map[any]any:
			for k, x := range m {
				if r := sc.mismatch(t.Key(), k, at("key")); r != "" {
					return r
				}
				if r := sc.mismatch(t.Elem(), x, joinPath(path, fmt.Sprint(k))); r != "" {
					return r
				}
			}
		default:
			return want()
		}
	case reflect.Struct:
		if t.PkgPath() == "time" && t.Name() == "Time" {
			return ""
		}
		m, ok := v.(map[string]any)
		if !ok {
			return want()
		}
		for _, f := range typeinfo.Fields(t) {
			if x, ok := m[f.Name]; ok {
				if r := sc.mismatch(f.Type, x, joinPath(path, f.Name)); r != "" {
					return r
				}
			}
		}
	}
	return ""
}

var (
	customDecoderType     = reflect.TypeFor[msgpack.CustomDecoder]()
	unmarshalerType       = reflect.TypeFor[msgpack.Unmarshaler]()
	binaryUnmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	textUnmarshalerType   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether values of t decode with their own code
// (codec.None, time.Time, user types), whose wire form need not follow
// t's shape.
func decodesItself(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return false
	}
	p := reflect.PointerTo(t)
	return p.Implements(customDecoderType) || p.Implements(unmarshalerType) ||
		p.Implements(binaryUnmarshalerType) || p.Implements(textUnmarshalerType)
}

func joinPath(path, field string) string {
	if path == "" {
		return "field " + fmt.Sprintf("%q", field)
	}
	return path + "." + field
}

// isInt reports whether v, generically decoded, is an integer.
func isInt(v any) bool {
	switch v.(type) {
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

// wireKind names the MsgPack kind of a generically decoded value, in the
// reference's (Python's) vocabulary.
func wireKind(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "bool"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case float32, float64:
		return "float"
	case []any:
		return "array"
	case map[string]any, map[any]any:
		return "map"
	}
	if isInt(v) {
		return "int"
	}
	return fmt.Sprintf("%T", v)
}

// typeName describes a Go type to a client that may not know Go.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Interface:
		return "any value"
	case reflect.Pointer:
		return typeName(t.Elem()) + " or nil"
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "str"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Array:
		return fmt.Sprintf("array of %d %s", t.Len(), typeName(t.Elem()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "array of " + typeName(t.Elem())
	case reflect.Map:
		return fmt.Sprintf("map of %s to %s", typeName(t.Key()), typeName(t.Elem()))
	case reflect.Struct:
		if t.Name() != "" {
			return "map (" + t.Name() + ")"
		}
		return "map"
	}
	return strings.ToLower(t.Kind().String())
}
