//! Running a set's `test` blocks: each becomes a small portfolio simulated on the virtual
//! clock, whose dated actions are compared with the `expect { … }` lines, or with a snapshot
//! file of the whole timeline kept next to the scenario file (`NAME.snapshots/TEST.txt`). A
//! snapshot holds nothing that depends on where the set was run from or on presentation: its
//! header names the file relative to the set root, and scenario versions ignore titles.
//!
//! A case that falls into the `error` state (a runaway rule, a type error, a missing property)
//! fails its test with the error's message, whatever the test expects, unless the test names
//! that error with `expect error INVOICE "TEXT"`; a test with an unexpected error never writes
//! its snapshot. A test event whose amount is in another currency than its invoice's (a
//! payment, a payment reversed, a credit note, a dispute or a promise) fails the test before
//! it runs, as the API refuses such a payment.
//!
//! It never sends anything: it only simulates. Snapshot files are written only with
//! `--update`, or when missing outside CI.

use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use relance_dsl::ir::{self, Expectation, ScenarioSet, TestCase, TestEntity, Value};

use crate::simulator::Simulator;
use crate::timeline::{Detail, LanguageNote, Timeline};
use relance_core::domain::{Customer, Event, EventKind, Installment, Invoice, Portfolio, Segment};
use relance_core::payment::ReversalReason;
use relance_core::runtime::{Shared, Status};

/// How snapshot files are treated.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotMode {
    /// `--update`: rewrite snapshots that differ.
    pub update: bool,
    /// Running under CI: a missing snapshot is a failure.
    pub ci: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// A snapshot was written (new, or `--update`).
    Written(PathBuf),
    Failed(String),
}

/// The portfolio a test describes.
pub fn portfolio(tc: &TestCase) -> Portfolio {
    let customers = tc
        .customers
        .iter()
        .map(|c| customer(c, tc.scenario.as_deref()))
        .collect();
    let invoices = tc.invoices.iter().map(invoice).collect();
    let events = tc
        .events
        .iter()
        .map(|(date, e)| Event {
            date: *date,
            kind: event(e),
        })
        .collect();
    Portfolio {
        from: tc.from,
        customers,
        invoices,
        events,
    }
}

/// The last day a test runs: its `until`, else 180 days after its last due date or event.
pub fn until(tc: &TestCase, p: &Portfolio) -> NaiveDate {
    tc.until.unwrap_or_else(|| {
        let last = p
            .invoices
            .iter()
            .map(|i| i.due)
            .chain(p.events.iter().map(|e| e.date))
            .max();
        let last = last.or(p.from).unwrap_or(NaiveDate::MIN);
        last.checked_add_days(Days::new(180)).unwrap_or(last)
    })
}

/// A case that went into the `error` state during a test's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    pub invoice: String,
    pub on: NaiveDate,
    pub message: String,
}

/// Simulates a test case and returns its timeline.
pub fn simulate(shared: Shared<'_>, tc: &TestCase) -> Timeline {
    simulate_with_errors(shared, tc).0
}

/// Simulates a test case: its timeline and every case that went into the `error` state (in
/// the order it happened; a case that left the error state later is still listed).
pub fn simulate_with_errors(shared: Shared<'_>, tc: &TestCase) -> (Timeline, Vec<CaseError>) {
    let p = portfolio(tc);
    let from = p.start().unwrap_or(NaiveDate::MIN);
    let end = until(tc, &p);
    let run = Simulator::new(shared, &p).run(from, end, &mut |_| {});
    let mut errors: Vec<CaseError> = Vec::new();
    // The final states first: they hold the message as the runtime wrote it.
    for (inv, case) in p.invoices.iter().zip(&run.cases) {
        if let Some(Status::Error { on, message }) = case.as_ref().map(|c| &c.status) {
            errors.push(CaseError {
                invoice: inv.id.clone(),
                on: *on,
                message: message.clone(),
            });
        }
    }
    // Then errors a case went through and left (its record's cause is the message); a record
    // from `error` to `error` (an event ignored by a case in error) is no new error.
    for r in run
        .records
        .iter()
        .filter(|r| r.to == "error" && r.from != "error")
    {
        let known = errors
            .iter()
            .any(|e| e.invoice == r.invoice && e.on == r.date && e.message == r.cause);
        if !known {
            errors.push(CaseError {
                invoice: r.invoice.clone(),
                on: r.date,
                message: r.cause.clone(),
            });
        }
    }
    errors.sort_by(|a, b| (a.on, &a.invoice).cmp(&(b.on, &b.invoice)));
    let timeline = crate::cadence::timeline(shared.set, &p.invoices, run, end, true);
    (timeline, errors)
}

