package swilltest_test

import (
	"context"
	"flag"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
	"github.com/swillorg/swill-go/transport/transporttest"
)

func TestMain(m *testing.M) {
	transporttest.ChildMain()
	goleak.VerifyTestMain(m)
}

var idleConns = flag.Int("idle-conns", 5000, "connections opened by BenchmarkIdleServer")

// BenchmarkIdleServer reports what an idle connection costs a whole swill
// server (the demo service) with each transport:
//
//	go test -run '^$' -bench IdleServer -benchtime 1x ./internal/swilltest/ [-idle-conns 19000]
func BenchmarkIdleServer(b *testing.B) {
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
				var accepted atomic.Int64
				srv := swill.NewServer(swill.WithTransport(tc.a), swill.WithHooks(swill.Hooks{
					AfterAccept: func(context.Context, *swill.Conn) error { accepted.Add(1); return nil },
				}))
				if err := demosvc.Register(srv); err != nil {
					b.Fatal(err)
				}
				s = transporttest.MeasureIdleHandler(b, srv, *idleConns, func() int { return int(accepted.Load()) })
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				srv.Shutdown(ctx)
				cancel()
			}
			b.ReportMetric(s.Total(), "B/conn")
			b.ReportMetric(s.HeapBytes, "heap-B/conn")
			b.ReportMetric(s.StackBytes, "stack-B/conn")
			b.ReportMetric(s.Goroutines, "goroutines/conn")
		})
	}
}
