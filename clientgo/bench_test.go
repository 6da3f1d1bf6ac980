package clientgo_test

import (
	"context"
	"testing"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/swilltest"
)

// BenchmarkUnary measures one unary round trip ("add") over a loopback
// WebSocket, client and server in this process, one call at a time.
func BenchmarkUnary(b *testing.B) {
	srv := swilltest.StartDemo(b)
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{i, 1})
		if err != nil {
			b.Fatal(err)
		}
		if sum != i+1 {
			b.Fatalf("add(%d, 1) = %d", i, sum)
		}
	}
}

// BenchmarkUnaryParallel measures unary round trips made concurrently
// from GOMAXPROCS×8 goroutines sharing one connection, and how many
// frames the client writes per flush (one system call each).
func BenchmarkUnaryParallel(b *testing.B) {
	srv := swilltest.StartDemo(b)
	ctx := context.Background()
	w := &writeWatch{countOnly: true}
	c, err := clientgo.Dial(ctx, srv.URL, clientgo.WithDialer(watchedDialer{w}))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	defer func() {
		if n := w.flushes.Load(); n > 0 {
			b.ReportMetric(float64(w.frames.Load())/float64(n), "frames/flush")
		}
	}()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkServerStream measures the client's side of a server stream:
// the cost per item of countdown(1000).
func BenchmarkServerStream(b *testing.B) {
	srv := swilltest.StartDemo(b)
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 1000 {
		s, err := clientgo.CallServerStream[int, int](ctx, c, "countdown", 1000)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range s.All() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
