//! The registry of diagnostic codes: one [`Code`] variant per diagnostic the parser and the
//! checker can emit, carrying its stable code string, its severity and its one-line title.
//!
//! `docs/DIAGNOSTICS.md` documents every code listed here, under the heading
//! `## CODE: title` (`dsl/tests/docs_sync.rs` keeps the two in sync). Codes are never reused nor
//! renumbered once released. This module only names and describes codes: what is wrong, and
//! where, is decided where a [`Diagnostic`](crate::Diagnostic) is built.

use std::fmt;

use crate::diagnostics::Severity;

/// Declares [`Code`], [`Code::ALL`] and the per-variant tables from one list, so a code's
/// string, severity and title cannot drift apart.
macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $title:literal; )*) => {
        /// A diagnostic code. Variants are declared in the order of their code strings (`E…`
        /// before `W…`, then by number), so sorting by `Code` sorts by code string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in the order of `docs/DIAGNOSTICS.md`.
            pub const ALL: &[Code] = &[ $( Code::$variant, )* ];

            /// The stable code string (`E0110`), as printed and in `--format json`.
            pub const fn code(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// How serious it is: `E` codes are errors, `W` codes warnings.
            pub const fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// The one-line title, as in the heading of its section of `docs/DIAGNOSTICS.md`.
            pub const fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }
        }
    };
}

