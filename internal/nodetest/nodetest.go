package nodetest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// EnvVar turns the tests that need Node on.
const EnvVar = "SWILL_NODE_TESTS"

// Tools are the Node tools of the repository.
type Tools struct {
	// Root is the repository's root directory.
	Root string
	// NodeModules is clientts/node_modules.
	NodeModules string
}

// Require returns the tools, skipping the test unless SWILL_NODE_TESTS=1
// and failing it if they are missing then.
func Require(tb testing.TB) *Tools {
	tb.Helper()
	if os.Getenv(EnvVar) != "1" {
		tb.Skipf("needs Node and clientts/node_modules: run \"npm ci\" in clientts, then set %s=1", EnvVar)
	}
	root := repoRoot(tb)
	nm := filepath.Join(root, "clientts", "node_modules")
	for _, tool := range []string{"tsc", "esbuild"} {
		if _, err := os.Stat(filepath.Join(nm, ".bin", tool)); err != nil {
			tb.Fatalf("%s=1 but %s is missing: run \"npm ci\" in clientts", EnvVar, tool)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		tb.Fatalf("%s=1 but there is no node on the PATH", EnvVar)
	}
	return &Tools{Root: root, NodeModules: nm}
}

func repoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("nodetest: cannot locate the repository")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Bin returns the path of a tool in node_modules/.bin.
func (t *Tools) Bin(name string) string {
	return filepath.Join(t.NodeModules, ".bin", name)
}

// Link makes dir/node_modules point to the client's node_modules, so
// that tools and programs run from dir resolve its packages.
func (t *Tools) Link(tb testing.TB, dir string) {
	tb.Helper()
	if err := os.Symlink(t.NodeModules, filepath.Join(dir, "node_modules")); err != nil {
		tb.Fatal(err)
	}
}

// Run runs name with args in dir, bounded by timeout, and returns its
// standard output; it fails the test, with both outputs, if the command
// fails.
func Run(tb testing.TB, timeout time.Duration, dir, name string, args ...string) string {
	tb.Helper()
	out, errOut, err := RunErr(timeout, dir, name, args...)
	if err != nil {
		tb.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// RunErr runs name with args in dir, bounded by timeout, and returns its
// outputs and error.
func RunErr(timeout time.Duration, dir, name string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	return o.String(), e.String(), err
}
