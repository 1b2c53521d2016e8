//! A seeded synthetic portfolio: N customers and M invoices with realistic distributions,
//! written as the CSV files `relance plan` and imports read (see `docs/DATA.md`).
//!
//! Same seed, same files, byte for byte (ChaCha8 from a fixed seed; no clock, no hashing
//! order). Distributions (documented in `BENCHMARKS.md`): 80/20 revenue concentration,
//! log-uniform amounts, payment terms of 30/45/60 days, payment delays (35 % on time,
//! 35 % up to 30 days late, 15 % 31–90 days late, 5 % partial, 10 % unpaid), about 5 %
//! disputes and 5 % promises. Only events dated on or before `as_of` are written: the future
//! is what the engine plans. It must not read anything.

use std::path::Path;

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub customers: usize,
    pub invoices: usize,
    pub seed: u64,
    /// The last day events are known; invoices are issued over the 120 days before.
    pub as_of: NaiveDate,
}

/// How many rows of each file were written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub customers: usize,
    pub invoices: usize,
    pub payments: usize,
    pub events: usize,
}

const NAMES: &[&str] = &[
    "Ateliers",
    "Boulangerie",
    "Transports",
    "Menuiserie",
    "Pharmacie",
    "Garage",
    "Cabinet",
    "Imprimerie",
    "Fromagerie",
    "Électricité",
    "Plomberie",
    "Librairie",
    "Hôtel",
    "Conserverie",
    "Scierie",
    "Verrerie",
];
const PLACES: &[&str] = &[
    "Dupont",
    "Martin",
    "du Port",
    "de Lyon",
    "Bernard",
    "du Centre",
    "Moreau",
    "des Alpes",
];

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    fn days(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..=hi)
    }

    /// Cents from a log-uniform law between `lo` and `hi` euros.
    fn amount(&mut self, lo: f64, hi: f64) -> Decimal {
        let x: f64 = self.rng.random_range(lo.ln()..hi.ln());
        Decimal::new((x.exp() * 100.0).round() as i64, 2)
    }
}

fn shift(d: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        d.checked_add_days(Days::new(days as u64))
    } else {
        d.checked_sub_days(Days::new((-days) as u64))
    }
    .unwrap_or(d)
}

/// Writes `customers.csv`, `invoices.csv`, `payments.csv` and `events.csv` into `dir`.
pub fn generate(
    spec: Spec,
    dir: &Path,
    progress: &mut dyn FnMut(usize),
) -> Result<Written, csv::Error> {
    std::fs::create_dir_all(dir)?;
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
    };
    let mut written = Written::default();
    let segments = write_customers(&mut g, spec, dir, &mut written)?;

    // 80/20: customer weights decay with rank; pick by binary search on the cumulative sum.
    let cumulative: Vec<f64> = (0..spec.customers)
        .scan(0.0, |acc, i| {
            *acc += 1.0 / ((i + 1) as f64).powf(0.9);
            Some(*acc)
        })
        .collect();
    let total = cumulative.last().copied().unwrap_or(1.0);

    let mut invoices = csv::Writer::from_path(dir.join("invoices.csv"))?;
    let mut payments = csv::Writer::from_path(dir.join("payments.csv"))?;
    let mut events = csv::Writer::from_path(dir.join("events.csv"))?;
    invoices.write_record([
        "id",
        "customer",
        "amount",
        "currency",
        "issued",
        "due",
        "po_number",
    ])?;
    payments.write_record(["date", "invoice", "amount", "reference"])?;
    events.write_record(["date", "type", "invoice", "code", "amount", "promised_date"])?;
    let first_issue = shift(spec.as_of, -120);
    for n in 0..spec.invoices {
        let pick = g.rng.random::<f64>() * total;
        let c = cumulative
            .partition_point(|&w| w < pick)
            .min(spec.customers.saturating_sub(1));
        let (b2c, terms) = segments[c];
        let id = format!("F-{:07}", n + 1);
        let issued = shift(first_issue, g.days(0, 120));
        let due = shift(issued, terms);
        let amount = if b2c {
            g.amount(20.0, 800.0)
        } else {
            g.amount(150.0, 40_000.0)
        };
        let po = if !b2c && g.chance(0.6) {
            format!("PO-{}", g.days(1000, 99999))
        } else {
            String::new()
        };
        invoices.write_record([
            id.as_str(),
            &format!("C{c:06}"),
            &amount.to_string(),
            "EUR",
            &issued.to_string(),
            &due.to_string(),
            &po,
        ])?;
        written.invoices += 1;
        behaviour(
            &mut g,
            spec,
            &id,
            amount,
            due,
            &mut payments,
            &mut events,
            &mut written,
        )?;
        if n % 10_000 == 0 {
            progress(n);
        }
    }
    invoices.flush()?;
    payments.flush()?;
    events.flush()?;
    Ok(written)
}

