//! Turns a pest error into a diagnostic in plain words.
//!
//! Invariant: no internal rule name ever reaches a user. `describe` names every grammar rule
//! (the match has no wildcard, so a new rule does not compile until it has a name), and
//! keyword alternatives feed the "did you mean" help. This module must not parse anything.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::parser::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::suggest::closest;

/// The diagnostic for a pest error in the chunk that starts at `offset` of `source`.
pub(crate) fn syntax_error(err: &Error<Rule>, source: &str, offset: usize) -> Diagnostic {
    let at = offset
        + match err.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let found = found_token(source, at);
    let end = (at + found.len()).min(source.len()).max(at);
    let shown = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };
    let (expected, keywords) = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut phrases: Vec<&str> = Vec::new();
            for r in positives {
                let d = describe(*r);
                if !phrases.contains(&d) {
                    phrases.push(d);
                }
            }
            if phrases.contains(&"an expression") {
                phrases.retain(|p| !OPERAND_PHRASES.contains(p));
            }
            let kws: Vec<&str> = positives.iter().flat_map(|r| keyword_texts(*r)).collect();
            (join_alternatives(&phrases), kws)
        }
        ErrorVariant::CustomError { message } => (message.clone(), Vec::new()),
    };
    let message = if expected.is_empty() {
        format!("unexpected {shown}")
    } else {
        format!("expected {expected}, found {shown}")
    };
    // A value missing at the end of a line (`payment F-1 1200` without its currency): pest
    // stops at the next line's first token, but the place to fix is the line that lacks it.
    // Only for values (no keyword expected): a misspelt keyword at the start of a line is
    // where it stands.
    if !expected.is_empty()
        && keywords.is_empty()
        && let Some(prev) = token_before_line_break(source, at)
    {
        return Diagnostic::new(Code::SyntaxError, prev, message)
            .with_label(format!("expected {expected} after this"));
    }
    let help = if found
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
    {
        closest(&found, keywords.iter().copied())
    } else {
        None
    };
    Diagnostic::new(
        Code::SyntaxError,
        crate::syntax::ast::Span::new(at, end),
        message,
    )
    .with_label(if expected.is_empty() {
        "unexpected here".into()
    } else {
        format!("expected {expected}")
    })
    .with_did_you_mean(help)
}

/// The span of the last token before `at` when a line break separates them (or `at` is the
/// end of the file).
fn token_before_line_break(source: &str, at: usize) -> Option<crate::syntax::ast::Span> {
    let before = source.get(..at)?;
    let trimmed = before.trim_end();
    let gap = &before[trimmed.len()..];
    if trimmed.is_empty() || (!gap.contains('\n') && at < source.len()) {
        return None;
    }
    let end = trimmed.len();
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|(_, c)| !c.is_whitespace())
        .last()
        .map_or(end, |(i, _)| i);
    Some(crate::syntax::ast::Span::new(start, end))
}

