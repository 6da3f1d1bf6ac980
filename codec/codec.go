package codec

import (
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// MaxDepth is the deepest nesting of arrays and maps [Unmarshal] accepts,
// and the server and client accept in a frame. The MsgPack decoder
// recurses once per level, so a million nested one-element arrays (a mere
// megabyte) would otherwise make it grow a goroutine stack of hundreds of
// megabytes.
const MaxDepth = wire.MaxDepth

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
// Decoding into a value that already holds data merges into it where the
// MsgPack library can; where it cannot (a map inside an interface inside
// a slice, for one) Unmarshal returns an error rather than the library's
// panic.
func Unmarshal(data []byte, v any) error { return wire.Unmarshal(data, v) }

// None is the type of a result that carries no value: it encodes as
// MsgPack nil, and decoding into it accepts (and discards) any value.
// Introspection names it None, as the reference does.
type None struct{}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (None) EncodeMsgpack(enc *msgpack.Encoder) error { return enc.EncodeNil() }

// DecodeMsgpack implements msgpack.CustomDecoder.
func (*None) DecodeMsgpack(dec *msgpack.Decoder) error { return dec.Skip() }
