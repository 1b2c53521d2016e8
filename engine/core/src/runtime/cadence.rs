//! The contact cadence (`cadence DURATION` in a scenario): at most one message per customer,
//! channel and day, and a minimum gap between two days on which a customer gets messages.
//!
//! It owns the decision, for one day, of what each of a customer's messages becomes: sent as
//! decided, merged into the day's message of its channel (which takes the template and
//! recipients of the most severe one), or deferred to the day the gap ends, where it is merged
//! with whatever is due then. A waiting message is never dropped, unless its invoice's case
//! closed (paid, credited …) or was frozen by a collective procedure before it went out. The rules:
//!
//! - **Subject**: messages (`email`, `sms`, `letter`, registered or not) decided by a *step*
//!   of a scenario with a cadence. Handler messages (`on payment` …), calls, tasks, alerts,
//!   webhooks, charges and every action of a scenario without cadence pass through untouched
//!   and are no contact.
//! - **Severity** within a channel: the step's rank from the start of its scenario (its index;
//!   a later step is more severe, across scenarios too), then a registered letter over a plain
//!   one; on a tie, the first decided.
//! - **Gap**: a customer's last contact is the last day a subject message went out. A subject
//!   message due before `last + N` days (N its scenario's cadence) waits until `last + N`;
//!   that date is fixed when it starts waiting. `cadence 0 days` merges and never defers.
//!
//! It must not run the transition function, read a clock or touch a store: drivers (the
//! simulator, the daemon) hand it each day's planned actions, in date order, and print or
//! deliver what it returns. It does not change cases: a step whose message waits has fired.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use relance_dsl::ir::{Action, ScenarioSet};
use serde::Serialize;

use super::Planned;

/// A message that waits for the end of its customer's gap, as shown on the day it was due.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deferral {
    /// The day the message was due.
    pub date: NaiveDate,
    /// The day it goes out (merged with what is due then).
    pub until: NaiveDate,
    pub customer: String,
    pub invoice: String,
    pub step: String,
    #[serde(skip)]
    pub step_order: usize,
    #[serde(skip)]
    pub order: u64,
    /// The action as decided, in scenario syntax.
    pub text: String,
}

/// What one day gives: the actions that go out that day (in decision order, a merged
/// message's most severe action first) and the messages that start waiting.
#[derive(Debug, Default)]
pub struct Day {
    pub sent: Vec<Planned>,
    pub deferred: Vec<Deferral>,
}

/// The cadence of a set over a run: each customer's last contact and what waits.
#[derive(Debug, Default)]
pub struct Cadence {
    /// Scenarios with a cadence: their gap in days and their number of steps (an action's
    /// `step_order` at or past it is a handler's).
    gaps: HashMap<String, (u32, usize)>,
    last: HashMap<String, NaiveDate>,
    /// Waiting messages by the day they go out.
    waiting: BTreeMap<NaiveDate, Vec<Planned>>,
}

/// Whether a set uses the cadence at all (drivers skip this module otherwise, so sets
/// without it keep their output byte for byte).
pub fn used(set: &ScenarioSet) -> bool {
    set.scenarios.values().any(|s| s.cadence_days.is_some())
}

/// A message's severity within its channel (higher is more severe).
fn severity(p: &Planned) -> (usize, bool) {
    let registered = matches!(
        p.action,
        Action::Letter {
            registered: true,
            ..
        }
    );
    (p.step_order, registered)
}

impl Cadence {
    pub fn new(set: &ScenarioSet) -> Cadence {
        Cadence {
            gaps: set
                .scenarios
                .values()
                .filter_map(|s| s.cadence_days.map(|d| (s.name.clone(), (d, s.steps.len()))))
                .collect(),
            ..Cadence::default()
        }
    }

    /// A cadence resumed from what a durable driver kept between its runs (the daemon's
    /// store): each customer's last contact, and the messages waiting, each dated the day it
    /// goes out (as [`Cadence::waiting`] gives them).
    pub fn resume(
        set: &ScenarioSet,
        last: impl IntoIterator<Item = (String, NaiveDate)>,
        waiting: impl IntoIterator<Item = Planned>,
    ) -> Cadence {
        Cadence::new(set).with_state(last, waiting)
    }

