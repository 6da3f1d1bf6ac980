package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gentest"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gots"
	"github.com/swillorg/swill-go/internal/nodetest"
)

// The generated TypeScript client type-checks with the TypeScript
// client's strict settings and calls the demo. Needs SWILL_NODE_TESTS=1
// (see package nodetest).
func TestGenTSCompilesAndCallsTheDemo(t *testing.T) {
	tools := nodetest.Require(t)
	t.Parallel()
	srv, _ := demo(t)
	dir := t.TempDir()
	tools.Link(t, dir)
	require.NoError(t, os.Symlink(filepath.Join(tools.Root, "clientts", "src"), filepath.Join(dir, "client")))

	r := swillCmd(t, nil, "gen", "ts", "-import", "./client/index.js", "-o", filepath.Join(dir, "demo.ts"), srv.URL)
	require.Equal(t, result{}, r)
	rich, err := gots.Generate(gentest.Rich(), gots.Options{Import: "./client/index.js"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rich.ts"), rich, 0o644))
	driver, err := os.ReadFile("testdata/ts/driver.ts")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "driver.ts"), driver, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type": "module", "private": true}`+"\n"), 0o644))
	tsconfig := `{
  "extends": "` + filepath.ToSlash(filepath.Join(tools.Root, "clientts", "tsconfig.base.json")) + `",
  "compilerOptions": { "noEmit": true, "types": ["node"] },
  "files": ["demo.ts", "rich.ts", "driver.ts"]
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(tsconfig), 0o644))

	nodetest.Run(t, 2*time.Minute, dir, tools.Bin("tsc"), "-p", "tsconfig.json")
	nodetest.Run(t, time.Minute, dir, tools.Bin("esbuild"), "driver.ts", "--bundle", "--platform=node", "--format=esm",
		"--target=node20", "--packages=external", "--outfile=driver.mjs", "--log-level=warning")
	out := nodetest.Run(t, time.Minute, dir, "node", "driver.mjs", srv.URL)
	assert.Equal(t, `add: 42
countdown: [3,2,1] {"total":3}
sum: 10
echo: ["hello",7,{"a":[1.5,null]}]
fail: 418 I'm a teapot
signup: u1 Ada
metadata: generated
`, out)
}

// The install steps of clientts/README.md, as a user with a clone takes
// them: "npm pack" in clientts, the tarball installed into a scratch
// project of its own (no link to the repository's node_modules), the
// package imported by name from plain Node, and the code "swill gen ts"
// writes, with its default import, type-checked by a plain "tsc --strict"
// and by the tsconfig.json "tsc --init" writes. Needs SWILL_NODE_TESTS=1
// and the npm registry (or npm's cache, after "npm ci" in clientts).
func TestGenTSPackedClient(t *testing.T) {
	tools := nodetest.Require(t)
	srv, _ := demo(t)
	packDir, dir := t.TempDir(), t.TempDir()
	out := nodetest.Run(t, 3*time.Minute, filepath.Join(tools.Root, "clientts"), "npm", "pack", "--silent", "--pack-destination", packDir)
	tarball := filepath.Join(packDir, strings.TrimSpace(lastLine(out)))
	require.FileExists(t, tarball)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type": "module", "private": true}`+"\n"), 0o644))
	nodetest.Run(t, 3*time.Minute, dir, "npm", "install", "--no-audit", "--no-fund", "--prefer-offline", tarball, "ws@8.18.3")

	script := `
import { connect, SwillError } from "@swillorg/swill-go-client";
import { WebSocket } from "ws";
const client = await connect(process.argv[2], { WebSocket });
const sum = await client.call("add", [20, 22]);
const items = [];
for await (const n of client.serverStream("countdown", 2)) items.push(n);
client.close();
console.log(sum, items.join(","), typeof SwillError);
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.mjs"), []byte(script), 0o644))
	assert.Equal(t, "42 2,1 function\n", nodetest.Run(t, time.Minute, dir, "node", "main.mjs", srv.URL))

	r := swillCmd(t, nil, "gen", "ts", "-o", filepath.Join(dir, "demo.ts"), srv.URL)
	require.Equal(t, result{}, r)
	tsc := filepath.Join(tools.NodeModules, "typescript", "bin", "tsc")
	nodetest.Run(t, 2*time.Minute, dir, "node", tsc, "--strict", "--target", "ES2022", "--module", "NodeNext", "--noEmit", "demo.ts")
	nodetest.Run(t, time.Minute, dir, "node", tsc, "--init")
	nodetest.Run(t, 2*time.Minute, dir, "node", tsc, "-p", ".", "--noEmit")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// The TypeScript "swill gen ts" writes for a service with channels
// type-checks under the client's strict settings, and its typed subscribe
// and publish functions work against a real pubsub hub: the publication
// comes back through the subscription with its types (a Date for the
// time). Needs SWILL_NODE_TESTS=1 (see package nodetest).
func TestGenTSChannels(t *testing.T) {
	tools := nodetest.Require(t)
	t.Parallel()
	srv, _ := pubsubServer(t)
	dir := t.TempDir()
	tools.Link(t, dir)
	require.NoError(t, os.Symlink(filepath.Join(tools.Root, "clientts", "src"), filepath.Join(dir, "client")))

	r := swillCmd(t, nil, "gen", "ts", "-import", "./client/index.js", "-o", filepath.Join(dir, "chat.ts"), srv.URL)
	require.Equal(t, result{}, r)
	driver, err := os.ReadFile("testdata/ts/chat_driver.ts")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "chat_driver.ts"), driver, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type": "module", "private": true}`+"\n"), 0o644))
	tsconfig := `{
  "extends": "` + filepath.ToSlash(filepath.Join(tools.Root, "clientts", "tsconfig.base.json")) + `",
  "compilerOptions": { "noEmit": true, "types": ["node"] },
  "files": ["chat.ts", "chat_driver.ts"]
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(tsconfig), 0o644))
	nodetest.Run(t, 2*time.Minute, dir, tools.Bin("tsc"), "-p", "tsconfig.json")
	nodetest.Run(t, time.Minute, dir, tools.Bin("esbuild"), "chat_driver.ts", "--bundle", "--platform=node", "--format=esm",
		"--target=node20", "--packages=external", "--outfile=chat_driver.mjs", "--log-level=warning")
	out := nodetest.Run(t, time.Minute, dir, "node", "chat_driver.mjs", srv.URL)
	assert.Equal(t, "published: 1\nreceived: chat.ts 1 ts typed 2026-01-02T03:04:05.000Z\n", out)
}
