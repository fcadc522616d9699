//! [`Experiment`]: one claim of the chapter, measured and judged; [`Figure`]: one measured
//! number with its unit.

use serde::{Deserialize, Serialize};

use super::{Context, Verdict};

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// What it is ("Creation — OS thread, pinned").
    pub name: String,
    /// The median (or the single value). NaN when not measured: JSON writes it as `null`,
    /// which reads back as NaN, so a results file with a missing figure still re-renders.
    #[serde(deserialize_with = "nan_from_null")]
    pub value: f64,
    /// `ns`, `bytes`, `count`, `ratio`, `ms`, `req/s`, …
    pub unit: String,
    /// Smallest and largest over the repeats, when repeated.
    pub range: Option<(f64, f64)>,
    /// Repeats behind `value` (1 if measured once).
    pub runs: usize,
    /// The chapter's figure for it, in its words, when it gives one.
    pub claimed: Option<String>,
    /// How the measuring code judged this figure against the claimed range, when it did
    /// (`within claim`, `better`, `worse`, `inconclusive`, `confirmed`, `refuted`).
    pub judged: Option<String>,
    /// How it was measured, caveats.
    pub note: String,
}

fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Figure {
    /// A value measured once, with no claim beside it (add them with the setters).
    pub fn new(name: impl Into<String>, value: f64, unit: &str) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.to_owned(),
            range: None,
            runs: 1,
            claimed: None,
            judged: None,
            note: String::new(),
        }
    }

    /// The median of per-repeat `values` (NaNs left out) with their range, through the costs
    /// statistics (`costs::stats::Summary`); NaN with no range when there are none.
    pub fn summary(name: impl Into<String>, values: &[f64], unit: &str) -> Self {
        let f = Self::new(name, f64::NAN, unit);
        match crate::costs::stats::Summary::of(values) {
            Some(s) => Self {
                value: s.median,
                ..f
            }
            .over(Some((s.min, s.max)), s.runs),
            None => f.over(None, 0),
        }
    }

    /// The median of `runs` repeats spread over `range`.
    pub fn over(mut self, range: Option<(f64, f64)>, runs: usize) -> Self {
        self.range = range;
        self.runs = runs;
        self
    }

    pub fn claimed(mut self, claimed: impl Into<String>) -> Self {
        self.claimed = Some(claimed.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The figure named `name` among `figures`.
    pub fn named<'a>(figures: &'a [Figure], name: &str) -> Option<&'a Figure> {
        figures.iter().find(|f| f.name == name)
    }

    /// The value of the figure named `name` among `figures`.
    pub fn find(figures: &[Figure], name: &str) -> Option<f64> {
        Self::named(figures, name).map(|f| f.value)
    }
}

/// What an experiment is about, as the report names it.
#[derive(Debug)]
pub struct Meta {
    /// The claim ID of `CLAIMS.md` ("C07").
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
    /// The claim in one sentence, paraphrased, with the chapter's figure where it gives one.
    pub claim: &'static str,
}

/// One claim: what the chapter says, how it is measured here, and how the numbers decide.
pub trait Experiment: Sync {
    fn meta(&self) -> &Meta;
    fn id(&self) -> &'static str {
        self.meta().id
    }
    fn title(&self) -> &'static str {
        self.meta().title
    }
    fn claim(&self) -> &'static str {
        self.meta().claim
    }
    /// The setup as run (sizes depend on `--quick`).
    fn setup(&self, ctx: &Context) -> String;
    /// Measure.
    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String>;
    /// The verdict, from the figures alone.
    fn judge(&self, figures: &[Figure]) -> Verdict;
}
