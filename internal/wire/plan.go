package wire

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vmihailenco/msgpack/v5"
)

// Encoding plans. Most payloads are structs of a few plain fields, and
// the MsgPack library encodes them through its general, reflective path:
// a type lookup per struct, a closure and an index walk per field, a
// slice allocated per value when a field has omitempty. A plan is that
// walk done once per type: the list of fields with their wire names and
// a direct writer for each. It produces exactly the library's bytes, for
// the types it accepts (structs whose fields are booleans, numbers,
// strings, []byte, []string or such structs, named by msgpack or json
// tags with at most omitempty); any other type keeps the library's path.
//
// A plan also checks itself on a sample: the first values of each type
// it encodes are encoded by the library too, and a type whose bytes differ
// is handed back to the library for good. That catches a type the library
// treats in a way of its own (a registered encoder, say); that the plan
// writes the library's bytes for every value of the types it accepts is
// what plan_test.go's differential tests show.

// planChecks is how many values of a type are encoded both ways.
const planChecks = 8

// plan encodes one struct type.
type plan struct {
	typ    reflect.Type
	fields []planField
	omit   bool // some field has omitempty

	checked atomic.Int32 // values encoded both ways so far
	failed  atomic.Bool  // the library disagreed: the plan no longer encodes

	decodeChecked atomic.Int32 // values decoded both ways so far
	decodeFailed  atomic.Bool  // the library disagreed: the plan no longer decodes
}

type planField struct {
	name  string // the wire name, already encoded as a MsgPack string
	plain string // the wire name
	index int
	omit  bool // omitempty
	kind  fieldKind
	sub   *plan // kindStruct
}

type fieldKind uint8

const (
	kindBool fieldKind = iota
	kindInt
	kindUint
	kindFloat32
	kindFloat64
	kindString
	kindBytes
	kindStrings
	kindStruct
)

// plans caches the plan of each type, or nil when the type has none.
var plans sync.Map // reflect.Type -> *plan

var (
	bytesType   = reflect.TypeFor[[]byte]()
	stringsType = reflect.TypeFor[[]string]()
)

// planOf returns the plan of t, a struct or a pointer to one, or nil.
func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	var p *plan
	if st.Kind() == reflect.Struct && plain(t) {
		p = buildPlan(st, map[reflect.Type]bool{})
	}
	plans.Store(t, p)
	return p
}

var (
	zeroerType          = reflect.TypeFor[interface{ IsZero() bool }]()
	customDecoderType   = reflect.TypeFor[msgpack.CustomDecoder]()
	unmarshalerType     = reflect.TypeFor[msgpack.Unmarshaler]()
	binaryUnmarshalType = reflect.TypeFor[interface{ UnmarshalBinary([]byte) error }]()
	textUnmarshalType   = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
)

// plain reports whether the library encodes and decodes t, and *t,
// without a method of their own.
func plain(t reflect.Type) bool {
	if encodesItself(t) {
		return false
	}
	for _, u := range []reflect.Type{t, reflect.PointerTo(t)} {
		for _, i := range []reflect.Type{zeroerType, customDecoderType, unmarshalerType, binaryUnmarshalType, textUnmarshalType} {
			if u.Implements(i) {
				return false
			}
		}
	}
	return true
}

// buildPlan returns the plan of the struct type t, or nil.
func buildPlan(t reflect.Type, seen map[reflect.Type]bool) *plan {
	if seen[t] || !plain(t) {
		return nil // recursive types keep the library's path
	}
	seen[t] = true
	defer delete(seen, t)
	p := &plan{typ: t}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("msgpack")
		if tag == "" {
			tag = sf.Tag.Get("json")
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if sf.Name == "_msgpack" || sf.Anonymous {
			return nil
		}
		if !sf.IsExported() {
			continue
		}
		f := planField{index: i}
		switch opts {
		case "":
		case "omitempty":
			f.omit, p.omit = true, true
		default:
			return nil
		}
		if name == "" {
			name = sf.Name
		}
		f.name, f.plain = string(appendStr(nil, name)), name
		switch ft := sf.Type; {
		case ft == bytesType:
			f.kind = kindBytes
		case ft == stringsType:
			f.kind = kindStrings
		case ft.PkgPath() == "" || ft.Kind() == reflect.Struct:
			switch ft.Kind() {
			case reflect.Bool:
				f.kind = kindBool
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				f.kind = kindInt
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				f.kind = kindUint
			case reflect.Float32:
				f.kind = kindFloat32
			case reflect.Float64:
				f.kind = kindFloat64
			case reflect.String:
				f.kind = kindString
			case reflect.Struct:
				if f.sub = buildPlan(ft, seen); f.sub == nil {
					return nil
				}
				f.kind = kindStruct
			default:
				return nil
			}
		default:
			return nil
		}
		p.fields = append(p.fields, f)
	}
	return p
}

