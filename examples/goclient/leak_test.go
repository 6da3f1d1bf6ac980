package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine of the client or of the test
// server outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
