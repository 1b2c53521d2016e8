//! Days sales outstanding and its companions at a date, for one currency: DSO by the simple
//! formula and by the countback method (épuisement du chiffre d'affaires), best possible DSO,
//! average days delinquent and the collection effectiveness index (CEI), over the period and
//! over N calendar months (the Credit Research Foundation's form, and the monthly figures with
//! their sum). The countback states its month convention: calendar months (the default) or
//! 30-day months.
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
    /// How the countback counts a month's days.
    pub month_convention: MonthConvention,
    /// The CEI over this many calendar months ending with the report's month (0: not computed).
    pub cei_months: u32,
}

/// How many days a month adds to the countback DSO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonthConvention {
    /// Its real number of days (28 to 31); the report's month counts from its 1st to the report
    /// date.
    #[default]
    Calendar,
    /// 30 days each, as banks' 30/360 count does; the report's month counts 30 days when the
    /// report date is its last day, else the report date's day of the month (at most 30).
    #[serde(rename = "30-day")]
    ThirtyDay,
}

impl MonthConvention {
    /// The days the slice `from..=to` of one month adds when it is consumed whole.
    fn days(self, from: NaiveDate, to: NaiveDate) -> Decimal {
        match self {
            MonthConvention::Calendar => Decimal::from(crate::reports::days(from, to) + 1),
            MonthConvention::ThirtyDay => {
                let month_end = to.succ_opt().is_none_or(|next| next.month() != to.month());
                Decimal::from(if month_end { 30 } else { to.day().min(30) })
            }
        }
    }

    /// Its name in CSV and JSON.
    fn name(self) -> &'static str {
        match self {
            MonthConvention::Calendar => "calendar",
            MonthConvention::ThirtyDay => "30-day",
        }
    }

    fn label(self) -> &'static str {
        match self {
            MonthConvention::Calendar => "calendar months",
            MonthConvention::ThirtyDay => "30-day months",
        }
    }
}

/// One calendar month of the N-month CEI: receivables on the day before its first day, its
/// credit sales, and the receivables (all, and not yet due) on its last day (the report's
/// month ends on the report date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CeiMonth {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub beginning_receivables: Decimal,
    pub sales: Decimal,
    pub ending_receivables: Decimal,
    pub ending_current_receivables: Decimal,
    /// This month's CEI, in percent.
    pub cei: Option<Decimal>,
}

/// The CEI over N calendar months.
///
/// The Credit Research Foundation's formula ("Performance Measures for Credit, Collections and
/// Accounts Receivable", CRF; quoted by the Credit Management Association, "Collection
/// Effectiveness Index (CEI)", 3 September 2010):
///
/// ```text
/// CEI = (Beginning Receivables + Credit Sales / N − Ending Total Receivables)
///     / (Beginning Receivables + Credit Sales / N − Ending Current Receivables) × 100
/// ```
///
/// with N the number of months, the beginning receivables those of the first month and the
/// ending ones those of the report date (`crf`). Beside it, each month's own CEI and their sum
/// form, Σ(BR + S − ETR) / Σ(BR + S − ECR) × 100 (`monthly_sum`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CeiOverMonths {
    pub months_count: u32,
    pub crf: Option<Decimal>,
    pub monthly_sum: Option<Decimal>,
    pub months: Vec<CeiMonth>,
}

