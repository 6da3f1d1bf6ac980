package swill

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

// MessageFunc returns the description a client sees for one failed
// check of a validate tag.
type MessageFunc func(fe validator.FieldError) string

// RequestValidator is the default [Validator]. It checks the validate
// struct tags of github.com/go-playground/validator/v10, then calls the
// Validate() error method of every value of the request that has one.
// Create it with [NewValidator]; it is safe for concurrent use.
//
// Tags are checked as go-playground does: nested structs are checked, list
// and map elements only after "dive", and a field reports its first
// failing tag. A request that is a list, an array or a map has the
// structs it holds checked element by element.
//
// Validate methods run only when every tag check passed, so they may rely
// on the tags (a field tagged required is set). They run on the values
// inside the request first and on the request itself last; an embedded
// struct's method is not run separately (it is promoted to the outer type,
// or shadowed by the outer type's own method). A Validate method reports
// per-field problems by returning [Violations] or [*Violation] values
// (possibly joined with [errors.Join]); their paths are relative to the
// value whose method it is. Any other error is reported on that value as
// a whole, and an [*rpc.Error] is sent to the client as it is.
type RequestValidator struct {
	v        *validator.Validate
	messages map[string]MessageFunc
	fallback MessageFunc

	custom  bool     // rv.v came from WithValidate: its rules are unknown
	plain   sync.Map // reflect.Type -> bool: nothing in it to check
	structs sync.Map // reflect.Type -> bool: holds structs outside struct fields
	methods sync.Map // reflect.Type -> bool: reaches a Validate method
}

// ValidatorOption configures a [RequestValidator].
type ValidatorOption interface {
	applyToValidator(*RequestValidator)
}

type validatorOptionFunc func(*RequestValidator)

func (f validatorOptionFunc) applyToValidator(v *RequestValidator) { f(v) }

// WithValidate makes the validator use v, for instance one with custom
// tags registered (RegisterValidation), aliases, or struct-level rules.
// The default is validator.New(validator.WithRequiredStructEnabled()).
// Give the messages of custom tags with [WithMessage]. A nil v is ignored.
func WithValidate(v *validator.Validate) ValidatorOption {
	return validatorOptionFunc(func(rv *RequestValidator) {
		if v != nil {
			rv.v = v
			rv.custom = true
		}
	})
}

// WithMessage sets the description of a failed tag, replacing the
// default. tag is the tag's name as [validator.FieldError.Tag] reports it:
// "min", a custom tag, an alias, or a whole alternative such as
// "email|url".
func WithMessage(tag string, fn MessageFunc) ValidatorOption {
	return validatorOptionFunc(func(rv *RequestValidator) {
		if fn != nil {
			rv.messages[tag] = fn
		}
	})
}

// WithMessages sets a function consulted for every failed tag before the
// per-tag messages of [WithMessage] and the defaults; when it returns ""
// they apply. It suits translations (validator.FieldError.Translate).
func WithMessages(fn MessageFunc) ValidatorOption {
	return validatorOptionFunc(func(rv *RequestValidator) { rv.fallback = fn })
}

// NewValidator returns the default validator configured by opts. It is
// what a server uses unless [WithValidator] replaces it.
func NewValidator(opts ...ValidatorOption) *RequestValidator {
	rv := &RequestValidator{messages: map[string]MessageFunc{}}
	for _, o := range opts {
		o.applyToValidator(rv)
	}
	if rv.v == nil {
		rv.v = validator.New(validator.WithRequiredStructEnabled())
	}
	return rv
}

// Validate implements [Validator]. It returns nil, [Violations], or the
// [*rpc.Error] a Validate method returned.
func (rv *RequestValidator) Validate(v any) error {
	val := reflect.ValueOf(v)
	if !val.IsValid() || rv.isPlain(val.Type()) {
		return nil
	}
	var vs Violations
	if err := rv.checkTags(val, nil, &vs); err != nil {
		return err
	}
	if len(vs) == 0 {
		if err := rv.callMethods(val, nil, true, &vs); err != nil {
			return err
		}
	}
	if len(vs) == 0 {
		return nil
	}
	sort.SliceStable(vs, func(i, j int) bool { return mapKeyBefore(vs[i].Path, vs[j].Path) })
	return vs
}

// checkTags runs the tag checks on v, a struct or a container of structs,
// adding what fails to vs with paths under prefix.
func (rv *RequestValidator) checkTags(v reflect.Value, prefix []any, vs *Violations) error {
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
			*vs = append(*vs, &Violation{
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
		for _, k := range sortedKeys(v) {
			if err := rv.checkTags(v.MapIndex(k), appendPath(prefix, MapKey{k.Interface()}), vs); err != nil {
				return err
			}
		}
	}
	return nil
}

// isPlain reports whether values of type t have nothing to check: no
// validate tag in any struct reachable from t, no Validate method, and no
// interface that could hold either. Most requests are plain, and skip
// the validator's walk altogether. A validator given with WithValidate
// may have struct-level rules or another tag name: its values are never
// plain.
func (rv *RequestValidator) isPlain(t reflect.Type) bool {
	if rv.custom {
		return false
	}
	if b, ok := rv.plain.Load(t); ok {
		return b.(bool)
	}
	b := !hasTags(t, map[reflect.Type]bool{}) && !rv.reachesMethod(t)
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
func (rv *RequestValidator) holdsStructs(t reflect.Type) bool {
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

type selfValidator interface{ Validate() error }

var timeType = reflect.TypeFor[time.Time]()

var selfValidatorType = reflect.TypeFor[selfValidator]()

// callMethods calls the Validate methods inside v, then v's own unless
// self is false (an embedded struct whose method belongs to the outer
// one), adding the failures to vs. It returns an [*rpc.Error] a method
// returned, which ends validation.
func (rv *RequestValidator) callMethods(v reflect.Value, path []any, self bool, vs *Violations) error {
	if !v.IsValid() || !rv.reachesMethod(v.Type()) {
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
			if err := rv.callMethods(fv, appendPath(path, f.Name), !(embedded && own), vs); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := rv.callMethods(v.Index(i), appendPath(path, i), true, vs); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range sortedKeys(v) {
			if err := rv.callMethods(v.MapIndex(k), appendPath(path, MapKey{k.Interface()}), true, vs); err != nil {
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
func (rv *RequestValidator) reachesMethod(t reflect.Type) bool {
	if b, ok := rv.methods.Load(t); ok {
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
	rv.methods.Store(t, b)
	return b
}

// message returns the description of one failed tag.
func (rv *RequestValidator) message(fe validator.FieldError) string {
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

// Violation is one failed check of a request: where, which check, and
// what the client is told. It is an error, which a Validate method may
// return (see [RequestValidator]).
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
// of the checks. It is the error [RequestValidator.Validate] returns, and
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
			path = append(path, MapKey{key.Interface()})
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

func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i].Interface(), keys[j].Interface()) })
	return keys
}

// keyLess orders map keys: numbers by value, strings by bytes, anything
// else by its printed form.
func keyLess(a, b any) bool {
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

// mapKeyBefore orders two violations of entries of the same map by key
// and leaves every other pair as it is: go-playground visits maps in
// random order.
func mapKeyBefore(a, b []any) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		ka, aok := a[i].(MapKey)
		kb, bok := b[i].(MapKey)
		if aok && bok {
			if keyLess(ka.Key, kb.Key) {
				return true
			}
			if keyLess(kb.Key, ka.Key) {
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