fn write_customers(
    g: &mut Gen,
    spec: Spec,
    dir: &Path,
    written: &mut Written,
) -> Result<Vec<(bool, i64)>, csv::Error> {
    let mut w = csv::Writer::from_path(dir.join("customers.csv"))?;
    w.write_record([
        "id",
        "name",
        "segment",
        "risk_score",
        "credit_insured",
        "language",
        "payment_terms_days",
        "tags",
        "accounting_email",
    ])?;
    let mut out = Vec::with_capacity(spec.customers);
    for i in 0..spec.customers {
        let roll = g.rng.random::<f64>();
        let segment = if roll < 0.80 {
            "b2b"
        } else if roll < 0.95 {
            "b2c"
        } else {
            "public"
        };
        let risk = match g.rng.random::<f64>() {
            r if r < 0.70 => g.days(0, 39),
            r if r < 0.90 => g.days(40, 69),
            _ => g.days(70, 100),
        };
        let insured = segment != "b2c" && g.chance(0.15);
        let terms = if segment == "b2c" {
            15
        } else {
            [30, 30, 45, 60][g.days(0, 3) as usize]
        };
        let tags = if segment == "b2b" && i < spec.customers / 20 {
            "key-account"
        } else {
            ""
        };
        let name = format!(
            "{} {} {}",
            NAMES[i % NAMES.len()],
            PLACES[(i / NAMES.len()) % PLACES.len()],
            i
        );
        let id = format!("C{i:06}");
        w.write_record([
            id.as_str(),
            &name,
            segment,
            &risk.to_string(),
            if insured { "true" } else { "false" },
            if g.chance(0.8) { "fr" } else { "en" },
            &terms.to_string(),
            tags,
            &format!("compta@{}.example", id.to_lowercase()),
        ])?;
        out.push((segment == "b2c", terms));
        written.customers += 1;
    }
    w.flush()?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn behaviour(
    g: &mut Gen,
    spec: Spec,
    id: &str,
    amount: Decimal,
    due: NaiveDate,
    payments: &mut csv::Writer<std::fs::File>,
    events: &mut csv::Writer<std::fs::File>,
    written: &mut Written,
) -> Result<(), csv::Error> {
    let mut pay =
        |date: NaiveDate, value: Decimal, written: &mut Written| -> Result<(), csv::Error> {
            if date <= spec.as_of {
                payments.write_record([
                    date.to_string(),
                    id.to_string(),
                    value.to_string(),
                    format!("VIR-{id}"),
                ])?;
                written.payments += 1;
            }
            Ok(())
        };
    let mut event = |row: [String; 6], written: &mut Written| -> Result<(), csv::Error> {
        if row[0].as_str() <= spec.as_of.to_string().as_str() {
            events.write_record(&row)?;
            written.events += 1;
        }
        Ok(())
    };
    if g.chance(0.05) {
        let opened = shift(due, g.days(-5, 20));
        event(
            [
                opened.to_string(),
                "dispute_opened".into(),
                id.into(),
                "logistics/missing-delivery-note".into(),
                String::new(),
                String::new(),
            ],
            written,
        )?;
        if g.chance(0.7) {
            let resolved = shift(opened, g.days(5, 40));
            event(
                [
                    resolved.to_string(),
                    "dispute_resolved".into(),
                    id.into(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
                written,
            )?;
        }
    }
    if g.chance(0.05) {
        let made = shift(due, g.days(5, 30));
        let promised = shift(made, g.days(7, 21));
        event(
            [
                made.to_string(),
                "promise_made".into(),
                id.into(),
                String::new(),
                String::new(),
                promised.to_string(),
            ],
            written,
        )?;
        if g.chance(0.6) {
            return pay(promised, amount, written);
        }
        return Ok(());
    }
    match g.rng.random::<f64>() {
        r if r < 0.35 => pay(shift(due, g.days(-10, 0)), amount, written),
        r if r < 0.70 => pay(shift(due, g.days(1, 30)), amount, written),
        r if r < 0.85 => pay(shift(due, g.days(31, 90)), amount, written),
        r if r < 0.90 => {
            let half = (amount / Decimal::TWO).round_dp(2);
            pay(shift(due, g.days(0, 40)), half, written)
        }
        _ => Ok(()),
    }
}
