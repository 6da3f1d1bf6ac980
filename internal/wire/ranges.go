package wire

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/swillorg/swill-go/internal/typeinfo"
)

// The MsgPack library decodes an integer into a narrower Go integer by
// conversion: 300 into a uint8 gives 44, -1 into a uint gives 2^64-1. The
// plans check ranges themselves and hand what does not fit to the
// library; after the library has decoded a value of a type that holds
// such integers, checkRanges walks the input along the type and reports
// the first integer that does not fit its place.

// RangeError reports an integer of the input that does not fit the Go
// integer type it is decoded into.
type RangeError struct {
	// Path locates the integer from the decoded value down, as in
	// `field "items"[2].qty`; empty for the value itself.
	Path string
	// Value is the integer as sent, in decimal.
	Value string
	// Type is the Go type it does not fit.
	Type reflect.Type
}

// Error implements error: "msgpack: [path: ]value does not fit in type".
func (e *RangeError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("msgpack: %s does not fit in %s", e.Value, e.Type)
	}
	return fmt.Sprintf("msgpack: %s: %s does not fit in %s", e.Path, e.Value, e.Type)
}

// narrowTypes caches hasNarrowInts: reflect.Type -> bool.
var narrowTypes sync.Map

// hasNarrowInts reports whether t holds, somewhere the library decodes it
// field by field, an integer type: a MsgPack integer may overflow every
// one of them (a uint64 above 2^63-1 overflows an int64).
func hasNarrowInts(t reflect.Type) bool {
	if b, ok := narrowTypes.Load(t); ok {
		return b.(bool)
	}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type) bool
	walk = func(t reflect.Type) bool {
		if seen[t] || decodesItself(t) {
			return false
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return true
		case reflect.Slice, reflect.Array:
			return walk(t.Elem())
		case reflect.Pointer:
			return walk(t.Elem())
		case reflect.Map:
			return walk(t.Key()) || walk(t.Elem())
		case reflect.Struct:
			if t == timeType {
				return false
			}
			for _, f := range typeinfo.Fields(t) {
				if walk(f.Type) {
					return true
				}
			}
		}
		return false
	}
	b := walk(t)
	narrowTypes.Store(t, b)
	return b
}

var timeType = reflect.TypeFor[time.Time]()

// decodesItself reports whether values of t decode with their own code,
// whose wire form need not follow t's shape.
func decodesItself(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return false
	}
	p := reflect.PointerTo(t)
	return p.Implements(customDecoderType) || p.Implements(unmarshalerType) ||
		p.Implements(binaryUnmarshalType) || p.Implements(textUnmarshalType)
}

// checkRanges reports, as a [*RangeError], the first integer of data (one
// MsgPack value the library has decoded into a value of type t) that does
// not fit the integer type of its place in t. It reports nothing else:
// any other disagreement between data and t is the library's to judge.
func checkRanges(data []byte, t reflect.Type) error {
	c := checkerOf(t)
	if c == nil {
		return nil
	}
	_, err := c(data, 0)
	if re, ok := err.(*RangeError); ok && strings.HasPrefix(re.Path, ".") {
		// The outermost field reads as the server's messages name it:
		// field "items"[2].qty.
		name, rest := re.Path[1:], ""
		if k := strings.IndexAny(name, ".["); k >= 0 {
			name, rest = name[:k], name[k:]
		}
		re.Path = "field " + strconv.Quote(name) + rest
	}
	return err
}

// rangeChecker checks the value at b[p:] (checked by skip, and decoded
// by the library) against the type it was made for, and returns the
// offset past it. A nil rangeChecker has nothing to check: skip the value.
type rangeChecker func(b []byte, p int) (int, error)

// checkers caches checkerOf: reflect.Type -> rangeChecker.
var checkers sync.Map

// checkerOf returns the range checker of t, made once per type so that
// checking costs no reflection; nil when t holds no integer to check.
func checkerOf(t reflect.Type) rangeChecker {
	if c, ok := checkers.Load(t); ok {
		return c.(rangeChecker)
	}
	c := buildChecker(t, map[reflect.Type]*rangeChecker{})
	checkers.Store(t, c)
	return c
}

// run applies c at p, or skips the value when c is nil.
func (c rangeChecker) run(b []byte, p int) (int, error) {
	if c == nil {
		return skip(b, p)
	}
	return c(b, p)
}

