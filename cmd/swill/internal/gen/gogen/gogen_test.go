package gogen_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gentest"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gogen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestGenerateRich(t *testing.T) {
	src, err := gogen.Generate(gentest.Rich(), gogen.Options{Package: "rich", Source: "gentest.Rich"})
	require.NoError(t, err)
	path := filepath.Join("testdata", "rich.go.txt")
	if *update {
		require.NoError(t, os.WriteFile(path, src, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(src))

	// The code compiles and passes vet: written as a package inside the
	// module (testdata keeps it out of ./... patterns).
	if testing.Short() {
		return
	}
	dir, err := os.MkdirTemp("testdata", "rich-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rich.go"), src, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "vet", "./"+filepath.ToSlash(dir))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), out.String())
}

func TestGenerateBadPackage(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{"a-b", "func", "1x"} {
		_, err := gogen.Generate(gentest.Rich(), gogen.Options{Package: pkg})
		assert.Error(t, err, pkg)
	}
	src, err := gogen.Generate(gentest.Rich(), gogen.Options{})
	require.NoError(t, err)
	assert.Contains(t, string(src), "\npackage api\n")
}
