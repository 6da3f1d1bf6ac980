package docgen_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/docgen"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gentest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	golden(t, "rich.md", docgen.Markdown(gentest.Rich(), docgen.Options{Title: "Rich | service"}))
}

func TestHTML(t *testing.T) {
	t.Parallel()
	html, err := docgen.HTML(gentest.Rich(), docgen.Options{Title: "Rich <service>"})
	require.NoError(t, err)
	golden(t, "rich.html", html)
	assert.Contains(t, string(html), "<title>Rich &lt;service&gt;</title>")
}

func TestDefaultTitle(t *testing.T) {
	t.Parallel()
	assert.Contains(t, string(docgen.Markdown(gentest.Rich(), docgen.Options{})), "# API reference\n")
}
