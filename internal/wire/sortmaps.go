package wire

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Go maps have no order, and the protocol wants the frames swill-go
// writes to be deterministic. The MsgPack library sorts the keys of
// map[string]any, map[string]string and map[string]bool when asked (see
// configureEncoder); every other map type reachable from a value's type
// gets an encoder here that sorts its keys.
//
// The library compiles and caches an encoder per type, struct fields
// included, the first time it encodes or decodes that type, so the sorting
// encoders must be registered before: sortMapsOf runs at the top of every
// encode and decode of this package. Maps reached only through interface
// values are sorted when their own dynamic type comes through here.
//
// The pooled encoders and decoders remember the last type they saw, so a
// stream of values of one type looks it up in walkedTypes only once per
// pooled object.

var walkedTypes sync.Map // reflect.Type -> struct{}: its maps are registered

var (
	stringType = reflect.TypeFor[string]()
	boolType   = reflect.TypeFor[bool]()
	anyType    = reflect.TypeFor[any]()

	customEncoderType   = reflect.TypeFor[msgpack.CustomEncoder]()
	marshalerType       = reflect.TypeFor[msgpack.Marshaler]()
	binaryMarshalerType = reflect.TypeFor[interface{ MarshalBinary() ([]byte, error) }]()
	textMarshalerType   = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
)

// sortMapsOf makes sure every map type reachable from v's type encodes
// with sorted keys.
func sortMapsOf(v any) { sortMaps(reflect.TypeOf(v)) }

// typeCache is what a pooled encoder or decoder remembers of the type it
// met last: that its maps encode sorted, and its plan, if any.
type typeCache struct {
	last reflect.Type
	plan *plan
}

// planFor makes sure the maps of v's type encode sorted (decoding
// compiles the library's encoders of a type too), and returns the type's
// plan, or nil.
func (c *typeCache) planFor(v any) *plan {
	if t := reflect.TypeOf(v); t != c.last {
		sortMaps(t)
		c.last, c.plan = t, nil
		if t != nil {
			c.plan = planOf(t)
		}
	}
	return c.plan
}

func sortMaps(t reflect.Type) {
	if t == nil {
		return
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct, reflect.Slice, reflect.Array, reflect.Pointer:
	default:
		return
	}
	if _, ok := walkedTypes.Load(t); ok {
		return
	}
	registerSortedMaps(t, map[reflect.Type]bool{})
	walkedTypes.Store(t, struct{}{})
}

func registerSortedMaps(t reflect.Type, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	if encodesItself(t) {
		return
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		registerSortedMaps(t.Elem(), seen)
	case reflect.Map:
		registerSortedMaps(t.Key(), seen)
		registerSortedMaps(t.Elem(), seen)
		if t.Key() == stringType && (t.Elem() == anyType || t.Elem() == stringType || t.Elem() == boolType) {
			return // the library sorts these itself
		}
		msgpack.Register(reflect.Zero(t).Interface(), encodeSortedMap, nil)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			registerSortedMaps(t.Field(i).Type, seen)
		}
	}
}

// encodesItself reports whether the library encodes t with t's own code,
// which a registered encoder must not replace.
func encodesItself(t reflect.Type) bool {
	for _, it := range []reflect.Type{customEncoderType, marshalerType, binaryMarshalerType, textMarshalerType} {
		if t.Implements(it) || reflect.PointerTo(t).Implements(it) {
			return true
		}
	}
	return false
}

func encodeSortedMap(e *msgpack.Encoder, v reflect.Value) error {
	if v.IsNil() {
		return e.EncodeNil()
	}
	// Pairs, not keys looked up again: a NaN key is never found by
	// MapIndex, whose zero Value would make the library panic.
	type pair struct{ k, v reflect.Value }
	pairs := make([]pair, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		pairs = append(pairs, pair{it.Key(), it.Value()})
	}
	slices.SortFunc(pairs, func(a, b pair) int { return compareKeys(a.k, b.k) })
	if err := e.EncodeMapLen(len(pairs)); err != nil {
		return err
	}
	for _, p := range pairs {
		if err := e.EncodeValue(p.k); err != nil {
			return err
		}
		if err := e.EncodeValue(p.v); err != nil {
			return err
		}
	}
	return nil
}

// compareKeys orders map keys: by kind first (for keys held in interface
// values), then by value; keys of other kinds by their printed form.
func compareKeys(a, b reflect.Value) int {
	for a.Kind() == reflect.Interface && !a.IsNil() {
		a = a.Elem()
	}
	for b.Kind() == reflect.Interface && !b.IsNil() {
		b = b.Elem()
	}
	ka, kb := keyClass(a), keyClass(b)
	if ka != kb {
		return cmp.Compare(ka, kb)
	}
	switch ka {
	case 1:
		return boolCompare(a.Bool(), b.Bool())
	case 2:
		return compareNumbers(a, b)
	case 3:
		return cmp.Compare(a.String(), b.String())
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// keyClass groups kinds whose values compare with each other: nil, bool,
// numbers, strings, the rest.
func keyClass(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Invalid, reflect.Interface:
		return 0
	case reflect.Bool:
		return 1
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return 2
	case reflect.String:
		return 3
	}
	return 4
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func compareNumbers(a, b reflect.Value) int {
	switch {
	case a.CanInt() && b.CanInt():
		return cmp.Compare(a.Int(), b.Int())
	case a.CanUint() && b.CanUint():
		return cmp.Compare(a.Uint(), b.Uint())
	case a.CanInt() && b.CanUint():
		if a.Int() < 0 {
			return -1
		}
		return cmp.Compare(uint64(a.Int()), b.Uint())
	case a.CanUint() && b.CanInt():
		return -compareNumbers(b, a)
	}
	return cmp.Compare(asFloat(a), asFloat(b))
}

func asFloat(v reflect.Value) float64 {
	switch {
	case v.CanFloat():
		return v.Float()
	case v.CanInt():
		return float64(v.Int())
	}
	return float64(v.Uint())
}
