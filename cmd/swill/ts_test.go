package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/gen/gentest"
	"github.com/swillorg/swill-go/internal/gen/gots"
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