codes! {
    /// The text does not follow the grammar.
    SyntaxError = "E0001", Error, "syntax error";
    /// A date literal that is not a day of the calendar (`2026-02-30`).
    ImpossibleDate = "E0002", Error, "impossible date";
    /// A number too large for its place.
    NumberOutOfRange = "E0003", Error, "number out of range";
    DuplicateName = "E0101", Error, "duplicate scenario, policy or test name";
    DuplicateStep = "E0102", Error, "duplicate step name";
    DuplicateSetting = "E0103", Error, "setting given twice";
    DuplicateHandler = "E0104", Error, "duplicate handler";
    UnknownStep = "E0110", Error, "unknown step";
    AnchorToLaterStep = "E0111", Error, "anchor to a later step";
    AnchorCycle = "E0112", Error, "anchor cycle";
    /// A statement in a body where it has no meaning (`schema::STATEMENTS` says which).
    StatementNotAllowed = "E0113", Error, "statement not allowed here";
    /// `on day N` with N outside 1–31.
    DayOfMonthOutOfRange = "E0114", Error, "day of month out of range";
    /// `repeat every 0 days`: the step would fire again the same day, forever.
    RepeatEveryZero = "E0115", Error, "repeat interval of zero";
    /// `repeat … times 0`: a step fires at least once.
    RepeatZeroTimes = "E0116", Error, "repeat zero times";
    ZeroCatchUpInterval = "E0117", Error, "catch-up interval of zero";
    UnknownDunningStep = "E0118", Error, "unknown step in `dunning_step`";
    IncompleteDunningStanding = "E0119", Error, "incomplete dunning standing";
    UnknownEvent = "E0120", Error, "unknown event";
    UnknownField = "E0130", Error, "unknown field";
    TypeMismatch = "E0140", Error, "type mismatch";
    MixedCurrencies = "E0141", Error, "mixed currencies";
    ConditionNotBoolean = "E0142", Error, "condition is not a boolean";
    /// `charge N% …`: a rate of 0 or above 100%, bounds in two currencies, `min` above `max`.
    InvalidPercentageFee = "E0143", Error, "invalid percentage fee";
    /// A text literal compared with a field whose values form a closed set
    /// (`schema::FieldDoc::values`) and that is not one of them: `customer.credit_cover == "coverd"`.
    UnknownFieldValue = "E0144", Error, "value the field never takes";
    UnknownTemplate = "E0150", Error, "unknown template";
    UnknownRule = "E0151", Error, "unknown rule";
    WrongRuleArity = "E0152", Error, "wrong number of rule arguments";
    UnknownScenario = "E0160", Error, "unknown scenario";
    /// An invoice-only statement (`goto`, `wait until`, `charge` …) in a `level` block.
    StatementNotAllowedInLevel = "E0161", Error, "statement not allowed in a level";
    /// `on clear` in a per-invoice scenario, or an invoice event's handler in a `per customer` one.
    HandlerNotAllowedHere = "E0162", Error, "handler not allowed in this scenario";
    /// `level` in a scenario without `per customer`.
    LevelWithoutPerCustomer = "E0163", Error, "level outside a `per customer` scenario";
    /// `step` in a `per customer` scenario.
    StepInPerCustomer = "E0164", Error, "step in a `per customer` scenario";
    DuplicateLevel = "E0165", Error, "duplicate level name";
    UnknownRole = "E0170", Error, "unknown role";
    AmountNotAllowed = "E0171", Error, "amount not allowed here";
    UnknownCalendar = "E0172", Error, "unknown calendar";
    InvalidTolerance = "E0173", Error, "invalid tolerance";
    /// `late-interest 0%`, above 100%, or `0 times legal rate`.
    InvalidLateInterestRate = "E0174", Error, "invalid late-interest rate";
    UnknownTestEntity = "E0180", Error, "unknown invoice or customer in a test";
    InvalidTestField = "E0181", Error, "unknown or invalid test field";
    MissingTestField = "E0182", Error, "missing test field";
    DuplicateTestEntity = "E0183", Error, "duplicate test entity";
    /// A `rules/*.rhai` file that rhai cannot compile (or that holds more than functions).
    RulesFileError = "E0190", Error, "rules file does not compile";
    /// A rules file uses what the rule sandbox forbids (`print`, `eval`, `import` …).
    ForbiddenInRule = "E0191", Error, "forbidden call in a rule";
    /// The same function name is defined in two files of `rules/`.
    DuplicateRuleFunction = "E0192", Error, "function defined in two rules files";
    /// A message template that minijinja cannot parse (`relance_templates::check`).
    TemplateSyntaxError = "E0501", Error, "template syntax error";
    /// A template reads a variable the template context does not document.
    UnknownTemplateVariable = "E0502", Error, "unknown template variable";
    /// A template a scenario uses has no file in a language the set declares.
    MissingTemplateLanguage = "E0503", Error, "template missing in a declared language";
    /// `templates/templates.toml` is not valid.
    InvalidTemplateSettings = "E0504", Error, "invalid template settings";
    /// A template applies a filter the renderer does not have (`| monay`).
    UnknownTemplateFilter = "E0505", Error, "unknown template filter";
    PolicyWithoutOtherwise = "W0101", Warning, "policy without `otherwise`";
    PolicyRuleNeverReached = "W0102", Warning, "policy rule never reached";
    UnreachableStep = "W0103", Warning, "unreachable step";
    UnreachableStatement = "W0104", Warning, "unreachable statement";
    ScenarioWithoutSteps = "W0105", Warning, "scenario without steps";
    TestWithoutExpectation = "W0106", Warning, "test without expectation";
    /// A step whose date always comes before that of a step written above it.
    StepsOutOfDateOrder = "W0111", Warning, "steps out of date order";
    /// `skip when` after an action of its step (the action would not run either).
    SkipWhenAfterAction = "W0113", Warning, "`skip when` after an action";
    /// `repeat … times 1`: the step fires once, as without `repeat`.
    RepeatOnce = "W0114", Warning, "repeat that fires once";
    /// A `per customer` scenario without any `level`.
    PerCustomerWithoutLevels = "W0161", Warning, "`per customer` scenario without levels";
    /// `cadence` in a `per customer` scenario: it applies to the messages of steps only.
    CadenceInPerCustomer = "W0162", Warning, "`cadence` in a `per customer` scenario";
    /// `charge indemnity` / `charge late-interest` in a scenario consumers can get.
    PenaltyForConsumers = "W0171", Warning, "indemnity or late interest for consumers";
    /// `cadence` and `group by invoice` in one scenario: the cadence merges anyway.
    CadenceWithGroupByInvoice = "W0174", Warning, "cadence with `group by invoice`";
    /// `late-interest` below three times the legal interest rate (L441-10 II): a multiple
    /// under 3 (here), or a percentage under the floor of the rate table's latest half-year
    /// (`relance_core::scenario_set::check`, which has the table).
    RateBelowLegalFloor = "W0175", Warning, "late-interest rate below the legal floor";
    /// A `rules/*.rhai` file none of whose functions the set calls.
    UnusedRulesFile = "W0190", Warning, "rules file never used";
    /// A `templates/` folder without `templates.toml`: no language declared.
    TemplatesWithoutSettings = "W0501", Warning, "templates without `templates.toml`";
    /// A template file no scenario of the set sends.
    UnusedTemplate = "W0502", Warning, "template no scenario uses";
    /// A language of `templates.toml` in which no template is written.
    LanguageWithoutTemplates = "W0503", Warning, "declared language without templates";
}

