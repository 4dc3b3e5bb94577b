package graph

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/netlab/netlab/lab/i18n"
)

// The picture's size and margins, in SVG user units (pixels at 100%):
// wide enough to read on a projector, A4-landscape in proportion.
const (
	svgW, svgH                   = 960, 540
	marginL, marginR             = 90, 30
	marginT, marginB             = 56, 64
	legendRow                    = 18
	fontFamily                   = "DejaVu Sans, Noto Sans CJK SC, sans-serif"
	tickLen                      = 5
	maxTicks                     = 8
	markSize                     = 4
	axisColor, gridColor, inkCol = "#333", "#e4e4e4", "#111"
)

// WriteSVG renders the graph as a standalone SVG document in lang: a
// title, both axes with units and ticks, a legend, each series.
func (g Graph) WriteSVG(w io.Writer, lang i18n.Lang) error {
	bw := bufio.NewWriter(w)
	x0, x1, y0, y1 := g.bounds()
	xs, xt := axisTicks(float64(x0)/float64(time.Millisecond), float64(x1)/float64(time.Millisecond))
	ys, yt := axisTicks(y0, y1)
	pw, ph := float64(svgW-marginL-marginR), float64(svgH-marginT-marginB)
	px := func(t time.Duration) float64 {
		ms := float64(t) / float64(time.Millisecond)
		return marginL + (ms-xs[0])/(xs[1]-xs[0])*pw
	}
	py := func(y float64) float64 { return marginT + ph - (y-ys[0])/(ys[1]-ys[0])*ph }

	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="13">
`, svgW, svgH, svgW, svgH, fontFamily)
	fmt.Fprintf(bw, `<title>%s</title>
<rect width="100%%" height="100%%" fill="#fff"/>
<text x="%d" y="28" font-size="17" fill="%s">%s</text>
`, esc(g.Title.In(lang)), marginL, inkCol, esc(g.Title.In(lang)))
	// Grid, ticks and tick labels.
	for _, v := range xt {
		x := px(time.Duration(v * float64(time.Millisecond)))
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x, marginT, x, marginT+ph, gridColor)
		fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`+"\n", x, marginT+ph+tickLen+14, inkCol, num(v))
	}
	for _, v := range yt {
		y := py(v)
		fmt.Fprintf(bw, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", marginL, y, marginL+pw, y, gridColor)
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>`+"\n", marginL-tickLen-3, y+4, inkCol, num(v))
	}
	fmt.Fprintf(bw, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="%s"/>`+"\n", marginL, marginT, pw, ph, axisColor)
	fmt.Fprintf(bw, `<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`+"\n", marginL+pw/2, svgH-16, inkCol, esc(g.XUnit.In(lang)))
	fmt.Fprintf(bw, `<text transform="translate(22 %.1f) rotate(-90)" text-anchor="middle" fill="%s">%s</text>`+"\n", marginT+ph/2, inkCol, esc(g.YLabel.In(lang)))
	// Series, clipped to the plot.
	fmt.Fprintf(bw, `<clipPath id="plot"><rect x="%d" y="%d" width="%.0f" height="%.0f"/></clipPath>
<g clip-path="url(#plot)">
`, marginL, marginT, pw, ph)
	for _, s := range g.Series {
		writeSeries(bw, s, px, py)
	}
	fmt.Fprintln(bw, `</g>`)
	// Legend, top left inside the plot.
	for i, s := range g.Series {
		y := float64(marginT + 16 + i*legendRow)
		x := float64(marginL + 12)
		switch s.Style {
		case Ticks:
			fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`, x+9, y-6, x+9, y+4, s.Color)
		case Marks:
			cross(bw, x+9, y-1, s.Color)
		default:
			fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`, x, y-1, x+18, y-1, s.Color)
		}
		fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" fill="%s" class="legend">%s (%d)</text>`+"\n", x+26, y+3, inkCol, esc(s.Name.In(lang)), len(s.Points))
	}
	fmt.Fprintln(bw, `</svg>`)
	return bw.Flush()
}

