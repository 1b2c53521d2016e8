//! What each keyword means, in one or two sentences, for hover and completion.
//!
//! Field paths, events and roles are documented in `relance_dsl::schema` and read from there;
//! this table only covers the language's own words. The keywords themselves and the words that
//! start a line in each block are not listed here but derived: from the grammar
//! (`relance_dsl::syntax::grammar`) and, for step and handler bodies, from the checker's
//! statement table (`relance_dsl::schema::STATEMENTS`); tests below fail when a keyword or a
//! phrase of the grammar has no entry in [`DOCS`]. It must stay short and factual: the
//! reference is `docs/LANGUAGE.md`, and nothing here decides what is valid (the checker does).

use relance_dsl::schema::{self, Body};
use relance_dsl::syntax::grammar;

use super::scan::Place;

/// Is `word` a keyword of the grammar (`relance.pest`), the words of phrases included?
pub fn is_keyword(word: &str) -> bool {
    grammar::keywords().contains(&word)
}

/// A keyword or phrase: where this meaning applies (empty: anywhere), its shape and meaning.
pub struct KeywordDoc {
    pub phrase: &'static str,
    pub places: &'static [Place],
    pub syntax: &'static str,
    pub doc: &'static str,
}

const TEST: &[Place] = &[Place::Test];
const SCENARIO: &[Place] = &[Place::Scenario];

macro_rules! docs {
    ($( $phrase:literal $places:ident $syntax:literal => $doc:literal; )*) => {
        pub const DOCS: &[KeywordDoc] = &[
            $( KeywordDoc { phrase: $phrase, places: docs!(@p $places), syntax: $syntax, doc: $doc }, )*
        ];
    };
    (@p ANY) => { &[] };
    (@p $p:ident) => { $p };
}

