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
//!
//! Beside the buckets, each line discloses ([`Disclosure`]) what an aged balance must not hide:
//! the disputed invoices (number, amount, and the total without them, as article D441-6 IV of
//! the Code de commerce asks when they are left out), the credit notes deducted from the open
//! invoices, and the customer credits no invoice absorbed (overpayments, credit notes larger
//! than what their invoice still owed), shown apart and never netted against what is owed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{csv_cell, days, replay};
use relance_core::domain::{EventKind, Portfolio};

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
    #[serde(flatten)]
    pub disclosure: Disclosure,
}

/// What a line of the aged balance discloses beside its buckets.
///
/// Article D441-6 IV of the Code de commerce (as modified by décret n° 2021-211 of 24 February
/// 2021, art. 3), on the payment-term information of the management report: "Si les sociétés
/// excluent les factures relatives à des dettes et créances litigieuses […], elles l'indiquent
/// en commentaire et mentionnent le nombre et le montant total des factures concernées." Hence
/// the number and the amount of the disputed invoices (the whole open amount of an invoice
/// with a dispute open, not only its disputed part) and the total excluding them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Disclosure {
    /// Open invoices with a dispute open on the report date.
    pub disputed_invoices: usize,
    /// What those invoices still owe, in full.
    pub disputed_invoices_amount: Decimal,
    /// `total` − `disputed_invoices_amount`: what is owed on invoices without a dispute.
    pub total_excluding_disputed: Decimal,
    /// Credit notes dated by the report date on the invoices still open: already deducted from
    /// their open amounts (the buckets), disclosed here.
    pub credit_notes: Decimal,
    /// Payments and credit notes beyond what their invoice still owed when they came (an
    /// overpayment, a credit after the invoice was settled): a credit of the customer, never
    /// deducted from the buckets or the total.
    pub unallocated_credits: Decimal,
}

impl Disclosure {
    fn merge(&mut self, other: &Disclosure) {
        self.disputed_invoices += other.disputed_invoices;
        self.disputed_invoices_amount += other.disputed_invoices_amount;
        self.total_excluding_disputed += other.total_excluding_disputed;
        self.credit_notes += other.credit_notes;
        self.unallocated_credits += other.unallocated_credits;
    }

    fn cells(&self) -> [String; 5] {
        [
            self.disputed_invoices.to_string(),
            self.disputed_invoices_amount.to_string(),
            self.total_excluding_disputed.to_string(),
            self.credit_notes.to_string(),
            self.unallocated_credits.to_string(),
        ]
    }
}

/// The credits of every invoice issued by `at`, from the events dated by `at`: (credit notes,
/// payments and credit notes together, less reversed payments), by invoice index.
fn credits(portfolio: &Portfolio, at: NaiveDate) -> Vec<(Decimal, Decimal)> {
    let index: std::collections::HashMap<&str, usize> = portfolio
        .invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| (inv.id.as_str(), i))
        .collect();
    let mut out = vec![(Decimal::ZERO, Decimal::ZERO); portfolio.invoices.len()];
    for e in portfolio.events.iter().filter(|e| e.date <= at) {
        let (invoice, amount, note) = match &e.kind {
            EventKind::Payment {
                invoice, amount, ..
            } => (invoice, *amount, false),
            EventKind::CreditNote { invoice, amount } => (invoice, *amount, true),
            // A payment that came back was never received: owed again (replay re-opens it),
            // not a credit of the customer.
            EventKind::PaymentReversed {
                invoice, amount, ..
            } => (invoice, -*amount, false),
            _ => continue,
        };
        if let Some(&i) = index.get(invoice.as_str()) {
            if note {
                out[i].0 += amount;
            }
            out[i].1 += amount;
        }
    }
    out
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
    /// The [`Disclosure`] totals by currency of `rows`.
    pub disclosure_totals: BTreeMap<String, Disclosure>,
    /// The [`Disclosure`] totals by currency of `apart`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub apart_disclosure_totals: BTreeMap<String, Disclosure>,
}

