package orderedjson

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObjectKeepsOrder(t *testing.T) {
	members := []struct {
		name  string
		value any
	}{{"z", 1}, {"a", []string{"x"}}, {"\"q\"", nil}, {"m", map[string]int{"b": 2, "a": 1}}}
	b, err := Object(len(members), func(i int) (string, any) { return members[i].name, members[i].value })
	require.NoError(t, err)
	assert.Equal(t, `{"z":1,"a":["x"],"\"q\"":null,"m":{"a":1,"b":2}}`, string(b))

	b, err = Object(0, nil)
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(b))

	_, err = Object(1, func(int) (string, any) { return "nan", math.NaN() })
	assert.Error(t, err, "a value JSON cannot carry")
}
