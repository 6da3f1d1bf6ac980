package validate

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/swillorg/swill-go/internal/typeinfo"
	"github.com/swillorg/swill-go/swill"
)

// MessageFunc returns the description a client sees for one failed
// check of a validate tag.
type MessageFunc func(fe validator.FieldError) string

// Validator is a [swill.Validator] that checks the validate struct tags
// of github.com/go-playground/validator/v10, then runs
// [swill.ValidateMethods]. Create it with [New]; it is safe for
// concurrent use.
//
// Tags are checked as go-playground does: nested structs are checked, list
// and map elements only after "dive", and a field reports its first
// failing tag. A request that is a list, an array or a map has the
// structs it holds checked element by element.
//
// Validate methods run only when every tag check passed, so they may rely
// on the tags (a field tagged required is set).
type Validator struct {
	v        *validator.Validate
	messages map[string]MessageFunc
	fallback MessageFunc

	custom  bool     // rv.v came from WithEngine: its rules are unknown
	plain   sync.Map // reflect.Type -> bool: no tag to check
	structs sync.Map // reflect.Type -> bool: holds structs outside struct fields
}

// Option configures a [Validator].
type Option interface {
	apply(*Validator)
}

type optionFunc func(*Validator)

func (f optionFunc) apply(v *Validator) { f(v) }

// WithEngine makes the validator check tags with v, a go-playground
// validator.Validate of your own, for instance one with custom tags
// registered (RegisterValidation), aliases, or struct-level rules.
// The default is validator.New(validator.WithRequiredStructEnabled()).
// Give the messages of custom tags with [WithTagMessage]. A nil v is ignored.
func WithEngine(v *validator.Validate) Option {
	return optionFunc(func(rv *Validator) {
		if v != nil {
			rv.v = v
			rv.custom = true
		}
	})
}

// WithTagMessage sets the description of a failed tag, replacing the
// default. tag is the tag's name as [validator.FieldError.Tag] reports it:
// "min", a custom tag, an alias, or a whole alternative such as
// "email|url".
func WithTagMessage(tag string, fn MessageFunc) Option {
	return optionFunc(func(rv *Validator) {
		if fn != nil {
			rv.messages[tag] = fn
		}
	})
}

// WithTranslator sets a function consulted for every failed tag, before
// the per-tag messages of [WithTagMessage] and the defaults; when it
// returns "" they apply. It suits translations
// (validator.FieldError.Translate).
func WithTranslator(fn MessageFunc) Option {
	return optionFunc(func(rv *Validator) { rv.fallback = fn })
}

// New returns a validator configured by opts. Give it to a server with
// [swill.WithValidator].
func New(opts ...Option) *Validator {
	rv := &Validator{messages: map[string]MessageFunc{}}
	for _, o := range opts {
		o.apply(rv)
	}
	if rv.v == nil {
		rv.v = validator.New(validator.WithRequiredStructEnabled())
	}
	return rv
}

// Validate implements [swill.Validator]. It returns nil,
// [swill.Violations], or the [*rpc.Error] a Validate method returned.
func (rv *Validator) Validate(v any) error {
	val := reflect.ValueOf(v)
	if !val.IsValid() {
		return nil
	}
	if !rv.isPlain(val.Type()) {
		var vs swill.Violations
		if err := rv.checkTags(val, nil, &vs); err != nil {
			return err
		}
		if len(vs) > 0 {
			sort.SliceStable(vs, func(i, j int) bool { return typeinfo.MapKeyBefore(vs[i].Path, vs[j].Path, mapKeyOf) })
			return vs
		}
	}
	return swill.ValidateMethods(v)
}

// checkTags runs the tag checks on v, a struct or a container of structs,
// adding what fails to vs with paths under prefix.
func (rv *Validator) checkTags(v reflect.Value, prefix []any, vs *swill.Violations) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			return nil
		}
		arg := v.Interface()
		if v.CanAddr() {
			arg = v.Addr().Interface()
		}
		err := rv.v.Struct(arg)
		if err == nil {
			return nil
		}
		var fes validator.ValidationErrors
		if !errors.As(err, &fes) {
			return err // misuse of the validator (an InvalidValidationError)
		}
		for _, fe := range fes {
			path, parent := wirePath(v, fe.StructNamespace())
			fe = mapFieldParam(fe, parent)
			*vs = append(*vs, &swill.Violation{
				Path:        append(append([]any(nil), prefix...), path...),
				Tag:         fe.Tag(),
				Param:       fe.Param(),
				Description: rv.message(fe),
			})
		}
	case reflect.Slice, reflect.Array:
		if !rv.holdsStructs(v.Type()) {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := rv.checkTags(v.Index(i), appendPath(prefix, i), vs); err != nil {
				return err
			}
		}
	case reflect.Map:
		if !rv.holdsStructs(v.Type()) {
			return nil
		}
		for _, k := range typeinfo.SortedKeys(v) {
			if err := rv.checkTags(v.MapIndex(k), appendPath(prefix, swill.MapKey{Key: k.Interface()}), vs); err != nil {
				return err
			}
		}
	}
	return nil
}

// isPlain reports whether values of type t have no tag to check: no
// validate tag in any struct reachable from t, and no interface that could
// hold one. Most requests are plain, and skip go-playground's walk
// altogether. A validator given with WithEngine may have struct-level
// rules or another tag name: its values are never plain.
func (rv *Validator) isPlain(t reflect.Type) bool {
	if rv.custom {
		return false
	}
	if b, ok := rv.plain.Load(t); ok {
		return b.(bool)
	}
	b := !hasTags(t, map[reflect.Type]bool{})
	rv.plain.Store(t, b)
	return b
}

