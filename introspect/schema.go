package introspect

import (
	"encoding/json"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/swillorg/swill-go/internal/orderedjson"
)

// Schema is a JSON Schema (draft 2020-12) as [NewDocument] writes it: only
// the keywords it uses, plus two extension keywords for what MsgPack carries
// that JSON has no word for:
//
//   - "x-msgpack": "bin" on a string schema whose value travels as MsgPack
//     bin (a []byte, whose JSON rendering is base64 as contentEncoding
//     says), and "timestamp" on a date-time string whose value travels as
//     the MsgPack timestamp extension (time.Time).
//   - "x-msgpack-key": the schema of the keys of a map whose keys are not
//     strings (map[int]string); JSON can only spell its keys as strings.
//
// A single allowed value is written as a one-element enum. The empty
// schema {} accepts any value.
type Schema struct {
	// Reference and annotations.
	Ref         string `msgpack:"$ref,omitempty" json:"$ref,omitempty"`
	Title       string `msgpack:"title,omitempty" json:"title,omitempty"`
	Description string `msgpack:"description,omitempty" json:"description,omitempty"`

	// The kind of value, and its format.
	Type            string `msgpack:"type,omitempty" json:"type,omitempty"`
	Format          string `msgpack:"format,omitempty" json:"format,omitempty"`
	ContentEncoding string `msgpack:"contentEncoding,omitempty" json:"contentEncoding,omitempty"`
	XMsgpack        string `msgpack:"x-msgpack,omitempty" json:"x-msgpack,omitempty"`

	// The values allowed.
	Enum []any `msgpack:"enum,omitempty" json:"enum,omitempty"`

	// Bounds of a number.
	Minimum          *float64 `msgpack:"minimum,omitempty" json:"minimum,omitempty"`
	ExclusiveMinimum *float64 `msgpack:"exclusiveMinimum,omitempty" json:"exclusiveMinimum,omitempty"`
	Maximum          *float64 `msgpack:"maximum,omitempty" json:"maximum,omitempty"`
	ExclusiveMaximum *float64 `msgpack:"exclusiveMaximum,omitempty" json:"exclusiveMaximum,omitempty"`

	// Bounds and pattern of a string.
	MinLength *int   `msgpack:"minLength,omitempty" json:"minLength,omitempty"`
	MaxLength *int   `msgpack:"maxLength,omitempty" json:"maxLength,omitempty"`
	Pattern   string `msgpack:"pattern,omitempty" json:"pattern,omitempty"`

	// The elements of an array.
	Items       *Schema   `msgpack:"items,omitempty" json:"items,omitempty"`
	PrefixItems []*Schema `msgpack:"prefixItems,omitempty" json:"prefixItems,omitempty"`
	MinItems    *int      `msgpack:"minItems,omitempty" json:"minItems,omitempty"`
	MaxItems    *int      `msgpack:"maxItems,omitempty" json:"maxItems,omitempty"`
	UniqueItems bool      `msgpack:"uniqueItems,omitempty" json:"uniqueItems,omitempty"`

	// The entries of an object.
	Properties           SchemaMap `msgpack:"properties,omitempty" json:"properties,omitempty"`
	Required             []string  `msgpack:"required,omitempty" json:"required,omitempty"`
	AdditionalProperties *Schema   `msgpack:"additionalProperties,omitempty" json:"additionalProperties,omitempty"`
	PropertyNames        *Schema   `msgpack:"propertyNames,omitempty" json:"propertyNames,omitempty"`
	XMsgpackKey          *Schema   `msgpack:"x-msgpack-key,omitempty" json:"x-msgpack-key,omitempty"`
	MinProperties        *int      `msgpack:"minProperties,omitempty" json:"minProperties,omitempty"`
	MaxProperties        *int      `msgpack:"maxProperties,omitempty" json:"maxProperties,omitempty"`

	// Combinations of schemas.
	AnyOf []*Schema `msgpack:"anyOf,omitempty" json:"anyOf,omitempty"`
	AllOf []*Schema `msgpack:"allOf,omitempty" json:"allOf,omitempty"`
	Not   *Schema   `msgpack:"not,omitempty" json:"not,omitempty"`
}

// NamedSchema is one entry of a [SchemaMap].
type NamedSchema struct {
	// Name is the entry's key: a property's wire name, a definition's name.
	Name string
	// Schema is the entry's schema.
	Schema *Schema
}

// SchemaMap is an object of schemas whose order is kept: the properties
// of a struct in declaration order, the "$defs" of a [Document] by name.
// It encodes as a map (a JSON object).
type SchemaMap []NamedSchema

// Get returns the schema under name, or nil.
func (m SchemaMap) Get(name string) *Schema {
	for _, e := range m {
		if e.Name == name {
			return e.Schema
		}
	}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m SchemaMap) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(len(m)); err != nil {
		return err
	}
	for _, e := range m {
		if err := enc.EncodeString(e.Name); err != nil {
			return err
		}
		if err := enc.Encode(e.Schema); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *SchemaMap) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	*m = nil
	for i := 0; i < n; i++ {
		name, err := dec.DecodeString()
		if err != nil {
			return err
		}
		s := new(Schema)
		if err := dec.Decode(s); err != nil {
			return err
		}
		*m = append(*m, NamedSchema{Name: name, Schema: s})
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (m SchemaMap) MarshalJSON() ([]byte, error) {
	return orderedjson.Object(len(m), func(i int) (string, any) { return m[i].Name, m[i].Schema })
}

// UnmarshalJSON implements json.Unmarshaler, keeping the order.
func (m *SchemaMap) UnmarshalJSON(data []byte) error {
	*m = nil
	return decodeJSONObject(data, func(key string, dec *json.Decoder) error {
		s := new(Schema)
		if err := dec.Decode(s); err != nil {
			return fmt.Errorf("introspect: schema %q: %w", key, err)
		}
		*m = append(*m, NamedSchema{Name: key, Schema: s})
		return nil
	})
}