    /// This cadence with `last` contacts and `waiting` messages as stored (see [`Cadence::resume`]).
    fn with_state(
        mut self,
        last: impl IntoIterator<Item = (String, NaiveDate)>,
        waiting: impl IntoIterator<Item = Planned>,
    ) -> Cadence {
        self.last = last.into_iter().collect();
        for p in waiting {
            self.waiting.entry(p.date).or_default().push(p);
        }
        self
    }

    /// Whether an action is subject to the cadence (a step's message in a scenario with one).
    pub fn subject(&self, p: &Planned) -> bool {
        self.gap(p).is_some()
    }

    /// Each customer's last contact, as known to this cadence.
    pub fn last_contacts(&self) -> impl Iterator<Item = (&str, NaiveDate)> {
        self.last.iter().map(|(c, d)| (c.as_str(), *d))
    }

    /// The messages waiting, each dated the day it goes out, in that order.
    pub fn waiting(&self) -> impl Iterator<Item = &Planned> {
        self.waiting.values().flatten()
    }

    /// The gap of a message subject to the cadence, `None` for any other action.
    fn gap(&self, p: &Planned) -> Option<u32> {
        let (gap, steps) = self.gaps.get(&p.scenario)?;
        let message = matches!(
            p.action,
            Action::Email { .. } | Action::Sms { .. } | Action::Letter { .. }
        );
        (message && p.step_order < *steps).then_some(*gap)
    }

    /// The first day something waits to go out, if anything waits.
    pub fn next_release(&self) -> Option<NaiveDate> {
        self.waiting.keys().next().copied()
    }

    /// One day: `due` holds the actions decided on `day` (days come in increasing order; call
    /// it for each day returned by [`Cadence::next_release`] too, with no actions).
    /// `closed_on` says when an invoice's case closed or was frozen by a collective procedure
    /// ([`Status::silenced_since`](super::Status::silenced_since)), if it was: a waiting
    /// message whose case was silenced on or before `day` is dropped.
    pub fn day(
        &mut self,
        day: NaiveDate,
        due: Vec<Planned>,
        closed_on: &dyn Fn(&Planned) -> Option<NaiveDate>,
    ) -> Day {
        let mut out = Day::default();
        // Subject messages going out today, by customer; the rest passes through.
        let mut ready: BTreeMap<String, Vec<Planned>> = BTreeMap::new();
        let released = self
            .waiting
            .remove(&day)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| closed_on(p).is_none_or(|c| c > day));
        for p in released {
            ready.entry(p.customer.clone()).or_default().push(p);
        }
        for mut p in due {
            let Some(gap) = self.gap(&p) else {
                out.sent.push(p);
                continue;
            };
            let ends = self
                .last
                .get(&p.customer)
                .and_then(|last| last.checked_add_days(Days::new(u64::from(gap))));
            match ends {
                Some(until) if day < until => {
                    out.deferred.push(Deferral {
                        date: day,
                        until,
                        customer: p.customer.clone(),
                        invoice: p.invoice.clone(),
                        step: p.step.clone(),
                        step_order: p.step_order,
                        order: p.order,
                        text: p.action.to_string(),
                    });
                    p.date = until;
                    self.waiting.entry(until).or_default().push(p);
                }
                _ => ready.entry(p.customer.clone()).or_default().push(p),
            }
        }
        for (customer, messages) in ready {
            self.last.insert(customer, day);
            out.sent.extend(merge(day, messages));
        }
        out.sent.sort_by_key(|p| p.order);
        out
    }

    /// Releases every day up to `until` on which something waits (before a driver's next day,
    /// or at the end of a run), day by day.
    pub fn release_through(
        &mut self,
        until: NaiveDate,
        closed_on: &dyn Fn(&Planned) -> Option<NaiveDate>,
    ) -> Vec<(NaiveDate, Day)> {
        let mut days = Vec::new();
        while let Some(d) = self.next_release().filter(|d| *d <= until) {
            days.push((d, self.day(d, Vec::new(), closed_on)));
        }
        days
    }
}

