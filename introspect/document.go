package introspect

import (
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/internal/typeinfo"
	"github.com/swillorg/swill-go/rpc"
)

// The constants of a [Document].
const (
	// FormatName is the value of [Document.Format].
	FormatName = "swill.describe"
	// FormatVersion is the version of the document format this package
	// writes. It is raised only for changes a reader of the previous
	// version would misread (a field removed or given another meaning);
	// new fields, schema keywords and extensions keep it, so readers
	// must ignore what they do not know.
	FormatVersion = 1
	// JSONSchemaDialect is the dialect of every schema in a [Document].
	JSONSchemaDialect = "https://json-schema.org/draft/2020-12/schema"
	// Protocol is the wire protocol a described service speaks.
	Protocol = "swill/1"
)

// Document describes a whole service: what swill.describe returns.
//
// Each handler's request and response is the JSON Schema of one message
// (one item when that side streams). A named struct is defined once in
// Defs, under its Go name (qualified by its package when two packages
// use the same name), and referenced as {"$ref": "#/$defs/Name"}, so
// recursive types work; the references resolve against the document, so
// a tool that validates one message hands its validator the document's
// Defs along with the schema. An unnamed struct is written in place.
type Document struct {
	// Format is always [FormatName].
	Format string `msgpack:"format" json:"format"`
	// FormatVersion is the format's version, [FormatVersion] for this
	// package.
	FormatVersion int `msgpack:"format_version" json:"format_version"`
	// Protocol is the wire protocol, [Protocol].
	Protocol string `msgpack:"protocol" json:"protocol"`
	// Version is the service's own version, as the server was given it;
	// "" when it was not.
	Version string `msgpack:"version" json:"version"`
	// JSONSchema is the dialect of the schemas, [JSONSchemaDialect].
	JSONSchema string `msgpack:"json_schema" json:"json_schema"`
	// Handlers are the service's handlers in registration order.
	Handlers []Method `msgpack:"handlers" json:"handlers"`
	// Channels are the publish/subscribe channels the service declares,
	// in declaration order; absent when it declares none.
	Channels []Channel `msgpack:"channels,omitempty" json:"channels,omitempty"`
	// Defs are the schemas of the named structs, by name.
	Defs SchemaMap `msgpack:"$defs" json:"$defs"`
}

// Method describes one handler in a [Document].
type Method struct {
	// Name is the name clients call the handler by.
	Name string `msgpack:"name" json:"name"`
	// Kind is "unary", "server_stream", "client_stream" or "bidi_stream".
	Kind string `msgpack:"kind" json:"kind"`
	// Doc is the handler's documentation, "" when it has none.
	Doc string `msgpack:"doc" json:"doc"`
	// Request describes what the client sends.
	Request Payload `msgpack:"request" json:"request"`
	// Response describes what the server sends back.
	Response Payload `msgpack:"response" json:"response"`
	// Errors are the error codes the handler declares, in increasing
	// order. The server may also answer any call with the protocol's own
	// errors (400, 404, 422, 429, 500, 503...).
	Errors []ErrorCode `msgpack:"errors" json:"errors"`
}

// Payload describes one side of a call.
type Payload struct {
	// Streams is set when this side sends a stream of messages.
	Streams bool `msgpack:"streams" json:"streams"`
	// Schema is the JSON Schema of one message.
	Schema *Schema `msgpack:"schema" json:"schema"`
}

// ErrorCode is an error code a handler declares.
type ErrorCode struct {
	// Code is the code of the ERROR frame.
	Code int `msgpack:"code" json:"code"`
	// Name is a short English name for the codes the protocol itself
	// uses ("validation error" for 422); "" for others.
	Name string `msgpack:"name,omitempty" json:"name,omitempty"`
}

// Method returns the handler called name, or nil.
func (d *Document) Method(name string) *Method {
	for i := range d.Handlers {
		if d.Handlers[i].Name == name {
			return &d.Handlers[i]
		}
	}
	return nil
}