/// The timeline's actions as `expect` lines (`DATE ACTION for IDS`), invoice ids sorted.
pub fn action_lines(t: &Timeline) -> Vec<String> {
    t.actions()
        .filter_map(|e| match &e.detail {
            Detail::Action { action_ir, .. } => {
                let mut invoices = e.invoices.clone();
                invoices.sort();
                Some(
                    ir::ExpectedAction {
                        date: e.date,
                        action: (**action_ir).clone(),
                        invoices,
                    }
                    .to_string(),
                )
            }
            Detail::Transition { .. } | Detail::Deferred { .. } => None,
        })
        .collect()
}

/// Runs one test. Errors are checked first: a test with an error it does not expect (or
/// expecting one that does not happen) fails, and its snapshot is neither compared nor
/// written.
pub fn run(shared: Shared<'_>, tc: &TestCase, mode: SnapshotMode) -> Verdict {
    run_noting(shared, tc, mode, &|_, _| None).0
}

/// Runs one test, noting the messages whose template is not written in their customer's
/// language (`note`: see [`Timeline::note_languages`]; a snapshot shows the note too).
/// Returns the verdict and the noted entries as timeline lines.
pub fn run_noting(
    shared: Shared<'_>,
    tc: &TestCase,
    mode: SnapshotMode,
    note: &dyn Fn(&str, &str) -> Option<LanguageNote>,
) -> (Verdict, Vec<String>) {
    // An amount in another currency than its invoice's is refused before anything runs, as
    // the API refuses such a payment (the engine's events carry amounts, not currencies).
    let refused = foreign_amounts(tc);
    if !refused.is_empty() {
        return (Verdict::Failed(refused), Vec::new());
    }
    let (mut timeline, errors) = simulate_with_errors(shared, tc);
    timeline.note_languages(&portfolio(tc).customers, note);
    let noted = Timeline {
        entries: timeline
            .entries
            .iter()
            .filter(|e| {
                matches!(
                    &e.detail,
                    Detail::Action {
                        language: Some(_),
                        ..
                    }
                )
            })
            .cloned()
            .collect(),
    };
    let notes = noted.to_text().lines().map(str::to_string).collect();
    if let Some(mut report) = compare_errors(&tc.errors, &errors) {
        if let Expectation::Lines(lines) = &tc.expect
            && let Verdict::Failed(more) = compare_lines(lines, &timeline)
        {
            report.push_str(&more);
        }
        return (Verdict::Failed(report), notes);
    }
    (verdict(tc, &timeline, mode), notes)
}

