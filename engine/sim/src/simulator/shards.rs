//! Shards: a portfolio split by customer into independent simulators.
//!
//! A case reads and moves only its own customer's state (totals, payment log, risk), so
//! customers can run apart. The split follows the timeline's order: customers are sorted by
//! id (byte order, as entries sort) and cut into `k` ranges of about as many invoices each,
//! so concatenating the shards' entries of a day, shard by shard, gives the day sorted.
//! Within a shard every order of the whole run is kept (invoices and events in portfolio
//! order, restricted to the shard). This module only partitions; it runs nothing.

use rustc_hash::FxHashMap;

use relance_core::domain::{Event, Portfolio};

/// The positions (in the portfolio) of one shard's customers and invoices, in portfolio
/// order.
#[derive(Debug, Default)]
pub(super) struct Part {
    pub customers: Vec<usize>,
    pub invoices: Vec<usize>,
}

/// Whom an event concerns, by position within its shard: found once, when events are routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Invoice(usize),
    Customer(usize),
    /// No known invoice or customer: a run skips the event.
    Nobody,
}

/// The whole split.
#[derive(Debug)]
pub(super) struct Parts<'p> {
    pub shards: Vec<Part>,
    /// Each invoice's customer position (`usize::MAX` for an unknown customer).
    pub invoice_customer: Vec<usize>,
    /// Each invoice's shard and position within it.
    invoice_place: Vec<(usize, usize)>,
    /// Each customer's shard and position within it.
    customer_place: Vec<(usize, usize)>,
    /// Customer id → position in the portfolio (the last one for a repeated id).
    customer_index: FxHashMap<&'p str, usize>,
}

impl Parts<'_> {
    /// A customer's position within its shard (`usize::MAX` stays unknown).
    pub fn local_customer(&self, c: usize) -> usize {
        self.customer_place
            .get(c)
            .map_or(usize::MAX, |place| place.1)
    }
}

/// Splits `portfolio` into `k` shards (see the module doc). Invoices of an unknown customer
/// go to shard 0, where they never open, as in a whole run.
pub(super) fn split(portfolio: &Portfolio, k: usize) -> Parts<'_> {
    let customers = &portfolio.customers;
    let customer_index: FxHashMap<&str, usize> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let invoice_customer: Vec<usize> = portfolio
        .invoices
        .iter()
        .map(|inv| {
            customer_index
                .get(inv.customer.as_str())
                .copied()
                .unwrap_or(usize::MAX)
        })
        .collect();
    let shard_of = ranges(portfolio, &invoice_customer, k);
    let mut shards: Vec<Part> = (0..k).map(|_| Part::default()).collect();
    let mut customer_place = Vec::with_capacity(shard_of.len());
    for (c, &s) in shard_of.iter().enumerate() {
        customer_place.push((s, shards[s].customers.len()));
        shards[s].customers.push(c);
    }
    let mut invoice_place = Vec::with_capacity(invoice_customer.len());
    for (i, &c) in invoice_customer.iter().enumerate() {
        let s = shard_of.get(c).copied().unwrap_or(0);
        invoice_place.push((s, shards[s].invoices.len()));
        shards[s].invoices.push(i);
    }
    Parts {
        shards,
        invoice_customer,
        invoice_place,
        customer_place,
        customer_index,
    }
}

/// Each customer's shard: customers in id order, cut where the invoices seen so far reach
/// the next `1/k` of all invoices. Customers sharing an id stay together.
fn ranges(portfolio: &Portfolio, invoice_customer: &[usize], k: usize) -> Vec<usize> {
    let customers = &portfolio.customers;
    let mut shard_of = vec![0; customers.len()];
    if k == 1 {
        return shard_of;
    }
    let mut invoices = vec![0usize; customers.len()];
    for &c in invoice_customer.iter().filter(|&&c| c != usize::MAX) {
        invoices[c] += 1;
    }
    let total = invoices.iter().sum::<usize>().max(1);
    let mut by_id: Vec<usize> = (0..customers.len()).collect();
    by_id.sort_by(|&a, &b| customers[a].id.cmp(&customers[b].id));
    let (mut seen, mut previous) = (0usize, None::<(&str, usize)>);
    for c in by_id {
        let id = customers[c].id.as_str();
        let s = match previous {
            Some((same, s)) if same == id => s,
            _ => (seen * k / total).min(k - 1),
        };
        shard_of[c] = s;
        seen += invoices[c];
        previous = Some((id, s));
    }
    shard_of
}

