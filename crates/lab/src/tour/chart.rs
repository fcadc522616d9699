//! [`Chart`]: a picture of an experiment's findings, as data. An experiment builds its charts
//! from the numbers it measured (`Context::chart`); they are stored in `results.json` beside
//! the figures, so `clab report` redraws them from the file alone; `render::svg` draws them
//! with `plotters`, `report.md` prints them as tables.

use serde::{Deserialize, Serialize};

/// One chart. Its title states the finding, computed from the same numbers as the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub title: String,
    pub kind: ChartKind,
    /// The axis the values are read on (bars: horizontal; lines: vertical).
    pub value_axis: Axis,
    pub series: Vec<Series>,
}

/// Bars by category, or lines over a numeric axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChartKind {
    /// Horizontal bars, one group per category (a point's `x` is its category's index).
    Bars { categories: Vec<String> },
    /// Lines over `x_axis`.
    Lines { x_axis: Axis },
}

/// An axis: its label says the quantity, `unit` how values print (a figure's unit: `ms`,
/// `req/s`, `ns`, `bytes`, `ratio`, …), `log` a logarithmic scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub label: String,
    pub unit: String,
    pub log: bool,
}

impl Axis {
    pub fn new(label: impl Into<String>, unit: &str) -> Self {
        Self {
            label: label.into(),
            unit: unit.to_owned(),
            log: false,
        }
    }

    pub fn log(mut self) -> Self {
        self.log = true;
        self
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    /// A bar from the axis to `y`, with a whisker over `lo..hi` when given (repeats' range).
    Bar,
    /// A band over `lo..hi` with a tick at `y`: a claimed range (the chapter's figure).
    Span,
    /// A solid line through the points.
    Line,
    /// A dashed line: a reference (the chapter's figure, a computed bound).
    Dashed,
}

/// A named series of points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub mark: Mark,
    pub points: Vec<Point>,
}

/// A value at `x` (bars: the category index), with an optional range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Self {
            x,
            y,
            lo: None,
            hi: None,
        }
    }

    /// A figure's value at `x`, with its repeats' range.
    pub fn figure(x: f64, f: &super::Figure) -> Self {
        Self::new(x, f.value).range(f.range)
    }

    /// With the range `lo..hi` (a figure's repeats, a claimed range). An infinite `hi` (an
    /// open claim, "1,000,000+") is stored as none: JSON has no infinity, and a band with a
    /// low end and no high one runs to the chart's edge.
    pub fn range(mut self, range: Option<(f64, f64)>) -> Self {
        if let Some((lo, hi)) = range {
            self.lo = Some(lo);
            self.hi = Some(hi).filter(|h| h.is_finite());
        }
        self
    }
}

impl Chart {
    /// Horizontal bars over `categories`, values read on `value_axis`.
    pub fn bars(title: impl Into<String>, categories: Vec<String>, value_axis: Axis) -> Self {
        Self {
            title: title.into(),
            kind: ChartKind::Bars { categories },
            value_axis,
            series: Vec::new(),
        }
    }

    /// Lines over `x_axis`, values read on `value_axis`.
    pub fn lines(title: impl Into<String>, x_axis: Axis, value_axis: Axis) -> Self {
        Self {
            title: title.into(),
            kind: ChartKind::Lines { x_axis },
            value_axis,
            series: Vec::new(),
        }
    }

    /// Add a series; non-finite values are left out (a run that did not measure).
    pub fn series(mut self, name: impl Into<String>, mark: Mark, points: Vec<Point>) -> Self {
        let points = points
            .into_iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite())
            .collect();
        self.series.push(Series {
            name: name.into(),
            mark,
            points,
        });
        self
    }

    /// Bars: category `i` is the figure named `names[i]` among `figures`, with its repeats'
    /// range (left out when not measured).
    pub fn bar_figures<S: AsRef<str>>(
        self,
        series: impl Into<String>,
        figures: &[super::Figure],
        names: &[S],
    ) -> Self {
        let points = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                super::Figure::named(figures, n.as_ref()).map(|f| Point::figure(i as f64, f))
            })
            .collect();
        self.series(series, Mark::Bar, points)
    }

    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
    }
}
