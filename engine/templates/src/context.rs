//! The documented template context: every variable a template may read, its type and
//! meaning. One table, read by the checker (`check`: an unknown variable is a diagnostic) and
//! printed as the table of `stdlib-scenarios/templates/README.md` (a test keeps the README
//! equal to [`markdown_table`]).
//!
//! This module only describes the context; the daemon builds the values
//! (`relance_daemon::render::variables`) and must give every variable listed here.

/// One row of the table: the variable(s) it documents, written as templates read them
/// (`invoices[i].number` for an attribute of each element of a list).
pub struct Var {
    pub names: &'static [&'static str],
    pub ty: &'static str,
    pub meaning: &'static str,
}

const fn v(names: &'static [&'static str], ty: &'static str, meaning: &'static str) -> Var {
    Var { names, ty, meaning }
}

/// The template context, in the order of the README.
pub const CONTEXT: &[Var] = &[
    v(
        &["customer.id"],
        "text",
        "The customer's id in the accounting system.",
    ),
    v(
        &["customer.name"],
        "text or none",
        "The customer's name (test it: `{% if customer.name %}`).",
    ),
    v(
        &["customer.language"],
        "text",
        "The customer's language (`fr`, `en`). The message's language is that of the variant used, which differs when the set's fallback applies.",
    ),
    v(
        &["company.name"],
        "text",
        "Our company's name (engine configuration).",
    ),
    v(&["company.iban"], "text", "The IBAN customers pay to."),
    v(
        &["company.phone"],
        "text",
        "The phone number of the credit department.",
    ),
    v(
        &["company.email"],
        "text",
        "The email address of the credit department.",
    ),
    v(
        &["invoices"],
        "list",
        "The invoices the message is about: one for an ungrouped message, all the customer's invoices of the same day, channel, template and recipient when grouped (`group by customer`, the default).",
    ),
    v(&["invoices[i].number"], "text", "The invoice number."),
    v(&["invoices[i].issued"], "date", "Its issue date."),
    v(&["invoices[i].due"], "date", "Its due date."),
    v(
        &["invoices[i].days_late"],
        "integer",
        "Days since the due date on the day of the message; negative before it (`{{ -inv.days_late }}` days to go, in preventive messages).",
    ),
    v(
        &["invoices[i].amount"],
        "amount",
        "Its amount including taxes, as issued.",
    ),
    v(
        &["invoices[i].outstanding"],
        "amount",
        "What is still owed on it today.",
    ),
    v(
        &["invoices[i].charges"],
        "amount",
        "Charges made on it (fees, indemnity, interest in its currency) and not yet paid.",
    ),
    v(
        &["invoices[i].amount_due"],
        "amount",
        "Its `outstanding` plus its unpaid `charges`: what the customer must pay on it (for an invoice with installments, only the installments fallen due, less what was paid).",
    ),
    v(
        &["invoices[i].installments"],
        "list",
        "For an invoice with installments, each of them on the day of the message, earliest first (empty for an invoice with one due date). The `selectattr(\"overdue\")` filter keeps those past their date and not paid in full.",
    ),
    v(
        &["invoices[i].installments[i].number"],
        "integer",
        "The installment's rank, from 1.",
    ),
    v(
        &["invoices[i].installments[i].due"],
        "date",
        "Its due date.",
    ),
    v(
        &["invoices[i].installments[i].amount"],
        "amount",
        "Its amount, in the invoice's currency.",
    ),
    v(
        &["invoices[i].installments[i].unpaid"],
        "amount",
        "What is left to pay of it (payments pay the earliest installment first).",
    ),
    v(
        &["invoices[i].installments[i].days_late"],
        "integer",
        "Days since its due date on the day of the message; negative before it.",
    ),
    v(
        &["invoices[i].installments[i].overdue"],
        "boolean",
        "Past its due date and not paid in full.",
    ),
    v(
        &["invoices[i].currency"],
        "text",
        "Its ISO currency code (`EUR`).",
    ),
    v(
        &["invoices[i].level"],
        "text",
        "The step this invoice is at: under a `cadence`, one message lists invoices at different steps (the message's own `step` is the most severe).",
    ),
    v(
        &["invoices[i].late_interest_rate"],
        "number",
        "The late-payment rate of this invoice today, in percent per year, chosen as for `late_interest_rate` (an invoice may have a rate of its own).",
    ),
    v(
        &["total_outstanding"],
        "amount",
        "The sum of `outstanding` over `invoices`.",
    ),
    v(
        &["total_charges"],
        "amount",
        "The sum of `charges` over `invoices`.",
    ),
    v(
        &["total_due"],
        "amount",
        "The sum of `amount_due` over `invoices`: `total_outstanding` plus `total_charges`, less the installments not yet due.",
    ),
    v(
        &["currency"],
        "text",
        "The currency of `total_outstanding` (and the default of the `money` filter).",
    ),
    v(&["today"], "date", "The day of the message."),
    v(
        &["step"],
        "text",
        "The step (or `on EVENT` handler) that sent the message.",
    ),
    v(
        &["penalty_rate"],
        "number",
        "The L441-10 late-payment rate in force today, in percent per year: the ECB main refinancing rate of the current half-year plus 10 points (`12.15`).",
    ),
    v(
        &["late_interest_rate"],
        "number",
        "The late-payment rate late interest on the message's (first) invoice runs at today, in percent per year, as the `charge late-interest` action chooses it: the invoice's own `late_interest_rate`, else the customer's, else the scenario's `late-interest` setting (a percentage, or a multiple of the legal rate of today's half-year), else `penalty_rate` (ECB + 10 points). Past the end of the rate table, the last known rate.",
    ),
    v(
        &["late_interest_contractual"],
        "boolean",
        "Whether `late_interest_rate` is a contractual rate (the invoice's, the customer's or the scenario's), else the default ECB + 10 points.",
    ),
    v(
        &["indemnity"],
        "number",
        "The fixed recovery indemnity per invoice, in euros: `40` (Code de commerce L441-10, D441-5).",
    ),
    v(
        &["address.lines"],
        "list",
        "Letters: the street lines of the recipient's postal address (empty for other messages, as are the other `address` variables).",
    ),
    v(
        &["address.postcode", "address.city"],
        "text or none",
        "Letters: its postcode and city (none for an address given as one text by older data).",
    ),
    v(
        &["address.country"],
        "text or none",
        "Letters: its ISO 3166-1 alpha-2 code (`FR`, `BE`).",
    ),
    v(
        &["address.block"],
        "text",
        "Letters: the whole address, one line per line, in the French postal order: the street lines, `POSTCODE CITY`, then the country's name in French capitals unless it is France. The letter's HTML already prints it above the date.",
    ),
    v(
        &["deadline"],
        "date",
        "The date by which a formal notice asks for payment (the engine's notice period after `today`, typically 8 days plus postage).",
    ),
];