docs! {
    "scenario" ANY "scenario NAME { … }" => "A collection scenario: settings, dated steps and event handlers. Each open invoice runs one scenario version.";
    "policy" ANY "policy NAME { use SCENARIO when CONDITION … use SCENARIO otherwise }" => "Chooses each invoice's scenario: the first `use` whose condition holds.";
    "test" ANY "test \"NAME\" { … }" => "A test case run by `relance test`: customers, invoices, dated events and the expected actions.";
    "title" ANY "title \"TEXT\"" => "The scenario's title, for people.";
    "applies when" ANY "applies when CONDITION" => "Which invoices the scenario is meant for: a boolean condition on invoice and customer fields.";
    "group by" ANY "group by customer | group by invoice" => "`customer` (the default) merges the actions due the same day for the same customer, channel, template and recipient into one message listing every invoice; `invoice` sends one message per invoice.";
    "calendar" ANY "calendar fr | calendar none" => "The business-day calendar of `business days` offsets: `fr` (the default) skips weekends and French public holidays, `none` only weekends.";
    "tolerance" ANY "tolerance AMOUNT | tolerance PERCENT%" => "At or under this outstanding amount the invoice counts as paid and the case closes.";
    "promise grace" ANY "promise grace DURATION" => "How long after a promised date a promise not kept counts as broken.";
    "catch up" ANY "catch up to latest | catch up gradually every DURATION" => "What a case does with several past steps at once: `to latest` (the default) fires the latest and the required ones; `gradually every DURATION` fires the first, then one per interval until caught up.";
    "catch" ANY "catch up …" => "The scenario's catch-up setting: `catch up to latest` or `catch up gradually every DURATION`.";
    "up" ANY "catch up …" => "The scenario's catch-up setting: `catch up to latest` or `catch up gradually every DURATION`.";
    "gradually every" ANY "catch up gradually every DURATION" => "Past steps fire one per DURATION, the first one at once, until the case has caught up with the calendar.";
    "gradually" ANY "catch up gradually every DURATION" => "Past steps fire one per DURATION, the first one at once, until the case has caught up with the calendar.";
    "every" ANY "every DURATION" => "An interval.";
    "to latest" ANY "catch up to latest" => "Only the latest past step (and the required ones) fires: the default.";
    "latest" ANY "catch up to latest" => "Only the latest past step (and the required ones) fires: the default.";
    "step" ANY "step NAME at due|issued|STEP [+|- DURATION] [end of month|on day N] [repeat every DURATION [times N] [until CONDITION]] [required] { … }" => "A dated step: its statements run on the anchor's date plus the offset.";
    "payments pay" ANY "payments pay principal first | payments pay charges first" => "Where a payment goes: the invoice's principal first (the default), or its unpaid charges first.";
    "principal" ANY "payments pay principal first" => "Payments settle the outstanding principal before the charges (the default).";
    "first" ANY "payments pay principal first | payments pay charges first" => "Which part of what is owed a payment settles first.";
    "charges keep" ANY "charges keep the case open" => "The case stays open, and chased, while charges are unpaid after the principal is paid (default: it closes with the principal).";
    "charges keep the case open" ANY "charges keep the case open" => "The case stays open, and chased, while charges are unpaid after the principal is paid (default: it closes with the principal).";
    "keep the" ANY "charges keep the case open" => "Part of `charges keep the case open`.";
    "the case" ANY "charges keep the case open" => "Part of `charges keep the case open`.";
    "case open" ANY "charges keep the case open" => "Part of `charges keep the case open`.";
    "times legal" ANY "late-interest N times legal rate" => "The scenario's late-payment rate as a multiple of the legal interest rate of each half-year (L441-10 II: at least 3).";
    "legal rate" ANY "late-interest N times legal rate" => "The taux d'intérêt légal for professional creditors, per half-year, from the rate table (`relance rates`).";
    "legal" ANY "late-interest N times legal rate" => "Part of `late-interest N times legal rate`.";
    "rate" ANY "late-interest N times legal rate" => "Part of `late-interest N times legal rate`.";
    "per customer" ANY "per customer" => "Account-level dunning: the scenario's state belongs to the customer's account (one per currency), moved by `level`s instead of steps; `on clear` runs when nothing is overdue any more.";
    "level" ANY "level NAME when CONDITION { … }" => "A level of a `per customer` account: the account is in the highest (last written) level whose condition holds; entering it runs its block once, for every overdue invoice in one message.";
    "cadence" ANY "cadence DURATION" => "Contact cadence: at most one message per customer, channel and day (merged at the most severe step), and at least DURATION between two days with messages; what falls inside the gap waits.";
    "at" ANY "step NAME at ANCHOR [+|- DURATION]" => "What the step's date counts from: the due date, the issue date, or an earlier step's actual firing date.";
    "due" SCENARIO "at due" => "Anchor on the invoice's due date.";
    "issued" SCENARIO "at issued" => "Anchor on the invoice's issue date.";
    "required" ANY "step … required { … }" => "On catch-up, when several step dates are already past, only the latest past step fires, except required steps, which always fire, in order.";
    "days" ANY "N days" => "Calendar days.";
    "day" ANY "N day" => "Calendar days.";
    "business days" ANY "N business days" => "Days skipping weekends and the calendar's public holidays.";
    "business day" ANY "N business day" => "Days skipping weekends and the calendar's public holidays.";
    "weeks" ANY "N weeks" => "Weeks of 7 calendar days.";
    "week" ANY "N week" => "Weeks of 7 calendar days.";
    "months" ANY "N months" => "Calendar months: the same day N months later, clamped to the last day of a shorter month (31 January + 1 month = 28 February).";
    "month" ANY "N month" => "Calendar months: the same day N months later, clamped to the last day of a shorter month (31 January + 1 month = 28 February).";
    "end of" SCENARIO "step … at ANCHOR + DURATION end of month" => "Moves the step's date to the last day of its month (OCA credit control's `end_of_month` mode).";
    "of month" SCENARIO "step … end of month" => "Moves the step's date to the last day of its month.";
    "of months" SCENARIO "step … end of months" => "Moves the step's date to the last day of its month (`relance fmt` writes `end of month`).";
    "on day" SCENARIO "step … at ANCHOR + DURATION on day N" => "Moves the step's date to day N (1–31) of its month, clamped to the month's last day: `due + 1 month on day 10` is the 10th of the month after due.";
    "on days" SCENARIO "step … on days N" => "Moves the step's date to day N of its month (`relance fmt` writes `on day N`).";
    "repeat every" SCENARIO "step … repeat every DURATION [times N] [until CONDITION]" => "Fires the step again at this interval from its first firing, until it fired N times in all, the condition holds on a repetition's date, or the next step is due.";
    "times" SCENARIO "repeat every DURATION times N" => "How many times a repeating step fires in all, the first time included.";
    "on" SCENARIO "on EVENT { … }" => "An event handler: its statements run when the event happens (`dispute opened`, `promise made`, `payment`…).";
    "on" TEST "on DATE EVENT" => "A dated event of the test: payment, dispute, resolve, promise, credit note, write off, risk, outcome or bounce.";
    "skip when" ANY "skip when CONDITION" => "Skips this step when the condition holds; the schedule goes on. Steps only.";
    "stop when" ANY "stop when CONDITION" => "Closes the case when the condition holds.";
    "stop" ANY "stop [\"REASON\"]" => "Closes the case.";
    "if" ANY "if CONDITION { … } [else { … }]" => "Runs the first block when the condition holds, else the `else` block.";
    "else" ANY "if CONDITION { … } else { … }" => "The block run when the `if` condition does not hold.";
    "goto" ANY "goto STEP" => "Fires STEP on the same day; the schedule then goes on after STEP.";
    "pause" ANY "pause" => "Suspends the schedule until a `resume` (e.g. while a dispute is open).";
    "resume" ANY "resume [after DURATION]" => "Ends a pause, at once or after the delay. Event handlers only.";
    "after" ANY "resume after DURATION" => "The delay before the schedule resumes.";
    "wait until" ANY "wait until DATE" => "Holds the schedule until the date (e.g. `promise.date + 2 days`).";
    "email" ANY "email \"TEMPLATE\" to ROLE, … [cc ROLE, …]" => "Sends an email written from `templates/TEMPLATE.LANG.txt` or `.html`.";
    "sms" ANY "sms \"TEMPLATE\" to ROLE, …" => "Sends an SMS written from `templates/TEMPLATE.LANG.txt`.";
    "letter" ANY "letter \"TEMPLATE\" to ROLE, … [registered]" => "Sends a letter written from a template.";
    "registered" ANY "letter \"TEMPLATE\" to ROLE registered" => "Sends the letter by registered mail (formal notice).";
    "to" ANY "to ROLE, …" => "The recipients: the customer's contact roles or internal roles.";
    "cc" ANY "cc ROLE, …" => "Recipients in copy.";
    "call" ANY "call ROLE [assign ROLE]" => "A task for a person: call the customer's contact of this role.";
    "assign" ANY "assign ROLE" => "Who handles the call or task.";
    "task" ANY "task \"TEXT\" [assign ROLE]" => "A task for a person.";
    "webhook" ANY "webhook \"NAME\"" => "Calls the webhook configured under this name.";
    "escalate" ANY "escalate agency [\"NAME\"] | escalate litigation" => "Hands the case over to a collection agency or to litigation; it is tracked after hand-off.";
    "agency" ANY "escalate agency [\"NAME\"]" => "Hands the case over to a collection agency (optionally a named one).";
    "litigation" ANY "escalate litigation" => "Hands the case over to litigation (injunction to pay).";
    "alert" ANY "alert \"TEXT\" [to ROLE, …]" => "Raises an internal alert.";
    "block deliveries" ANY "block deliveries" => "Asks to block the customer's deliveries (e.g. credit-insurance default).";
    "unblock deliveries" ANY "unblock deliveries" => "Lifts a delivery block.";
    "charge" ANY "charge indemnity | charge late-interest | charge AMOUNT \"LABEL\" | charge PERCENT% \"LABEL\" [min AMOUNT] [max AMOUNT]" => "Charges the customer: the recovery indemnity, late-payment interest, a fixed fee or a percentage of the outstanding; never on an invoice that is not late.";
    "indemnity" ANY "charge indemnity" => "The fixed €40 recovery indemnity per invoice (Code de commerce L441-10), professional debtors only.";
    "min" ANY "charge PERCENT% \"LABEL\" min AMOUNT" => "The least a percentage fee charges, in the invoice's currency.";
    "max" ANY "charge PERCENT% \"LABEL\" max AMOUNT" => "The most a percentage fee charges, in the invoice's currency.";
    "late-interest" ANY "charge late-interest | late-interest PERCENT% | late-interest N times legal rate" => "Late-payment penalties on the outstanding amount from the day after due, actual days / 365, rounded to the cent: at the invoice's or customer's contractual rate, else the scenario's `late-interest` setting (a yearly percentage, or a multiple of the legal rate), else the ECB refinancing rate + 10 points.";
    "tag" ANY "tag \"TEXT\"" => "Tags the case.";
    "use" TEST "use SCENARIO" => "The scenario this test runs (without it, the set's default policy chooses).";
    "use" ANY "use SCENARIO when CONDITION | use SCENARIO otherwise" => "A policy rule: invoices matching the condition run this scenario.";
    "otherwise" ANY "use SCENARIO otherwise" => "The scenario of every invoice no earlier rule matched.";
    "when" ANY "… when CONDITION" => "A boolean condition on invoice, customer, dispute, promise and history fields.";
    "from" ANY "from DATE" => "The first day the test runs (default: the earliest issue date).";
    "until" ANY "until DATE" => "The last day the test runs.";
    "customer" TEST "customer ID { FIELD VALUE … }" => "A test customer: `segment`, `risk_score`, `credit_insured`, `tags`, `language`, `payment_terms_days`, `scenario`, `name`.";
    "invoice" TEST "invoice ID { customer ID amount AMOUNT issued DATE due DATE }" => "A test invoice; `customer`, `amount`, `issued` and `due` are required.";
    "expect" ANY "expect snapshot | expect { DATE ACTION for INVOICE, … }" => "What the test expects: the dated actions, or a snapshot file written by `relance test --update`.";
    "snapshot" ANY "expect snapshot" => "Compares the timeline with the test's snapshot file.";
    "expect error" ANY "expect error INVOICE \"TEXT\"" => "The invoice's case is expected to end in error, its message containing the text; any other error fails the test.";
    "for" ANY "DATE ACTION for INVOICE, …" => "The invoices an expected action concerns.";
    "payment" TEST "on DATE payment INVOICE AMOUNT" => "A payment received on the invoice.";
    "dispute" TEST "on DATE dispute INVOICE \"CODE[/SUB-CODE]\" [amount AMOUNT]" => "A dispute opened on the invoice.";
    "resolve" ANY "on DATE resolve INVOICE" => "The invoice's dispute is resolved.";
    "promise" TEST "on DATE promise INVOICE DATE [AMOUNT]" => "The customer promises to pay by the date.";
    "credit note" ANY "on DATE credit note INVOICE AMOUNT" => "A credit note reduces the outstanding.";
    "write off" ANY "on DATE write off INVOICE" => "The invoice is written off.";
    "risk" ANY "on DATE risk CUSTOMER SCORE" => "The customer's risk score changes.";
    "outcome" ANY "on DATE outcome INVOICE \"TEXT\" [promise DATE]" => "A person records the outcome of a call or task.";
    "bounce" ANY "on DATE bounce CUSTOMER ROLE" => "A message to the customer's contact of this role bounced.";
    "added" ANY "on DATE tag added CUSTOMER \"TAG\"" => "The customer gains a tag (handler `on tag added`, `event.tag`).";
    "removed" ANY "on DATE tag removed CUSTOMER \"TAG\"" => "The customer loses a tag (handler `on tag removed`, `event.tag`).";
    "off reversed" ANY "on DATE write off reversed INVOICE [\"REASON\"]" => "The write-off is reversed: the case is active again at the step it stood at.";
    "reversed" ANY "on DATE write off reversed INVOICE [\"REASON\"]" => "The write-off is reversed: the case is active again at the step it stood at.";
    "payment failed" ANY "on DATE payment failed INVOICE \"REASON\"" => "A payment attempt failed (`event.reason`, `invoice.last_failed_payment`).";
    "failed" ANY "on DATE payment failed INVOICE \"REASON\"" => "A payment attempt failed (`event.reason`, `invoice.last_failed_payment`).";
    "payment reversed" ANY "on DATE payment reversed INVOICE MONEY [\"REASON\"] [of DATE]" => "A payment came back (a returned direct debit, an unpaid LCR, a bounced cheque; `event.reason`): the outstanding grows again and a case closed as paid re-opens (handler `on payment reversed`).";
    "moved" ANY "on DATE moved INVOICE to scenario NAME [step STEP] by \"WHO\" because \"WHY\"" => "A person moves the invoice to another scenario (handler `on scenario changed` of the new one).";
    "to scenario" ANY "moved INVOICE to scenario NAME" => "The scenario the invoice is moved to.";
    "because" ANY "moved INVOICE … by \"WHO\" because \"WHY\"" => "Why the invoice was moved (`event.reason`).";
    "amount" ANY "dispute INVOICE \"CODE\" amount AMOUNT" => "The disputed amount (default: the outstanding).";
    "rule" ANY "rule(\"NAME\", ARG, …)" => "Calls the rhai function `NAME(invoice, customer, ARG, …)` of the `rules/` folder: pure, sandboxed, returns a boolean or a number.";
    "and" ANY "A and B" => "Both conditions hold.";
    "or" ANY "A or B" => "At least one condition holds.";
    "not" ANY "not CONDITION" => "The condition does not hold.";
    "in" ANY "VALUE in LIST" => "The value is one of the list's (`\"key-account\" in customer.tags`).";
    "not in" ANY "VALUE not in LIST" => "The value is none of the list's.";
    "true" ANY "true" => "The boolean true.";
    "false" ANY "false" => "The boolean false.";
}

