//! Customers: the list (`/console/customers`: search by id or name, sort by outstanding,
//! name, risk or scenario, paginated) and a customer's page (`/console/customers/{id}`): its
//! balance and aged buckets, contacts, open invoices, what happened (each invoice's recorded
//! transitions), what the engine will do next (the case's next tick, as the API's customer
//! view says it), what it holds for the customer (messages the contact cadence holds back and
//! the day each goes, the account's level under a `per customer` scenario and since when, the
//! installments of its open invoices with what each still owes), open disputes and promises;
//! and the promise and dispute forms, which write
//! the API's typed `promise_made` and `dispute_opened` events.
//!
//! The list searches and sorts through the customer list's index the engine keeps in step
//! with every commit (`relance_daemon::customer_index`, read with `Kept::customers`): a page
//! view is one pass over that index in memory, then a read of the 50 customers shown. Totals
//! come from the ledger the engine keeps (`Engine::customer_sums`). This module must not hold
//! engine rules.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use minijinja::context;
use relance_core::domain::{Event, EventKind};
use relance_core::runtime::Status;
use relance_daemon::api::auth::Family;
use relance_daemon::customer_index::{CustomerIndex, Listed as Indexed, OnDay};
use relance_daemon::driver::CurrencySums;
use relance_daemon::{DaemonError, Engine};
use relance_templates::filters::{self, DateForm};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::today::amount_field;
use super::web::{Console, Fail, Query, Signed, blocking, durable};

/// Customers per page of the list.
const PAGE: usize = 50;
/// Invoices read for a customer's page.
const INVOICES: usize = 200;

#[derive(Serialize)]
struct ListRow {
    id: String,
    name: String,
    /// One line per currency (never summed across currencies).
    outstanding: Vec<String>,
    overdue: Vec<String>,
    days_late: i64,
    open: u64,
    disputes: u64,
    promises: u64,
    risk: i64,
    scenario: String,
}

/// The sort keys of the list (overdue first: the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Overdue,
    Id,
    Outstanding,
    Name,
    Risk,
    Scenario,
}

impl Sort {
    pub fn parse(s: &str) -> Sort {
        match s {
            "id" => Sort::Id,
            "outstanding" => Sort::Outstanding,
            "name" => Sort::Name,
            "risk" => Sort::Risk,
            "scenario" => Sort::Scenario,
            _ => Sort::Overdue,
        }
    }
}

/// Whether customer `id` (with what the index holds of it) matches `q`, already lowercased.
fn matches(id: &str, c: &Indexed, q: &str) -> bool {
    id.to_lowercase().contains(q)
        || c.name
            .as_ref()
            .is_some_and(|n| n.to_lowercase().contains(q))
}

struct Listed {
    rows: Vec<ListRow>,
    page: usize,
    more: bool,
}

/// A customer of the index with its figures per currency on the day (read only when the sort
/// needs them).
struct Found<'a> {
    id: &'a str,
    customer: &'a Indexed,
    currencies: Vec<OnDay<'a>>,
}

impl Found<'_> {
    /// Days late of the oldest overdue invoice, in any currency (0 when nothing is overdue).
    fn days_late(&self, today: NaiveDate) -> i64 {
        self.currencies
            .iter()
            .filter_map(|c| c.oldest_due)
            .min()
            .map_or(0, |d| (today - d).num_days().max(0))
    }

    /// The currency the amount sorts go by: that of the oldest overdue invoice for `overdue`,
    /// else the first (alphabetical) with something outstanding; and the amount in it. Amounts
    /// of two currencies are never added: a customer sorts among those of its currency.
    fn sort_amount(&self, overdue: bool) -> (String, Decimal) {
        let pick = if overdue {
            self.currencies
                .iter()
                .filter(|c| c.oldest_due.is_some())
                .min_by_key(|c| c.oldest_due)
        } else {
            self.currencies.iter().find(|c| !c.outstanding.is_zero())
        };
        pick.map_or((String::new(), Decimal::ZERO), |c| {
            let a = if overdue { c.overdue } else { c.outstanding };
            (c.currency.to_string(), a)
        })
    }
}