func writeSeries(w io.Writer, s Series, px func(time.Duration) float64, py func(float64) float64) {
	switch s.Style {
	case Ticks:
		fmt.Fprintf(w, `<g stroke="%s" stroke-width="1.5" class="series">`, s.Color)
		for _, p := range s.Points {
			x := px(p.T)
			y1, y2 := py(p.Y), py(p.Y2)
			if y1-y2 < 2 { // a tick stays visible however far the axis reaches
				y2 = y1 - 2
			}
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x, y1, x, y2)
		}
		fmt.Fprintln(w, `</g>`)
	case Marks:
		fmt.Fprintf(w, `<g class="series">`)
		var placed []labelBox
		for _, p := range s.Points {
			cross(w, px(p.T), py(p.Y), s.Color)
			if p.Label != "" {
				// Near the right edge the label goes to the mark's left.
				x, anchor := px(p.T)+6, "start"
				width := labelCharW * float64(utf8.RuneCountInString(p.Label))
				box := labelBox{x0: x, x1: x + width}
				if x > svgW-marginR-90 {
					x, anchor = px(p.T)-6, "end"
					box = labelBox{x0: x - width, x1: x}
				}
				// Marks close together (a state left and entered again
				// within a few ms) stack their labels instead of
				// printing them over each other.
				box.y = py(p.Y) - 6
				for i := 0; i < len(placed); i++ {
					if placed[i].overlaps(box) {
						box.y -= labelLineH
						i = -1
					}
				}
				placed = append(placed, box)
				fmt.Fprintf(w, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="%s" fill="%s">%s</text>`, x, box.y, anchor, s.Color, esc(p.Label))
			}
		}
		fmt.Fprintln(w, `</g>`)
	default:
		var b strings.Builder
		for i, p := range s.Points {
			x, y := px(p.T), py(p.Y)
			if s.Style == Step && i > 0 {
				fmt.Fprintf(&b, "%.1f,%.1f ", x, py(s.Points[i-1].Y))
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		fmt.Fprintf(w, `<polyline class="series" fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", s.Color, strings.TrimSpace(b.String()))
	}
}

// A label's extent: 11-pixel text, about 6.5 pixels a character.
const (
	labelCharW = 6.5
	labelLineH = 12.0
)

type labelBox struct{ x0, x1, y float64 }

func (a labelBox) overlaps(b labelBox) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y-b.y < labelLineH && b.y-a.y < labelLineH
}

func cross(w io.Writer, x, y float64, color string) {
	fmt.Fprintf(w, `<path d="M%.1f %.1fl%d %dM%.1f %.1fl%d %d" stroke="%s" stroke-width="2"/>`,
		x-markSize, y-markSize, 2*markSize, 2*markSize, x-markSize, y+markSize, 2*markSize, -2*markSize, color)
}

// bounds are the time and value ranges of every series (Y from 0).
func (g Graph) bounds() (x0, x1 time.Duration, y0, y1 float64) {
	first := true
	for _, s := range g.Series {
		for _, p := range s.Points {
			if first || p.T < x0 {
				x0 = p.T
			}
			if first || p.T > x1 {
				x1 = p.T
			}
			if !s.Unscaled {
				y1 = max(y1, p.Y, p.Y2)
			}
			first = false
		}
	}
	if x1 <= x0 {
		x1 = x0 + time.Millisecond
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	return x0, x1, y0, y1
}

// axisTicks chooses round tick values covering lo..hi (steps of 1, 2 or 5
// times a power of ten, at most maxTicks of them) and returns the axis
// range they span and the ticks.
func axisTicks(lo, hi float64) (span [2]float64, ticks []float64) {
	raw := (hi - lo) / maxTicks
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	start, end := math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	for v := start; v <= end+step/2; v += step {
		ticks = append(ticks, v)
	}
	return [2]float64{start, end}, ticks
}

// num formats a tick value: "40", "2.5", "150k" for byte counts.
func num(v float64) string {
	switch {
	case math.Abs(v) >= 1e6 && math.Mod(v, 1e5) == 0:
		return fmt.Sprintf("%gM", v/1e6)
	case math.Abs(v) >= 1e4 && math.Mod(v, 100) == 0:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) //nolint:errcheck // a strings.Builder does not fail
	return b.String()
}
