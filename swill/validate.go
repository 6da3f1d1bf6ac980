package swill

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/swillorg/swill-go/internal/typeinfo"
	"github.com/swillorg/swill-go/rpc"
)

// Validator checks a decoded request message before the handler runs.
// The server calls it for the request of unary and server-stream calls and
// for every item of a client or bidirectional stream.
type Validator interface {
	// Validate returns nil when v (a pointer to the decoded request) is
	// acceptable. An [*rpc.Error] in the returned error's chain is sent as
	// it is; any other error becomes ERROR 422 "Validation Error", whose
	// data is built from the [Violations] and [*Violation] values in the
	// error's tree (see [Violations.Data]), any other error being reported
	// for the request as a whole.
	Validate(v any) error
}

// ValidateMethods calls the Validate() error method of v and of every
// value inside it that has one, the values inside first and v itself
// last, and returns nil, the [Violations] they reported, or the first
// [*rpc.Error] one returned (which ends the walk). It is what a server
// does to each request message unless [WithValidator] replaces it, and
// what the validator of package validate does once the validate tags pass.
//
// An embedded struct's method is not run separately: it is promoted to
// the outer type, or shadowed by the outer type's own method. A Validate
// method reports per-field problems by returning [Violations] or
// [*Violation] values (possibly joined with [errors.Join]); their paths
// are relative to the value whose method it is. Any other error is
// reported on that value as a whole.
func ValidateMethods(v any) error {
	val := reflect.ValueOf(v)
	if !val.IsValid() {
		return nil
	}
	var vs Violations
	if err := callMethods(val, nil, true, &vs); err != nil {
		return err
	}
	if len(vs) == 0 {
		return nil
	}
	sort.SliceStable(vs, func(i, j int) bool { return typeinfo.MapKeyBefore(vs[i].Path, vs[j].Path, mapKeyOf) })
	return vs
}

// methodValidator is the server's default [Validator]: [ValidateMethods].
type methodValidator struct{}

func (methodValidator) Validate(v any) error { return ValidateMethods(v) }

// methodTypes caches [reachesMethod]: reflect.Type -> bool.
var methodTypes sync.Map

type selfValidator interface{ Validate() error }

var timeType = reflect.TypeFor[time.Time]()

var selfValidatorType = reflect.TypeFor[selfValidator]()

