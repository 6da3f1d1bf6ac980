package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenFromURLAndFile(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	for _, lang := range []string{"go", "ts"} {
		fromFile := swillCmd(t, nil, "gen", lang, demoDescription)
		require.Equal(t, 0, fromFile.code, fromFile.stderr)
		golden(t, "demo.gen."+lang+".txt", fromFile.stdout)

		// From the live server: the same, but for the source it names.
		fromURL := swillCmd(t, nil, "gen", lang, srv.URL)
		require.Equal(t, 0, fromURL.code, fromURL.stderr)
		assert.Equal(t, fromFile.stdout, strings.Replace(fromURL.stdout, srv.URL, demoDescription, 1))
	}
}

func TestGenUsage(t *testing.T) {
	t.Parallel()
	r := swillCmd(t, nil, "gen", "rust", demoDescription)
	assert.Equal(t, result{stderr: "swill gen: unknown language \"rust\", want ts or go (see \"swill gen ts -h\")\n", code: exitUsage}, r)
	r = swillCmd(t, nil, "gen", "go", "-package", "not-a-name", demoDescription)
	assert.Equal(t, result{stderr: "swill: gogen: \"not-a-name\" is not a valid package name\n", code: exitUsage}, r)
	r = swillCmd(t, nil, "gen")
	assert.Equal(t, exitUsage, r.code)
}

func TestDocs(t *testing.T) {
	t.Parallel()
	r := swillCmd(t, nil, "docs", "-title", "Demo service", demoDescription)
	require.Equal(t, 0, r.code, r.stderr)
	golden(t, "demo.docs.md", r.stdout)

	out := filepath.Join(t.TempDir(), "demo.html")
	r = swillCmd(t, nil, "docs", "-format", "html", "-title", "Demo service", "-o", out, demoDescription)
	assert.Equal(t, result{}, r)
	html, err := os.ReadFile(out)
	require.NoError(t, err)
	golden(t, "demo.docs.html", string(html))

	r = swillCmd(t, nil, "docs", "-format", "pdf", demoDescription)
	assert.Equal(t, exitUsage, r.code)
}

// moduleRoot returns the repository's root, where go.mod is.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	return dir
}

// The generated Go client compiles, passes vet, and calls the demo.
func TestGenGoCompilesAndCallsTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with the go command")
	}
	t.Parallel()
	srv, _ := demo(t)
	// A directory inside the module, so that the program can import the
	// generated package and the module's own packages; testdata keeps it
	// out of ./... patterns.
	dir, err := os.MkdirTemp("testdata", "gogen-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Mkdir(filepath.Join(dir, "demo"), 0o755))

	r := swillCmd(t, nil, "gen", "go", "-o", filepath.Join(dir, "demo", "demo.go"), srv.URL)
	require.Equal(t, result{}, r)
	gen, err := os.ReadFile(filepath.Join(dir, "demo", "demo.go"))
	require.NoError(t, err)
	assert.Contains(t, string(gen), "\npackage demo\n", "the package is named after the directory")

	main, err := os.ReadFile("testdata/gogen/main.go.txt")
	require.NoError(t, err)
	importPath := "github.com/swillorg/swill-go/cmd/swill/" + filepath.ToSlash(dir) + "/demo"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), bytes.Replace(main, []byte("IMPORT"), []byte(importPath), 1), 0o644))

	goCmd(t, "vet", "./"+filepath.ToSlash(dir)+"/...")
	out := goCmd(t, "run", "./"+filepath.ToSlash(dir), srv.URL)
	assert.Equal(t, `add: 42
countdown: [3 2 1] trailer: map[total:3]
sum: 10
echo: hello
echo: 7
fail: 418 I'm a teapot
signup: {ID:u1 Name:Ada}
signup: 422 map[age:[map[description:less than 13]] name:[map[description:length less than 2]]]
metadata: generated
`, out)
}

// goCmd runs the go command in this package's directory and returns its
// standard output, failing the test if it fails.
func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// The Go client "swill gen go" writes for a service with channels
// compiles, and its typed SubscribeChat and PublishChat work against a
// real pubsub hub.
func TestGenGoChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with the go command")
	}
	t.Parallel()
	srv, _ := pubsubServer(t)
	dir, err := os.MkdirTemp("testdata", "gogen-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Mkdir(filepath.Join(dir, "chat"), 0o755))

	r := swillCmd(t, nil, "gen", "go", "-o", filepath.Join(dir, "chat", "chat.go"), srv.URL)
	require.Equal(t, result{}, r)
	main, err := os.ReadFile("testdata/gogen/chat.go.txt")
	require.NoError(t, err)
	importPath := "github.com/swillorg/swill-go/cmd/swill/" + filepath.ToSlash(dir) + "/chat"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), bytes.Replace(main, []byte("IMPORT"), []byte(importPath), 1), 0o644))

	goCmd(t, "vet", "./"+filepath.ToSlash(dir)+"/...")
	out := goCmd(t, "run", "./"+filepath.ToSlash(dir), srv.URL)
	assert.Equal(t, "published: 1\nreceived: chat.go 1 go typed 2026-01-02T03:04:05Z\n", out)
}