// CallKind returns the method's kind of call, and false for a kind this
// package does not know.
func (m *Method) CallKind() (rpc.Kind, bool) {
	for _, k := range []rpc.Kind{rpc.KindUnary, rpc.KindServerStream, rpc.KindClientStream, rpc.KindBidiStream} {
		if k.String() == m.Kind {
			return k, true
		}
	}
	return 0, false
}

// NewDocument returns the document of a service at version made of the
// handlers specs and the declared channels, in their order. The message
// types of the channels are described as the handlers' types are, their
// named structs defined in the same Defs.
func NewDocument(version string, specs []Spec, channels ...ChannelSpec) *Document {
	var types []reflect.Type
	for _, s := range specs {
		types = append(types, s.Request, s.Response)
	}
	g := newGenerator(append(types, channelTypes(channels)...))
	doc := &Document{
		Format:        FormatName,
		FormatVersion: FormatVersion,
		Protocol:      Protocol,
		Version:       version,
		JSONSchema:    JSONSchemaDialect,
		Handlers:      make([]Method, 0, len(specs)),
	}
	for _, s := range specs {
		doc.Handlers = append(doc.Handlers, Method{
			Name:     s.Name,
			Kind:     s.Kind.String(),
			Doc:      s.Doc,
			Request:  Payload{Streams: s.Kind.RequestStreams(), Schema: g.schema(s.Request)},
			Response: Payload{Streams: s.Kind.ResponseStreams(), Schema: g.schema(s.Response)},
			Errors:   errorCodes(s.Errors),
		})
	}
	for _, c := range channels {
		doc.Channels = append(doc.Channels, g.channel(c))
	}
	doc.Defs = g.definitions()
	return doc
}

// SchemaOf returns the JSON Schema of t and the definitions of the named
// structs it refers to, as [NewDocument] writes them.
func SchemaOf(t reflect.Type) (*Schema, SchemaMap) {
	g := newGenerator([]reflect.Type{t})
	s := g.schema(t)
	return s, g.definitions()
}

