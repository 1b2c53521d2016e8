//! What each keyword means, in one or two sentences, for hover and completion.
//!
//! Field paths, events and roles are documented in `relance_dsl::schema` and read from there;
//! this table only covers the language's own words. It must stay short and factual: the
//! reference is `docs/LANGUAGE.md`, and nothing here decides what is valid (the checker does).

use super::scan::Place;

/// Every keyword of the grammar (`relance.pest`), the words of phrases included.
#[rustfmt::skip]
pub const KEYWORDS: &[&str] = &[
    "scenario", "policy", "test", "title", "applies", "when", "group", "by", "calendar",
    "tolerance", "grace", "step", "at", "required", "due", "issued", "business", "days", "day",
    "weeks", "week", "skip", "stop", "if", "else", "goto", "pause", "resume", "after", "wait",
    "until", "on", "email", "sms", "letter", "registered", "to", "cc", "call", "assign", "task",
    "webhook", "escalate", "agency", "litigation", "alert", "block", "unblock", "deliveries",
    "charge", "indemnity", "late-interest", "tag", "use", "otherwise", "from", "customer",
    "invoice", "expect", "snapshot", "for", "rule", "and", "or", "not", "in", "true", "false",
    "payment", "dispute", "resolve", "promise", "credit", "note", "write", "off", "risk", "outcome",
    "bounce", "amount",
];

pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
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
    "step" ANY "step NAME at due|issued|STEP [+|- DURATION] [required] { … }" => "A dated step: its statements run on the anchor's date plus the offset.";
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
    "charge" ANY "charge indemnity | charge late-interest | charge AMOUNT \"LABEL\"" => "Charges the customer: the recovery indemnity, late-payment interest or a fixed fee.";
    "indemnity" ANY "charge indemnity" => "The fixed €40 recovery indemnity per invoice (Code de commerce L441-10), professional debtors only.";
    "late-interest" ANY "charge late-interest" => "Late-payment penalties on the outstanding amount from the day after due: ECB refinancing rate + 10 points, actual days / 365, rounded to the cent.";
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

/// Keywords a completion offers at the start of a line, by place.
pub fn starters(place: Place) -> &'static [&'static str] {
    match place {
        Place::Top => &["scenario", "policy", "test"],
        Place::Scenario => &[
            "title",
            "applies when",
            "group by",
            "calendar",
            "tolerance",
            "promise grace",
            "step",
            "on",
        ],
        Place::Step => &[
            "skip when",
            "stop when",
            "stop",
            "if",
            "goto",
            "pause",
            "wait until",
            "email",
            "sms",
            "letter",
            "call",
            "task",
            "webhook",
            "escalate",
            "alert",
            "block deliveries",
            "unblock deliveries",
            "charge",
            "tag",
        ],
        Place::Handler => &[
            "stop when",
            "stop",
            "if",
            "goto",
            "pause",
            "resume",
            "wait until",
            "email",
            "sms",
            "letter",
            "call",
            "task",
            "webhook",
            "escalate",
            "alert",
            "block deliveries",
            "unblock deliveries",
            "charge",
            "tag",
        ],
        Place::Policy => &["use"],
        Place::Test => &[
            "use", "from", "until", "customer", "invoice", "on", "expect",
        ],
        Place::Customer | Place::Invoice | Place::Expect | Place::Other => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_word_is_a_keyword_and_every_starter_is_documented() {
        for d in DOCS {
            for w in d.phrase.split(' ') {
                assert!(is_keyword(w), "{w}");
            }
        }
        for place in [
            Place::Top,
            Place::Scenario,
            Place::Step,
            Place::Handler,
            Place::Policy,
            Place::Test,
        ] {
            for s in starters(place) {
                assert!(keyword(s, place).is_some(), "{s}");
            }
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