/// One customer's messages of a day: per channel, every message takes the action of the most
/// severe one (which comes first, and carries the earliest decision number so it stays first);
/// each keeps its own invoice, step and key, so a template can show each invoice's level.
fn merge(day: NaiveDate, messages: Vec<Planned>) -> Vec<Planned> {
    let mut channels: BTreeMap<&'static str, Vec<Planned>> = BTreeMap::new();
    for mut p in messages {
        p.date = day;
        channels.entry(p.action.channel()).or_default().push(p);
    }
    let mut out = Vec::new();
    for (_, mut group) in channels {
        group.sort_by_key(|p| p.order);
        let Some(top) = (0..group.len()).max_by(|&a, &b| {
            severity(&group[a])
                .cmp(&severity(&group[b]))
                // On a tie the first decided wins: `max_by` keeps the last maximum.
                .then(b.cmp(&a))
        }) else {
            continue;
        };
        let first = group[0].order;
        let winner = group.remove(top);
        let action = winner.action.clone();
        out.push(Planned {
            order: first,
            ..winner
        });
        for mut p in group {
            p.action = action.clone();
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn email(template: &str) -> Action {
        Action::Email {
            template: template.into(),
            to: vec!["accounting".into()],
            cc: vec![],
        }
    }

    fn planned(
        invoice: &str,
        date: &str,
        step_order: usize,
        action: Action,
        order: u64,
    ) -> Planned {
        Planned {
            date: d(date),
            invoice: invoice.into(),
            customer: "C1".into(),
            scenario: "s".into(),
            version: "v".into(),
            step: format!("step-{step_order}"),
            step_order,
            action,
            rate_assumed: None,
            installments: Vec::new(),
            key: format!("{invoice}/{step_order}"),
            seq: 0,
            order,
        }
    }

    fn cadence(gap: u32) -> Cadence {
        Cadence {
            gaps: [("s".to_string(), (gap, 3))].into_iter().collect(),
            ..Cadence::default()
        }
    }

    fn open(_: &Planned) -> Option<NaiveDate> {
        None
    }

    #[test]
    fn one_message_per_channel_at_the_most_severe_step() {
        let mut c = cadence(5);
        let day = c.day(
            d("2027-03-01"),
            vec![
                planned("F-1", "2027-03-01", 2, email("third"), 1),
                planned("F-2", "2027-03-01", 0, email("first"), 2),
                planned("F-3", "2027-03-01", 1, email("second"), 3),
            ],
            &open,
        );
        assert!(day.deferred.is_empty());
        let got: Vec<(&str, String, &str)> = day
            .sent
            .iter()
            .map(|p| (p.invoice.as_str(), p.action.to_string(), p.step.as_str()))
            .collect();
        // Every invoice keeps its own step (its level); all take the third step's email.
        assert_eq!(
            got,
            [
                ("F-1", email("third").to_string(), "step-2"),
                ("F-2", email("third").to_string(), "step-0"),
                ("F-3", email("third").to_string(), "step-1"),
            ]
        );
    }

    #[test]
    fn a_registered_letter_beats_a_plain_one_of_the_same_rank() {
        let mut c = cadence(0);
        let letter = |registered| Action::Letter {
            template: if registered { "lr" } else { "l" }.into(),
            to: vec!["accounting".into()],
            registered,
        };
        let day = c.day(
            d("2027-03-01"),
            vec![
                planned("F-1", "2027-03-01", 1, letter(false), 1),
                planned("F-2", "2027-03-01", 1, letter(true), 2),
            ],
            &open,
        );
        assert!(day.sent.iter().all(|p| p.action == letter(true)));
        assert_eq!(day.sent[0].invoice, "F-2");
    }

    #[test]
    fn inside_the_gap_a_message_waits_then_merges_with_that_days() {
        let mut c = cadence(5);
        let first = c.day(
            d("2027-03-01"),
            vec![planned("F-1", "2027-03-01", 0, email("first"), 1)],
            &open,
        );
        assert_eq!(first.sent.len(), 1);
        // Due 2 days later: waits to 1 March + 5 days.
        let second = c.day(
            d("2027-03-03"),
            vec![planned("F-2", "2027-03-03", 1, email("second"), 2)],
            &open,
        );
        assert!(second.sent.is_empty());
        assert_eq!(second.deferred[0].until, d("2027-03-06"));
        assert_eq!(c.next_release(), Some(d("2027-03-06")));
        // On 6 March a first reminder of another invoice is due: one email, the second's.
        let sixth = c.day(
            d("2027-03-06"),
            vec![planned("F-3", "2027-03-06", 0, email("first"), 3)],
            &open,
        );
        let got: Vec<(&str, String, NaiveDate)> = sixth
            .sent
            .iter()
            .map(|p| (p.invoice.as_str(), p.action.to_string(), p.date))
            .collect();
        assert_eq!(
            got,
            [
                ("F-2", email("second").to_string(), d("2027-03-06")),
                ("F-3", email("second").to_string(), d("2027-03-06")),
            ]
        );
        assert_eq!(c.next_release(), None);
    }

    #[test]
    fn a_waiting_message_of_a_closed_case_is_dropped() {
        let mut c = cadence(5);
        c.day(
            d("2027-03-01"),
            vec![planned("F-1", "2027-03-01", 0, email("first"), 1)],
            &open,
        );
        c.day(
            d("2027-03-02"),
            vec![planned("F-2", "2027-03-02", 0, email("first"), 2)],
            &open,
        );
        let paid = |p: &Planned| (p.invoice == "F-2").then(|| d("2027-03-04"));
        let days = c.release_through(d("2027-12-31"), &paid);
        assert_eq!(days.len(), 1);
        assert!(days[0].1.sent.is_empty());
    }

    #[test]
    fn calls_handlers_and_other_scenarios_pass_through_and_are_no_contact() {
        let mut c = cadence(5);
        let call = Action::Call {
            who: "accounting".into(),
            assign: None,
        };
        let mut other = planned("F-9", "2027-03-01", 0, email("x"), 3);
        other.scenario = "no-cadence".into();
        let day = c.day(
            d("2027-03-01"),
            vec![
                planned("F-1", "2027-03-01", 0, call.clone(), 1),
                planned("F-2", "2027-03-01", 3, email("thanks"), 2),
                other,
            ],
            &open,
        );
        assert_eq!(day.sent.len(), 3);
        // No contact was made: a reminder the next day goes out.
        let next = c.day(
            d("2027-03-02"),
            vec![planned("F-1", "2027-03-02", 0, email("first"), 4)],
            &open,
        );
        assert_eq!(next.sent.len(), 1);
        assert!(next.deferred.is_empty());
    }

    #[test]
    fn a_resumed_cadence_keeps_the_gap_and_the_waiting_messages() {
        let mut c = cadence(5);
        c.day(
            d("2027-03-01"),
            vec![planned("F-1", "2027-03-01", 0, email("first"), 1)],
            &open,
        );
        c.day(
            d("2027-03-03"),
            vec![planned("F-2", "2027-03-03", 1, email("second"), 2)],
            &open,
        );
        let last: Vec<(String, NaiveDate)> =
            c.last_contacts().map(|(k, v)| (k.to_string(), v)).collect();
        let waiting: Vec<Planned> = c.waiting().cloned().collect();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].date, d("2027-03-06"));
        // What `Cadence::resume` does with the stored state, on this test's gaps.
        let mut resumed = Cadence {
            gaps: c.gaps.clone(),
            ..Cadence::default()
        }
        .with_state(last, waiting);
        // Inside the gap still: a new message waits too; on the 6th both go out as one.
        let fourth = resumed.day(
            d("2027-03-04"),
            vec![planned("F-3", "2027-03-04", 0, email("first"), 3)],
            &open,
        );
        assert!(fourth.sent.is_empty());
        assert!(resumed.subject(&planned("F-3", "2027-03-04", 0, email("first"), 3)));
        let days = resumed.release_through(d("2027-03-31"), &open);
        assert_eq!(days.len(), 1);
        let got: Vec<&str> = days[0].1.sent.iter().map(|p| p.invoice.as_str()).collect();
        assert_eq!(got, ["F-2", "F-3"]);
        assert!(days[0].1.sent.iter().all(|p| p.action == email("second")));
    }

    #[test]
    fn a_zero_cadence_merges_and_never_defers() {
        let mut c = cadence(0);
        for (i, day) in ["2027-03-01", "2027-03-02"].into_iter().enumerate() {
            let out = c.day(
                d(day),
                vec![planned("F-1", day, 0, email("first"), i as u64)],
                &open,
            );
            assert_eq!(out.sent.len(), 1);
        }
    }
}
