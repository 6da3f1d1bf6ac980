//go:build linux

package epoll_test

import (
	"flag"
	"testing"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
	"github.com/swillorg/swill-go/transport/transporttest"
)

var idleConns = flag.Int("idle-conns", 5000, "connections opened by BenchmarkIdleConnection")

// TestIdleMemory checks the point of this package: an idle connection
// costs at most 4 KiB of Go heap and stacks, and no goroutine.
func TestIdleMemory(t *testing.T) {
	s := transporttest.MeasureIdle(t, &epoll.Acceptor{}, 2000)
	t.Log(s)
	if s.Total() > 4<<10 {
		t.Errorf("%.0f bytes per idle connection, want at most 4096", s.Total())
	}
	if s.Goroutines > 0.01 {
		t.Errorf("%.2f goroutines per idle connection, want none", s.Goroutines)
	}
}

// BenchmarkIdleConnection reports the memory an idle connection costs
// the server with each transport. Run it once per transport:
//
//	go test -run '^$' -bench IdleConnection -benchtime 1x ./transport/epoll/ [-idle-conns 20000]
func BenchmarkIdleConnection(b *testing.B) {
	for _, tc := range []struct {
		name string
		a    transport.Acceptor
	}{
		{"epoll", &epoll.Acceptor{}},
		{"gobwasws", gobwasws.Transport{}},
		{"websocket", transport.WebSocket{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var s transporttest.IdleStats
			for i := 0; i < b.N; i++ {
				s = transporttest.MeasureIdle(b, tc.a, *idleConns)
			}
			b.ReportMetric(s.Total(), "B/conn")
			b.ReportMetric(s.HeapBytes, "heap-B/conn")
			b.ReportMetric(s.StackBytes, "stack-B/conn")
			b.ReportMetric(s.Goroutines, "goroutines/conn")
		})
	}
}
