package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/suite"
)

// group is one cluster of bars: a metric, one bar per peer.
type group struct {
	label string
	f     metric
}

type panel struct {
	title  string
	groups []group
	// limit caps the axis; taller bars are cut and labelled.
	limit float64
}

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"}

const (
	chartWidth  = 960
	panelHeight = 330
	marginLeft  = 56
	marginRight = 16
	plotTop     = 44
	plotBottom  = 62 // room for group labels below the axis
)

// SVG draws the ratios of every peer to the raw baseline: calls and items
// per second (higher is better) and costs (lower is better), the mean of
// the runs as a bar and each run as a dot.
func SVG(w io.Writer, res *suite.Results) error {
	var peers []string
	for _, in := range res.Peers {
		if in.Name != Baseline {
			peers = append(peers, in.Name)
		}
	}
	m := res.Meta
	var speed []group
	for _, kind := range m.Payloads {
		for _, s := range m.Shapes {
			speed = append(speed, group{fmt.Sprintf("%d×%d calls/s %s", s.Conns, s.InFlight, kind), rate(s.Scenario(), kind)})
		}
		speed = append(speed, group{"stream items/s " + kind, rate(suite.Stream, kind)})
	}
	var cost []group
	cost = append(cost,
		group{"latency p50 small", latency(payload.Small, p50)},
		group{"latency p99 small", latency(payload.Small, p99)},
	)
	if len(m.Shapes) > 0 {
		s := m.Shapes[0]
		cost = append(cost, group{fmt.Sprintf("CPU per call %d×%d small", s.Conns, s.InFlight), cpuPer1k(s.Scenario(), payload.Small, "total")})
	}
	if n := len(m.IdleSteps); n > 0 {
		cost = append(cost,
			group{fmt.Sprintf("idle RSS/conn at %d", m.IdleSteps[n-1]), idle(-1, "rss")},
			group{fmt.Sprintf("idle heap/conn at %d", m.IdleSteps[n-1]), idle(-1, "heap")},
		)
	}
	panels := []panel{
		{title: "Speed relative to raw coder/websocket (higher is better)", groups: speed, limit: 4},
		{title: "Cost relative to raw coder/websocket (lower is better)", groups: cost, limit: 6},
	}

	legendHeight := 36
	height := legendHeight + len(panels)*panelHeight
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	// Legend.
	x := marginLeft
	for i, p := range peers {
		fmt.Fprintf(&b, `<rect x="%d" y="12" width="12" height="12" fill="%s"/>`, x, palette[i%len(palette)])
		fmt.Fprintf(&b, `<text x="%d" y="22">%s</text>`+"\n", x+16, esc(p))
		x += 24 + 8*len(p)
	}
	fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="end" fill="#555">%s, %d run(s)</text>`+"\n",
		chartWidth-marginRight, esc(m.Date.Format("2006-01-02")), len(res.Runs))
	for i, pn := range panels {
		drawPanel(&b, pn, peers, res.Runs, legendHeight+i*panelHeight)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func drawPanel(b *strings.Builder, pn panel, peers []string, runs []suite.Run, top int) {
	plotH := float64(panelHeight - plotTop - plotBottom)
	plotW := float64(chartWidth - marginLeft - marginRight)
	y0 := float64(top + plotTop)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", marginLeft, top+24, esc(pn.title))

	// values[g][p][run]
	values := make([][][]float64, len(pn.groups))
	top1 := 1.0
	for gi, g := range pn.groups {
		values[gi] = make([][]float64, len(peers))
		for pi, peer := range peers {
			for ri := range runs {
				if v, ok := ratio(g.f, &runs[ri], peer); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					values[gi][pi] = append(values[gi][pi], v)
					top1 = max(top1, v)
				}
			}
		}
	}
	ymax := math.Min(niceCeil(top1*1.1), pn.limit)
	step := niceStep(ymax)
	yOf := func(v float64) float64 { return y0 + plotH - math.Min(v, ymax)/ymax*plotH }

	// Grid and axis labels.
	for v := 0.0; v <= ymax+1e-9; v += step {
		y := yOf(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>`, marginLeft, y, chartWidth-marginRight, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s×</text>`+"\n", marginLeft-6, y+4, trimFloat(v))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#333" stroke-dasharray="6 4"/>`+"\n",
		marginLeft, yOf(1), chartWidth-marginRight, yOf(1))

	gw := plotW / float64(max(len(pn.groups), 1))
	bw := math.Min(28, (gw-16)/float64(max(len(peers), 1)))
	for gi, g := range pn.groups {
		gx := float64(marginLeft) + float64(gi)*gw
		start := gx + (gw-bw*float64(len(peers)))/2
		for pi := range peers {
			vs := values[gi][pi]
			bx := start + float64(pi)*bw
			if len(vs) == 0 {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#999" font-size="9">–</text>`+"\n", bx+bw/2, yOf(0)-3)
				continue
			}
			mean := 0.0
			for _, v := range vs {
				mean += v
			}
			mean /= float64(len(vs))
			color := palette[pi%len(palette)]
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`+"\n",
				bx+1, yOf(mean), bw-2, yOf(0)-yOf(mean), color, esc(peers[pi]+", "+g.label), esc(ratioList(vs)))
			for _, v := range vs {
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#222"/>`, bx+bw/2, yOf(v))
			}
			label := fmt.Sprintf("%.2f", mean)
			if mean > ymax {
				label = "↑" + trimFloat(math.Round(mean*10)/10)
			}
			// Above the bar and above every dot.
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9" fill="#333">%s</text>`+"\n",
				bx+bw/2, yOf(max(mean, slices.Max(vs)))-6, label)
		}
		// Group label, wrapped on two lines.
		l1, l2 := splitLabel(g.label)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, gx+gw/2, y0+plotH+18, esc(l1))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", gx+gw/2, y0+plotH+33, esc(l2))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#333"/>`+"\n", marginLeft, yOf(0), chartWidth-marginRight, yOf(0))
}

func ratioList(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmtRatio(v)
	}
	return strings.Join(s, " · ")
}

// splitLabel cuts a label in two at the space nearest its middle.
func splitLabel(s string) (string, string) {
	best := -1
	for i, r := range s {
		if r == ' ' && (best < 0 || abs(i-len(s)/2) < abs(best-len(s)/2)) {
			best = i
		}
	}
	if best < 0 {
		return s, ""
	}
	return s[:best], s[best+1:]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// niceCeil rounds v up to 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 times a
// power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*p >= v-1e-12 {
			return m * p
		}
	}
	return 10 * p
}

func niceStep(ymax float64) float64 {
	for _, s := range []float64{0.25, 0.5, 1, 2, 5, 10} {
		if ymax/s <= 8 {
			return s
		}
	}
	return ymax / 5
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func esc(s string) string { return html.EscapeString(s) }
