package typeinfo

import (
	"fmt"
	"reflect"
	"sort"
)

// SortedKeys returns the keys of map m in the order of [KeyLess], so that
// walking a map gives the same result every time.
func SortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return KeyLess(keys[i].Interface(), keys[j].Interface()) })
	return keys
}

// KeyLess orders map keys: numbers by value, strings by bytes, anything
// else by its printed form.
func KeyLess(a, b any) bool {
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	switch {
	case av.CanInt() && bv.CanInt():
		return av.Int() < bv.Int()
	case av.CanUint() && bv.CanUint():
		return av.Uint() < bv.Uint()
	case av.CanFloat() && bv.CanFloat():
		return av.Float() < bv.Float()
	case av.Kind() == reflect.String && bv.Kind() == reflect.String:
		return av.String() < bv.String()
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

// MapKeyBefore orders two paths to values that differ only in which entry
// of a map they pass through: by that entry's key (mapKey returns the key
// of a path element that is a map entry, and false for any other). Every
// other pair is left as it is, so that a stable sort keeps their order:
// go-playground visits maps in random order, and violations found in maps
// must come out in the same order every time.
func MapKeyBefore(a, b []any, mapKey func(elem any) (key any, ok bool)) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		ka, aok := mapKey(a[i])
		kb, bok := mapKey(b[i])
		if aok && bok {
			if KeyLess(ka, kb) {
				return true
			}
			if KeyLess(kb, ka) {
				return false
			}
			continue
		}
		if aok != bok || !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return false
}
