package playground_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/swillorg/swill-go/internal/nodetest"
)

// The page's logic that needs no browser (e2e/units.mjs): examples from
// schemas, the type notation, the JSON conversions. Needs
// SWILL_NODE_TESTS=1 (see package nodetest).
func TestPageLogic(t *testing.T) {
	tools := nodetest.Require(t)
	t.Parallel()
	out := filepath.Join(t.TempDir(), "units.mjs")
	nodetest.Run(t, time.Minute, ".", tools.Bin("esbuild"), "e2e/units.mjs", "--bundle", "--platform=node",
		"--format=esm", "--target=node20", "--log-level=warning", "--outfile="+out)
	assert.Equal(t, "ok\n", nodetest.Run(t, time.Minute, ".", "node", out))
}
