// Package nodetest lets Go tests use the Node tools installed for the
// TypeScript client (clientts/node_modules): tsc, esbuild, playwright-core
// and node itself.
//
// These tests run only when the environment variable SWILL_NODE_TESTS is
// set to 1, after "npm ci" in clientts; the project's test script does
// both. Without it they skip, saying so; with it, missing tools fail them.
package nodetest
