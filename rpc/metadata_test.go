package rpc_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/swillorg/swill-go/rpc"
)

// Millis reads the milliseconds of TimeoutKey and RetryAfterKey in every
// form MsgPack decodes a number into, and clamps what a time.Duration
// cannot hold.
func TestMetadataMillis(t *testing.T) {
	longest := int64(math.MaxInt64 / int64(time.Millisecond))
	cases := []struct {
		v    any
		want int64
		ok   bool
	}{
		{int8(5), 5, true}, {int16(500), 500, true}, {int32(70000), 70000, true}, {int64(1) << 40, 1 << 40, true},
		{100, 100, true}, {uint8(200), 200, true}, {uint16(60000), 60000, true}, {uint32(1) << 31, 1 << 31, true},
		{uint64(math.MaxUint64), longest, true}, {int64(math.MaxInt64), longest, true},
		{int8(-3), 0, true}, {float64(2.9), 2, true}, {float32(-1), 0, true}, {math.Inf(1), longest, true},
		{math.NaN(), 0, false}, {"10", 0, false}, {nil, 0, false},
	}
	for _, c := range cases {
		ms, ok := rpc.Metadata{"k": c.v}.Millis("k")
		assert.Equal(t, c.ok, ok, "%T %v", c.v, c.v)
		assert.Equal(t, c.want, ms, "%T %v", c.v, c.v)
	}
	_, ok := rpc.Metadata{}.Millis("absent")
	assert.False(t, ok)

	d, ok := rpc.RetryAfter(&rpc.Error{Code: rpc.CodeUnavailable, Metadata: rpc.Metadata{rpc.RetryAfterKey: uint8(100)}})
	assert.True(t, ok)
	assert.Equal(t, 100*time.Millisecond, d)
}