/// The documentation of a keyword phrase at a place.
pub fn keyword(phrase: &str, place: Place) -> Option<&'static KeywordDoc> {
    let phrase = if phrase.starts_with("group by") {
        "group by"
    } else {
        phrase
    };
    let mut candidates = DOCS.iter().filter(|d| d.phrase == phrase);
    let specific = candidates.clone().find(|d| d.places.contains(&place));
    specific
        .or_else(|| candidates.find(|d| d.places.is_empty()))
        .or_else(|| {
            // A place-specific word used elsewhere: its first meaning rather than nothing.
            DOCS.iter().find(|d| d.phrase == phrase)
        })
}

/// What a field-path root holds (`invoice`, `customer`…).
pub fn root(name: &str) -> Option<&'static str> {
    Some(match name {
        "invoice" => "The invoice being chased.",
        "customer" => "The invoice's customer, with totals over its open invoices issued so far.",
        "dispute" => "The dispute on the invoice, if any.",
        "promise" => "The pending payment promise on the invoice, if any.",
        "history" => "What happened on the invoice so far.",
        "payment" => "The invoice's last payment.",
        "today" => "The day being processed.",
        _ => return None,
    })
}

/// Keywords a completion offers at the start of a line, by place: what the grammar lets start
/// a line there, and in step and handler bodies the statements the checker allows there.
pub fn starters(place: Place) -> Vec<String> {
    let rule = match place {
        Place::Top => "item",
        Place::Scenario => "scenario_member",
        Place::Policy => "policy_rule",
        Place::Test => "test_member",
        Place::Step => return body_starters(Body::Step),
        Place::Handler => return body_starters(Body::Handler),
        Place::Customer | Place::Invoice | Place::Expect | Place::Other => return Vec::new(),
    };
    grammar::starters(rule)
}

