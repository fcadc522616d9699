//! A [`Chart`] drawn as inline SVG with `plotters`' SVG backend: horizontal bars by category
//! (whiskers over the repeats' range, the chapter's range as a grey band) or lines over a
//! numeric axis (references dashed). Log axes are drawn as `log10` of the values on a linear
//! axis, labelled with the values themselves: one coordinate type for both scales keeps one
//! drawing path per chart kind.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{point_text, quantity};
use crate::tour::chart::{Axis, Chart, ChartKind, Mark, Series};

const WIDTH: u32 = 760;
const FONT: &str = "sans-serif";
/// Series in order; the chapter's bands are grey.
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];
const REFERENCE: RGBColor = RGBColor(120, 120, 120);

type Err = String;

fn err<E: std::fmt::Debug>(e: E) -> Err {
    format!("{e:?}")
}

/// The chart as an `<svg>` element.
pub fn svg(chart: &Chart) -> Result<String, Err> {
    let mut out = String::new();
    match &chart.kind {
        ChartKind::Bars { categories } => {
            let bars = chart
                .series
                .iter()
                .filter(|s| matches!(s.mark, Mark::Bar | Mark::Span))
                .count()
                .max(1);
            let height = 90 + categories.len() as u32 * (18 + 16 * bars as u32);
            let (root, key) = areas(&mut out, height, chart);
            bars_chart(&root, chart, categories, bars)?;
            legend(&key, chart)?;
            root.present().map_err(err)?;
        }
        ChartKind::Lines { x_axis } => {
            let (root, key) = areas(&mut out, 360, chart);
            lines_chart(&root, chart, x_axis)?;
            legend(&key, chart)?;
            root.present().map_err(err)?;
        }
    }
    Ok(out)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The drawing, `height` for the chart and one legend line per series below it (below, so it
/// never hides data).
fn areas<'a>(out: &'a mut String, height: u32, chart: &Chart) -> (Area<'a>, Area<'a>) {
    let key = LEGEND_LINE * chart.series.len() as u32 + 10;
    let root = SVGBackend::with_string(out, (WIDTH, height + key)).into_drawing_area();
    root.fill(&WHITE).ok();
    root.split_vertically(height)
}

const LEGEND_LINE: u32 = 18;

/// One line per series: its swatch (a bar, a band, a line, a dashed line) and its name.
fn legend(area: &Area<'_>, chart: &Chart) -> Result<(), Err> {
    let text = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (k, s) in chart.series.iter().enumerate() {
        let col = colour(k, s);
        let (x, y) = (60, 4 + (LEGEND_LINE * k as u32 + LEGEND_LINE / 2) as i32);
        match s.mark {
            Mark::Bar => area.draw(&Rectangle::new([(x, y - 5), (x + 22, y + 5)], col.filled())),
            Mark::Span => area.draw(&Rectangle::new(
                [(x, y - 5), (x + 22, y + 5)],
                col.mix(0.4).filled(),
            )),
            Mark::Line => area.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                col.stroke_width(2),
            )),
            Mark::Dashed => area.draw(&DashedPathElement::new(
                vec![(x, y), (x + 22, y)],
                5,
                4,
                col.stroke_width(2),
            )),
        }
        .map_err(err)?;
        area.draw(&Text::new(s.name.clone(), (x + 30, y), text.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// How an axis maps values to drawing coordinates, and back for labels.
struct Scale<'a> {
    axis: &'a Axis,
}

impl Scale<'_> {
    fn to(&self, v: f64) -> f64 {
        if self.axis.log {
            v.max(1e-12).log10()
        } else {
            v
        }
    }

    fn from(&self, t: f64) -> f64 {
        if self.axis.log { 10f64.powf(t) } else { t }
    }

    /// The drawn range covering `values` (log: whole decades; linear: from 0, or below 0 when
    /// a value is, with 8% headroom).
    fn range(&self, values: impl Iterator<Item = f64>) -> (f64, f64) {
        let Some((lo, hi)) = self.span(values) else {
            return (0.0, 1.0);
        };
        if self.axis.log {
            let (a, b) = (self.to(lo).floor(), self.to(hi).ceil());
            (a, if b > a { b } else { a + 1.0 })
        } else {
            let lo = lo.min(0.0);
            let hi = if hi > lo { hi * 1.08 } else { lo + 1.0 };
            (lo, hi)
        }
    }

    /// The smallest and largest of `values` this axis can draw (finite; positive on a log
    /// axis), if any.
    fn span(&self, values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
        values
            .filter(|v| v.is_finite() && (!self.axis.log || *v > 0.0))
            .fold(None, |span, v| match span {
                None => Some((v, v)),
                Some((a, b)) => Some((v.min(a), v.max(b))),
            })
    }

    /// How many labels: one per decade on a log axis.
    fn labels(&self, (lo, hi): (f64, f64)) -> usize {
        if self.axis.log {
            (hi - lo).round() as usize + 1
        } else {
            6
        }
    }

    fn label(&self, t: f64) -> String {
        quantity(self.from(t), &self.axis.unit)
    }

    fn desc(&self) -> String {
        if self.axis.log {
            format!("{} (log scale)", self.axis.label)
        } else {
            self.axis.label.clone()
        }
    }
}

fn values(series: &[Series]) -> impl Iterator<Item = f64> + '_ {
    series
        .iter()
        .flat_map(|s| s.points.iter())
        .flat_map(|p| [Some(p.y), p.lo, p.hi])
        .flatten()
}