impl Code {
    /// The code of a code string (`"E0110"`), if there is one.
    pub fn from_code(code: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// The anchor of its section in `docs/DIAGNOSTICS.md` (`e0110-unknown-step`), as GitHub
    /// makes it from the heading `## E0110: unknown step`.
    pub fn docs_anchor(self) -> String {
        format!("{}: {}", self.code(), self.title())
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    }

    /// Where it is documented, relative to the repository's root:
    /// `docs/DIAGNOSTICS.md#e0110-unknown-step`.
    pub fn docs_url(self) -> String {
        format!("docs/DIAGNOSTICS.md#{}", self.docs_anchor())
    }
}

/// The code string, as printed (`E0110`).
impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_in_order() {
        let strings: BTreeSet<&str> = Code::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(
            strings.len(),
            Code::ALL.len(),
            "a code string is used twice"
        );
        for c in Code::ALL {
            let s = c.code();
            assert!(
                s.len() == 5 && s[1..].bytes().all(|b| b.is_ascii_digit()),
                "{c:?}: `{s}` is not a letter and four digits"
            );
            assert!(!c.title().is_empty(), "{c:?} has no title");
        }
        for pair in Code::ALL.windows(2) {
            assert!(
                pair[0] < pair[1] && pair[0].code() < pair[1].code(),
                "{:?} ({}) must come before {:?} ({}) in the declaration: sorting by Code sorts by code string",
                pair[0],
                pair[0].code(),
                pair[1],
                pair[1].code()
            );
        }
    }

    /// The convention `docs/DIAGNOSTICS.md` states: `E…` is an error, `W…` a warning.
    #[test]
    fn severity_matches_the_letter() {
        for c in Code::ALL {
            let want = match c.code().as_bytes()[0] {
                b'E' => Severity::Error,
                b'W' => Severity::Warning,
                other => panic!("{c:?}: unknown letter `{}`", other as char),
            };
            assert_eq!(c.severity(), want, "{c:?} ({})", c.code());
        }
    }

    #[test]
    fn from_code_display_and_docs_url() {
        for c in Code::ALL {
            assert_eq!(Code::from_code(c.code()), Some(*c));
            assert_eq!(c.to_string(), c.code());
        }
        assert_eq!(Code::from_code("E9999"), None);
        assert_eq!(
            Code::UnknownStep.docs_url(),
            "docs/DIAGNOSTICS.md#e0110-unknown-step"
        );
        assert_eq!(
            Code::PolicyWithoutOtherwise.docs_anchor(),
            "w0101-policy-without-otherwise"
        );
        assert_eq!(
            Code::DuplicateName.docs_anchor(),
            "e0101-duplicate-scenario-policy-or-test-name"
        );
    }
}