fn join_alternatives(phrases: &[&str]) -> String {
    match phrases {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

/// The token at `at`: a word, a number, or one character; empty at end of file.
fn found_token(source: &str, at: usize) -> String {
    let rest = source.get(at..).unwrap_or("");
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
        .collect();
    if !word.is_empty() {
        return word;
    }
    rest.chars().next().map(String::from).unwrap_or_default()
}

/// Phrases that only name one kind of operand: folded into "an expression" when it is there.
const OPERAND_PHRASES: &[&str] = &[
    "a name",
    "`rule`",
    "`not`",
    "a string in double quotes",
    "a date (YYYY-MM-DD)",
    "a number",
    "a whole number",
    "`true` or `false`",
    "an amount with its currency (`1000 EUR`)",
    "a percentage (`5%`)",
    "a duration (`5 days`)",
];

/// The source words a rule accepts, for "did you mean".
fn keyword_texts(rule: Rule) -> Vec<&'static str> {
    if rule == Rule::unit {
        return vec!["days", "weeks", "months", "business"];
    }
    let d = describe(rule);
    d.strip_prefix('`')
        .and_then(|s| s.strip_suffix('`'))
        .into_iter()
        .collect()
}

/// Plain words for every rule of the grammar.
pub(crate) fn describe(rule: Rule) -> &'static str {
    use Rule::*;
    match rule {
        EOI => "end of file",
        WHITESPACE | COMMENT => "a space or a comment",
        ident_char | ident | name | field_name => "a name",
        role => "a role (`accounting`, `sales`, `legal` …)",
        roles => "a list of roles",
        kw_scenario => "`scenario`",
        kw_policy => "`policy`",
        kw_test => "`test`",
        kw_title => "`title`",
        kw_applies => "`applies`",
        kw_when => "`when`",
        kw_group => "`group`",
        kw_by => "`by`",
        kw_calendar => "`calendar`",
        kw_tolerance => "`tolerance`",
        kw_grace => "`grace`",
        kw_cadence => "`cadence`",
        kw_step => "`step`",
        kw_at => "`at`",
        kw_required | required => "`required`",
        kw_due => "`due`",
        kw_issued => "`issued`",
        kw_business => "`business`",
        kw_days => "`days`",
        kw_weeks => "`weeks`",
        kw_months => "`months`",
        kw_end => "`end`",
        kw_of => "`of`",
        kw_repeat => "`repeat`",
        kw_every => "`every`",
        kw_times => "`times`",
        kw_skip => "`skip`",
        kw_stop => "`stop`",
        kw_if => "`if`",
        kw_else | else_branch => "`else`",
        kw_goto => "`goto`",
        kw_pause => "`pause`",
        kw_resume => "`resume`",
        kw_after => "`after`",
        kw_wait => "`wait`",
        kw_until => "`until`",
        kw_on => "`on`",
        kw_email => "`email`",
        kw_sms => "`sms`",
        kw_letter => "`letter`",
        kw_registered | registered => "`registered`",
        kw_to => "`to`",
        kw_cc | cc => "`cc`",
        kw_call => "`call`",
        kw_assign | assign => "`assign`",
        kw_task => "`task`",
        kw_webhook => "`webhook`",
        kw_escalate => "`escalate`",
        kw_agency => "`agency`",
        kw_litigation => "`litigation`",
        kw_alert => "`alert`",
        kw_block => "`block`",
        kw_unblock => "`unblock`",
        kw_deliveries => "`deliveries`",
        kw_charge => "`charge`",
        kw_indemnity => "`indemnity`",
        kw_interest => "`late-interest`",
        kw_legal => "`legal`",
        kw_rate => "`rate`",
        legal_multiple => "a multiple of the legal rate (`3 times legal rate`)",
        kw_tag => "`tag`",
        kw_use => "`use`",
        kw_otherwise | otherwise => "`otherwise`",
        kw_from => "`from`",
        kw_customer => "`customer`",
        kw_invoice => "`invoice`",
        kw_expect => "`expect`",
        kw_snapshot | snapshot => "`snapshot`",
        kw_error => "`error`",
        kw_for => "`for`",
        kw_rule => "`rule`",
        kw_and | op_and => "`and`",
        kw_or | op_or => "`or`",
        kw_not | op_not => "`not`",
        kw_in | op_in => "`in`",
        kw_true | kw_false | boolean => "`true` or `false`",
        kw_payment => "`payment`",
        kw_dispute => "`dispute`",
        kw_resolve => "`resolve`",
        kw_promise => "`promise`",
        kw_credit => "`credit`",
        kw_note => "`note`",
        kw_write => "`write`",
        kw_off => "`off`",
        kw_risk => "`risk`",
        kw_outcome => "`outcome`",
        kw_bounce => "`bounce`",
        kw_added => "`added`",
        kw_removed => "`removed`",
        kw_reversed => "`reversed`",
        kw_failed => "`failed`",
        kw_moved => "`moved`",
        kw_because => "`because`",
        kw_amount => "`amount`",
        kw_catch => "`catch`",
        kw_up => "`up`",
        kw_gradually => "`gradually`",
        kw_latest => "`latest`",
        kw_min => "`min`",
        kw_max => "`max`",
        kw_payments => "`payments`",
        kw_pay => "`pay`",
        kw_principal => "`principal`",
        kw_charges => "`charges`",
        kw_first => "`first`",
        kw_keep => "`keep`",
        kw_the => "`the`",
        kw_case => "`case`",
        kw_open => "`open`",
        kw_per => "`per`",
        kw_level => "`level`",
        per_customer => "`per customer`",
        level => "a level (`level NAME when CONDITION { … }`)",
        string | str_inner | template => "a string in double quotes",
        date => "a date (YYYY-MM-DD)",
        number => "a number",
        integer => "a whole number",
        currency => "a currency code (`EUR`)",
        money => "an amount with its currency (`1000 EUR`)",
        percent => "a percentage (`5%`)",
        unit => "`days`, `business days`, `weeks` or `months`",
        duration => "a duration (`5 days`)",
        file | item | single_item => "`scenario`, `policy` or `test`",
        scenario => "a scenario",
        scenario_member | title | applies | group_by | calendar | tolerance | grace | catch_up
        | payments_order | charges_open | late_interest | cadence => {
            "a scenario setting (`title`, `applies when`, `group by` …)"
        }
        step => "a step",
        anchor => "`due`, `issued` or a step name",
        offset | sign => "`+` or `-` and a duration",
        day_of_month | end_of_month | on_day => "`end of month` or `on day N`",
        repeat => "`repeat every` and a duration",
        repeat_times => "`times` and a count",
        repeat_until => "`until` and a condition",
        handler => "an event handler (`on …`)",
        event_name => "an event (`dispute opened`, `payment` …)",
        block => "a block in braces",
        statement | skip_when | stop_when | if_stmt | goto_stmt | stop_stmt | pause_stmt
        | resume_stmt | wait_stmt => "a statement",
        action | email | sms | letter | call | task | webhook | escalate | alert
        | block_deliveries | unblock_deliveries | charge | tag => "an action",
        charge_percent => "a percentage fee (`5% \"Collection fee\"`)",
        charge_rate => "a percentage (`5%`)",
        charge_min => "`min` and an amount",
        charge_max => "`max` and an amount",
        expr | prefix | operand | paren | list | rule_call | path | op_neg => "an expression",
        reserved => "a name that is not a keyword",
        infix => "an operator",
        op_eq => "`==`",
        op_ne => "`!=`",
        op_le => "`<=`",
        op_ge => "`>=`",
        op_lt => "`<`",
        op_gt => "`>`",
        op_not_in => "`not in`",
        op_add => "`+`",
        op_sub => "`-`",
        op_mul => "`*`",
        op_div => "`/`",
        policy => "a policy",
        policy_rule => "`use SCENARIO when …` or `use SCENARIO otherwise`",
        test => "a test",
        test_member | test_use | test_from | test_until | test_customer | test_invoice
        | test_event | expect | expect_error => {
            "a test line (`customer`, `invoice`, `on DATE …`, `expect`)"
        }
        field => "a field and its value",
        field_value => "a value",
        entity => "an id",
        event | ev_payment | ev_dispute | ev_resolve | ev_promise | ev_credit_note
        | ev_write_off | ev_risk | ev_outcome | ev_bounce | ev_tag | ev_reversed
        | ev_payment_failed | ev_payment_reversed | ev_moved => {
            "an event (`payment`, `dispute`, `resolve`, `promise` …)"
        }
        expect_line => "an expected action (`DATE ACTION for INVOICE`)",
    }
}
