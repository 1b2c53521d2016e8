//! The registry of diagnostic codes: each stable code and its one-line title.
//!
//! `docs/DIAGNOSTICS.md` documents every code listed here (a test keeps the two in sync).
//! Codes are never reused or renumbered once released.

/// `(code, title)` for every diagnostic the parser and checker can emit.
pub const CODES: &[(&str, &str)] = &[
    ("E0001", "syntax error"),
    ("E0002", "impossible date"),
    ("E0003", "number out of range"),
    ("E0101", "duplicate scenario, policy or test name"),
    ("E0102", "duplicate step name"),
    ("E0103", "setting given twice"),
    ("E0104", "duplicate handler"),
    ("E0110", "unknown step"),
    ("E0111", "anchor to a later step"),
    ("E0112", "anchor cycle"),
    ("E0113", "statement not allowed here"),
    ("E0120", "unknown event"),
    ("E0130", "unknown field"),
    ("E0140", "type mismatch"),
    ("E0141", "mixed currencies"),
    ("E0142", "condition is not a boolean"),
    ("E0150", "unknown template"),
    ("E0151", "unknown rule"),
    ("E0152", "wrong number of rule arguments"),
    ("E0160", "unknown scenario"),
    ("E0170", "unknown role"),
    ("E0171", "amount not allowed here"),
    ("E0172", "unknown calendar"),
    ("E0173", "invalid tolerance"),
    ("E0180", "unknown invoice or customer in a test"),
    ("E0181", "unknown or invalid test field"),
    ("E0182", "missing test field"),
    ("E0183", "duplicate test entity"),
    ("W0101", "policy without `otherwise`"),
    ("W0102", "policy rule never reached"),
    ("W0103", "unreachable step"),
    ("W0104", "unreachable statement"),
    ("W0105", "scenario without steps"),
    ("W0106", "test without expectation"),
];

pub fn title(code: &str) -> Option<&'static str> {
    CODES.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
}