// callMethods calls the Validate methods inside v, then v's own unless
// self is false (an embedded struct whose method belongs to the outer
// one), adding the failures to vs. It returns an [*rpc.Error] a method
// returned, which ends validation.
func callMethods(v reflect.Value, path []any, self bool, vs *Violations) error {
	if !v.IsValid() || !reachesMethod(v.Type()) {
		return nil
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		own := implementsSelfValidator(v.Type())
		for _, f := range typeinfo.Fields(v.Type()) {
			fv, err := v.FieldByIndexErr(f.Index)
			if err != nil {
				continue // behind a nil embedded pointer
			}
			// An embedded struct kept as a field of its own (it has a
			// tag) still promotes its method to v, or has it shadowed.
			embedded := len(f.Index) == 1 && v.Type().Field(f.Index[0]).Anonymous
			if err := callMethods(fv, appendPath(path, f.Name), !(embedded && own), vs); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := callMethods(v.Index(i), appendPath(path, i), true, vs); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range typeinfo.SortedKeys(v) {
			if err := callMethods(v.MapIndex(k), appendPath(path, MapKey{k.Interface()}), true, vs); err != nil {
				return err
			}
		}
	}
	if !self {
		return nil
	}
	var sv selfValidator
	switch {
	case v.Type().Implements(selfValidatorType):
		sv = v.Interface().(selfValidator)
	case reflect.PointerTo(v.Type()).Implements(selfValidatorType):
		if !v.CanAddr() { // a map value: call the method on a copy
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		sv = v.Addr().Interface().(selfValidator)
	default:
		return nil
	}
	err := sv.Validate()
	if err == nil {
		return nil
	}
	var e *rpc.Error
	if errors.As(err, &e) {
		return e
	}
	flatten(err, path, vs)
	return nil
}

func implementsSelfValidator(t reflect.Type) bool {
	return t.Implements(selfValidatorType) || reflect.PointerTo(t).Implements(selfValidatorType)
}

// reachesMethod reports whether a value of type t has, or holds, a value
// with a Validate() error method.
func reachesMethod(t reflect.Type) bool {
	if b, ok := methodTypes.Load(t); ok {
		return b.(bool)
	}
	// A fresh walk per root type: results inside a cycle are not stored,
	// as they may depend on a type still being explored.
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type) bool
	walk = func(t reflect.Type) bool {
		if seen[t] {
			return false
		}
		seen[t] = true
		if t.Kind() == reflect.Interface {
			// A value decoded into an interface is plain data (maps,
			// lists, numbers, strings): it has no methods.
			return false
		}
		if implementsSelfValidator(t) {
			return true
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			return walk(t.Elem())
		case reflect.Map:
			return walk(t.Elem())
		case reflect.Struct:
			for _, f := range typeinfo.Fields(t) {
				if walk(f.Type) {
					return true
				}
			}
		}
		return false
	}
	b := walk(t)
	methodTypes.Store(t, b)
	return b
}

// Violation is one failed check of a request: where, which check, and
// what the client is told. It is an error, which a Validate method may
// return (see [ValidateMethods]).
type Violation struct {
	// Path locates the failing value from the request down: a string is a
	// struct field's wire name, an int an index in a list or array, a
	// [MapKey] a key of a map. An empty path is the request as a whole.
	Path []any
	// Tag is the failed validate tag ("min", "email"), empty for a
	// failure reported by a Validate method.
	Tag string
	// Param is the tag's parameter ("2" in min=2); for tags naming
	// another field (eqfield...) it is that field's wire name.
	Param string
	// Description is the message sent to the client.
	Description string
}

// Invalid returns a violation of the field with wire name field, for
// Validate methods: return swill.Invalid("confirm", "must match password").
func Invalid(field, description string) *Violation {
	return &Violation{Path: []any{field}, Description: description}
}

// MapKey is a path element naming an entry of a map, as opposed to a
// struct field, in [Violation.Path].
type MapKey struct {
	Key any
}

// Error implements error: "path: description".
func (v *Violation) Error() string {
	if len(v.Path) == 0 {
		return v.Description
	}
	return pathString(v.Path) + ": " + v.Description
}

func pathString(path []any) string {
	var b strings.Builder
	for i, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case MapKey:
			fmt.Fprintf(&b, "[%v]", p.Key)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

// Violations is every failed check of one request message, in the order
// of the checks. It is the error [ValidateMethods] and the validator of
// package validate return, and
// the server sends it as ERROR 422 "Validation Error" with [Violations.Data]
// as the data.
type Violations []*Violation

// Error implements error, listing the violations.
func (vs Violations) Error() string {
	if len(vs) == 0 {
		return "validation failed"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Error()
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Err returns vs as an error, or nil when it is empty: the convenient end
// of a Validate method that collects violations.
func (vs Violations) Err() error {
	if len(vs) == 0 {
		return nil
	}
	return vs
}

// Data returns the violations in the wire layout of a validation error: a
// map from the wire name of each top-level field ("" for the request as a
// whole) to a list of entries, each one of
//
//	{"description": "..."}                   the value itself fails a check
//	{"index": n, "errors": [entries]}        element n of a list or array
//	{"field": "name", "errors": [entries]}   a field of a nested struct
//	{"key": k, "errors": [entries]}          the entry of a map at key k
//
// Entries of one value follow the order of the checks; map entries are
// ordered by key.
func (vs Violations) Data() map[string]any {
	data := map[string]any{}
	for _, v := range vs {
		key, rest := "", v.Path
		if len(rest) > 0 {
			if s, ok := rest[0].(string); ok {
				key, rest = s, rest[1:]
			}
		}
		list, _ := data[key].([]any)
		data[key] = insertEntry(list, rest, v.Description)
	}
	return data
}

func insertEntry(list []any, path []any, desc string) []any {
	if len(path) == 0 {
		return append(list, map[string]any{"description": desc})
	}
	var kind string
	var id any
	switch p := path[0].(type) {
	case int:
		kind, id = "index", p
	case string:
		kind, id = "field", p
	case MapKey:
		kind, id = "key", p.Key
	default:
		kind, id = "key", p
	}
	comparable := id == nil || reflect.TypeOf(id).Comparable()
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok || !comparable {
			continue
		}
		if cur, ok := m[kind]; ok && reflect.TypeOf(cur) == reflect.TypeOf(id) && cur == id {
			m["errors"] = insertEntry(m["errors"].([]any), path[1:], desc)
			return list
		}
	}
	return append(list, map[string]any{kind: id, "errors": insertEntry(nil, path[1:], desc)})
}

// flatten adds the violations in err's tree to vs, under prefix. An error
// that holds none is one violation of the value at prefix.
func flatten(err error, prefix []any, vs *Violations) {
	n := len(*vs)
	collect(err, prefix, vs)
	if len(*vs) == n {
		*vs = append(*vs, &Violation{Path: append([]any(nil), prefix...), Description: err.Error()})
	}
}

func collect(err error, prefix []any, vs *Violations) {
	switch e := err.(type) {
	case nil:
		return
	case Violations:
		for _, v := range e {
			if v != nil {
				*vs = append(*vs, prefixed(v, prefix))
			}
		}
		return
	case *Violation:
		if e != nil {
			*vs = append(*vs, prefixed(e, prefix))
		}
		return
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			if inner != nil {
				flatten(inner, prefix, vs)
			}
		}
		return
	}
	var list Violations
	if errors.As(err, &list) {
		collect(list, prefix, vs)
		return
	}
	var one *Violation
	if errors.As(err, &one) {
		collect(one, prefix, vs)
	}
}

func prefixed(v *Violation, prefix []any) *Violation {
	if len(prefix) == 0 {
		return v
	}
	c := *v
	c.Path = append(append([]any(nil), prefix...), v.Path...)
	return &c
}

// asValidationError turns what a [Validator] returned into the error the
// client sees: an [*rpc.Error] as it is, anything else as 422.
func asValidationError(err error) error {
	var e *rpc.Error
	if errors.As(err, &e) {
		return e
	}
	var vs Violations
	flatten(err, nil, &vs)
	return rpc.NewError(rpc.CodeValidation, "Validation Error").WithData(vs.Data()).WithCause(err)
}

func appendPath(path []any, elem any) []any {
	return append(append(make([]any, 0, len(path)+1), path...), elem)
}

// mapKeyOf returns the key of a path element that is a map entry.
func mapKeyOf(elem any) (any, bool) {
	k, ok := elem.(MapKey)
	return k.Key, ok
}
