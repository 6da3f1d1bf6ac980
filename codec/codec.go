package codec

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// MaxDepth is the deepest nesting of arrays and maps [Unmarshal] accepts,
// and the server and client accept in a frame. The MsgPack decoder
// recurses once per level, so a million nested one-element arrays (a mere
// megabyte) would otherwise make it grow a goroutine stack of hundreds of
// megabytes.
const MaxDepth = 512 // the same as the frame decoder's; see TestMaxDepth

// RawMessage is an already encoded MsgPack value. Encoding it writes its
// bytes unchanged; decoding into it keeps the raw bytes.
type RawMessage = msgpack.RawMessage

// Marshal returns the MsgPack encoding of v as the protocol writes it:
// integers in their smallest form, map keys sorted, struct fields named by
// their msgpack or json tag.
func Marshal(v any) ([]byte, error) { return wire.Marshal(v) }

// Unmarshal decodes the MsgPack value in data into v, which must be a
// non-nil pointer. Struct fields are matched by their msgpack tag, or their
// json tag when there is none. Maps decoded into an interface value are
// map[string]any when every key is a string and map[any]any otherwise;
// integers decoded into an interface value keep the width of their wire
// form (int8, uint16, int64, ...).
//
// An integer that does not fit the Go integer type it is decoded into
// (300 into a uint8, -1 into a uint) is an error, a [*RangeError], on
// every path, where the MsgPack library alone would truncate it.
//
// Decoding into a value that already holds data merges into it where the
// MsgPack library can; where it cannot (a map inside an interface inside
// a slice, for one) Unmarshal returns an error rather than the library's
// panic.
func Unmarshal(data []byte, v any) error {
	err := wire.Unmarshal(data, v)
	if err != nil {
		var re *wire.RangeError
		if errors.As(err, &re) {
			return &RangeError{Path: re.Path, Value: re.Value, Type: re.Type}
		}
	}
	return err
}

// RangeError is the error of [Unmarshal] for an integer that does not fit
// the Go integer type of its place. Fields of v decoded before it keep
// their values; the one that does not fit may hold a truncated value.
type RangeError struct {
	// Path locates the integer in the decoded value, as in
	// `field "items"[2].qty`; it is empty for v itself. A map key that is
	// not a string reads as its MsgPack bytes in hex.
	Path string
	// Value is the integer as sent, in decimal.
	Value string
	// Type is the Go type it does not fit.
	Type reflect.Type
}

// Error implements error: "codec: [path: ]value does not fit in type".
func (e *RangeError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("codec: %s does not fit in %s", e.Value, e.Type)
	}
	return fmt.Sprintf("codec: %s: %s does not fit in %s", e.Path, e.Value, e.Type)
}

// None is the type of a result that carries no value: it encodes as
// MsgPack nil, and decoding into it accepts (and discards) any value.
// Introspection names it None, as the reference does.
type None struct{}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (None) EncodeMsgpack(enc *msgpack.Encoder) error { return enc.EncodeNil() }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (*None) DecodeMsgpack(dec *msgpack.Decoder) error { return dec.Skip() }