/// Orders by amount within a currency: currencies in code order, larger amounts first.
fn by_amount(a: &(String, Decimal), b: &(String, Decimal)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then(b.1.cmp(&a.1))
}

/// The ids of page `page` of the customers matching `q` (lowercased) in `sort` order, and
/// whether more follow: one pass over the customer list's index, no read of the store.
fn page_ids(
    index: &CustomerIndex,
    q: &str,
    sort: Sort,
    page: usize,
    today: NaiveDate,
) -> (Vec<String>, bool) {
    let needs_sums = matches!(sort, Sort::Outstanding | Sort::Overdue);
    let mut found: Vec<Found> = index
        .customers()
        .filter(|(id, c, _)| q.is_empty() || matches(id, c, q))
        .map(|(id, customer, row)| Found {
            id,
            customer,
            currencies: if needs_sums {
                row.on(today)
            } else {
                Vec::new()
            },
        })
        .collect();
    // The index is in id order: `Sort::Id` needs nothing more, the others tie on the id.
    match sort {
        Sort::Id => {}
        Sort::Overdue => found.sort_by_cached_key(|f| {
            let (cur, amount) = f.sort_amount(true);
            (
                std::cmp::Reverse(f.days_late(today)),
                cur,
                std::cmp::Reverse(amount),
            )
        }),
        Sort::Outstanding => {
            found.sort_by(|a, b| by_amount(&a.sort_amount(false), &b.sort_amount(false)))
        }
        Sort::Name => found.sort_by(|a, b| a.customer.name.cmp(&b.customer.name)),
        Sort::Risk => found.sort_by_key(|f| std::cmp::Reverse(f.customer.risk_score)),
        Sort::Scenario => found.sort_by(|a, b| a.customer.scenario.cmp(&b.customer.scenario)),
    }
    let more = found.len() > (page + 1) * PAGE;
    let ids = found
        .iter()
        .skip(page * PAGE)
        .take(PAGE)
        .map(|f| f.id.to_string())
        .collect();
    (ids, more)
}

fn list_rows(
    engine: &Engine,
    q: &str,
    sort: Sort,
    page: usize,
    lang: &str,
) -> Result<Listed, DaemonError> {
    let today = engine.today();
    let q = q.to_lowercase();
    let (ids, more) = engine
        .kept()
        .customers(|index| page_ids(index, &q, sort, page, today))?;
    let mut rows = Vec::new();
    for id in ids {
        let Some(c) = engine.customer(&id)? else {
            continue;
        };
        let sums = engine.customer_sums(&id)?;
        let currencies = engine.customer_currencies(&id)?;
        let days_late = currencies
            .iter()
            .filter_map(|c| c.oldest_due)
            .min()
            .map_or(0, |d| (today - d).num_days().max(0));
        let shown = |pick: fn(&CurrencySums) -> Decimal| -> Vec<String> {
            currencies
                .iter()
                .filter(|x| !pick(x).is_zero())
                .map(|x| filters::money(pick(x), &x.currency, lang))
                .collect()
        };
        rows.push(ListRow {
            name: c.name.clone().unwrap_or_else(|| c.id.clone()),
            outstanding: shown(|x| x.sums.outstanding),
            overdue: shown(|x| x.overdue),
            days_late,
            open: sums.open,
            disputes: sums.disputes,
            promises: sums.promises,
            risk: c.risk_score,
            scenario: c.scenario.clone().unwrap_or_default(),
            id: c.id,
        });
    }
    Ok(Listed { rows, page, more })
}

