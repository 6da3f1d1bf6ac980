// Package introspect describes the Go types of swill handlers, for the
// two built-in calls a swill server answers and for the tools that read
// them.
//
// It knows nothing of the server: a handler is given to it as a [Spec]
// (name, kind, doc, request and response types, declared error codes),
// and what it returns are plain values with msgpack and json tags, which
// a client decodes without this package's help or with it.
//
// # swill.introspect: the reference format
//
// [NewEntry] builds the item the server streams for one handler, in the
// exact format of the reference Swill server:
//
//	{"name": "fail",
//	 "request":  {"streams": false, "type": {"type": "FailRequest", "arguments": {
//	                 "code": {"type": "int"}, "message": {"type": "str"}}}},
//	 "response": {"streams": false, "type": {"type": "None"}}}
//
// [TypeOf] maps a Go type to the reference's Python spelling: bool, the
// integer kinds and the float kinds are bool, int and float; string is
// str; []byte, [N]byte and types that marshal themselves to binary or
// text are bytes; time.Time is datetime; interface types (any) are Any;
// [codec.None] is None. A slice is list and a map dict, a fixed-size array
// is tuple, and their element types are arguments under integer keys
// (list: 0; dict: 0 the key, 1 the value; tuple: 0 to n-1). A pointer is
// Optional with its element type under 0. A named struct is its Go name
// (type arguments of a generic struct appended with underscores,
// Page_Item) with its fields as arguments under their wire names, in
// declaration order, embedded structs flattened as the encoder does; an
// unnamed struct is TypedDict. A struct met again inside itself is given
// by name alone, without arguments. Types that encode themselves
// (msgpack.CustomEncoder, msgpack.Marshaler, [codec.RawMessage]) are Any.
//
// # swill.describe: the service document
//
// [NewDocument] builds the richer description of the whole service that
// swill.describe returns: a versioned [Document] listing every handler's
// name, kind, doc string, declared error codes, and request and response
// types as JSON Schema (draft 2020-12), named structs defined once under
// "$defs" and referenced with "$ref" so that recursive types work. The
// validate tags of github.com/go-playground/validator/v10 become schema
// keywords (required, minLength, minimum, exclusiveMaximum, format,
// enum...), and a field's doc tag its description. See [Document] and
// [Schema] for the details, and [FormatVersion] for how the format
// evolves.
//
// The document also lists the service's publish/subscribe channels, each
// given to [NewDocument] as a [ChannelSpec] by the server extension that
// serves it: its pattern, the JSON Schema of its messages (named structs
// in the same $defs as the handlers' types), its history, presence and
// join/leave settings, whether clients may publish, and its doc. See
// [Channel].
package introspect
