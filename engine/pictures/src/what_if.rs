//! The what-if timeline of one invoice: the actions the engine would take for it from a day
//! on, planned by the simulator (`relance_sim`, the same transition function and contact
//! cadence as `relance plan` and `relance simulate`), and drawn on the ladder's axis (day 0 =
//! the invoice's due date) with a line at the day the plan starts.
//!
//! It runs the simulator on a portfolio of one customer and one invoice; it must not read a
//! store, a file or the wall clock (the day is an argument).

use chrono::{Days, NaiveDate};
use relance_core::domain::{Customer, Event, Invoice, Portfolio};
use relance_core::runtime::Shared;
use relance_sim::simulator::Simulator;
use relance_sim::timeline::Detail;

use crate::Lang;
use crate::diagram::{Diagram, Line, Marker, Row, draw};

/// How far ahead a what-if plans.
pub const HORIZON_DAYS: u64 = 365;

/// One planned action of the invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedAction {
    pub date: NaiveDate,
    /// Days from the invoice's due date.
    pub day: i64,
    pub step: Option<String>,
    /// `email`, `call`, `charge` …
    pub channel: &'static str,
    /// The action as written (`email "reminder-1" to accounting`; a charge with its amount).
    pub text: String,
}

/// The planned actions and their picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatIf {
    pub actions: Vec<DatedAction>,
    pub svg: String,
}

/// What the engine would do for `invoice` of `customer` from `as_of` on, over
/// [`HORIZON_DAYS`], given the invoice's `events` (payments, disputes, promises; only this
/// invoice's and customer's are read). The invoice enters the engine on `as_of`, as an import
/// does: steps already past are caught up under the scenario's `catch up` setting.
pub fn what_if(
    shared: Shared<'_>,
    customer: &Customer,
    invoice: &Invoice,
    events: &[Event],
    as_of: NaiveDate,
    lang: Lang,
) -> WhatIf {
    let portfolio = Portfolio {
        from: Some(as_of),
        customers: vec![customer.clone()],
        invoices: vec![invoice.clone()],
        events: events.to_vec(),
    };
    let until = as_of
        .checked_add_days(Days::new(HORIZON_DAYS))
        .unwrap_or(as_of);
    let set = shared.set;
    let run = Simulator::new(shared, &portfolio).run(as_of, until, &mut |_| {});
    let timeline = relance_sim::cadence::timeline(set, &portfolio.invoices, run, until, false);
    let actions: Vec<DatedAction> = timeline
        .actions()
        .filter(|e| e.invoices.contains(&invoice.id))
        .filter_map(|e| match &e.detail {
            Detail::Action { action, text, .. } => Some(DatedAction {
                date: e.date,
                day: (e.date - invoice.due).num_days(),
                step: e.step.clone(),
                channel: action,
                text: text.clone(),
            }),
            _ => None,
        })
        .collect();
    let rows = actions
        .iter()
        .map(|a| Row {
            day: Some(a.day),
            marker: Marker::Action,
            heading: a.date.to_string(),
            note: a.step.clone().unwrap_or_default(),
            lines: vec![Line {
                tag: Some(a.channel),
                text: a.text.clone(),
                indent: 0,
            }],
            section: false,
        })
        .collect();
    let title = format!(
        "{} {} ({} {})",
        lang.pick("What if: invoice", "Et si : facture"),
        invoice.id,
        lang.pick("due", "échéance"),
        invoice.due
    );
    let summary = match (actions.first(), actions.last()) {
        (Some(first), Some(last)) => format!(
            "{title}: {} {} {} {} {}.",
            actions.len(),
            lang.pick("planned actions from", "actions prévues du"),
            first.date,
            lang.pick("to", "au"),
            last.date,
        ),
        _ => format!(
            "{title}: {} {as_of}.",
            lang.pick("nothing planned from", "rien de prévu à partir du")
        ),
    };
    let svg = draw(&Diagram {
        id: format!("what-if-{}", invoice.id),
        title,
        summary,
        lang,
        rows,
        arrows: vec![],
        today: Some((
            (as_of - invoice.due).num_days(),
            format!("{} {as_of}", lang.pick("from", "à partir du")),
        )),
    });
    WhatIf { actions, svg }
}
