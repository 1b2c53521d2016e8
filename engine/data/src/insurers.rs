//! A data folder's credit insurers: `insurers.csv`, one policy per insurer (`insurer`,
//! `max_extension_days`, `threatened_risk`, `claim`; the two deadlines in days or months from
//! the invoice's original due date (for an invoice with installments, the first one not paid
//! in full): `60 days`, `6 months`; optionally
//! `threatened_risk_notice_days`, `stop_cover` (days or months; empty: the policy has none),
//! `stop_cover_notice_days`, `claim_notice_days` and `procedure_declaration`, the deadline to
//! declare a collective procedure from its judgment's date). Loading a folder attaches each
//! customer's policy deadlines to its cover ([`attach`]): the transition makes each a task.
//! Editing the file changes the deadlines without a rebuild.
//!
//! This module owns reading and checking the file; the deadlines are computed by
//! `relance_core::insurance`, the report by `relance_sim::reports::insurance`. It must not
//! change the data it reads.

use std::path::Path;

use relance_core::insurance::{InsurerPolicy, Period};

/// The file name of a data folder's insurer policies.
pub const INSURERS_FILE: &str = "insurers.csv";

const COLUMNS: [&str; 4] = ["insurer", "max_extension_days", "threatened_risk", "claim"];
/// The optional column: days before the threatened-risk deadline at which the engine creates
/// the task to declare it (0 when absent or empty).
const NOTICE: &str = "threatened_risk_notice_days";
/// The optional stop-cover deadline column, and the optional notices of the stop-cover and
/// claim tasks (0 when absent or empty).
const STOP_COVER: &str = "stop_cover";
const STOP_COVER_NOTICE: &str = "stop_cover_notice_days";
const CLAIM_NOTICE: &str = "claim_notice_days";
/// The optional deadline to declare a collective procedure opened against the customer, from
/// the judgment's date (days or months; empty: the policy's deadline is not given).
const PROCEDURE_DECLARATION: &str = "procedure_declaration";

/// Gives every customer whose insurer has a policy in `policies` that policy's deadlines
/// (threatened risk, stop-cover when the policy has one, claim), so the transition creates
/// their tasks. A customer whose insurer has no policy is left as it is (the `relance
/// insurance` report names it).
pub fn attach(customers: &mut [relance_core::domain::Customer], policies: &[InsurerPolicy]) {
    for c in customers {
        if let Some(cover) = c.credit_cover.as_mut() {
            let policy = policies.iter().find(|p| p.insurer == cover.insurer);
            cover.threatened_risk = policy.map(InsurerPolicy::threatened_risk_task);
            cover.stop_cover = policy.and_then(InsurerPolicy::stop_cover_task);
            cover.claim = policy.map(InsurerPolicy::claim_task);
            cover.procedure_declaration = policy.and_then(|p| p.procedure_declaration);
        }
    }
}

