package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/iorca/iorca/report/content"
)

// Chart geometry (SVG user units).
const (
	chartW, chartH         = 760, 280
	marginL, marginR       = 64, 16
	marginT, marginB       = 16, 44
	plotW                  = chartW - marginL - marginR
	plotH                  = chartH - marginT - marginB
	legendRowH             = 18
	legendGap              = 10
	maxCategoryLabelLength = 14
)

// palette is Okabe and Ito's, readable by the colour-blind, darkest first.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}

// niceStep is a round step (1, 2 or 5 times a power of ten) that divides
// span into about n ticks.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// axisNumber formats a tick value without noise.
func axisNumber(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return trimZero(fmt.Sprintf("%.1fG", v/1e9))
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1fM", v/1e6))
	case a >= 1e4:
		return trimZero(fmt.Sprintf("%.1fk", v/1e3))
	case a >= 10 || a == 0:
		return fmt.Sprintf("%.0f", v)
	}
	return trimZero(fmt.Sprintf("%.2f", v))
}

func trimZero(s string) string {
	if i := strings.IndexAny(s, "kMG"); i > 0 && strings.Contains(s[:i], ".") {
		return strings.TrimRight(strings.TrimRight(s[:i], "0"), ".") + s[i:]
	}
	if strings.Contains(s, ".") {
		return strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// SVG draws a chart as an inline SVG element: axes with ticks and units,
// a legend, thresholds dashed, marks as labelled vertical lines, and the
// chart's title and text alternative as <title> and <desc> (and
// aria-label), so that a screen reader, and a reader of the page's text,
// gets what it shows.
func SVG(c content.Chart) string {
	var b strings.Builder
	legendRows := (len(c.Series) + 3) / 4
	h := chartH + legendGap + legendRows*legendRowH
	fmt.Fprintf(&b, `<svg class="chart" id="%s" role="img" viewBox="0 0 %d %d" width="%d" height="%d" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		xmlEsc(c.ID), chartW, h, chartW, h, xmlEsc(c.Title+". "+c.Alt))
	fmt.Fprintf(&b, "<title>%s</title><desc>%s</desc>", xmlEsc(c.Title), xmlEsc(c.Alt))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`, chartW, h)

	// The y range.
	ymax := c.YMax
	if ymax <= 0 {
		for i := range xCount(c) {
			sum := 0.0
			for _, s := range c.Series {
				if i < len(s.Values) {
					if c.Kind == content.ChartStacked {
						sum += s.Values[i]
					} else {
						ymax = max(ymax, s.Values[i])
					}
				}
			}
			ymax = max(ymax, sum)
		}
		for _, t := range c.Thresholds {
			ymax = max(ymax, t.Value*1.1)
		}
		if ymax <= 0 {
			ymax = 1
		}
		step := niceStep(ymax, 5)
		ymax = math.Ceil(ymax/step) * step
	}
	yAt := func(v float64) float64 { return marginT + plotH - math.Min(v, ymax)/ymax*plotH }

	// The x range.
	xmin, xmax := 0.0, 1.0
	if c.Kind != content.ChartBars && len(c.X) > 0 {
		xmin, xmax = c.X[0], c.X[len(c.X)-1]
		if xmax <= xmin {
			xmax = xmin + 1
		}
	}
	xAt := func(v float64) float64 { return marginL + (v-xmin)/(xmax-xmin)*plotW }

	// Grid and y ticks.
	step := niceStep(ymax, 5)
	for v := 0.0; v <= ymax+step/1e6; v += step {
		y := yAt(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e7eb"/>`, marginL, y, marginL+plotW, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#374151">%s</text>`, marginL-6, y+4, axisNumber(v))
	}
	// Axes.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#374151"/>`, marginL, marginT, marginL, marginT+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#374151"/>`, marginL, marginT+plotH, marginL+plotW, marginT+plotH)
	fmt.Fprintf(&b, `<text x="14" y="%d" font-size="12" fill="#111827" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>`, marginT+plotH/2, marginT+plotH/2, xmlEsc(c.YLabel))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#111827" text-anchor="middle">%s</text>`, marginL+plotW/2, marginT+plotH+36, xmlEsc(c.XLabel))

	switch c.Kind {
	case content.ChartBars:
		drawBars(&b, c, yAt)
	default:
		xs := niceStep(xmax-xmin, 8)
		for v := math.Ceil(xmin/xs) * xs; v <= xmax+xs/1e6; v += xs {
			x := xAt(v)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#374151"/>`, x, marginT+plotH, x, marginT+plotH+4)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#374151">%s</text>`, x, marginT+plotH+16, axisNumber(v))
		}
		drawTime(&b, c, xAt, yAt)
	}

	for _, t := range c.Thresholds {
		y := yAt(t.Value)
		fmt.Fprintf(&b, `<line class="threshold" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#b91c1c" stroke-dasharray="6 4"/>`, marginL, y, marginL+plotW, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#b91c1c">%s</text>`, marginL+plotW-4, y-4, xmlEsc(t.Label))
	}
	for i, mk := range c.Marks {
		if c.Kind == content.ChartBars || mk.X < xmin || mk.X > xmax {
			continue
		}
		x := xAt(mk.X)
		fmt.Fprintf(&b, `<line class="mark" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#111827" stroke-dasharray="2 3"/>`, x, marginT, x, marginT+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" fill="#111827">%s</text>`, x+3, marginT+12+i*13, xmlEsc(mk.Label))
	}

	// Legend, four to a row.
	for i, s := range c.Series {
		x := marginL + (i%4)*((plotW)/4)
		y := chartH + legendGap + (i/4)*legendRowH
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`, x, y-10, palette[i%len(palette)])
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#111827"><title>%s</title>%s</text>`, x+16, y, xmlEsc(s.Name), xmlEsc(shorten(s.Name, 20)))
	}
	b.WriteString("</svg>")
	return b.String()
}

func xCount(c content.Chart) int {
	if c.Kind == content.ChartBars {
		return len(c.Categories)
	}
	return len(c.X)
}

// drawTime draws series over time: polylines, or stacked areas.
func drawTime(b *strings.Builder, c content.Chart, xAt, yAt func(float64) float64) {
	base := make([]float64, len(c.X))
	for si, s := range c.Series {
		color := palette[si%len(palette)]
		var pts []string
		for i, x := range c.X {
			if i >= len(s.Values) {
				break
			}
			v := s.Values[i]
			if c.Kind == content.ChartStacked {
				v += base[i]
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xAt(x), yAt(v)))
		}
		if len(pts) == 0 {
			continue
		}
		if c.Kind == content.ChartStacked {
			// The area between this series' top and the one below.
			var lower []string
			for i := len(pts) - 1; i >= 0; i-- {
				lower = append(lower, fmt.Sprintf("%.1f,%.1f", xAt(c.X[i]), yAt(base[i])))
			}
			fmt.Fprintf(b, `<path class="series" d="M%s L%s Z" fill="%s" fill-opacity="0.75" stroke="%s"><title>%s</title></path>`,
				pts[0], strings.Join(append(pts[1:], lower...), " L"), color, color, xmlEsc(s.Name))
			for i := range base {
				if i < len(s.Values) {
					base[i] += s.Values[i]
				}
			}
			continue
		}
		fmt.Fprintf(b, `<path class="series" d="M%s" fill="none" stroke="%s" stroke-width="2"><title>%s</title></path>`,
			strings.Join(pts, " L"), color, xmlEsc(s.Name))
	}
}

// drawBars draws one group of bars per category, a bar per series.
func drawBars(b *strings.Builder, c content.Chart, yAt func(float64) float64) {
	n := len(c.Categories)
	if n == 0 {
		return
	}
	group := float64(plotW) / float64(n)
	bw := group * 0.8 / float64(max(1, len(c.Series)))
	for i, cat := range c.Categories {
		gx := marginL + group*float64(i) + group*0.1
		for si, s := range c.Series {
			if i >= len(s.Values) {
				continue
			}
			y := yAt(s.Values[i])
			fmt.Fprintf(b, `<path class="series" d="M%.1f,%d L%.1f,%.1f L%.1f,%.1f L%.1f,%d Z" fill="%s"><title>%s %s: %s</title></path>`,
				gx+bw*float64(si), marginT+plotH, gx+bw*float64(si), y, gx+bw*float64(si+1), y, gx+bw*float64(si+1), marginT+plotH,
				palette[si%len(palette)], xmlEsc(s.Name), xmlEsc(cat), axisNumber(s.Values[i]))
		}
		if n <= 16 || i%((n+15)/16) == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#374151">%s</text>`, gx+group*0.4, marginT+plotH+14, xmlEsc(shorten(cat, maxCategoryLabelLength)))
		}
	}
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// xmlEsc escapes text and attribute values of the SVG.
func xmlEsc(s string) string { return html.EscapeString(s) }