/// The report of the test's events whose amount is not in its invoice's currency (a payment,
/// a payment reversed, a credit note, a dispute or a promise for part of it): one line each;
/// empty when there is none. `on 2026-02-25 payment reversed F-1 100 USD` on an EUR invoice
/// is refused like `POST /v1/invoices/F-1/payments` with `"currency": "USD"`.
fn foreign_amounts(tc: &TestCase) -> String {
    use ir::TestEvent as T;
    let mut report = String::new();
    for (date, e) in &tc.events {
        let (what, id, amount) = match e {
            T::Payment {
                invoice: id,
                amount,
            } => ("payment", id, Some(amount)),
            T::PaymentReversed {
                invoice: id,
                amount,
                ..
            } => ("payment reversed", id, Some(amount)),
            T::CreditNote {
                invoice: id,
                amount,
            } => ("credit note", id, Some(amount)),
            T::Dispute {
                invoice: id,
                amount,
                ..
            } => ("dispute", id, amount.as_ref()),
            T::Promise {
                invoice: id,
                amount,
                ..
            } => ("promise", id, amount.as_ref()),
            _ => continue,
        };
        let Some(money) = amount else { continue };
        let Some(currency) = tc
            .invoices
            .iter()
            .find(|i| &i.id == id)
            .map(|i| invoice_amount(i).currency)
        else {
            continue;
        };
        if money.currency != currency {
            report.push_str(&format!(
                "  on {date} {what} {id} {} {}: {} is not the currency of invoice {id} ({currency}); \
                 write the amount in {currency}\n",
                money.amount, money.currency, money.currency
            ));
        }
    }
    report
}

fn verdict(tc: &TestCase, timeline: &Timeline, mode: SnapshotMode) -> Verdict {
    match &tc.expect {
        Expectation::None => Verdict::Passed,
        Expectation::Lines(lines) => compare_lines(lines, timeline),
        Expectation::Snapshot => snapshot(tc, timeline, mode),
    }
}

/// Whether an `expect error` line names this error: same invoice, message containing its
/// text.
fn names(want: &ir::ExpectedError, got: &CaseError) -> bool {
    want.invoice == got.invoice && got.message.contains(&want.message)
}

/// The report of errors not expected and expected errors not raised, if any.
fn compare_errors(expected: &[ir::ExpectedError], errors: &[CaseError]) -> Option<String> {
    let mut report = String::new();
    for e in errors
        .iter()
        .filter(|e| !expected.iter().any(|w| names(w, e)))
    {
        report.push_str(&format!(
            "  error, not expected:  {} is in error since {}: {}\n",
            e.invoice, e.on, e.message
        ));
    }
    let unexpected = !report.is_empty();
    for w in expected
        .iter()
        .filter(|w| !errors.iter().any(|e| names(w, e)))
    {
        report.push_str(&format!(
            "  - expected, not raised:  error {} \"{}\"\n",
            w.invoice, w.message
        ));
    }
    if report.is_empty() {
        return None;
    }
    if unexpected {
        report.push_str(
            "  (a test that means to reach this error says so: `expect error INVOICE \"TEXT\"`)\n",
        );
    }
    Some(report)
}

fn compare_lines(expected: &[ir::ExpectedAction], timeline: &Timeline) -> Verdict {
    let mut want: Vec<String> = expected
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.invoices.sort();
            e.to_string()
        })
        .collect();
    let mut got = action_lines(timeline);
    want.sort();
    got.sort();
    if want == got {
        return Verdict::Passed;
    }
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let unexpected: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    let mut report = String::new();
    for m in &missing {
        report.push_str(&format!("  - expected, not done:  {m}\n"));
    }
    for u in &unexpected {
        report.push_str(&format!("  + done, not expected:  {u}\n"));
    }
    if missing.is_empty() && unexpected.is_empty() {
        report.push_str("  the same lines, a different number of times\n");
    }
    report.push_str("  the engine's actions:\n");
    for g in &got {
        report.push_str(&format!("    {g}\n"));
    }
    Verdict::Failed(report)
}

/// `dir/NAME.snapshots/SLUG.txt` for a test of `dir/NAME.relance`.
pub fn snapshot_path(tc: &TestCase) -> PathBuf {
    let file = Path::new(&tc.file);
    let stem = file
        .file_stem()
        .map_or_else(|| "tests".into(), |s| s.to_string_lossy().into_owned());
    let slug: String = tc
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    file.with_file_name(format!("{stem}.snapshots"))
        .join(format!("{slug}.txt"))
}

