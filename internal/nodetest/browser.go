package nodetest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Chromium returns Debian's Chromium, or what the environment variable
// CHROMIUM names, failing the test when there is none.
func Chromium(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		tb.Fatalf("%s=1 but there is no Chromium at %s (apt-get install chromium, or set CHROMIUM)", EnvVar, path)
	}
	return path
}

// RunBrowser runs the Node script that drives a page in headless
// Chromium: "node SCRIPT PAGE_URL SCREENSHOT [MORE...]", from a scratch
// directory whose node_modules is the client's, so that playwright-core
// resolves, next to chromium.mjs, the launcher the scripts share. The screenshot goes to test-artifacts/shotName at the
// repository's root, whose path it returns. It fails the test, with the
// script's output, when the script fails or ctx ends first.
func (t *Tools) RunBrowser(ctx context.Context, tb testing.TB, script, pageURL, shotName string, more ...string) string {
	tb.Helper()
	browser := Chromium(tb)
	dir := tb.TempDir()
	t.Link(tb, dir)
	src, err := os.ReadFile(script)
	if err != nil {
		tb.Fatal(err)
	}
	name := filepath.Base(script)
	if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
		tb.Fatal(err)
	}
	// The launcher the scripts share.
	launcher, err := os.ReadFile(filepath.Join(t.Root, "internal", "nodetest", "chromium.mjs"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chromium.mjs"), launcher, 0o644); err != nil {
		tb.Fatal(err)
	}
	artifacts := filepath.Join(t.Root, "test-artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		tb.Fatal(err)
	}
	shot := filepath.Join(artifacts, shotName)
	cmd := exec.CommandContext(ctx, "node", append([]string{name, pageURL, shot}, more...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHROMIUM="+browser)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	tb.Logf("%s:\n%s", name, out)
	if err != nil {
		tb.Fatalf("%s failed (%v); the screenshot is %s", name, err, shot)
	}
	return shot
}

// BundleUpToDate checks that committed, a bundle built by the build.sh of
// the test's directory, is what build.sh makes of today's sources: a
// change to them needs build.sh run and its output committed.
func BundleUpToDate(tb testing.TB, committed string) {
	tb.Helper()
	Require(tb)
	out := filepath.Join(tb.TempDir(), filepath.Base(committed))
	Run(tb, 3*time.Minute, ".", "sh", "build.sh", out)
	got, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		dir, _ := os.Getwd()
		tb.Fatalf("%s is out of date: run %s and commit the result", committed, filepath.Join(filepath.Base(dir), "build.sh"))
	}
}
