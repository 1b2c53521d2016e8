//! The aged balance (balance âgée) at a date: what each customer still owes, by how late it
//! is — not yet due, 1-30, 31-60, 61-90 and over 90 days past due — with disputed amounts in a
//! column of their own (and out of the age buckets), per customer and currency, and in total.
//!
//! Customers under a collective procedure on the report date (sauvegarde, redressement,
//! liquidation: their prior claims are frozen and declared to the *mandataire*, L622-7) are
//! shown apart, in rows and totals of their own, never in the main totals nor dropped.
//!
//! It reads the portfolio through [`replay`](super::replay) and renders a table, CSV or JSON.
//! It must not guess anything the data does not say: an invoice's age is the number of days
//! from its due date to the report date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{csv_cell, days, replay};
use relance_core::domain::Portfolio;

/// Amounts by age.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Buckets {
    pub not_due: Decimal,
    pub days_1_30: Decimal,
    pub days_31_60: Decimal,
    pub days_61_90: Decimal,
    pub over_90: Decimal,
    /// Under an open dispute, whatever its age (not counted in the buckets above).
    pub disputed: Decimal,
    /// Everything still owed: the buckets plus `disputed`.
    pub total: Decimal,
}

impl Buckets {
    /// Adds `open` owed `late` days after the due date, of which `disputed` is disputed.
    pub fn add(&mut self, late: i64, open: Decimal, disputed: Decimal) {
        let aged = open - disputed;
        let slot = match late {
            i64::MIN..=0 => &mut self.not_due,
            1..=30 => &mut self.days_1_30,
            31..=60 => &mut self.days_31_60,
            61..=90 => &mut self.days_61_90,
            _ => &mut self.over_90,
        };
        *slot += aged;
        self.disputed += disputed;
        self.total += open;
    }

    fn merge(&mut self, other: &Buckets) {
        self.not_due += other.not_due;
        self.days_1_30 += other.days_1_30;
        self.days_31_60 += other.days_31_60;
        self.days_61_90 += other.days_61_90;
        self.over_90 += other.over_90;
        self.disputed += other.disputed;
        self.total += other.total;
    }

    /// Past due (excluding disputed amounts).
    pub fn overdue(&self) -> Decimal {
        self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90
    }

    fn cells(&self) -> [Decimal; 7] {
        [
            self.not_due,
            self.days_1_30,
            self.days_31_60,
            self.days_61_90,
            self.over_90,
            self.disputed,
            self.total,
        ]
    }
}

/// One customer's line, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgedRow {
    pub customer: String,
    pub name: Option<String>,
    pub currency: String,
    /// Open invoices.
    pub invoices: usize,
    #[serde(flatten)]
    pub buckets: Buckets,
    /// The collective procedure the customer is under on the report date
    /// (`redressement since 2026-03-10`): such rows are in `apart`, not `rows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
}

/// The aged balance of a portfolio at a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgedBalance {
    pub at: NaiveDate,
    /// Customers with something open, by customer id then currency.
    pub rows: Vec<AgedRow>,
    /// Totals by currency (customers under a collective procedure excluded).
    pub totals: BTreeMap<String, Buckets>,
    /// Customers under a collective procedure on the report date, by customer id then currency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apart: Vec<AgedRow>,
    /// Their totals by currency.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub apart_totals: BTreeMap<String, Buckets>,
}

const HEADERS: [&str; 7] = [
    "not due", "1-30", "31-60", "61-90", ">90", "disputed", "total",
];

/// The aged balance of `portfolio` on `at`.
pub fn aged_balance(portfolio: &Portfolio, at: NaiveDate) -> AgedBalance {
    let names: BTreeMap<&str, Option<&String>> = portfolio
        .customers
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_ref()))
        .collect();
    let procedures = super::procedures::on(portfolio, at);
    let mut rows: BTreeMap<(String, String), AgedRow> = BTreeMap::new();
    for state in replay(portfolio, at) {
        if state.open <= Decimal::ZERO {
            continue;
        }
        let inv = &portfolio.invoices[state.index];
        let row = rows
            .entry((inv.customer.clone(), inv.currency.clone()))
            .or_insert_with(|| AgedRow {
                customer: inv.customer.clone(),
                name: names.get(inv.customer.as_str()).copied().flatten().cloned(),
                currency: inv.currency.clone(),
                invoices: 0,
                buckets: Buckets::default(),
                procedure: procedures
                    .get(inv.customer.as_str())
                    .map(|i| format!("{} since {}", i.procedure.as_str(), i.judgment_on)),
            });
        row.invoices += 1;
        row.buckets
            .add(days(inv.due, at), state.open, state.disputed);
    }
    let (apart, rows): (Vec<AgedRow>, Vec<AgedRow>) =
        rows.into_values().partition(|r| r.procedure.is_some());
    AgedBalance {
        at,
        totals: totals_of(&rows),
        apart_totals: totals_of(&apart),
        rows,
        apart,
    }
}