pub async fn list(State(c): State<Arc<Console>>, s: Signed, query: Query) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let q = query.get("q").cloned().unwrap_or_default();
    let sort_name = query.get("sort").cloned().unwrap_or_default();
    let sort = Sort::parse(&sort_name);
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let engine = c.app.engine.clone();
    let lang = s.lang.code();
    let q2 = q.clone();
    match blocking(move || list_rows(&engine, q2.trim(), sort, page, lang)).await {
        Ok(l) => c.page(
            s.lang,
            Some(&s.session),
            "customers.html",
            context! {
                rows => l.rows, q, sort => sort_name, page => l.page,
                next => l.more.then_some(l.page + 1),
            },
        ),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

/// One bucket's amount of an [`Aged`].
type Pick = fn(&Aged) -> Decimal;

#[derive(Serialize, Default)]
struct Aged {
    not_due: Decimal,
    d30: Decimal,
    d60: Decimal,
    d90: Decimal,
    more: Decimal,
}

impl Aged {
    fn add(&mut self, late_days: i64, amount: Decimal) {
        let slot = match late_days {
            i64::MIN..=0 => &mut self.not_due,
            1..=30 => &mut self.d30,
            31..=60 => &mut self.d60,
            61..=90 => &mut self.d90,
            _ => &mut self.more,
        };
        *slot += amount;
    }
}

#[derive(Serialize)]
struct InvoiceRow {
    id: String,
    amount: String,
    outstanding: String,
    due: String,
    days_late: i64,
    state: String,
    scenario: String,
    next_step: Option<String>,
}

#[derive(Serialize)]
struct Dated {
    date: NaiveDate,
    shown: String,
    invoice: String,
    what: String,
}

/// What the engine holds for a customer outside its cases: the messages the contact cadence
/// holds back (with the day each goes) and its accounts under `per customer` scenarios.
struct Held {
    waiting: Vec<minijinja::Value>,
    accounts: Vec<minijinja::Value>,
}

fn held_for(engine: &Engine, id: &str, lang: &str) -> Result<Held, DaemonError> {
    let day = |d: NaiveDate| filters::date(d, DateForm::Short, lang);
    let waiting = relance_daemon::cadence::waiting_for(engine.store(), id)?
        .into_iter()
        .map(|m| {
            context! {
                goes => day(m.date), due_on => m.due_on.map(day), invoice => m.invoice,
                step => m.step, scenario => m.scenario, action => m.action.to_string(),
            }
        })
        .collect();
    let catalog = engine.catalog();
    let set = catalog.current().map(|d| &d.set);
    let accounts = relance_daemon::account::accounts_of(engine.store(), id)?
        .into_iter()
        .map(|(scenario, currency, rec)| {
            let level = rec
                .state
                .level
                .and_then(|i| relance_daemon::account::level_name(set, &scenario, i));
            context! {
                level, since => rec.state.since.map(day), invoices => rec.state.listed,
                scenario, currency,
            }
        })
        .collect();
    Ok(Held { waiting, accounts })
}

fn customer_view(
    engine: &Engine,
    id: &str,
    lang: &str,
) -> Result<Option<minijinja::Value>, DaemonError> {
    let Some(customer) = engine.customer(id)? else {
        return Ok(None);
    };
    let today = engine.today();
    let sums = engine.customer_sums(id)?;
    let (ids, more) = engine.customer_invoices_page(id, None, INVOICES)?;
    let mut aged: std::collections::BTreeMap<String, Aged> = Default::default();
    let (mut open, mut disputes, mut promises, mut next, mut past) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut installments = Vec::new();
    let money = |d: Decimal, cur: &str| filters::money(d, cur, lang);
    let day = |d: NaiveDate| filters::date(d, DateForm::Short, lang);
    for inv_id in &ids {
        let Some(inv) = engine.invoice(inv_id)? else {
            continue;
        };
        for h in engine.history(inv_id)? {
            past.push(Dated {
                date: h.date,
                shown: day(h.date),
                invoice: inv_id.clone(),
                what: h.cause,
            });
        }
        let Some(rec) = engine.case(inv_id)? else {
            continue;
        };
        let c = &rec.case;
        if !c.is_open() {
            continue;
        }
        let late = (today - inv.due).num_days();
        aged.entry(inv.currency.clone())
            .or_default()
            .add(late, c.outstanding);
        let step = engine.next_step(c);
        let unpaid = relance_core::runtime::installments::unpaid_each(&inv, c.outstanding);
        for (part, left) in inv.installments.iter().zip(unpaid) {
            installments.push(context! {
                invoice => inv_id, due => day(part.due), amount => money(part.amount, &inv.currency),
                unpaid => money(left, &inv.currency),
            });
        }
        open.push(InvoiceRow {
            id: inv_id.clone(),
            amount: money(inv.amount, &inv.currency),
            outstanding: money(c.outstanding, &inv.currency),
            due: day(inv.due),
            days_late: late.max(0),
            state: c.status.name().to_string(),
            scenario: c.scenario.clone(),
            next_step: step.clone(),
        });
        if let Some(d) = &c.dispute {
            disputes.push(context! {
                invoice => inv_id, code => d.code, opened => day(d.opened),
                amount => d.amount.map(|a| money(a, &inv.currency)),
            });
        }
        if let Some(p) = &c.promise {
            promises.push(context! {
                invoice => inv_id, date => day(p.date),
                amount => p.amount.map(|a| money(a, &inv.currency)),
            });
        }
        if let Some(w) = rec.wake {
            let what = match (&c.status, &step) {
                (Status::Waiting { reason, .. }, _) => format!("end of wait ({reason})"),
                (_, Some(step)) => format!("step {step}"),
                _ => "promise check".to_string(),
            };
            next.push(Dated {
                date: w,
                shown: day(w),
                invoice: inv_id.clone(),
                what,
            });
        }
    }
    next.sort_by_key(|a| a.date);
    past.sort_by_key(|p| std::cmp::Reverse(p.date));
    let contacts: Vec<_> = customer
        .contacts
        .iter()
        .map(|(role, c)| {
            context! { role, name => c.name, email => c.email, phone => c.phone }
        })
        .collect();
    // One column of aged buckets per currency (amounts of two currencies never added).
    let buckets: [(&str, Pick); 5] = [
        ("not_due", |a: &Aged| a.not_due),
        ("1–30", |a: &Aged| a.d30),
        ("31–60", |a: &Aged| a.d60),
        ("61–90", |a: &Aged| a.d90),
        ("> 90", |a: &Aged| a.more),
    ];
    let aged_rows: Vec<_> = buckets
        .iter()
        .map(|(k, f)| {
            let amounts: Vec<String> = aged.iter().map(|(cur, a)| money(f(a), cur)).collect();
            context! { bucket => k, amounts }
        })
        .collect();
    let outstanding: Vec<String> = engine
        .customer_currencies(id)?
        .iter()
        .filter(|c| !c.sums.outstanding.is_zero())
        .map(|c| money(c.sums.outstanding, &c.currency))
        .collect();
    let invoice_ids: Vec<String> = open.iter().map(|r| r.id.clone()).collect();
    let held = held_for(engine, id, lang)?;
    Ok(Some(context! {
        customer => context! {
            id => customer.id, name => customer.name.clone().unwrap_or(customer.id.clone()),
            risk => customer.risk_score, scenario => customer.scenario,
            segment => format!("{:?}", customer.segment).to_lowercase(),
        },
        outstanding => if outstanding.is_empty() { money(Decimal::ZERO, "EUR") } else { outstanding.join(" · ") },
        counts => context! { invoices => sums.invoices, open => sums.open, disputes => sums.disputes, promises => sums.promises },
        aged => aged_rows, aged_currencies => aged.keys().cloned().collect::<Vec<_>>(),
        contacts, open, disputes, promises, next, past, invoice_ids, more_invoices => more,
        waiting => held.waiting, accounts => held.accounts, installments,
    }))
}

pub async fn page(State(c): State<Arc<Console>>, s: Signed, Path(id): Path<String>) -> Response {
    if let Err(f) = s.require(Family::Read) {
        return c.fail(s.lang, Some(&s.session), f);
    }
    let engine = c.app.engine.clone();
    let lang = s.lang.code();
    match blocking(move || customer_view(&engine, &id, lang)).await {
        Ok(Some(ctx)) => c.page(s.lang, Some(&s.session), "customer.html", ctx),
        Ok(None) => c.fail(s.lang, Some(&s.session), Fail::NotFound),
        Err(f) => c.fail(s.lang, Some(&s.session), f),
    }
}

#[derive(Deserialize)]
pub struct PromiseForm {
    invoice: String,
    date: String,
    #[serde(default)]
    amount: String,
}

#[derive(Deserialize)]
pub struct DisputeForm {
    invoice: String,
    code: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    comment: String,
}

/// Writes `kind` on one of customer `id`'s invoices (refused for another customer's).
async fn write(c: &Console, s: &Signed, id: String, kind: EventKind) -> Result<(), Fail> {
    s.require(Family::DataWrite)?;
    let invoice = match &kind {
        EventKind::PromiseMade { invoice, .. } | EventKind::DisputeOpened { invoice, .. } => {
            invoice.clone()
        }
        _ => return Err(Fail::Bad("unsupported event".into())),
    };
    let engine = c.app.engine.clone();
    let owner = blocking(move || engine.invoice(&invoice)).await?;
    if owner.is_none_or(|inv| inv.customer != id) {
        return Err(Fail::NotFound);
    }
    durable(c, move |e| {
        let date = e.today();
        e.apply_events(&[Event { date, kind }])
    })
    .await
    .map(|_| ())
}

pub fn back(id: &str) -> Response {
    Redirect::to(&format!("/console/customers/{}", urlencode(id))).into_response()
}

/// A URL path segment or query value, percent-encoded (every byte but RFC 3986's unreserved
/// characters); the templates' `urlencode` filter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub async fn promise(
    State(c): State<Arc<Console>>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<PromiseForm>,
) -> Response {
    let run = async {
        let date = NaiveDate::parse_from_str(f.date.trim(), "%Y-%m-%d")
            .map_err(|_| Fail::Bad(format!("date: `{}` is not a date (YYYY-MM-DD)", f.date)))?;
        let amount = amount_field("amount", &f.amount)?;
        let kind = EventKind::PromiseMade {
            invoice: f.invoice.clone(),
            promised_date: date,
            amount,
        };
        write(&c, &s, id.clone(), kind).await
    };
    match run.await {
        Ok(()) => back(&id),
        Err(fail) => c.fail(s.lang, Some(&s.session), fail),
    }
}

pub async fn dispute(
    State(c): State<Arc<Console>>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<DisputeForm>,
) -> Response {
    let run = async {
        let code = f.code.trim();
        if code.is_empty() {
            return Err(Fail::Bad("code: a dispute needs a code".into()));
        }
        let kind = EventKind::DisputeOpened {
            invoice: f.invoice.clone(),
            code: code.to_string(),
            amount: amount_field("amount", &f.amount)?,
            target_date: None,
            comment: Some(f.comment.trim().to_string()).filter(|c| !c.is_empty()),
        };
        write(&c, &s, id.clone(), kind).await
    };
    match run.await {
        Ok(()) => back(&id),
        Err(fail) => c.fail(s.lang, Some(&s.session), fail),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_percent_encoded_in_urls() {
        let rows = [
            ("C-1", "C-1"),
            ("A B/2", "A%20B%2F2"),
            ("é+&", "%C3%A9%2B%26"),
        ];
        for (id, want) in rows {
            assert_eq!(super::urlencode(id), want);
        }
    }
}
