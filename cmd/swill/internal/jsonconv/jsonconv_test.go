package jsonconv_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/cmd/swill/internal/jsonconv"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
)

func TestDecodeNumbers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want any
	}{
		{`0`, int64(0)},
		{`-42`, int64(-42)},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`18446744073709551615`, uint64(math.MaxUint64)},
		{`18446744073709551616`, float64(18446744073709551616)},
		{`1.5`, 1.5},
		{`1e3`, 1000.0},
		{`[1, 2.5, "x", true, null]`, []any{int64(1), 2.5, "x", true, nil}},
		{`{"a": {"b": 7}}`, map[string]any{"a": map[string]any{"b": int64(7)}}},
	}
	for _, c := range cases {
		got, err := jsonconv.Decode([]byte(c.in), nil, nil)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestDecodeEncodesIntegersAsMsgpackInts(t *testing.T) {
	t.Parallel()
	v, err := jsonconv.Decode([]byte(`[1, -1, 300, 1.5]`), nil, nil)
	require.NoError(t, err)
	b, err := codec.Marshal(v)
	require.NoError(t, err)
	// fixarray(4), fixint 1, negative fixint -1, uint16 300, float64 1.5
	assert.Equal(t, []byte{0x94, 0x01, 0xff, 0xcd, 0x01, 0x2c, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, b)
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `1 2`, `[1,]`, `nope`} {
		_, err := jsonconv.Decode([]byte(in), nil, nil)
		assert.Error(t, err, in)
	}
}

func TestDecodeWithSchema(t *testing.T) {
	t.Parallel()
	n := 2
	defs := introspect.SchemaMap{{Name: "Blob", Schema: &introspect.Schema{
		Type: "object",
		Properties: introspect.SchemaMap{
			{Name: "data", Schema: &introspect.Schema{Type: "string", ContentEncoding: "base64", XMsgpack: "bin"}},
			{Name: "at", Schema: &introspect.Schema{AnyOf: []*introspect.Schema{{Type: "string", Format: "date-time", XMsgpack: "timestamp"}, {Type: "null"}}}},
			{Name: "count", Schema: &introspect.Schema{Type: "integer"}},
			{Name: "byID", Schema: &introspect.Schema{Type: "object", AdditionalProperties: &introspect.Schema{Type: "string"}, XMsgpackKey: &introspect.Schema{Type: "integer"}}},
		},
	}}}
	s := &introspect.Schema{Type: "array", PrefixItems: []*introspect.Schema{{Ref: "#/$defs/Blob"}, {Type: "string"}}, MinItems: &n, MaxItems: &n}
	got, err := jsonconv.Decode([]byte(`[{"data": "aGk=", "at": "2024-01-02T03:04:05Z", "count": 2e1, "byID": {"7": "seven"}}, "aGk="]`), s, defs)
	require.NoError(t, err)
	want := []any{
		map[string]any{
			"data":  []byte("hi"),
			"at":    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			"count": int64(20),
			"byID":  map[any]any{int64(7): "seven"},
		},
		"aGk=",
	}
	assert.Equal(t, want, got)

	got, err = jsonconv.Decode([]byte(`[{"at": null}, ""]`), s, defs)
	require.NoError(t, err)
	assert.Equal(t, []any{map[string]any{"at": nil}, ""}, got)

	_, err = jsonconv.Decode([]byte(`[{"data": "not base64!"}, ""]`), s, defs)
	assert.ErrorContains(t, err, "$[0].data: bytes must be written in base64")
	_, err = jsonconv.Decode([]byte(`[{"at": "yesterday"}, ""]`), s, defs)
	assert.ErrorContains(t, err, "$[0].at: a time must be written in RFC 3339")
	_, err = jsonconv.Decode([]byte(`[{"byID": {"x": "y"}}, ""]`), s, defs)
	assert.ErrorContains(t, err, `$[0].byID: key "x" is not an integer`)
}

func TestToJSON(t *testing.T) {
	t.Parallel()
	// Values as the MsgPack decoder gives them, round-tripped through the
	// codec so that the test sees real decoded types.
	in := map[string]any{
		"bin":   []byte{0, 1, 2, 250},
		"time":  time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC),
		"ints":  map[int]string{1: "one", -2: "minus two"},
		"mixed": map[any]any{true: 1, nil: 2, 1.5: 3},
		"nan":   math.NaN(),
		"inf":   []float64{math.Inf(1), math.Inf(-1)},
		"small": int8(-3),
		"big":   uint64(math.MaxUint64),
		"html":  "<a & b>",
	}
	b, err := codec.Marshal(in)
	require.NoError(t, err)
	var decoded any
	require.NoError(t, codec.Unmarshal(b, &decoded))
	out, err := jsonconv.Marshal(decoded, false)
	require.NoError(t, err)
	assert.Equal(t, `{"big":18446744073709551615,"bin":"AAEC+g==","html":"<a & b>","inf":["Infinity","-Infinity"],"ints":{"-2":"minus two","1":"one"},"mixed":{"1.5":3,"null":2,"true":1},"nan":"NaN","small":-3,"time":"2024-01-02T03:04:05.0000006Z"}`, string(out))

	out, err = jsonconv.Marshal(map[string]any{"a": []any{1}}, true)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"a\": [\n    1\n  ]\n}", string(out))
}