fn snapshot(tc: &TestCase, timeline: &Timeline, mode: SnapshotMode) -> Verdict {
    let path = snapshot_path(tc);
    // The header names the file relative to the set root (a set's files all sit in its
    // root folder), and no line: the snapshot must not change with the path the set was run
    // from, nor when a line is added above the test.
    let file = Path::new(&tc.file)
        .file_name()
        .map_or_else(|| tc.file.clone(), |f| f.to_string_lossy().into_owned());
    let text = format!("# test \"{}\" ({file})\n{}", tc.name, timeline.to_text());
    let write = |path: &Path| -> Verdict {
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(path, &text));
        match result {
            Ok(()) => Verdict::Written(path.to_path_buf()),
            Err(e) => Verdict::Failed(format!("  cannot write {}: {e}\n", path.display())),
        }
    };
    match std::fs::read_to_string(&path) {
        Ok(old) if old == text => Verdict::Passed,
        Ok(_) if mode.update => write(&path),
        Ok(old) => Verdict::Failed(line_diff(&old, &text, &path)),
        Err(_) if mode.ci && !mode.update => Verdict::Failed(format!(
            "  snapshot {} is missing (CI): run `relance test --update` and commit it\n",
            path.display()
        )),
        Err(_) => write(&path),
    }
}