// encode appends v, a value of p.typ, to b.
func (p *plan) encode(b []byte, v reflect.Value) []byte {
	n := len(p.fields)
	if p.omit {
		for i := range p.fields {
			if f := &p.fields[i]; f.omit && f.empty(v.Field(f.index)) {
				n--
			}
		}
	}
	b = appendMapLen(b, n)
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.Field(f.index)
		if f.omit && f.empty(fv) {
			continue
		}
		b = append(b, f.name...)
		switch f.kind {
		case kindBool:
			if fv.Bool() {
				b = append(b, 0xc3)
			} else {
				b = append(b, 0xc2)
			}
		case kindInt:
			b = appendInt(b, fv.Int())
		case kindUint:
			b = appendUint(b, fv.Uint())
		case kindFloat32:
			u := math.Float32bits(float32(fv.Float()))
			b = append(b, 0xca, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
		case kindFloat64:
			u := math.Float64bits(fv.Float())
			b = append(b, 0xcb, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32), byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
		case kindString:
			b = appendStr(b, fv.String())
		case kindBytes:
			if fv.IsNil() {
				b = append(b, 0xc0)
			} else {
				b = appendBin(b, fv.Bytes())
			}
		case kindStrings:
			if fv.IsNil() {
				b = append(b, 0xc0)
				break
			}
			l := fv.Len()
			b = appendArrayLen(b, l)
			for j := range l {
				b = appendStr(b, fv.Index(j).String())
			}
		case kindStruct:
			b = f.sub.encode(b, fv)
		}
	}
	return b
}

// empty is the library's test for omitempty.
func (f *planField) empty(v reflect.Value) bool {
	switch f.kind {
	case kindBool:
		return !v.Bool()
	case kindInt:
		return v.Int() == 0
	case kindUint:
		return v.Uint() == 0
	case kindFloat32, kindFloat64:
		return v.Float() == 0
	case kindString, kindBytes, kindStrings:
		return v.Len() == 0
	case kindStruct:
		// Empty when every field is omitted.
		for i := range f.sub.fields {
			sf := &f.sub.fields[i]
			if !sf.omit || !sf.empty(v.Field(sf.index)) {
				return false
			}
		}
		return true
	}
	return false
}

// encodePlanned appends v to b with its type's plan and reports true, or
// reports false, leaving b alone, when the type has no plan in use.
func encodePlanned(b *Buffer, v any, p *plan) bool {
	if p == nil || p.failed.Load() {
		return false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return false
		}
		rv = rv.Elem()
	}
	start := len(b.B)
	b.B = p.encode(b.B, rv)
	if p.checked.Load() < planChecks {
		want, err := Marshal(v)
		if err != nil || !bytes.Equal(b.B[start:], want) {
			// The library disagrees, or fails: it has the type back.
			p.failed.Store(true)
			b.B = b.B[:start]
			return false
		}
		p.checked.Add(1)
	}
	return true
}

func appendUint(b []byte, n uint64) []byte {
	if n <= math.MaxInt64 {
		return appendInt(b, int64(n))
	}
	return append(b, 0xcf, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xde, byte(n>>8), byte(n))
	}
	return append(b, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xdc, byte(n>>8), byte(n))
	}
	return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendBin(b []byte, p []byte) []byte {
	n := len(p)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = append(b, 0xc5, byte(n>>8), byte(n))
	default:
		b = append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}