impl Default for DsoOptions {
    fn default() -> Self {
        DsoOptions {
            period_days: 90,
            currency: "EUR".into(),
            max_months: 24,
            month_convention: MonthConvention::Calendar,
            cei_months: 3,
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
    /// How the countback counted the months.
    pub countback_months: MonthConvention,
    /// The CEI over N calendar months (absent when `cei_months` is 0).
    pub cei_over_months: Option<CeiOverMonths>,
}

/// A CEI in percent, absent when its denominator is not positive.
fn cei_ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    (denominator > Decimal::ZERO).then(|| round(numerator / denominator * Decimal::ONE_HUNDRED))
}

/// The CEI over the `n` calendar months ending with the month of `at` (see [`CeiOverMonths`]).
pub fn cei_over_months(
    portfolio: &Portfolio,
    at: NaiveDate,
    currency: &str,
    n: u32,
) -> CeiOverMonths {
    let mut months = Vec::new();
    let mut to = at;
    for _ in 0..n.max(1) {
        let from = to.with_day(1).unwrap_or(to);
        let before = from.pred_opt().unwrap_or(from);
        let (beginning, _) = receivables(portfolio, before, currency);
        let (ending, ending_current) = receivables(portfolio, to, currency);
        let month_sales = sales(portfolio, from, to, currency);
        months.push(CeiMonth {
            from,
            to,
            beginning_receivables: beginning,
            sales: month_sales,
            ending_receivables: ending,
            ending_current_receivables: ending_current,
            cei: cei_ratio(
                beginning + month_sales - ending,
                beginning + month_sales - ending_current,
            ),
        });
        to = before;
    }
    months.reverse();
    let count = Decimal::from(months.len() as u32);
    let total_sales: Decimal = months.iter().map(|m| m.sales).sum();
    let first = months[0].beginning_receivables;
    let last = &months[months.len() - 1];
    let crf = cei_ratio(
        first + total_sales / count - last.ending_receivables,
        first + total_sales / count - last.ending_current_receivables,
    );
    let sum = |f: &dyn Fn(&CeiMonth) -> Decimal| months.iter().map(f).sum::<Decimal>();
    let monthly_sum = cei_ratio(
        sum(&|m| m.beginning_receivables + m.sales - m.ending_receivables),
        sum(&|m| m.beginning_receivables + m.sales - m.ending_current_receivables),
    );
    CeiOverMonths {
        months_count: months.len() as u32,
        crf,
        monthly_sum,
        months,
    }
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
        let month_days = options.month_convention.days(from, to);
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
        countback_months: options.month_convention,
        cei_over_months: (options.cei_months > 0)
            .then(|| cei_over_months(portfolio, at, currency, options.cei_months)),
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
             DSO (countback)        {}{} ({})\n\
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
            self.countback_months.label(),
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
        if let Some(c) = &self.cei_over_months {
            out.push_str(&format!(
                "CEI over {} months (CRF) {}\n\
                 CEI, monthly sum        {}\n",
                c.months_count,
                show(c.crf, " %"),
                show(c.monthly_sum, " %"),
            ));
            for m in &c.months {
                out.push_str(&format!(
                    "  CEI {}..{}: begin {:.2}, sales {:.2}, end {:.2}, end current {:.2}: {}\n",
                    m.from,
                    m.to,
                    m.beginning_receivables,
                    m.sales,
                    m.ending_receivables,
                    m.ending_current_receivables,
                    show(m.cei, " %")
                ));
            }
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
            ("countback_months", self.countback_months.name().to_string()),
            (
                "cei_months",
                self.cei_over_months
                    .as_ref()
                    .map(|c| c.months_count.to_string())
                    .unwrap_or_default(),
            ),
            (
                "cei_crf",
                opt(self.cei_over_months.as_ref().and_then(|c| c.crf)),
            ),
            (
                "cei_monthly_sum",
                opt(self.cei_over_months.as_ref().and_then(|c| c.monthly_sum)),
            ),
        ];
        // Every value but the currency is a date or a number this report formats itself.
        let mut out = String::from("indicator,value\n");
        for (k, v) in rows {
            out.push_str(&format!("{k},{v}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The days a month slice adds under each convention, by hand: a whole January is 31
    /// calendar days or 30; February 2026 (ending on its 28th, its last day) 28 or 30; a report
    /// on 15 April counts 15 days either way; a report on 28 February 2024 (a leap year, not the
    /// month's last day) 28 either way.
    #[test]
    fn month_days_by_convention() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        let cases = [
            ("2026-01-01", "2026-01-31", 31, 30),
            ("2026-02-01", "2026-02-28", 28, 30),
            ("2026-04-01", "2026-04-15", 15, 15),
            ("2024-02-01", "2024-02-28", 28, 28),
            ("2024-02-01", "2024-02-29", 29, 30),
        ];
        for (from, to, calendar, thirty) in cases {
            assert_eq!(
                MonthConvention::Calendar.days(d(from), d(to)),
                Decimal::from(calendar),
                "{from}..{to}"
            );
            assert_eq!(
                MonthConvention::ThirtyDay.days(d(from), d(to)),
                Decimal::from(thirty),
                "{from}..{to}"
            );
        }
    }
}