fn line_diff(old: &str, new: &str, path: &Path) -> String {
    let mut out = format!(
        "  the timeline differs from {} (run `relance test --update` to accept):\n",
        path.display()
    );
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    for l in a.iter().filter(|l| !b.contains(l)) {
        out.push_str(&format!("  - {l}\n"));
    }
    for l in b.iter().filter(|l| !a.contains(l)) {
        out.push_str(&format!("  + {l}\n"));
    }
    out
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

fn money(v: Option<&Value>) -> Option<ir::Money> {
    match v? {
        Value::Money(m) => Some(m.clone()),
        _ => None,
    }
}

fn date(v: Option<&Value>) -> Option<NaiveDate> {
    match v? {
        Value::Date(d) => Some(*d),
        _ => None,
    }
}

fn customer(e: &TestEntity, scenario: Option<&str>) -> Customer {
    let f = &e.fields;
    let mut c = Customer::new(e.id.clone());
    c.name = text(f.get("name"));
    c.segment = text(f.get("segment"))
        .and_then(|s| Segment::parse(&s))
        .unwrap_or_default();
    c.risk_score = number(f.get("risk_score"))
        .and_then(|n| i64::try_from(n).ok())
        .unwrap_or(0);
    c.credit_insured = matches!(f.get("credit_insured"), Some(Value::Bool(true)));
    if let Some(Value::List(tags)) = f.get("tags") {
        c.tags = tags.iter().filter_map(|t| text(Some(t))).collect();
    }
    if let Some(lang) = text(f.get("language")) {
        c.language = lang;
    }
    c.payment_terms_days = number(f.get("payment_terms_days")).and_then(|n| u32::try_from(n).ok());
    c.late_interest_rate = number(f.get("late_interest_rate"));
    c.scenario = scenario
        .map(String::from)
        .or_else(|| text(f.get("scenario")));
    c
}

/// A test invoice's amount, 0 EUR when it gives none.
fn invoice_amount(e: &TestEntity) -> ir::Money {
    money(e.fields.get("amount")).unwrap_or(ir::Money {
        amount: Decimal::ZERO,
        currency: "EUR".into(),
    })
}

fn invoice(e: &TestEntity) -> Invoice {
    let f = &e.fields;
    let amount = invoice_amount(e);
    Invoice {
        id: e.id.clone(),
        customer: text(f.get("customer")).unwrap_or_default(),
        amount: amount.amount,
        currency: amount.currency,
        issued: date(f.get("issued")).unwrap_or(NaiveDate::MIN),
        due: date(f.get("due")).unwrap_or(NaiveDate::MIN),
        outstanding: money(f.get("outstanding")).map(|m| m.amount),
        po_number: text(f.get("po_number")),
        payment_terms: text(f.get("payment_terms")).and_then(|t| t.parse().ok()),
        delivered_on: date(f.get("delivered_on")),
        dunning: relance_core::domain::Standing {
            step: text(f.get("dunning_step")),
            date: date(f.get("dunning_date")),
            attempts: number(f.get("dunning_attempts")).and_then(|n| u32::try_from(n).ok()),
            catch_up: text(f.get("catch_up")).and_then(|t| t.parse().ok()),
        },
        payment_means: None,
        late_interest_rate: number(f.get("late_interest_rate")),
        // The checker refused a plan that does not read or does not make the amount.
        installments: text(f.get("installments"))
            .and_then(|t| Installment::parse_plan(&t, amount.amount).ok())
            .unwrap_or_default(),
    }
}

fn event(e: &ir::TestEvent) -> EventKind {
    use ir::TestEvent as T;
    match e {
        T::Payment { invoice, amount } => EventKind::Payment {
            invoice: invoice.clone(),
            amount: amount.amount,
            reference: None,
            details: Default::default(),
        },
        T::Dispute {
            invoice,
            code,
            amount,
        } => EventKind::DisputeOpened {
            invoice: invoice.clone(),
            code: code.clone(),
            amount: amount.as_ref().map(|m| m.amount),
            target_date: None,
            comment: None,
        },
        T::Resolve { invoice } => EventKind::DisputeResolved {
            invoice: invoice.clone(),
            comment: None,
        },
        T::Promise {
            invoice,
            date,
            amount,
        } => EventKind::PromiseMade {
            invoice: invoice.clone(),
            promised_date: *date,
            amount: amount.as_ref().map(|m| m.amount),
        },
        T::CreditNote { invoice, amount } => EventKind::CreditNote {
            invoice: invoice.clone(),
            amount: amount.amount,
        },
        T::WriteOff { invoice } => EventKind::WriteOff {
            invoice: invoice.clone(),
            reason: None,
        },
        T::Risk { customer, score } => EventKind::RiskChanged {
            customer: customer.clone(),
            risk_score: *score,
        },
        T::Outcome {
            invoice,
            text,
            promise,
        } => EventKind::TaskOutcome {
            invoice: invoice.clone(),
            outcome: text.clone(),
            promised_date: *promise,
        },
        T::Bounce { customer, role } => EventKind::ContactBounced {
            customer: customer.clone(),
            role: role.clone(),
        },
        T::Tag {
            customer,
            tag,
            added: true,
        } => EventKind::TagAdded {
            customer: customer.clone(),
            tag: tag.clone(),
        },
        T::Tag { customer, tag, .. } => EventKind::TagRemoved {
            customer: customer.clone(),
            tag: tag.clone(),
        },
        T::WriteOffReversed { invoice, reason } => EventKind::WriteOffReversed {
            invoice: invoice.clone(),
            reason: reason.clone(),
        },
        T::PaymentReversed {
            invoice,
            amount,
            reason,
            paid_on,
        } => EventKind::PaymentReversed {
            invoice: invoice.clone(),
            amount: amount.amount,
            // Checked against `schema::PAYMENT_REVERSED_REASONS` when the set compiles.
            reason: reason
                .as_deref()
                .and_then(|r| ReversalReason::parse(r).ok())
                .unwrap_or_default(),
            reference: None,
            payment_date: *paid_on,
        },
        T::PaymentFailed { invoice, reason } => EventKind::PaymentFailed {
            invoice: invoice.clone(),
            reason: reason.clone(),
        },
        T::Moved {
            invoice,
            scenario,
            step,
            by,
            because,
        } => EventKind::ScenarioChanged {
            invoice: invoice.clone(),
            scenario: scenario.clone(),
            step: step.clone(),
            by: by.clone(),
            because: because.clone(),
        },
    }
}

/// Convenience for callers holding a compiled set.
pub fn shared<'a>(
    set: &'a ScenarioSet,
    rules: &'a relance_core::rules::RuleSet,
    rates: &'a relance_core::interest::RateTable,
) -> Shared<'a> {
    Shared { set, rules, rates }
}