func errorCodes(codes []rpc.Code) []ErrorCode {
	seen := map[rpc.Code]bool{}
	out := []ErrorCode{}
	for _, c := range codes {
		if seen[c] {
			continue
		}
		seen[c] = true
		e := ErrorCode{Code: int(c)}
		if name := c.String(); name != "code "+strconv.Itoa(int(c)) {
			e.Name = name
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// generator builds schemas, collecting the named structs in defs.
type generator struct {
	names map[reflect.Type]string
	defs  map[string]*Schema
}

func newGenerator(roots []reflect.Type) *generator {
	g := &generator{names: map[reflect.Type]string{}, defs: map[string]*Schema{}}
	seen := map[reflect.Type]bool{}
	byName := map[string][]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		if classify(t) != classKind {
			return
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			if name := StructName(t); name != "" {
				byName[name] = append(byName[name], t)
			}
			for _, f := range typeinfo.Fields(t) {
				walk(f.Type)
			}
		}
	}
	for _, t := range roots {
		walk(t)
	}
	// Two structs of one name are both qualified by their package's name,
	// or by its whole path when that is not enough, so that a name never
	// depends on which of them was met first.
	for name, ts := range byName {
		if len(ts) == 1 {
			g.names[ts[0]] = name
			continue
		}
		short := map[string]int{}
		for _, t := range ts {
			short[packageName(t)]++
		}
		for _, t := range ts {
			if short[packageName(t)] == 1 {
				g.names[t] = packageName(t) + "." + name
			} else {
				g.names[t] = defName(t.PkgPath()) + "." + name
			}
		}
	}
	return g
}

func packageName(t reflect.Type) string {
	p := t.PkgPath()
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return defName(p)
}

var defUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// defName keeps a name to characters that need no escaping in a JSON
// pointer or a URI fragment.
func defName(s string) string {
	return defUnsafe.ReplaceAllString(strings.ReplaceAll(s, "/", "."), "_")
}

func (g *generator) definitions() SchemaMap {
	names := make([]string, 0, len(g.defs))
	for name := range g.defs {
		names = append(names, name)
	}
	sort.Strings(names)
	m := make(SchemaMap, 0, len(names))
	for _, name := range names {
		m = append(m, NamedSchema{Name: name, Schema: g.defs[name]})
	}
	return m
}

// maxTupleItems is the longest array described item by item
// (prefixItems); a longer one is described by its element type and
// length.
const maxTupleItems = 32

// schema returns a new schema for t; only the definitions in g.defs are
// shared.
func (g *generator) schema(t reflect.Type) *Schema {
	if t == nil {
		return &Schema{}
	}
	switch classify(t) {
	case classNone:
		return &Schema{Type: "null"}
	case classTime:
		return timeSchema()
	case classOpaque:
		return &Schema{}
	case classBinary:
		return bytesSchema()
	case classText:
		return &Schema{Type: "string", XMsgpack: "bin"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &Schema{Type: "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: "integer", Minimum: float(0)}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nullable(bytesSchema())
		}
		return nullable(&Schema{Type: "array", Items: g.schema(t.Elem())})
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return bytesSchema()
		}
		n := t.Len()
		s := &Schema{Type: "array", MinItems: &n, MaxItems: &n}
		if n > maxTupleItems {
			s.Items = g.schema(t.Elem())
			return s
		}
		s.PrefixItems = make([]*Schema, n)
		for i := range s.PrefixItems {
			s.PrefixItems[i] = g.schema(t.Elem())
		}
		return s
	case reflect.Map:
		s := &Schema{Type: "object", AdditionalProperties: g.schema(t.Elem())}
		if t.Key().Kind() != reflect.String {
			s.XMsgpackKey = g.schema(t.Key())
		}
		return nullable(s)
	case reflect.Struct:
		name := g.names[t]
		if name == "" {
			return g.object(t)
		}
		if _, ok := g.defs[name]; !ok {
			def := &Schema{}
			g.defs[name] = def // first, so that a recursive field finds it
			*def = *g.object(t)
			def.Title = StructName(t)
		}
		return &Schema{Ref: "#/$defs/" + name}
	}
	return &Schema{}
}

func timeSchema() *Schema {
	return &Schema{Type: "string", Format: "date-time", XMsgpack: "timestamp"}
}

func bytesSchema() *Schema {
	return &Schema{Type: "string", ContentEncoding: "base64", XMsgpack: "bin"}
}

var nullSchema = Schema{Type: "null"}

// nullable lets s be null too, as a nil pointer, slice or map is.
func nullable(s *Schema) *Schema {
	if isEmpty(s) {
		return s
	}
	n := nullSchema
	return &Schema{AnyOf: []*Schema{s, &n}}
}

// nonNull returns the schema of the non-null values a nullable schema
// accepts, or s itself.
func nonNull(s *Schema) *Schema {
	for len(s.AnyOf) == 2 && reflect.DeepEqual(*s.AnyOf[1], nullSchema) && isBareAnyOf(s) {
		s = s.AnyOf[0]
	}
	return s
}

func isBareAnyOf(s *Schema) bool {
	c := *s
	c.AnyOf = nil
	c.Description = ""
	return isEmpty(&c)
}

func isEmpty(s *Schema) bool { return reflect.DeepEqual(*s, Schema{}) }

func float(f float64) *float64 { return &f }

// object returns the schema of struct t's fields.
func (g *generator) object(t reflect.Type) *Schema {
	s := &Schema{Type: "object"}
	for _, f := range typeinfo.Fields(t) {
		fs, required := g.field(f)
		s.Properties = append(s.Properties, NamedSchema{Name: f.Name, Schema: fs})
		if required {
			s.Required = append(s.Required, f.Name)
		}
	}
	return s
}

// field returns a struct field's schema, its validate tag applied, and
// whether the tag requires it.
func (g *generator) field(f typeinfo.Field) (*Schema, bool) {
	s := g.schema(f.Type)
	tokens := splitTag(f.Tag.Get("validate"))
	required := false
	for _, tok := range tokens {
		if tok == "dive" {
			break
		}
		if tok == "required" {
			required = true
		}
	}
	if required {
		s = nonNull(s)
	}
	applyTags(target{s, f.Type}, tokens)
	if doc := f.Tag.Get("doc"); doc != "" {
		s.Description = doc
	}
	return s, required
}

// splitTag splits a validate tag into its checks.
func splitTag(tag string) []string {
	if tag == "" || tag == "-" {
		return nil
	}
	return strings.Split(tag, ",")
}

// target is a schema that tags apply to, with the Go type it describes.
type target struct {
	s *Schema
	t reflect.Type
}

// resolved goes through pointers (and their null alternative), as the
// validator does before it checks a value.
func (tg target) resolved() target {
	for tg.t.Kind() == reflect.Pointer {
		tg.t = tg.t.Elem()
	}
	tg.s = nonNull(tg.s)
	return tg
}

// applyTags turns the checks of a validate tag into keywords of the
// schema they apply to: the field's own, or after dive its elements'
// (and between keys and endkeys a map's keys').
func applyTags(field target, tokens []string) {
	cur := []target{field.resolved()}
	var maps, values []target
	for _, tok := range tokens {
		name, param, _ := strings.Cut(tok, "=")
		switch name {
		case "dive":
			var next []target
			maps = nil
			for _, tg := range cur {
				elem := tg.t.Elem
				switch tg.t.Kind() {
				case reflect.Slice:
					if tg.s.Items != nil {
						next = append(next, target{tg.s.Items, elem()}.resolved())
					}
				case reflect.Array:
					if tg.s.Items != nil {
						next = append(next, target{tg.s.Items, elem()}.resolved())
					}
					for _, p := range tg.s.PrefixItems {
						next = append(next, target{p, elem()}.resolved())
					}
				case reflect.Map:
					maps = append(maps, tg)
					next = append(next, target{tg.s.AdditionalProperties, elem()}.resolved())
				}
			}
			cur = next
		case "keys":
			values = cur
			cur = nil
			for _, m := range maps {
				if m.t.Key().Kind() == reflect.String {
					if m.s.PropertyNames == nil {
						m.s.PropertyNames = &Schema{Type: "string"}
					}
					cur = append(cur, target{m.s.PropertyNames, m.t.Key()})
				} else if m.s.XMsgpackKey != nil {
					cur = append(cur, target{m.s.XMsgpackKey, m.t.Key()}.resolved())
				}
			}
		case "endkeys":
			cur = values
		default:
			if strings.Contains(tok, "|") {
				continue // alternatives have no keyword of their own
			}
			for _, tg := range cur {
				applyKeyword(tg, name, param)
			}
		}
	}
}

var formats = map[string]string{
	"email":            "email",
	"url":              "uri",
	"http_url":         "uri",
	"https_url":        "uri",
	"uri":              "uri",
	"uuid":             "uuid",
	"uuid3":            "uuid",
	"uuid4":            "uuid",
	"uuid5":            "uuid",
	"uuid_rfc4122":     "uuid",
	"uuid3_rfc4122":    "uuid",
	"uuid4_rfc4122":    "uuid",
	"uuid5_rfc4122":    "uuid",
	"ipv4":             "ipv4",
	"ip4_addr":         "ipv4",
	"ipv6":             "ipv6",
	"ip6_addr":         "ipv6",
	"hostname":         "hostname",
	"hostname_rfc1123": "hostname",
	"fqdn":             "hostname",
}

var patterns = map[string]string{
	"alpha":       "^[a-zA-Z]+$",
	"alphanum":    "^[a-zA-Z0-9]+$",
	"numeric":     `^[-+]?[0-9]+(?:\.[0-9]+)?$`,
	"number":      "^[0-9]+$",
	"hexadecimal": "^(0[xX])?[0-9a-fA-F]+$",
	"e164":        `^\+[1-9]?[0-9]{7,14}$`,
}

var dateLayouts = map[string]string{
	time.RFC3339:  "date-time",
	time.DateOnly: "date",
	time.TimeOnly: "time",
}

// applyKeyword adds the keyword of one check to tg's schema. Checks with
// no JSON Schema equivalent are left out.
func applyKeyword(tg target, name, param string) {
	s, t := tg.s, tg.t
	kind := t.Kind()
	str := kind == reflect.String && classify(t) == classKind
	num := isNumber(kind) && classify(t) == classKind
	minLen, maxLen := lengthKeywords(s, t)
	switch name {
	case "min", "gte", "max", "lte", "gt", "lt", "len":
		if minLen != nil {
			n, err := strconv.Atoi(param)
			if err != nil {
				return
			}
			switch name {
			case "min", "gte":
				*minLen = intp(n)
			case "gt":
				*minLen = intp(n + 1)
			case "max", "lte":
				*maxLen = intp(n)
			case "lt":
				*maxLen = intp(n - 1)
			case "len":
				*minLen, *maxLen = intp(n), intp(n)
			}
			return
		}
		if !num {
			return
		}
		f, err := strconv.ParseFloat(param, 64)
		if err != nil {
			return // a duration such as 1h, or a malformed bound
		}
		switch name {
		case "min", "gte":
			s.Minimum = float(f)
		case "gt":
			s.ExclusiveMinimum = float(f)
		case "max", "lte":
			s.Maximum = float(f)
		case "lt":
			s.ExclusiveMaximum = float(f)
		case "len":
			if v := scalar(param, t); v != nil {
				s.Enum = []any{v}
			}
		}
	case "eq":
		if v := scalar(param, t); v != nil {
			s.Enum = []any{v}
		}
	case "ne":
		if v := scalar(param, t); v != nil {
			s.Not = &Schema{Enum: []any{v}}
		}
	case "oneof":
		var enum []any
		for _, p := range oneofValues(param) {
			v := scalar(p, t)
			if v == nil {
				return
			}
			enum = append(enum, v)
		}
		s.Enum = enum
	case "unique":
		if kind == reflect.Slice || kind == reflect.Array {
			s.UniqueItems = true
		}
	case "datetime":
		if f, ok := dateLayouts[param]; ok && str {
			s.Format = f
		}
	case "startswith":
		if str {
			addPattern(s, "^"+regexp.QuoteMeta(param))
		}
	case "endswith":
		if str {
			addPattern(s, regexp.QuoteMeta(param)+"$")
		}
	case "contains":
		if str {
			addPattern(s, regexp.QuoteMeta(param))
		}
	default:
		if !str {
			return
		}
		if f, ok := formats[name]; ok {
			s.Format = f
		} else if p, ok := patterns[name]; ok {
			addPattern(s, p)
		}
	}
}

func intp(n int) *int {
	if n < 0 {
		n = 0
	}
	return &n
}

// lengthKeywords returns the keywords bounding the length of a string,
// an array or an object, or nil for other schemas.
func lengthKeywords(s *Schema, t reflect.Type) (min, max **int) {
	switch {
	case s.Type == "string" && s.XMsgpack == "":
		return &s.MinLength, &s.MaxLength
	case s.Type == "array":
		return &s.MinItems, &s.MaxItems
	case s.Type == "object" && t.Kind() == reflect.Map:
		return &s.MinProperties, &s.MaxProperties
	}
	return nil, nil
}

func isNumber(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// scalar parses a tag parameter as a value of t's kind, or returns nil.
func scalar(param string, t reflect.Type) any {
	switch t.Kind() {
	case reflect.String:
		return param
	case reflect.Bool:
		if b, err := strconv.ParseBool(param); err == nil {
			return b
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := strconv.ParseInt(param, 0, 64); err == nil {
			return n
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, err := strconv.ParseUint(param, 0, 64); err == nil {
			return n
		}
	case reflect.Float32, reflect.Float64:
		if f, err := strconv.ParseFloat(param, 64); err == nil {
			return f
		}
	}
	return nil
}

var oneofValue = regexp.MustCompile(`'[^']*'|\S+`)

// oneofValues splits the parameter of oneof as the validator does: by
// spaces, with 'single quotes' around values holding spaces.
func oneofValues(param string) []string {
	vals := oneofValue.FindAllString(param, -1)
	for i, v := range vals {
		vals[i] = strings.Trim(v, "'")
	}
	return vals
}

func addPattern(s *Schema, p string) {
	if s.Pattern == "" {
		s.Pattern = p
		return
	}
	s.AllOf = append(s.AllOf, &Schema{Pattern: p})
}
