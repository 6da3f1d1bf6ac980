package codec_test

import (
	"encoding/hex"
	"strings"
)

// h decodes hex written with optional spaces.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// hexOf encodes b as hex without spaces.
func hexOf(b []byte) string { return hex.EncodeToString(b) }
