package clientgo_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitBlocked waits until a goroutine of the running test is blocked in
// fn itself (a function as stack traces name it, such as
// "clientgo.(*call).next"): parked on a channel, a select, a lock or a
// condition variable. A test that checks how a waiting call is woken up
// calls it before acting, so that it never checks a call that starts
// late and finds the end already there instead.
func waitBlocked(t *testing.T, fn string) {
	t.Helper()
	test := "clientgo_test." + strings.SplitN(t.Name(), "/", 2)[0]
	require.Eventually(t, func() bool {
		for _, g := range strings.Split(allStacks(), "\n\n") {
			if blockedIn(g, fn+"(") && strings.Contains(g, test) {
				return true
			}
		}
		return false
	}, wait, time.Millisecond, "no goroutine of %s blocked in %s", test, fn)
}

// allStacks returns the stack traces of every goroutine.
func allStacks() string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// blockedIn reports whether the goroutine whose trace is g is parked,
// with frame (a function name and its opening parenthesis) as its
// innermost frame outside the runtime.
func blockedIn(g, frame string) bool {
	header, rest, _ := strings.Cut(g, "\n")
	_, state, _ := strings.Cut(header, "[")
	parked := false
	for _, s := range []string{"chan receive", "chan send", "select", "sync.", "semacquire"} {
		if strings.HasPrefix(state, s) {
			parked = true
		}
	}
	if !parked {
		return false
	}
	for _, line := range strings.Split(rest, "\n") {
		if line == "" || strings.HasPrefix(line, "\t") {
			continue // a file:line, not a function
		}
		if strings.HasPrefix(line, "runtime.") || strings.HasPrefix(line, "sync.") || strings.HasPrefix(line, "internal/") {
			continue
		}
		return strings.Contains(line, frame)
	}
	return false
}
