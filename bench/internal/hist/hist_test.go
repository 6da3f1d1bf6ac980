package hist

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestQuantileMatchesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	var a, b Hist
	for i := range 20000 {
		d := time.Duration(20_000 + r.ExpFloat64()*30_000) // 20µs plus a tail
		all = append(all, d)
		if i%2 == 0 {
			a.Add(d)
		} else {
			b.Add(d)
		}
	}
	a.Merge(&b)
	if a.Count() != int64(len(all)) {
		t.Fatalf("merged count %d, want %d", a.Count(), len(all))
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.99, 0.999, 1} {
		exact := all[int(q*float64(len(all))+0.999999)-1]
		got := a.Quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 0.006 || diff < -0.006 {
			t.Errorf("q%.3f = %v, exact %v (%.2f%% off)", q, got, exact, diff*100)
		}
	}
}

func TestEmpty(t *testing.T) {
	var h Hist
	if h.Quantile(0.5) != 0 || h.Count() != 0 {
		t.Error("empty histogram is not empty")
	}
	h.Merge(nil)
	h.Add(0)
	if h.Count() != 1 {
		t.Error("a zero duration was not counted")
	}
}