fn totals_of(rows: &[AgedRow]) -> BTreeMap<String, Buckets> {
    let mut totals: BTreeMap<String, Buckets> = BTreeMap::new();
    for row in rows {
        totals
            .entry(row.currency.clone())
            .or_default()
            .merge(&row.buckets);
    }
    totals
}

impl AgedBalance {
    /// A readable table, amounts right-aligned, one total line per currency; customers under
    /// a collective procedure follow in a table of their own.
    pub fn to_text(&self) -> String {
        let mut out = format!("Aged balance at {}\n", self.at);
        out.push_str(&table(&self.rows, &self.totals));
        if self.rows.is_empty() {
            out.push_str("nothing outstanding\n");
        }
        if !self.apart.is_empty() {
            out.push_str(
                "\nUnder a collective procedure (claims frozen and declared to the mandataire \
                 judiciaire, L622-7; not in the totals above)\n",
            );
            out.push_str(&table(&self.apart, &self.apart_totals));
        }
        out
    }
}

/// The rows and their total lines as an aligned table.
fn table(rows: &[AgedRow], totals: &BTreeMap<String, Buckets>) -> String {
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["customer".to_string(), "ccy".into(), "inv".into()];
    head.extend(HEADERS.iter().map(|h| h.to_string()));
    lines.push(head);
    for r in rows {
        let label = match &r.name {
            Some(n) => format!("{} ({n})", r.customer),
            None => r.customer.clone(),
        };
        let label = match &r.procedure {
            Some(p) => format!("{label} [{p}]"),
            None => label,
        };
        let mut line = vec![label, r.currency.clone(), r.invoices.to_string()];
        line.extend(r.buckets.cells().iter().map(|a| format!("{:.2}", a)));
        lines.push(line);
    }
    for (currency, b) in totals {
        let count: usize = rows
            .iter()
            .filter(|r| &r.currency == currency)
            .map(|r| r.invoices)
            .sum();
        let mut line = vec!["TOTAL".to_string(), currency.clone(), count.to_string()];
        line.extend(b.cells().iter().map(|a| format!("{:.2}", a)));
        lines.push(line);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c < 2 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if n == 0 || n == rows.len() {
            let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            out.push_str(&"-".repeat(rule));
            out.push('\n');
        }
    }
    out
}

impl AgedBalance {
    /// CSV: one line per customer and currency, then `TOTAL` lines; customers under a
    /// collective procedure follow with their procedure in the last column, then their own
    /// `TOTAL PROCEDURE` lines.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "customer,name,currency,invoices,not_due,days_1_30,days_31_60,days_61_90,over_90,disputed,total,procedure\n",
        );
        // Amounts are numbers formatted here: written as they are, never prefixed (`csv_cell`).
        let amounts = |b: &Buckets| {
            b.cells()
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        for (rows, totals, label) in [
            (&self.rows, &self.totals, "TOTAL"),
            (&self.apart, &self.apart_totals, "TOTAL PROCEDURE"),
        ] {
            for r in rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    csv_cell(&r.customer),
                    csv_cell(r.name.as_deref().unwrap_or("")),
                    csv_cell(&r.currency),
                    r.invoices,
                    amounts(&r.buckets),
                    csv_cell(r.procedure.as_deref().unwrap_or(""))
                ));
            }
            for (currency, b) in totals {
                let count: usize = rows
                    .iter()
                    .filter(|r| &r.currency == currency)
                    .map(|r| r.invoices)
                    .sum();
                out.push_str(&format!(
                    "{label},,{},{count},{},\n",
                    csv_cell(currency),
                    amounts(b)
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_edges() {
        let mut b = Buckets::default();
        for (late, amount) in [
            (0, 1),
            (1, 2),
            (30, 4),
            (31, 8),
            (60, 16),
            (61, 32),
            (90, 64),
            (91, 128),
        ] {
            b.add(late, Decimal::from(amount), Decimal::ZERO);
        }
        b.add(200, Decimal::from(1000), Decimal::from(400));
        assert_eq!(b.not_due, Decimal::from(1));
        assert_eq!(b.days_1_30, Decimal::from(6));
        assert_eq!(b.days_31_60, Decimal::from(24));
        assert_eq!(b.days_61_90, Decimal::from(96));
        assert_eq!(b.over_90, Decimal::from(728));
        assert_eq!(b.disputed, Decimal::from(400));
        assert_eq!(b.total, Decimal::from(1255));
    }
}
