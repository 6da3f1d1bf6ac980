package gots_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gentest"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gots"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The TypeScript is type-checked by tsc in cmd/swill's Node tests; here
// its text is compared with the reviewed golden file.
func TestGenerateRich(t *testing.T) {
	t.Parallel()
	src, err := gots.Generate(gentest.Rich(), gots.Options{Source: "gentest.Rich", Import: "./client/index.js"})
	require.NoError(t, err)
	path := filepath.Join("testdata", "rich.ts.txt")
	if *update {
		require.NoError(t, os.WriteFile(path, src, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(src))
}

func TestDefaultImport(t *testing.T) {
	t.Parallel()
	src, err := gots.Generate(gentest.Rich(), gots.Options{})
	require.NoError(t, err)
	assert.Contains(t, string(src), "import * as swill from \"@swillorg/swill-go-client\";\n")
}
