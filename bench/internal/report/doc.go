// Package report turns the suite's results into Markdown tables, with
// ratios against the raw baseline, a verdict on each target of the
// project, and a bar chart drawn as SVG without any external tool.
package report