fn colour(i: usize, s: &Series) -> RGBColor {
    // Bands are the chapter's ranges: grey. Dashed references keep their own colour, so two
    // of them in one chart stay apart.
    match s.mark {
        Mark::Span => REFERENCE,
        Mark::Bar | Mark::Line | Mark::Dashed => COLOURS[i % COLOURS.len()],
    }
}

fn bars_chart(
    root: &Area<'_>,
    chart: &Chart,
    categories: &[String],
    per_group: usize,
) -> Result<(), Err> {
    let scale = Scale {
        axis: &chart.value_axis,
    };
    let (lo, hi) = scale.range(values(&chart.series));
    // Room right of the longest bar for its value.
    let hi = if chart.value_axis.log {
        hi + 1.0
    } else {
        hi * 1.15
    };
    let n = categories.len().max(1) as f64;
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, (FONT, 17))
        .margin(12)
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(8)
        .build_cartesian_2d(lo..hi, 0.0..n)
        .map_err(err)?;
    c.configure_mesh()
        .disable_y_axis()
        .disable_y_mesh()
        .x_labels(scale.labels((lo, hi)))
        .x_label_formatter(&|t| scale.label(*t))
        .x_desc(scale.desc())
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    // Values outside the drawn range (a zero on a log axis) sit on its edge.
    let at = |v: f64| scale.to(v).clamp(lo, hi);
    // Each category owns one unit of height, top down: its name, then one slot per series.
    let slot = 0.72 / per_group as f64;
    let top = |cat: f64| n - cat;
    let label = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    c.draw_series(
        categories
            .iter()
            .enumerate()
            .map(|(i, name)| Text::new(name.clone(), (lo, top(i as f64) - 0.02), label.clone())),
    )
    .map_err(err)?;
    let value_style =
        TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let inside = value_style.pos(Pos::new(HPos::Right, VPos::Center));
    let drawn: Vec<&Series> = chart
        .series
        .iter()
        .filter(|s| matches!(s.mark, Mark::Bar | Mark::Span))
        .collect();
    for (k, s) in drawn.iter().enumerate() {
        let col = colour(k, s);
        let y0 = |x: f64| top(x) - 0.26 - slot * k as f64;
        let (y_hi, y_lo) = (|x: f64| y0(x) - slot * 0.1, |x: f64| y0(x) - slot * 0.9);
        let _ =
            match s.mark {
                Mark::Span => c
                    .draw_series(s.points.iter().map(|p| {
                        // A range is a band; a single figure a grey bar from the axis.
                        let a = p.lo.map_or(lo, &at);
                        let b = match (p.lo, p.hi) {
                            (_, Some(h)) => at(h),
                            // An open claim ("N or more"): to the edge.
                            (Some(_), None) => hi,
                            (None, None) => at(p.y),
                        };
                        Rectangle::new([(a, y_hi(p.x)), (b, y_lo(p.x))], col.mix(0.4).filled())
                    }))
                    .map_err(err)?,
                _ => c
                    .draw_series(s.points.iter().map(|p| {
                        Rectangle::new([(lo, y_hi(p.x)), (at(p.y), y_lo(p.x))], col.filled())
                    }))
                    .map_err(err)?,
            };
        // Whiskers over the repeats' range of measured bars.
        if s.mark == Mark::Bar {
            c.draw_series(s.points.iter().filter_map(|p| {
                let (a, b) = (p.lo?, p.hi?);
                let y = (y_hi(p.x) + y_lo(p.x)) / 2.0;
                Some(PathElement::new(
                    vec![(at(a), y), (at(b), y)],
                    BLACK.stroke_width(1),
                ))
            }))
            .map_err(err)?;
        }
        c.draw_series(s.points.iter().map(|p| {
            let shown = point_text(s.mark, p, &chart.value_axis.unit);
            let y = (y_hi(p.x) + y_lo(p.x)) / 2.0;
            match (s.mark, p.lo) {
                // A band's words sit inside its right end.
                (Mark::Span, Some(_)) => {
                    let end = p.hi.map_or(hi, &at);
                    Text::new(format!("{shown} "), (end, y), inside.clone())
                }
                _ => Text::new(
                    format!(" {shown}"),
                    (at(p.hi.unwrap_or(p.y).max(p.y)), y),
                    value_style.clone(),
                ),
            }
        }))
        .map_err(err)?;
    }
    Ok(())
}