fn body_starters(body: Body) -> Vec<String> {
    schema::statements_in(body).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACES: [Place; 6] = [
        Place::Top,
        Place::Scenario,
        Place::Step,
        Place::Handler,
        Place::Policy,
        Place::Test,
    ];

    #[test]
    fn every_documented_word_is_a_keyword_and_every_starter_is_documented() {
        let mut problems = Vec::new();
        for d in DOCS {
            for w in d.phrase.split(' ') {
                if !is_keyword(w) {
                    problems.push(format!(
                        "DOCS (engine/lsp/src/docs.rs) documents `{}`, but `{w}` is no keyword of \
                         dsl/src/syntax/relance.pest",
                        d.phrase
                    ));
                }
            }
        }
        for place in PLACES {
            for s in starters(place) {
                if keyword(&s, place).is_none() {
                    problems.push(format!(
                        "`{s}` starts a line in {place:?} but has no entry in DOCS \
                         (engine/lsp/src/docs.rs)"
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// Adding a keyword or a two-word phrase to the grammar must come with its hover text.
    #[test]
    fn every_keyword_and_phrase_of_the_grammar_is_documented() {
        let mut problems = Vec::new();
        for w in grammar::keywords() {
            if !DOCS.iter().any(|d| d.phrase.split(' ').any(|p| p == *w)) {
                problems.push(format!(
                    "the keyword `{w}` of dsl/src/syntax/relance.pest has no entry in DOCS \
                     (engine/lsp/src/docs.rs): add one, or a phrase containing it"
                ));
            }
        }
        for (a, b) in grammar::phrases() {
            let phrase = format!("{a} {b}");
            if !DOCS.iter().any(|d| d.phrase == phrase) {
                problems.push(format!(
                    "the phrase `{phrase}` of dsl/src/syntax/relance.pest (hover shows it for \
                     either word) has no entry in DOCS (engine/lsp/src/docs.rs)"
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The lines completion offers: derived, so these pin what the derivation gives.
    #[test]
    fn starters_follow_the_grammar_and_the_checker() {
        assert_eq!(starters(Place::Top), ["scenario", "policy", "test"]);
        assert_eq!(
            starters(Place::Scenario),
            [
                "title",
                "applies when",
                "group by",
                "per customer",
                "calendar",
                "tolerance",
                "promise grace",
                "catch up",
                "payments pay",
                "charges keep the case open",
                "late-interest",
                "cadence",
                "level",
                "step",
                "on"
            ]
        );
        assert_eq!(starters(Place::Policy), ["use"]);
        assert_eq!(
            starters(Place::Test),
            [
                "use",
                "from",
                "until",
                "customer",
                "invoice",
                "on",
                "expect error",
                "expect"
            ]
        );
        let step = starters(Place::Step);
        let handler = starters(Place::Handler);
        assert_eq!(
            step[..7],
            [
                "skip when",
                "stop when",
                "stop",
                "if",
                "goto",
                "pause",
                "wait until"
            ]
        );
        assert_eq!(
            handler[..7],
            [
                "stop when",
                "stop",
                "if",
                "goto",
                "pause",
                "resume",
                "wait until"
            ]
        );
        assert_eq!(step[7..], handler[7..], "the actions, in both bodies");
        assert_eq!(step.last().map(String::as_str), Some("tag"));
        for place in [Place::Customer, Place::Invoice, Place::Expect, Place::Other] {
            assert!(starters(place).is_empty());
        }
    }

    #[test]
    fn place_specific_meanings_win() {
        assert_eq!(keyword("on", Place::Test).unwrap().syntax, "on DATE EVENT");
        assert_eq!(
            keyword("on", Place::Scenario).unwrap().syntax,
            "on EVENT { … }"
        );
        assert!(
            keyword("use", Place::Policy)
                .unwrap()
                .syntax
                .contains("otherwise")
        );
        assert!(keyword("group by invoice", Place::Scenario).is_some());
        assert!(
            keyword("due", Place::Step).is_some(),
            "falls back to the first meaning"
        );
        assert!(keyword("nonsense", Place::Top).is_none());
    }
}