const DISCLOSURE_HEADERS: [&str; 5] = [
    "disputed inv",
    "disputed inv amount",
    "total excl disputed",
    "credit notes",
    "unallocated credits",
];

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
    let credits = credits(portfolio, at);
    for state in replay(portfolio, at) {
        let inv = &portfolio.invoices[state.index];
        let (notes, all) = credits[state.index];
        // What the replay applied: the opening amount less what is open (a write-off wipes
        // the rest, so credits up to the amount count as applied); the rest is the customer's.
        let applied = inv.opening_outstanding() - state.open;
        let unallocated = (all - applied).max(Decimal::ZERO);
        if state.open <= Decimal::ZERO && unallocated == Decimal::ZERO {
            continue;
        }
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
                disclosure: Disclosure::default(),
            });
        row.disclosure.unallocated_credits += unallocated;
        if state.open <= Decimal::ZERO {
            continue;
        }
        row.invoices += 1;
        row.buckets
            .add(days(inv.due, at), state.open, state.disputed);
        let d = &mut row.disclosure;
        d.credit_notes += notes.min(applied.max(Decimal::ZERO));
        if state.disputed > Decimal::ZERO {
            d.disputed_invoices += 1;
            d.disputed_invoices_amount += state.open;
        } else {
            d.total_excluding_disputed += state.open;
        }
    }
    let (apart, rows): (Vec<AgedRow>, Vec<AgedRow>) =
        rows.into_values().partition(|r| r.procedure.is_some());
    let (totals, disclosure_totals) = totals_of(&rows);
    let (apart_totals, apart_disclosure_totals) = totals_of(&apart);
    AgedBalance {
        at,
        totals,
        apart_totals,
        disclosure_totals,
        apart_disclosure_totals,
        rows,
        apart,
    }
}

type Totals = (BTreeMap<String, Buckets>, BTreeMap<String, Disclosure>);

/// The bucket and disclosure totals of `rows` by currency.
fn totals_of(rows: &[AgedRow]) -> Totals {
    let mut totals: BTreeMap<String, Buckets> = BTreeMap::new();
    let mut disclosures: BTreeMap<String, Disclosure> = BTreeMap::new();
    for row in rows {
        totals
            .entry(row.currency.clone())
            .or_default()
            .merge(&row.buckets);
        disclosures
            .entry(row.currency.clone())
            .or_default()
            .merge(&row.disclosure);
    }
    (totals, disclosures)
}

impl AgedBalance {
    /// A readable table, amounts right-aligned, one total line per currency; customers under
    /// a collective procedure follow in a table of their own.
    pub fn to_text(&self) -> String {
        let mut out = format!("Aged balance at {}\n", self.at);
        out.push_str(&table(&self.rows, &self.totals, &self.disclosure_totals));
        if self.rows.is_empty() {
            out.push_str("nothing outstanding\n");
        }
        if !self.apart.is_empty() {
            out.push_str(
                "\nUnder a collective procedure (claims frozen and declared to the mandataire \
                 judiciaire, L622-7; not in the totals above)\n",
            );
            out.push_str(&table(
                &self.apart,
                &self.apart_totals,
                &self.apart_disclosure_totals,
            ));
        }
        out.push_str(
            "disputed invoices are counted apart (article D441-6 IV Code de commerce); \
             credit notes are already deducted from the invoices they name; \
             unallocated credits are owed to the customers, not deducted from the total\n",
        );
        out
    }
}

/// The rows and their total lines as an aligned table.
fn table(
    rows: &[AgedRow],
    totals: &BTreeMap<String, Buckets>,
    disclosures: &BTreeMap<String, Disclosure>,
) -> String {
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["customer".to_string(), "ccy".into(), "inv".into()];
    head.extend(HEADERS.iter().map(|h| h.to_string()));
    head.extend(DISCLOSURE_HEADERS.iter().map(|h| h.to_string()));
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
        line.extend(text_disclosure(&r.disclosure));
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
        line.extend(text_disclosure(
            &disclosures.get(currency).cloned().unwrap_or_default(),
        ));
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
            "customer,name,currency,invoices,not_due,days_1_30,days_31_60,days_61_90,over_90,disputed,total,\
             disputed_invoices,disputed_invoices_amount,total_excluding_disputed,credit_notes,unallocated_credits,procedure\n",
        );
        // Amounts are numbers formatted here: written as they are, never prefixed (`csv_cell`).
        let amounts = |b: &Buckets| {
            b.cells()
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        for (rows, totals, disclosures, label) in [
            (&self.rows, &self.totals, &self.disclosure_totals, "TOTAL"),
            (
                &self.apart,
                &self.apart_totals,
                &self.apart_disclosure_totals,
                "TOTAL PROCEDURE",
            ),
        ] {
            for r in rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    csv_cell(&r.customer),
                    csv_cell(r.name.as_deref().unwrap_or("")),
                    csv_cell(&r.currency),
                    r.invoices,
                    amounts(&r.buckets),
                    r.disclosure.cells().join(","),
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
                    "{label},,{},{count},{},{},\n",
                    csv_cell(currency),
                    amounts(b),
                    disclosures
                        .get(currency)
                        .cloned()
                        .unwrap_or_default()
                        .cells()
                        .join(",")
                ));
            }
        }
        out
    }
}

/// The disclosure cells of the text table: the count, then amounts to the cent.
fn text_disclosure(d: &Disclosure) -> Vec<String> {
    vec![
        d.disputed_invoices.to_string(),
        format!("{:.2}", d.disputed_invoices_amount),
        format!("{:.2}", d.total_excluding_disputed),
        format!("{:.2}", d.credit_notes),
        format!("{:.2}", d.unallocated_credits),
    ]
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