fn lines_chart(root: &Area<'_>, chart: &Chart, x_axis: &Axis) -> Result<(), Err> {
    let (xs, ys) = (
        Scale { axis: x_axis },
        Scale {
            axis: &chart.value_axis,
        },
    );
    let x_values = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x));
    // A linear x axis starts where the data starts, not at zero.
    let (x0, x1) = match xs.span(x_values.clone()) {
        Some((lo, hi)) if !x_axis.log => (lo, if hi > lo { hi } else { lo + 1.0 }),
        _ => xs.range(x_values),
    };
    let (y0, y1) = ys.range(values(&chart.series));
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, (FONT, 17))
        .margin(12)
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    c.configure_mesh()
        .x_labels(xs.labels((x0, x1)))
        .y_labels(ys.labels((y0, y1)))
        .x_label_formatter(&|t| xs.label(*t))
        .y_label_formatter(&|t| ys.label(*t))
        .x_desc(xs.desc())
        .y_desc(ys.desc())
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    for (k, s) in chart.series.iter().enumerate() {
        let col = colour(k, s);
        let points: Vec<(f64, f64)> = s.points.iter().map(|p| (xs.to(p.x), ys.to(p.y))).collect();
        match s.mark {
            Mark::Dashed | Mark::Span => c
                .draw_series(DashedLineSeries::new(
                    points.clone(),
                    8,
                    5,
                    col.stroke_width(2),
                ))
                .map_err(err)?,
            Mark::Line | Mark::Bar => {
                c.draw_series(points.iter().map(|&p| Circle::new(p, 3, col.filled())))
                    .map_err(err)?;
                c.draw_series(LineSeries::new(points.clone(), col.stroke_width(2)))
                    .map_err(err)?
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tour::chart::Point;

    #[test]
    fn bars_and_lines_draw_their_labels_and_values() {
        let bars = Chart::bars(
            "tasks are cheaper",
            vec!["OS thread".into(), "tokio task".into()],
            Axis::new("time per creation", "ns").log(),
        )
        .series(
            "measured",
            Mark::Bar,
            vec![
                Point::new(0.0, 12_000.0).range(Some((11_000.0, 15_000.0))),
                Point::new(1.0, 300.0),
            ],
        )
        .series(
            "chapter",
            Mark::Span,
            vec![Point::new(0.0, 1000.0).range(Some((1000.0, 1e6)))],
        );
        let s = svg(&bars).unwrap();
        assert!(s.starts_with("<svg"), "{s}");
        for text in [
            "tasks are cheaper",
            "OS thread",
            "tokio task",
            "12.00 µs",
            "log scale",
        ] {
            assert!(s.contains(text), "{text} missing");
        }
        let lines = Chart::lines(
            "more concurrency, more throughput",
            Axis::new("concurrency", "count").log(),
            Axis::new("throughput", "req/s"),
        )
        .series(
            "measured",
            Mark::Line,
            vec![Point::new(1.0, 40.0), Point::new(64.0, 2500.0)],
        )
        .series(
            "bound",
            Mark::Dashed,
            vec![Point::new(1.0, 40.0), Point::new(64.0, 2560.0)],
        );
        let s = svg(&lines).unwrap();
        if let Ok(dir) = std::env::var("CLAB_CHART_DUMP") {
            let _ = std::fs::write(format!("{dir}/lines.svg"), &s);
            let _ = std::fs::write(format!("{dir}/bars.svg"), svg(&bars).unwrap());
        }
        for text in [
            "more concurrency",
            "throughput",
            "bound",
            "<polyline",
            "<circle",
        ] {
            assert!(s.contains(text), "{text} missing");
        }
    }
}