func buildChecker(t reflect.Type, building map[reflect.Type]*rangeChecker) rangeChecker {
	if t.Kind() == reflect.Interface || !hasNarrowInts(t) {
		return nil // hasNarrowInts is false for types that decode themselves
	}
	if slot, ok := building[t]; ok {
		return func(b []byte, p int) (int, error) { return (*slot)(b, p) } // a recursive type
	}
	slot := new(rangeChecker)
	building[t] = slot
	var c rangeChecker
	switch t.Kind() {
	case reflect.Pointer:
		elem := buildChecker(t.Elem(), building)
		c = func(b []byte, p int) (int, error) {
			if b[p] == 0xc0 {
				return p + 1, nil
			}
			return elem.run(b, p)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c = intChecker(t)
	case reflect.Slice, reflect.Array:
		elem := buildChecker(t.Elem(), building)
		c = func(b []byte, p int) (int, error) {
			n, q, err := readArrayLen(b, p)
			if err != nil {
				return skip(b, p) // nil, bin, str: nothing the library reads as integers
			}
			for i := 0; i < n; i++ {
				if q, err = elem.run(b, q); err != nil {
					return q, inPath(err, "["+strconv.Itoa(i)+"]")
				}
			}
			return q, nil
		}
	case reflect.Map:
		key, elem := buildChecker(t.Key(), building), buildChecker(t.Elem(), building)
		c = func(b []byte, p int) (int, error) {
			n, q, err := readMapLen(b, p)
			if err != nil {
				return skip(b, p)
			}
			for i := 0; i < n; i++ {
				k := q
				if q, err = key.run(b, q); err != nil {
					return q, inPath(err, "[key]")
				}
				kEnd := q
				if q, err = elem.run(b, q); err != nil {
					name := fmt.Sprintf("[%x]", b[k:kEnd])
					if s, _, err := readStr(b, k); err == nil {
						name = "." + string(s)
					}
					return q, inPath(err, name)
				}
			}
			return q, nil
		}
	case reflect.Struct:
		fields := map[string]rangeChecker{}
		for _, f := range typeinfo.Fields(t) {
			if fc := buildChecker(f.Type, building); fc != nil {
				fields[f.Name] = fc
			}
		}
		c = func(b []byte, p int) (int, error) {
			n, q, err := readMapLen(b, p)
			if err != nil {
				return skip(b, p) // an array-encoded struct: left to the library
			}
			for i := 0; i < n; i++ {
				name, r, err := readStr(b, q)
				if err != nil {
					if q, err = skip(b, q); err != nil { // the key
						return q, err
					}
					if q, err = skip(b, q); err != nil { // its value
						return q, err
					}
					continue
				}
				if q, err = fields[string(name)].run(b, r); err != nil {
					return q, inPath(err, fieldPath(string(name)))
				}
			}
			return q, nil
		}
	default:
		c = func(b []byte, p int) (int, error) { return skip(b, p) }
	}
	*slot = c
	return c
}

// intChecker checks one integer of type t, an integer kind.
func intChecker(t reflect.Type) rangeChecker {
	bits := uint(t.Bits())
	unsigned := false
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		unsigned = true
	}
	return func(b []byte, p int) (int, error) {
		if !isIntCode(b[p]) {
			return skip(b, p) // a float or anything else: the library's to judge
		}
		neg, u, end := readWireInt(b, p)
		var fits bool
		switch {
		case unsigned:
			fits = !neg && (bits == 64 || u < 1<<bits)
		case neg:
			fits = bits == 64 || int64(u) >= -1<<(bits-1)
		default:
			fits = u <= 1<<(bits-1)-1
		}
		if fits {
			return end, nil
		}
		v := strconv.FormatUint(u, 10)
		if neg {
			v = strconv.FormatInt(int64(u), 10)
		}
		return end, &RangeError{Value: v, Type: t}
	}
}

// fieldPath is a path element naming a field or a string map key.
func fieldPath(name string) string { return "." + name }

// inPath puts elem in front of the path of a *RangeError.
func inPath(err error, elem string) error {
	if re, ok := err.(*RangeError); ok {
		re.Path = elem + re.Path
	}
	return err
}

func isIntCode(c byte) bool {
	return c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xcf) || (c >= 0xd0 && c <= 0xd3)
}

// readWireInt reads the integer at b[p] (isIntCode(b[p]) holds): neg says
// whether it is negative, u is its magnitude when it is not and its two's
// complement bits when it is.
func readWireInt(b []byte, p int) (neg bool, u uint64, end int) {
	c := b[p]
	switch {
	case c <= 0x7f:
		return false, uint64(c), p + 1
	case c >= 0xe0:
		return true, uint64(int64(int8(c))), p + 1
	}
	switch c {
	case 0xcc:
		return false, uint64(b[p+1]), p + 2
	case 0xcd:
		return false, uint64(binary.BigEndian.Uint16(b[p+1:])), p + 3
	case 0xce:
		return false, uint64(binary.BigEndian.Uint32(b[p+1:])), p + 5
	case 0xcf:
		return false, binary.BigEndian.Uint64(b[p+1:]), p + 9
	case 0xd0:
		n := int64(int8(b[p+1]))
		return n < 0, uint64(n), p + 2
	case 0xd1:
		n := int64(int16(binary.BigEndian.Uint16(b[p+1:])))
		return n < 0, uint64(n), p + 3
	case 0xd2:
		n := int64(int32(binary.BigEndian.Uint32(b[p+1:])))
		return n < 0, uint64(n), p + 5
	}
	n := int64(binary.BigEndian.Uint64(b[p+1:]))
	return n < 0, uint64(n), p + 9
}
