// Package procstat reads what a benchmark process costs: its CPU time, its
// resident memory, its Go heap; and raises its open-file limit so that it
// can hold many connections. It is Linux-only, as is the suite.
package procstat