/// Why an `insurers.csv` cannot be used, as data: the file (when read from one), the line
/// (1 is the header; `None` when the file cannot be read at all) and what is wrong. Shown as
/// `FILE:LINE: MESSAGE` (`:LINE: MESSAGE` for a text parsed without a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsurersError {
    pub path: Option<std::path::PathBuf>,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for InsurersError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}", path.display())?;
        }
        match self.line {
            Some(line) => write!(f, ":{line}: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for InsurersError {}

/// The policies of the data folder `dir` (none without `insurers.csv`). An unreadable or
/// invalid file is an error naming it and its line (the message names the column).
pub fn load(dir: &Path) -> Result<Vec<InsurerPolicy>, InsurersError> {
    Ok(load_file(dir)?.unwrap_or_default())
}

/// The policies of the data folder `dir`, `None` when it has no `insurers.csv` (the daemon
/// then keeps the deadlines stored with each customer); an error as [`load`]'s.
pub fn load_file(dir: &Path) -> Result<Option<Vec<InsurerPolicy>>, InsurersError> {
    let path = dir.join(INSURERS_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = crate::rates::read_utf8(&path).map_err(|(line, message)| InsurersError {
        path: Some(path.clone()),
        line,
        message,
    })?;
    parse(&text).map(Some).map_err(|e| InsurersError {
        path: Some(path),
        ..e
    })
}

/// Parses the text of an `insurers.csv`; an error names the line (the caller gives the file).
pub fn parse(text: &str) -> Result<Vec<InsurerPolicy>, InsurersError> {
    parse_lines(text).map_err(|(line, message)| InsurersError {
        path: None,
        line: Some(line),
        message,
    })
}

fn parse_lines(text: &str) -> Result<Vec<InsurerPolicy>, (usize, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| (1, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    let index = |name: &str| header.iter().position(|h| h == name);
    let mut at = [0usize; 4];
    for (i, name) in COLUMNS.iter().enumerate() {
        at[i] = index(name).ok_or_else(|| {
            (
                1,
                format!(
                    "missing column \"{name}\" (expected {})",
                    COLUMNS.join(", ")
                ),
            )
        })?;
    }
    let notice = index(NOTICE);
    let stop_cover = index(STOP_COVER);
    let stop_notice = index(STOP_COVER_NOTICE);
    let claim_notice = index(CLAIM_NOTICE);
    let procedure = index(PROCEDURE_DECLARATION);
    let mut policies: Vec<InsurerPolicy> = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| (line, e.to_string()))?;
        let cell = |i: usize| record.get(at[i]).unwrap_or("");
        let insurer = cell(0).to_string();
        if insurer.is_empty() {
            return Err((line, "column \"insurer\": empty".to_string()));
        }
        if policies.iter().any(|p| p.insurer == insurer) {
            return Err((
                line,
                format!("column \"insurer\": \"{insurer}\" is listed twice"),
            ));
        }
        let max_extension_days = cell(1).parse::<u32>().map_err(|_| {
            (
                line,
                format!(
                    "column \"max_extension_days\": expected a number of days, found \"{}\"",
                    cell(1)
                ),
            )
        })?;
        let period = |i: usize| {
            Period::parse(cell(i)).ok_or_else(|| {
                (
                    line,
                    format!(
                        "column \"{}\": expected days or months (\"60 days\", \"6 months\"), \
                         found \"{}\"",
                        COLUMNS[i],
                        cell(i)
                    ),
                )
            })
        };
        let days = |column: Option<usize>, name: &str| -> Result<u32, (usize, String)> {
            match column.and_then(|i| record.get(i)).unwrap_or("") {
                "" => Ok(0),
                text => text.parse::<u32>().map_err(|_| {
                    (
                        line,
                        format!("column \"{name}\": expected a number of days, found \"{text}\""),
                    )
                }),
            }
        };
        // An optional period column: empty or absent is `None`.
        let optional_period = |column: Option<usize>, name: &str, example: &str| match column
            .and_then(|i| record.get(i))
            .unwrap_or("")
        {
            "" => Ok(None),
            text => Period::parse(text).map(Some).ok_or_else(|| {
                (
                    line,
                    format!(
                        "column \"{name}\": expected days or months ({example}), found \"{text}\""
                    ),
                )
            }),
        };
        let notice_days = days(notice, NOTICE)?;
        let stop_cover_notice_days = days(stop_notice, STOP_COVER_NOTICE)?;
        let claim_notice_days = days(claim_notice, CLAIM_NOTICE)?;
        let stop_cover = optional_period(stop_cover, STOP_COVER, "\"90 days\", \"3 months\"")?;
        let procedure_declaration =
            optional_period(procedure, PROCEDURE_DECLARATION, "\"15 days\", \"1 month\"")?;
        policies.push(InsurerPolicy {
            insurer,
            max_extension_days,
            threatened_risk: period(2)?,
            claim: period(3)?,
            notice_days,
            stop_cover,
            stop_cover_notice_days,
            claim_notice_days,
            procedure_declaration,
        });
    }
    Ok(policies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_column_is_optional_and_attach_gives_covers_their_deadline() {
        use relance_core::domain::Customer;
        use relance_core::insurance::{CoverStatus, CreditCover, ThreatenedRisk};
        let policies = parse(
            "insurer,max_extension_days,threatened_risk,claim,threatened_risk_notice_days\n\
             acme-credit,60,60 days,6 months,10\n\
             other,90,2 months,150 days,\n",
        )
        .expect("valid");
        assert_eq!(
            policies.iter().map(|p| p.notice_days).collect::<Vec<_>>(),
            [10, 0]
        );
        let bad = parse(
            "insurer,max_extension_days,threatened_risk,claim,threatened_risk_notice_days\n\
             acme-credit,60,60 days,6 months,ten\n",
        );
        assert_eq!(
            bad.unwrap_err().to_string(),
            ":2: column \"threatened_risk_notice_days\": expected a number of days, found \"ten\""
        );
        let covered = |insurer: &str| {
            let mut c = Customer::new("C");
            c.credit_cover = Some(CreditCover {
                insurer: insurer.into(),
                status: CoverStatus::Covered,
                limit: None,
                threatened_risk: None,
                stop_cover: None,
                claim: None,
                procedure_declaration: None,
            });
            c
        };
        let mut customers = [
            covered("acme-credit"),
            covered("unknown"),
            Customer::new("D"),
        ];
        attach(&mut customers, &policies);
        let got: Vec<_> = customers
            .iter()
            .map(|c| c.credit_cover.as_ref().and_then(|k| k.threatened_risk))
            .collect();
        assert_eq!(
            got,
            [
                Some(ThreatenedRisk {
                    after: Period::Days(60),
                    notice_days: 10
                }),
                None,
                None
            ]
        );
    }

    #[test]
    fn reads_policies_and_names_the_bad_cell() {
        let policies = parse(
            "insurer,max_extension_days,threatened_risk,claim\n\
             acme-credit,60,60 days,6 months\n\
             other,90,30 jours,150 days\n",
        )
        .expect("valid");
        assert_eq!(policies.len(), 2);
        assert_eq!(policies[0].threatened_risk, Period::Days(60));
        assert_eq!(policies[0].claim, Period::Months(6));
        assert_eq!(policies[1].claim, Period::Days(150));
        for (text, want) in [
            (
                "insurer,max_extension_days,claim\n",
                ":1: missing column \"threatened_risk\" (expected insurer, max_extension_days, threatened_risk, claim)",
            ),
            (
                "insurer,max_extension_days,threatened_risk,claim\nacme,sixty,60 days,6 months\n",
                ":2: column \"max_extension_days\": expected a number of days, found \"sixty\"",
            ),
            (
                "insurer,max_extension_days,threatened_risk,claim\nacme,60,60 days,half a year\n",
                ":2: column \"claim\": expected days or months (\"60 days\", \"6 months\"), found \"half a year\"",
            ),
            (
                "insurer,max_extension_days,threatened_risk,claim\nacme,60,60 days,6 months\nacme,30,1 month,6 months\n",
                ":3: column \"insurer\": \"acme\" is listed twice",
            ),
        ] {
            assert_eq!(parse(text).expect_err(want).to_string(), want);
        }
    }
}
