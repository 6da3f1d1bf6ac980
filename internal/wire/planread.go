package wire

import (
	"encoding/binary"
	"math"
	"reflect"
)

// Decoding plans: the reverse of plan.encode, for the same types. A plan
// decodes only the forms it knows the library's answer for (a map with
// string keys, each field in its own format); at anything else (nil, an
// int for a float, a value out of its field's range, a struct sent as an
// array) it gives up, and the library decodes the value from the start,
// with its own conversions and errors. Like encoding, decoding checks
// itself against the library on its first values.

// planReader reads one MsgPack value from b.
type planReader struct {
	b []byte
	i int
}

// decodePlanned decodes data into v, a pointer to a zero value of p's
// type, and reports true; or reports false, leaving *v zero, for the
// library to decode.
func decodePlanned(data []byte, v any, p *plan) bool {
	if p == nil || p.decodeFailed.Load() {
		return false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	e := rv.Elem()
	if e.Type() != p.typ || !e.IsZero() {
		return false // merging into a value is the library's
	}
	r := planReader{b: data}
	if !p.decode(&r, e) || r.i != len(data) {
		e.SetZero()
		return false
	}
	if p.decodeChecked.Load() < planChecks {
		want := reflect.New(p.typ)
		if err := unmarshalLibrary(data, want.Interface()); err != nil || !sameValue(want.Elem(), e) {
			p.decodeFailed.Store(true)
			e.SetZero()
			return false
		}
		p.decodeChecked.Add(1)
	}
	return true
}

// sameValue is reflect.DeepEqual for two values of one type, except that
// a NaN equals a NaN: a payload holding NaN must not make the check of a
// plan fail and turn the plan off for every later call.
func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	}
	if !a.CanInterface() {
		// An unexported field: the plans leave them zero, as the library does.
		return a.IsZero() && b.IsZero()
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// decode reads a map into the struct v.
func (p *plan) decode(r *planReader, v reflect.Value) bool {
	n, ok := r.mapLen()
	if !ok {
		return false
	}
	for range n {
		key, ok := r.str()
		if !ok {
			return false
		}
		f := p.field(key)
		if f == nil {
			j, err := skip(r.b, r.i)
			if err != nil {
				return false
			}
			r.i = j
			continue
		}
		if !f.decode(r, v.Field(f.index)) {
			return false
		}
	}
	return true
}

// field returns the field named key, or nil.
func (p *plan) field(key []byte) *planField {
	for i := range p.fields {
		if p.fields[i].plain == string(key) {
			return &p.fields[i]
		}
	}
	return nil
}

func (f *planField) decode(r *planReader, v reflect.Value) bool {
	switch f.kind {
	case kindBool:
		switch r.next() {
		case 0xc2:
			v.SetBool(false)
		case 0xc3:
			v.SetBool(true)
		default:
			return false
		}
	case kindInt:
		n, ok := r.int()
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
	case kindUint:
		n, ok := r.uint()
		if !ok || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
	case kindFloat32:
		if r.next() != 0xca || r.i+4 > len(r.b) {
			return false
		}
		v.SetFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(r.b[r.i:]))))
		r.i += 4
	case kindFloat64:
		switch r.next() {
		case 0xca:
			if r.i+4 > len(r.b) {
				return false
			}
			v.SetFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(r.b[r.i:]))))
			r.i += 4
		case 0xcb:
			if r.i+8 > len(r.b) {
				return false
			}
			v.SetFloat(math.Float64frombits(binary.BigEndian.Uint64(r.b[r.i:])))
			r.i += 8
		default:
			return false
		}
	case kindString:
		s, ok := r.str()
		if !ok {
			return false
		}
		v.SetString(string(s))
	case kindBytes:
		if r.peek() == 0xc0 {
			r.i++
			return true // nil, as it is
		}
		b, ok := r.bin()
		if !ok {
			return false
		}
		v.SetBytes(append([]byte{}, b...))
	case kindStrings:
		if r.peek() == 0xc0 {
			r.i++
			return true
		}
		n, ok := r.arrayLen()
		if !ok {
			return false
		}
		ss := make([]string, n)
		for i := range ss {
			s, ok := r.str()
			if !ok {
				return false
			}
			ss[i] = string(s)
		}
		v.Set(reflect.ValueOf(ss))
	case kindStruct:
		return f.sub.decode(r, v)
	default:
		return false
	}
	return true
}

// next returns the next byte, or 0xc1 (never used) at the end.
func (r *planReader) next() byte {
	if r.i >= len(r.b) {
		return 0xc1
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *planReader) peek() byte {
	if r.i >= len(r.b) {
		return 0xc1
	}
	return r.b[r.i]
}

// length reads a big-endian length of size bytes.
func (r *planReader) length(size int) (int, bool) {
	if r.i+size > len(r.b) {
		return 0, false
	}
	var n int
	for _, c := range r.b[r.i : r.i+size] {
		n = n<<8 | int(c)
	}
	r.i += size
	return n, true
}

// mapLen and arrayLen read a header whose count the rest of the data
// can hold, a byte per entry at least: a longer one is the library's to
// refuse.
func (r *planReader) mapLen() (int, bool) {
	n, j, err := readMapLen(r.b, r.i)
	return r.count(n, j, err)
}

func (r *planReader) arrayLen() (int, bool) {
	n, j, err := readArrayLen(r.b, r.i)
	return r.count(n, j, err)
}

func (r *planReader) count(n, j int, err error) (int, bool) {
	if err != nil || n > len(r.b)-j {
		return 0, false
	}
	r.i = j
	return n, true
}

// str reads a str value; its bytes alias r.b.
func (r *planReader) str() ([]byte, bool) {
	s, j, err := readStr(r.b, r.i)
	if err != nil {
		return nil, false
	}
	r.i = j
	return s, true
}

// bin reads a bin value; its bytes alias r.b.
func (r *planReader) bin() ([]byte, bool) {
	var n int
	var ok bool
	switch r.next() {
	case 0xc4:
		n, ok = r.length(1)
	case 0xc5:
		n, ok = r.length(2)
	case 0xc6:
		n, ok = r.length(4)
	}
	return r.take(n, ok)
}

func (r *planReader) take(n int, ok bool) ([]byte, bool) {
	if !ok || r.i+n > len(r.b) {
		return nil, false
	}
	b := r.b[r.i : r.i+n]
	r.i += n
	return b, true
}

// int reads an integer of any format that fits an int64.
func (r *planReader) int() (int64, bool) {
	n, j, ok := readIntOK(r.b, r.i)
	if ok {
		r.i = j
	}
	return n, ok
}

// uint reads a non-negative integer of any format.
func (r *planReader) uint() (uint64, bool) {
	if c := r.peek(); c == 0xcf {
		if r.i+9 > len(r.b) {
			return 0, false
		}
		u := binary.BigEndian.Uint64(r.b[r.i+1:])
		r.i += 9
		return u, true
	}
	n, ok := r.int()
	if !ok || n < 0 {
		return 0, false
	}
	return uint64(n), true
}
