//! One module per claim ID. [`ALL`] is the tour's order; adding an experiment is one module
//! and one line here.

mod b02;
mod b03;
mod b05;
mod c02;
mod c03;
mod c04;
mod c07;
mod c08;
mod c09;
mod c10;
mod c14;
mod c15;
mod c17;
mod c22;
mod dashboard;
mod from_costs;
mod idle;
mod loadgen;

use super::Experiment;

/// Every experiment of the tour, in the chapter's order.
pub static ALL: &[&dyn Experiment] = &[
    &c02::C02,
    &c03::C03,
    &c04::C04,
    &c07::C07,
    &c08::C08,
    &c09::C09,
    &c10::C10,
    &c14::C14,
    &c15::C15,
    &c17::C17,
    &c22::C22,
    &b02::B02,
    &b03::B03,
    &b05::B05,
];
