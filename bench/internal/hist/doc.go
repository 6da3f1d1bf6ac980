// Package hist is a latency histogram with logarithmic buckets, 1% wide,
// that can be merged: the suite measures latency in several rounds, each in
// its own client process, and takes the percentiles of all of them.
package hist
