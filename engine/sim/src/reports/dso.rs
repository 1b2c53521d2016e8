//! Days sales outstanding and its companions at a date, for one currency: DSO by the simple
//! formula and by the countback method (épuisement du chiffre d'affaires), best possible DSO,
//! average days delinquent and the collection effectiveness index.
//!
//! Credit sales are the amounts of the invoices issued (including taxes, as receivables are);
//! receivables are what [`replay`](super::replay) says was still owed, disputes included. The
//! formulas are in `docs/REPORTS.md`; every figure is a `Decimal` rounded to one decimal at the
//! end, and a ratio whose denominator is zero is absent (`None`), never infinite.

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use super::replay;
use relance_core::domain::Portfolio;

/// The parameters of a DSO computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsoOptions {
    /// The period of the simple formula, best possible DSO and CEI, ending on the report date.
    pub period_days: u32,
    /// Only invoices in this currency count.
    pub currency: String,
    /// How many months the countback may go back at most.
    pub max_months: u32,
}

impl Default for DsoOptions {
    fn default() -> Self {
        DsoOptions {
            period_days: 90,
            currency: "EUR".into(),
            max_months: 24,
        }
    }
}

/// One month consumed by the countback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountbackMonth {
    /// First and last day of the slice (the report's month stops at the report date).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub sales: Decimal,
    /// Days this month adds to the DSO (all of them, or a share).
    pub days: Decimal,
}

/// The indicators at a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dso {
    pub at: NaiveDate,
    pub currency: String,
    pub period_days: u32,
    /// Receivables at the report date (disputed amounts included).
    pub receivables: Decimal,
    /// The part not yet due.
    pub current_receivables: Decimal,
    /// Receivables at the start of the period (the day before its first day).
    pub beginning_receivables: Decimal,
    /// Credit sales over the period.
    pub sales: Decimal,
    pub simple_dso: Option<Decimal>,
    pub countback_dso: Option<Decimal>,
    /// Whether the countback ran out of months before the receivables were exhausted.
    pub countback_truncated: bool,
    pub countback: Vec<CountbackMonth>,
    pub best_possible_dso: Option<Decimal>,
    pub average_days_delinquent: Option<Decimal>,
    /// Collection effectiveness index, in percent.
    pub cei: Option<Decimal>,
}

/// Receivables (all, and those not yet due) in `currency` on `at`.
fn receivables(portfolio: &Portfolio, at: NaiveDate, currency: &str) -> (Decimal, Decimal) {
    let mut total = Decimal::ZERO;
    let mut current = Decimal::ZERO;
    for s in replay(portfolio, at) {
        let inv = &portfolio.invoices[s.index];
        if inv.currency != currency {
            continue;
        }
        total += s.open;
        if inv.due >= at {
            current += s.open;
        }
    }
    (total, current)
}

/// Credit sales in `currency` issued from `from` to `to`, inclusive.
fn sales(portfolio: &Portfolio, from: NaiveDate, to: NaiveDate, currency: &str) -> Decimal {
    portfolio
        .invoices
        .iter()
        .filter(|i| i.currency == currency && i.issued >= from && i.issued <= to)
        .map(|i| i.amount)
        .sum()
}

fn round(d: Decimal) -> Decimal {
    d.round_dp(1)
}