/// Every documented name (`customer.id`, `invoices`, `invoices[i].number`, …).
pub fn names() -> impl Iterator<Item = &'static str> {
    CONTEXT.iter().flat_map(|v| v.names.iter().copied())
}

/// The top-level variables (`customer`, `invoices`, …), sorted, without repeats.
pub fn roots() -> Vec<&'static str> {
    let mut out: Vec<&str> = names()
        .map(|n| n.split(['.', '[']).next().unwrap_or(n))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The attributes of a top-level variable that is an object (`id`, `name`, `language` for
/// `customer`); empty for a plain value or a list.
pub fn attributes(root: &str) -> Vec<&'static str> {
    names()
        .filter_map(|n| n.strip_prefix(root)?.strip_prefix('.'))
        // `invoices[i].installments[i].due` is an attribute of an installment, not of
        // `invoices[i]`.
        .filter(|rest| !rest.contains(['.', '[']))
        .collect()
}

/// The README's table of variables, as markdown.
pub fn markdown_table() -> String {
    let mut out = String::from("| variable | type | meaning |\n| --- | --- | --- |\n");
    for v in CONTEXT {
        let names: Vec<String> = v.names.iter().map(|n| format!("`{n}`")).collect();
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            names.join(", "),
            v.ty,
            v.meaning
        ));
    }
    out
}
