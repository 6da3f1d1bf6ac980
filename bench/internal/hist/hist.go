package hist

import (
	"math"
	"sort"
	"time"
)

// growth is the ratio between the bounds of consecutive buckets.
const growth = 1.01

var logGrowth = math.Log(growth)

// Hist counts durations by bucket. The zero value is empty and ready to
// use. It is not safe for concurrent use.
type Hist struct {
	// Counts maps a bucket index to its count. Bucket i holds durations
	// d with growth^i <= d/ns < growth^(i+1); durations under 1ns go to
	// bucket 0.
	Counts map[int]int64 `json:"counts"`
}

func bucket(d time.Duration) int {
	if d <= 1 {
		return 0
	}
	return int(math.Log(float64(d)) / logGrowth)
}

// mid is a representative duration of bucket i: the geometric middle of
// its bounds, so that the error is under 0.5%.
func mid(i int) time.Duration {
	return time.Duration(math.Round(math.Pow(growth, float64(i)+0.5)))
}

// Add counts d.
func (h *Hist) Add(d time.Duration) {
	if h.Counts == nil {
		h.Counts = map[int]int64{}
	}
	h.Counts[bucket(d)]++
}

// Merge adds o's counts to h.
func (h *Hist) Merge(o *Hist) {
	if o == nil {
		return
	}
	for i, n := range o.Counts {
		if h.Counts == nil {
			h.Counts = map[int]int64{}
		}
		h.Counts[i] += n
	}
}

// Count returns the number of durations counted.
func (h *Hist) Count() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile returns the nearest-rank q-quantile (0 < q <= 1), within 0.5%;
// zero when empty.
func (h *Hist) Quantile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	rank = max(1, min(rank, total))
	idx := make([]int, 0, len(h.Counts))
	for i := range h.Counts {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var seen int64
	for _, i := range idx {
		seen += h.Counts[i]
		if seen >= rank {
			return mid(i)
		}
	}
	return mid(idx[len(idx)-1])
}