// hasTags reports whether a struct reachable from t has a validate tag,
// or whether t reaches an interface, whose dynamic value could.
func hasTags(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasTags(t.Elem(), seen)
	case reflect.Map:
		return hasTags(t.Key(), seen) || hasTags(t.Elem(), seen)
	case reflect.Struct:
		if t == timeType {
			return false
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Tag.Get("validate") != "" || hasTags(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// holdsStructs reports whether values of container type t hold structs
// reached through pointers, lists, arrays and maps only.
func (rv *Validator) holdsStructs(t reflect.Type) bool {
	if b, ok := rv.structs.Load(t); ok {
		return b.(bool)
	}
	b := false
	for e := t; ; {
		switch e.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			e = e.Elem()
			continue
		case reflect.Struct:
			b = e != timeType
		}
		break
	}
	rv.structs.Store(t, b)
	return b
}

var timeType = reflect.TypeFor[time.Time]()

// message returns the description of one failed tag.
func (rv *Validator) message(fe validator.FieldError) string {
	if rv.fallback != nil {
		if s := rv.fallback(fe); s != "" {
			return s
		}
	}
	if fn := rv.messages[fe.Tag()]; fn != nil {
		if s := fn(fe); s != "" {
			return s
		}
	}
	return DefaultMessage(fe)
}

func appendPath(path []any, elem any) []any {
	return append(append(make([]any, 0, len(path)+1), path...), elem)
}

// wirePath turns the struct namespace go-playground reports for a field of
// root ("Signup.Items[2].Name") into a path of wire names, indexes and map
// keys. It also returns the Go struct type holding the failing field.
func wirePath(root reflect.Value, ns string) ([]any, reflect.Type) {
	if name := root.Type().Name(); name != "" {
		ns = strings.TrimPrefix(ns, name+".")
	}
	var (
		path   []any
		parent reflect.Type
		v      = root
		wireT  reflect.Type // the struct whose wire fields name the next field
		flat   []int        // index path from wireT through flattened embedded structs
	)
	for ns != "" {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return append(path, ns), parent
			}
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.Struct:
			ns = strings.TrimPrefix(ns, ".")
			end := strings.IndexAny(ns, ".[")
			if end < 0 {
				end = len(ns)
			}
			name := ns[:end]
			ns = ns[end:]
			sf, ok := v.Type().FieldByName(name)
			if !ok || len(sf.Index) != 1 {
				return append(path, name+ns), parent
			}
			if flat == nil {
				wireT = v.Type()
			}
			parent = v.Type()
			idx := append(append([]int(nil), flat...), sf.Index[0])
			v = v.Field(sf.Index[0])
			if f, ok := fieldAt(wireT, idx); ok {
				path = append(path, f.Name)
				flat = nil
			} else if sf.Anonymous {
				flat = idx
			} else {
				path = append(path, name)
				flat = nil
			}
		case reflect.Slice, reflect.Array:
			end := strings.IndexByte(ns, ']')
			if !strings.HasPrefix(ns, "[") || end < 0 {
				return append(path, ns), parent
			}
			i, err := strconv.Atoi(ns[1:end])
			if err != nil || i < 0 || i >= v.Len() {
				return append(path, ns), parent
			}
			path = append(path, i)
			v = v.Index(i)
			ns = ns[end+1:]
			flat = nil
		case reflect.Map:
			if !strings.HasPrefix(ns, "[") {
				return append(path, ns), parent
			}
			// go-playground writes the key with %v; the real key is the
			// longest one whose text fits here.
			var key reflect.Value
			best := -1
			for _, k := range v.MapKeys() {
				s := fmt.Sprintf("%v", k)
				if len(s) > best && strings.HasPrefix(ns[1:], s+"]") {
					key, best = k, len(s)
				}
			}
			if best < 0 {
				return append(path, ns), parent
			}
			path = append(path, swill.MapKey{Key: key.Interface()})
			v = v.MapIndex(key)
			ns = ns[best+2:]
			flat = nil
		default:
			return append(path, ns), parent
		}
	}
	return path, parent
}

func fieldAt(t reflect.Type, index []int) (typeinfo.Field, bool) {
	for _, f := range typeinfo.Fields(t) {
		if slicesEqual(f.Index, index) {
			return f, true
		}
	}
	return typeinfo.Field{}, false
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fieldParamTags name another field of the same struct as their param.
var fieldParamTags = map[string]bool{
	"eqfield": true, "nefield": true, "gtfield": true, "gtefield": true,
	"ltfield": true, "ltefield": true, "fieldcontains": true, "fieldexcludes": true,
}

// paramError reports a field name param under its wire name.
type paramError struct {
	validator.FieldError
	param string
}

func (e paramError) Param() string { return e.param }

func mapFieldParam(fe validator.FieldError, parent reflect.Type) validator.FieldError {
	if parent == nil || !fieldParamTags[fe.Tag()] {
		return fe
	}
	return paramError{FieldError: fe, param: typeinfo.WireName(parent, fe.Param())}
}

// mapKeyOf returns the key of a path element that is a map entry.
func mapKeyOf(elem any) (any, bool) {
	k, ok := elem.(swill.MapKey)
	return k.Key, ok
}
