package wire

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// RawMessage is an already encoded MsgPack value. Encoding it writes its
// bytes unchanged; decoding into it keeps the raw bytes.
type RawMessage = msgpack.RawMessage

type decoder struct {
	r     bytes.Reader
	dec   *msgpack.Decoder
	types typeCache
}

var decoderPool = sync.Pool{New: func() any {
	d := &decoder{}
	d.dec = msgpack.NewDecoder(&d.r)
	configureDecoder(d.dec)
	return d
}}

func configureDecoder(dec *msgpack.Decoder) {
	dec.SetCustomStructTag("json")
	dec.SetMapDecoder(decodeAnyMap)
}

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
func Unmarshal(data []byte, v any) error {
	d := decoderPool.Get().(*decoder)
	if decodePlanned(data, v, d.types.planFor(v)) {
		decoderPool.Put(d)
		return nil
	}
	return d.unmarshal(data, v)
}

// unmarshalLibrary is Unmarshal through the library alone.
func unmarshalLibrary(data []byte, v any) error {
	d := decoderPool.Get().(*decoder)
	d.types.planFor(v)
	return d.unmarshal(data, v)
}

// unmarshal decodes data into v with the library, and puts d back in the
// pool. The data is checked first as frames are (see skip): the library
// allocates what a length claims before reading it, and a few bytes
// claiming four gigabytes would take the process down.
func (d *decoder) unmarshal(data []byte, v any) (err error) {
	if end, err := skip(data, 0); err != nil {
		decoderPool.Put(d)
		return fmt.Errorf("msgpack: %w", err)
	} else if end != len(data) {
		decoderPool.Put(d)
		return errTrailing
	}
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() != reflect.Interface && mayHideMap(data) {
		if err := extMisplaced(data, t.Elem()); err != nil {
			decoderPool.Put(d)
			return err
		}
	}
	defer func() {
		// The decoder is third-party code run on untrusted input: a panic
		// in it must not take the process down. The decoder is dropped,
		// its state unknown.
		if p := recover(); p != nil {
			err = fmt.Errorf("msgpack: cannot decode into %T: %v", v, p)
		}
	}()
	d.r.Reset(data)
	d.dec.Reset(&d.r)
	configureDecoder(d.dec)
	err = d.dec.Decode(v)
	if err == nil && d.r.Len() != 0 {
		err = errTrailing
	}
	d.r.Reset(nil)
	decoderPool.Put(d)
	if err == nil {
		if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer {
			err = checkRanges(data, t.Elem())
		}
	}
	return err
}

func unmarshalMetadata(data []byte, md *map[string]any) error {
	d := decoderPool.Get().(*decoder)
	d.r.Reset(data)
	d.dec.Reset(&d.r)
	configureDecoder(d.dec)
	// DecodeMap would turn nil and bin keys into strings; the generic
	// decoder gives map[string]any only when every key is a str.
	v, err := d.dec.DecodeInterface()
	if err == nil {
		m, ok := v.(map[string]any)
		if !ok {
			err = errNonStringKey
		}
		*md = m
	}
	d.r.Reset(nil)
	decoderPool.Put(d)
	return err
}

type nonStringKeyError struct{}

func (nonStringKeyError) Error() string { return "msgpack: map key is not a string" }

var errNonStringKey error = nonStringKeyError{}

type trailingError struct{}

func (trailingError) Error() string { return "msgpack: trailing bytes after the value" }

var errTrailing error = trailingError{}

// decodeAnyMap decodes a map into map[string]any, or map[any]any when a
// key is not a string (the reference's dict[int, ...] for instance).
func decodeAnyMap(dec *msgpack.Decoder) (any, error) {
	n, err := dec.DecodeMapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	m := make(map[string]any, min(n, 64))
	for i := 0; i < n; i++ {
		k, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		v, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return decodeUntypedRest(dec, m, k, v, n-i-1)
		}
		m[ks] = v
	}
	return m, nil
}

func decodeUntypedRest(dec *msgpack.Decoder, m map[string]any, k, v any, rest int) (any, error) {
	u := make(map[any]any, len(m)+1+min(rest, 64))
	for ks, vs := range m {
		u[ks] = vs
	}
	if !isHashable(k) {
		return nil, errUnhashableKey
	}
	u[k] = v
	for i := 0; i < rest; i++ {
		k, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		v, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		if !isHashable(k) {
			return nil, errUnhashableKey
		}
		u[k] = v
	}
	return u, nil
}

type unhashableKeyError struct{}

func (unhashableKeyError) Error() string { return "msgpack: map key is an array or a map" }

var errUnhashableKey error = unhashableKeyError{}

func isHashable(k any) bool {
	switch k.(type) {
	case []any, map[string]any, map[any]any, []byte:
		return false
	}
	return true
}

// newMsgpackEncoder returns an encoder configured for the protocol,
// writing to w.
func newMsgpackEncoder(w *Buffer) *msgpack.Encoder {
	enc := msgpack.NewEncoder(w)
	configureEncoder(enc)
	return enc
}

func configureEncoder(enc *msgpack.Encoder) {
	enc.UseCompactInts(true)
	enc.SetSortMapKeys(true)
	enc.SetCustomStructTag("json")
}

// Marshal returns the MsgPack encoding of v as the protocol writes it:
// integers in their smallest form, map keys sorted, struct fields named by
// their msgpack or json tag.
func Marshal(v any) ([]byte, error) {
	var b Buffer
	enc := newMsgpackEncoder(&b)
	sortMapsOf(v)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.B, nil
}