/// Each shard's events, sorted by date (in file order within a day), with whom each
/// concerns in the shard: its invoice, or its customer (`risk_changed`, `contact_bounced`).
/// An event naming no known invoice or customer goes to shard 0 as `Target::Nobody`. A
/// repeated invoice id names its last invoice, as in a whole run.
pub(super) fn route_events<'p>(
    portfolio: &'p Portfolio,
    parts: &Parts<'_>,
) -> Vec<Vec<(&'p Event, Target)>> {
    let invoice_index: FxHashMap<&str, usize> = portfolio
        .invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| (inv.id.as_str(), i))
        .collect();
    let mut events: Vec<&Event> = portfolio.events.iter().collect();
    // Stable: a day's events in portfolio order (a data folder's is the canonical order of
    // `relance_core::fact_order`, `portfolio::load_dir`).
    events.sort_by_key(|e| e.date);
    let mut routed = vec![Vec::new(); parts.shards.len()];
    for ev in events {
        let (shard, target) = match ev.kind.invoice() {
            Some(id) => invoice_index.get(id).map(|&i| {
                let (shard, local) = parts.invoice_place[i];
                (shard, Target::Invoice(local))
            }),
            None => ev
                .kind
                .customer()
                .and_then(|id| parts.customer_index.get(id))
                .map(|&c| {
                    let (shard, local) = parts.customer_place[c];
                    (shard, Target::Customer(local))
                }),
        }
        .unwrap_or((0, Target::Nobody));
        routed[shard].push((ev, target));
    }
    routed
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::domain::{Customer, Invoice};

    /// A portfolio whose customer `i`, named `ids[i]`, has `counts[i]` invoices named
    /// `ID-0`, `ID-1` …
    fn portfolio(ids: &[&str], counts: &[usize]) -> Portfolio {
        let mut p = Portfolio::default();
        for (id, &n) in ids.iter().zip(counts) {
            let c: Customer =
                serde_json::from_value(serde_json::json!({ "id": id })).expect("a customer");
            p.customers.push(c);
            for j in 0..n {
                let inv: Invoice = serde_json::from_value(serde_json::json!({
                    "id": format!("{id}-{j}"), "customer": id, "issued": "2026-01-01",
                    "due": "2026-02-01", "amount": "100.00", "currency": "EUR"
                }))
                .expect("an invoice");
                p.invoices.push(inv);
            }
        }
        p
    }

    /// The shard of each customer of `portfolio(ids, counts)` split in `k`.
    fn check(ids: &[&str], counts: &[usize], k: usize, expected: &[usize]) {
        let p = portfolio(ids, counts);
        let parts = split(&p, k);
        let shard_of: Vec<usize> = parts.customer_place.iter().map(|place| place.0).collect();
        assert_eq!(shard_of, expected);
        let invoices: usize = parts.shards.iter().map(|s| s.invoices.len()).sum();
        assert_eq!(invoices, p.invoices.len(), "every invoice is in one shard");
    }

    #[test]
    fn one_shard_holds_everything() {
        check(&["B", "A"], &[1, 2], 1, &[0, 0]);
    }

    #[test]
    fn ranges_follow_the_ids_not_the_file_order() {
        // By id: A (2), B (2), C (2), D (2): the first half of the invoices is A and B.
        check(&["D", "B", "A", "C"], &[2, 2, 2, 2], 2, &[1, 0, 0, 1]);
    }

    #[test]
    fn ranges_balance_invoices_not_customers() {
        // A has 6 of the 9 invoices: B and C share the second shard.
        check(&["A", "B", "C"], &[6, 2, 1], 2, &[0, 1, 1]);
    }

    #[test]
    fn more_shards_than_customers_leaves_some_empty() {
        check(&["A", "B"], &[1, 1], 4, &[0, 2]);
    }

    #[test]
    fn events_go_to_their_customers_shard_in_date_order() {
        let mut p = portfolio(&["A", "B"], &[1, 1]);
        let events = serde_json::json!([
            { "date": "2026-04-03", "type": "payment", "invoice": "A-0", "amount": "10" },
            { "date": "2026-04-02", "type": "risk_changed", "customer": "B", "risk_score": 80 },
            { "date": "2026-04-01", "type": "payment", "invoice": "B-0", "amount": "10" },
            { "date": "2026-04-01", "type": "payment", "invoice": "NOPE", "amount": "10" },
            { "date": "2026-04-01", "type": "risk_changed", "customer": "NOBODY", "risk_score": 1 },
        ]);
        p.events = serde_json::from_value(events).expect("events");
        let parts = split(&p, 2);
        let routed = route_events(&p, &parts);
        let named = |shard: &[(&Event, Target)]| -> Vec<String> {
            shard
                .iter()
                .map(|(e, target)| {
                    let who = e.kind.invoice().or(e.kind.customer()).unwrap_or("?");
                    format!("{} {who} {target:?}", e.date)
                })
                .collect()
        };
        assert_eq!(
            named(&routed[0]),
            [
                "2026-04-01 NOPE Nobody",
                "2026-04-01 NOBODY Nobody",
                "2026-04-03 A-0 Invoice(0)"
            ],
            "A's events, and those naming nobody known"
        );
        assert_eq!(
            named(&routed[1]),
            ["2026-04-01 B-0 Invoice(0)", "2026-04-02 B Customer(0)"]
        );
    }
}