/// The indicators of `portfolio` on `at`.
pub fn dso(portfolio: &Portfolio, at: NaiveDate, options: &DsoOptions) -> Dso {
    let currency = options.currency.as_str();
    let days = Decimal::from(options.period_days.max(1));
    let start = at
        .checked_sub_days(Days::new(u64::from(options.period_days.max(1)) - 1))
        .unwrap_or(at);
    let before = start.pred_opt().unwrap_or(start);
    let (receivables_now, current) = receivables(portfolio, at, currency);
    let (beginning, _) = receivables(portfolio, before, currency);
    let period_sales = sales(portfolio, start, at, currency);
    let ratio = |num: Decimal| (period_sales > Decimal::ZERO).then(|| num / period_sales * days);
    let simple = ratio(receivables_now);
    let best = ratio(current);

    // Countback: consume the receivables with the most recent months' sales.
    let mut remaining = receivables_now;
    let mut total_days = Decimal::ZERO;
    let mut months = Vec::new();
    let mut to = at;
    let mut truncated = false;
    for k in 0..options.max_months.max(1) {
        if remaining <= Decimal::ZERO {
            break;
        }
        let from = to.with_day(1).unwrap_or(to);
        let month_days = Decimal::from(crate::reports::days(from, to) + 1);
        let month_sales = sales(portfolio, from, to, currency);
        let used = if month_sales > Decimal::ZERO && remaining < month_sales {
            let share = remaining / month_sales * month_days;
            remaining = Decimal::ZERO;
            share
        } else {
            remaining -= month_sales;
            month_days
        };
        total_days += used;
        months.push(CountbackMonth {
            from,
            to,
            sales: month_sales,
            days: round(used),
        });
        to = match from.pred_opt() {
            Some(d) => d,
            None => break,
        };
        if k + 1 == options.max_months.max(1) && remaining > Decimal::ZERO {
            truncated = true;
        }
    }
    let countback =
        (receivables_now > Decimal::ZERO || period_sales > Decimal::ZERO).then_some(total_days);

    let cei = {
        let numerator = beginning + period_sales - receivables_now;
        let denominator = beginning + period_sales - current;
        (denominator > Decimal::ZERO).then(|| round(numerator / denominator * Decimal::ONE_HUNDRED))
    };
    Dso {
        at,
        currency: currency.to_string(),
        period_days: options.period_days,
        receivables: receivables_now,
        current_receivables: current,
        beginning_receivables: beginning,
        sales: period_sales,
        simple_dso: simple.map(round),
        countback_dso: countback.map(round),
        countback_truncated: truncated,
        countback: months,
        best_possible_dso: best.map(round),
        average_days_delinquent: simple.zip(best).map(|(s, b)| round(s - b)),
        cei,
    }
}

impl Dso {
    /// A readable summary.
    pub fn to_text(&self) -> String {
        let show = |d: Option<Decimal>, unit: &str| {
            d.map_or_else(|| "n/a".to_string(), |d| format!("{d}{unit}"))
        };
        let mut out = format!(
            "DSO at {} ({}, period {} days)\n\
             receivables            {:.2}\n\
             of which not yet due   {:.2}\n\
             at period start        {:.2}\n\
             credit sales (period)  {:.2}\n\
             DSO (simple)           {}\n\
             DSO (countback)        {}{}\n\
             best possible DSO      {}\n\
             average days delinquent {}\n\
             CEI                    {}\n",
            self.at,
            self.currency,
            self.period_days,
            self.receivables,
            self.current_receivables,
            self.beginning_receivables,
            self.sales,
            show(self.simple_dso, " days"),
            show(self.countback_dso, " days"),
            if self.countback_truncated {
                " (or more: sales history exhausted)"
            } else {
                ""
            },
            show(self.best_possible_dso, " days"),
            show(self.average_days_delinquent, " days"),
            show(self.cei, " %"),
        );
        for m in &self.countback {
            out.push_str(&format!(
                "  countback {}..{}: sales {:.2}, {} days\n",
                m.from, m.to, m.sales, m.days
            ));
        }
        out
    }

    /// CSV: one `indicator,value` line per figure.
    pub fn to_csv(&self) -> String {
        let opt = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        let rows = [
            ("at", self.at.to_string()),
            ("currency", super::csv_cell(&self.currency)),
            ("period_days", self.period_days.to_string()),
            ("receivables", self.receivables.to_string()),
            ("current_receivables", self.current_receivables.to_string()),
            (
                "beginning_receivables",
                self.beginning_receivables.to_string(),
            ),
            ("sales", self.sales.to_string()),
            ("simple_dso", opt(self.simple_dso)),
            ("countback_dso", opt(self.countback_dso)),
            ("best_possible_dso", opt(self.best_possible_dso)),
            ("average_days_delinquent", opt(self.average_days_delinquent)),
            ("cei", opt(self.cei)),
        ];
        // Every value but the currency is a date or a number this report formats itself.
        let mut out = String::from("indicator,value\n");
        for (k, v) in rows {
            out.push_str(&format!("{k},{v}\n"));
        }
        out
    }
}
