//! Hostile input: no file makes a reader panic. Every importer (FEC, camt.053, mapped CSV,
//! events CSV), the data folder (`customers.csv`, `invoices.csv`, `payments.csv`,
//! `events.csv`, `insurers.csv`, `rates.csv`) and the case JSON are fed (a) seeded mutations of
//! small valid fixtures written here (cut ranges, duplicated and swapped lines, byte flips,
//! truncation, non-UTF-8 bytes, a BOM, CRLF) and (b) hostile values in otherwise valid files
//! (dates at the ends of the calendar or that do not exist, amounts past what a decimal holds,
//! terms and insurer deadlines of `u32::MAX` days, empty, huge and duplicated ids, a payment
//! for an unknown invoice, installments adding up to more than the invoice). Each read returns
//! Ok or an error; an error names the file and, for a line-oriented file, the line. What a
//! reader accepts is then merged, validated, checked (terms, rates) and written back and read
//! again, as `relance import` does. The planner's side is `relance-sim`'s `never_panics`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use relance_core::domain::Portfolio;
use relance_core::interest::RateTable;
use relance_data::import::csv_mapped::{self, CsvOptions, Kind};
use relance_data::import::fec::{self, FecOptions};
use relance_data::import::{Merge, camt053, events_csv, write};
use relance_data::portfolio::{self, PortfolioError};
use relance_data::{insurers, rate_check, rates, terms_check};

// ---------------------------------------------------------------------------------------------
// Fixtures: templates whose `{slot}`s take a default value or a hostile one.

const FEC: &str = "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise
VE\tVentes\t1\t{fdate}\t411000\tClients\tCLI001\tAcme SA\t{id}\t{fdate}\tFacture\t1200,00\t0,00\tA\t20260205\t20260105\t\t
VE\tVentes\t1\t{fdate}\t706000\tPrestations\t\t\t{id}\t{fdate}\tFacture\t0,00\t1200,00\t\t\t20260105\t\t
VE\tVentes\t2\t20260110\t411000\tClients\tCLI002\tBeta\tFA-2\t20260110\tFacture FA-2\t{famount}\t0,00\t\t\t20260110\t\t
VE\tVentes\t2\t20260110\t706000\tPrestations\t\t\tFA-2\t20260110\tFacture FA-2\t0,00\t{famount}\t\t\t20260110\t\t
BQ\tBanque\t1\t20260204\t512000\tBanque\t\t\tREL-1\t20260204\tVirement Acme\t1200,00\t0,00\t\t\t20260204\t\t
BQ\tBanque\t1\t20260204\t411000\tClients\tCLI001\tAcme SA\tREL-1\t20260204\tVirement Acme\t0,00\t1200,00\tA\t20260205\t20260204\t\t
BQ\tBanque\t2\t{fdate2}\t512000\tBanque\t\t\tVIR-2\t{fdate2}\tVirement FA-2\t{fpaid},00\t0,00\t\t\t20260220\t\t
BQ\tBanque\t2\t{fdate2}\t411000\tClients\tCLI002\tBeta\tVIR-2\t{fdate2}\tVirement FA-2\t0,00\t{fpaid},00\t\t\t20260220\t\t
";

const CAMT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>HOSTILE</MsgId><CreDtTm>2026-03-31T18:00:00+02:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{id}</Id>
      <Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{open}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{close}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-31</Dt></Dt></Bal>
      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{date}</Dt></BookgDt>
        <ValDt><Dt>{date}</Dt></ValDt>
        <AcctSvcrRef>BK-101</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{e2e}</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>ACME SA</Nm></Dbtr><DbtrAcct><Id><IBAN>FR7611808009101234567890147</IBAN></Id></DbtrAcct></RltdPties>
          <RmtInf><Strd><CdtrRefInf><Ref>{invoice}</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <RvslInd>true</RvslInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{date}</Dt></BookgDt>
        <AcctSvcrRef>BK-102</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{e2e}</EndToEndId></Refs>
          <RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

const CSV_CUSTOMERS: &str =
    "id;name;payment_terms;payment_terms_days;late_interest_rate;risk_score;accounting_email
{id};Acme SA;{terms};{days};{rate};{risk};compta@acme.example
BETA;Beta SARL;;;;;
";

const CSV_INVOICES: &str = "id;customer;amount;issued;due;outstanding;payment_terms;delivered_on;installments;dunning_step;dunning_date;dunning_attempts;catch_up
{id};ACME;{amount};{date};{due};{outstanding};{terms};{delivered};{installments};{step};{step_date};{attempts};{catch_up}
F-2;ACME;100,00;2026-01-10;;;;;;;;;
";

const CSV_PAYMENTS: &str = "date;invoice;amount;reference;remittance_date
{date};{invoice};{amount};VIR-1;{remitted}
18/02/2026;F-1;1,00;VIR-2;
";

const EVENTS: &str = "date,type,invoice,customer,code,amount,promised_date,target_date,risk_score,outcome,role,procedure,judgment_on,published_on,to,reason,payment_date,scenario,by,because,tag
{date},payment,{invoice},,,{amount},,,,,,,,,,,,,,,
2026-02-05,dispute_opened,F-1,,logistics/late,{amount},,{date},,,,,,,,,,,,,
2026-02-10,promise_made,F-1,,,{amount},{date},,,,,,,,,,,,,,
2026-02-11,due_date_extended,F-1,,,,,,,,,,,,{date},,,,,,
2026-02-12,payment_reversed,F-1,,,{amount},,,,,,,,,,other,{date},,,,
2026-02-13,risk_changed,,ACME,,,,,{risk},,,,,,,,,,,,
2026-02-14,insolvency_opened,,ACME,,,,,,,,redressement,{date},{date},,,,,,,
2026-02-15,task_outcome,F-1,,,,{date},,,called,,,,,,,,,,,
";

const DATA_CUSTOMERS: &str = "id,name,segment,payment_terms,payment_terms_days,insurer,credit_cover,credit_limit,late_interest_rate
ACME,Acme SA,b2b,{terms},{days},acme-credit,covered,{limit},{rate}
BETA,Beta SARL,b2c,,30,,,,
";

const DATA_INVOICES: &str = "id,customer,amount,currency,issued,due,outstanding,payment_terms,delivered_on,installments,dunning_step,dunning_date,dunning_attempts,catch_up,late_interest_rate
{id},ACME,{amount},EUR,{date},{due},{outstanding},{iterms},{delivered},{installments},{step},{step_date},{attempts},{catch_up},{rate}
F-2,BETA,100.00,EUR,2026-01-10,,,,,,,,,,
F-3,ACME,250.00,EUR,2026-01-12,2026-02-11,,,,,,,,,
";

const DATA_PAYMENTS: &str = "date,invoice,amount,reference
{date},{invoice},{amount},VIR-1
2026-02-10,F-2,10.00,VIR-2
";

const DATA_INSURERS: &str = "insurer,max_extension_days,threatened_risk,claim,stop_cover,stop_cover_notice_days,claim_notice_days,threatened_risk_notice_days,procedure_declaration
acme-credit,{days},{deadline},{deadline},{deadline},{days},{days},{days},{deadline}
";

const DATA_RATES: &str = "half_year,ecb_rate,legal_rate_professionals
{half},{rate},{rate}
";

const CASE: &str = r#"{
  "customers": [
    {"id": "ACME", "payment_terms": "{terms}", "late_interest_rate": "{rate}", "risk_score": {risk}},
    {"id": "BETA", "payment_terms_days": {days}}
  ],
  "invoices": [
    {"id": "{id}", "customer": "ACME", "amount": "{amount}", "issued": "{date}", "payment_terms": "{terms}",
     "installments": "{installments}", "outstanding": "{outstanding}", "currency": "EUR"},
    {"id": "F-2", "customer": "BETA", "amount": "100", "issued": "2026-01-10", "due": "{due}"}
  ],
  "events": [
    {"date": "{date}", "type": "payment", "invoice": "{invoice}", "amount": "{amount}"},
    {"date": "2026-02-01", "type": "promise_made", "invoice": "F-2", "promised_date": "{date}", "amount": "{amount}"}
  ]
}"#;

/// Each slot's value in the valid file.
const DEFAULTS: &[(&str, &str)] = &[
    ("fdate", "20260105"),
    ("fdate2", "20260220"),
    ("famount", "600,00"),
    ("fpaid", "300"),
    ("id", "F-1"),
    ("open", "100.00"),
    ("close", "100.00"),
    ("amount", "1200.00"),
    ("date", "2026-01-05"),
    ("e2e", "E2E-1"),
    ("invoice", "F-1"),
    ("terms", "net 30"),
    ("iterms", ""),
    ("days", "45"),
    ("rate", "12"),
    ("risk", "20"),
    ("due", "2026-02-04"),
    ("outstanding", ""),
    ("delivered", ""),
    ("installments", ""),
    ("step", ""),
    ("step_date", ""),
    ("attempts", ""),
    ("catch_up", ""),
    ("remitted", ""),
    ("limit", "5000"),
    ("deadline", "60 days"),
    ("half", "2026-H2"),
];

fn fill(template: &str, slot: &str, value: &str) -> String {
    let mut text = template.replace(&format!("{{{slot}}}"), value);
    for (name, default) in DEFAULTS {
        text = text.replace(&format!("{{{name}}}"), default);
    }
    // The case JSON's numbers: an empty risk or days is no number at all.
    // Empty JSON strings of optional keys are left out.
    text.replace(": ,", ": 0,")
        .replace(": }", ": 0}")
        .replace(r#""installments": "", "#, "")
        .replace(r#""outstanding": "", "#, "")
}

fn slots(template: &str) -> Vec<&'static str> {
    DEFAULTS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| template.contains(&format!("{{{name}}}")))
        .collect()
}

/// The hostile values tried in each slot.
fn hostile(slot: &str) -> Vec<String> {
    let huge_id = "X".repeat(10_000);
    let iso_dates = [
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "1900-01-01",
        "2200-12-31",
        "+262143-12-31",
        "-0001-01-01",
        "31/12/9999",
        "01/01/0001",
        "",
    ];
    let amounts = [
        "1234567890123456789012345678",
        "79228162514264337593543950335",
        "79228162514264337593543950336",
        "99999999999999999999999999999999,99",
        "0,0000000000000000000000000001",
        "1000000000000000",
        "999999999999999.99",
        "-0",
        "1e5",
        "-12.00",
        "0",
        "",
    ];
    let terms = [
        "net 4294967295",
        "net 4294967296",
        "4294967295 days end of month",
        "end of month + 4294967295 days",
        "periodic 4294967295",
        "net 99999 from delivery",
        "net 99999",
        "net -1",
        "net 18446744073709551616",
    ];
    let ids = [
        "",
        " ",
        huge_id.as_str(),
        "F-2",
        "ACME",
        "\u{0}",
        "=cmd|' /C calc'!A0",
    ];
    let list: Vec<&str> = match slot {
        "fdate" | "fdate2" => vec![
            "99991231", "00010101", "20260230", "19000101", "22001231", "",
        ],
        "famount" | "fpaid" => vec![
            "1234567890123456789012345678",
            "79228162514264337593543950335",
            "99999999999999999999999999999999",
            "-0",
            "1e5",
            "-5",
            "0",
            "",
        ],
        "date" | "due" | "delivered" | "step_date" | "remitted" => iso_dates.to_vec(),
        "amount" | "outstanding" | "open" | "close" | "limit" => amounts.to_vec(),
        "terms" | "iterms" => terms.to_vec(),
        "id" | "invoice" | "e2e" | "step" => {
            let mut ids = ids.to_vec();
            ids.push("NO-SUCH-INVOICE");
            ids
        }
        "days" | "attempts" | "risk" => vec![
            "10000",
            "10001",
            "4294967295",
            "4294967296",
            "18446744073709551616",
            "99999",
            "-1",
            "1e5",
        ],
        "rate" => vec![
            "79228162514264337593543950335",
            "1234567890123456789012345678",
            "100",
            "-0",
            "1e5",
            "-1",
        ],
        "installments" => vec![
            "2026-01-31 900; 2026-03-31 900",
            "2026-01-31 99999999999999999999999999999; 2026-03-31 rest",
            "2026-01-31 79228162514264337593543950335%; 2026-03-31 rest",
            "2026-01-31 300%; 2026-03-31 rest",
            "9999-12-31 300; 9999-12-31 rest",
            "0001-01-01 300; 2200-12-31 rest",
            "2026-01-31 -300; 2026-03-31 rest",
            "2026-01-31 1e5; 2026-03-31 rest",
            "2026-01-31 0.0000000000000000000000000001; 2026-03-31 rest",
            "2026-01-31 rest; 2026-03-31 rest",
            ";;;",
        ],
        "catch_up" => vec![
            "gradual 4294967295 days",
            "gradual 99999 weeks",
            "gradual 4294967295 business days",
            "gradual 18446744073709551616 days",
            "gradual:4294967295d",
            "gradual 9223372036854775807 weeks",
            "gradual 9223372036854775807 months",
            "gradual 9223372036854775807 business days",
        ],
        "deadline" => vec![
            "4294967295 days",
            "99999 months",
            "4294967295 months",
            "2147483648 months",
            "18446744073709551616 days",
            "-1 days",
            "0 days",
        ],
        "half" => vec!["2026-H3", "99999-H1", "-1-H1", "2026-H", "4294967296-H2"],
        _ => vec![],
    };
    let mut list: Vec<String> = list.into_iter().map(str::to_string).collect();
    if slot == "installments" {
        // Ten thousand installments of one cent on an invoice of 1200.
        let many: Vec<String> = (0..10_000)
            .map(|i| {
                let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
                    + chrono::Days::new(i);
                format!("{day} 0.01")
            })
            .collect();
        list.push(many.join("; "));
    }
    list
}

// ---------------------------------------------------------------------------------------------
// Readers.

/// What a reader is fed and how it names the file.
#[derive(Clone, Copy, Debug)]
enum Reader {
    Fec,
    Camt,
    CsvCustomers,
    CsvInvoices,
    CsvPayments,
    Events,
    /// One file of a data folder, by name; the others are the valid fixtures.
    Folder(&'static str),
    Insurers,
    Rates,
    Json,
}

impl Reader {
    const ALL: [Reader; 15] = [
        Reader::Fec,
        Reader::Camt,
        Reader::CsvCustomers,
        Reader::CsvInvoices,
        Reader::CsvPayments,
        Reader::Events,
        Reader::Folder("customers.csv"),
        Reader::Folder("invoices.csv"),
        Reader::Folder("payments.csv"),
        Reader::Folder("events.csv"),
        Reader::Folder("insurers.csv"),
        Reader::Folder("rates.csv"),
        Reader::Insurers,
        Reader::Rates,
        Reader::Json,
    ];

    fn template(self) -> &'static str {
        match self {
            Reader::Fec => FEC,
            Reader::Camt => CAMT,
            Reader::CsvCustomers => CSV_CUSTOMERS,
            Reader::CsvInvoices => CSV_INVOICES,
            Reader::CsvPayments => CSV_PAYMENTS,
            Reader::Events | Reader::Folder("events.csv") => EVENTS,
            Reader::Folder("customers.csv") => DATA_CUSTOMERS,
            Reader::Folder("invoices.csv") => DATA_INVOICES,
            Reader::Folder("payments.csv") => DATA_PAYMENTS,
            Reader::Folder("insurers.csv") | Reader::Insurers => DATA_INSURERS,
            Reader::Folder("rates.csv") | Reader::Rates => DATA_RATES,
            Reader::Folder(other) => panic!("no fixture for {other}"),
            Reader::Json => CASE,
        }
    }

    /// The file name errors must give, and whether they must give a line too.
    fn file(self) -> (&'static str, bool) {
        match self {
            Reader::Fec => ("123456782FEC20261231.txt", true),
            Reader::Camt => ("statement.xml", false),
            Reader::CsvCustomers => ("clients.csv", true),
            Reader::CsvInvoices => ("factures.csv", true),
            Reader::CsvPayments => ("reglements.csv", true),
            Reader::Events => ("new-events.csv", true),
            Reader::Folder(name) => (name, true),
            Reader::Insurers => ("insurers.csv", true),
            Reader::Rates => ("rates.csv", true),
            // A case JSON is not read from a named file: its errors name the record or the
            // line and column of the syntax error.
            Reader::Json => ("", false),
        }
    }
}

/// The portfolio the importers merge into: ACME and BETA, invoices F-1 (1200) and F-2, a
/// payment of F-1 whose EndToEndId a returned payment can name.
fn base() -> Portfolio {
    portfolio::from_json(
        r#"{
  "customers": [{"id": "ACME", "payment_terms": "net 30"}, {"id": "BETA"}],
  "invoices": [
    {"id": "F-1", "customer": "ACME", "amount": "1200", "issued": "2026-01-05", "due": "2026-02-04"},
    {"id": "F-2", "customer": "BETA", "amount": "100", "issued": "2026-01-10", "due": "2026-02-09"}
  ],
  "events": [
    {"date": "2026-02-01", "type": "payment", "invoice": "F-1", "amount": "1200", "end_to_end_id": "E2E-1"}
  ]
}"#,
    )
    .expect("the base portfolio is valid")
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A fresh empty folder under the system's temporary directory.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "relance-never-panics-{}-{}",
        std::process::id(),
        DIRS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The files of a data folder and their templates.
const FOLDER: [(&str, &str); 6] = [
    ("customers.csv", DATA_CUSTOMERS),
    ("invoices.csv", DATA_INVOICES),
    ("payments.csv", DATA_PAYMENTS),
    ("events.csv", EVENTS),
    ("insurers.csv", DATA_INSURERS),
    ("rates.csv", DATA_RATES),
];

/// The valid data folder (every slot at its default) with `file` replaced by `bytes`.
fn folder_with(file: &str, bytes: &[u8]) -> PathBuf {
    let dir = scratch();
    for (name, template) in FOLDER {
        let path = dir.join(name);
        if name == file {
            std::fs::write(path, bytes).expect("write");
        } else {
            std::fs::write(path, fill(template, "", "")).expect("write");
        }
    }
    dir
}

/// What a reader made of the input: accepted, or refused with these problems.
enum Outcome {
    Accepted,
    Refused(Vec<Named>),
}

/// One problem of a refusal: its text, and the file name and line it gives.
struct Named {
    text: String,
    file: Option<String>,
    line: Option<u64>,
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn one(text: String, path: Option<&Path>, line: Option<usize>) -> Outcome {
    Outcome::Refused(vec![Named {
        text,
        file: path.and_then(file_name),
        line: line.map(|l| l as u64),
    }])
}

/// An accepted import goes on as `relance import` does: merge, validate, check the terms and
/// rates, write the folder and read it back.
fn after_import(merge: Merge) -> Outcome {
    let (merged, _) = merge.finish();
    if let Err(e) = portfolio::validate(&merged) {
        // Refused as a whole portfolio: the message names records, not the input file.
        let _ = e.to_string();
        return Outcome::Accepted;
    }
    after_load(&merged);
    let dir = scratch();
    write::write_dir(&dir, &merged).expect("an accepted portfolio can be written");
    let back = portfolio::load_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = back {
        panic!("an accepted portfolio written to a folder is refused when read back: {e}");
    }
    Outcome::Accepted
}

/// The checks run on a loaded portfolio (`relance terms check`, `relance rates --data`).
fn after_load(p: &Portfolio) {
    let _ = terms_check::check(p);
    let _ = rate_check::check(p, RateTable::builtin());
    let _ = portfolio::validate(p);
}

fn refused(e: &PortfolioError) -> Outcome {
    match e {
        PortfolioError::Invalid { problems, .. } => Outcome::Refused(
            problems
                .iter()
                .map(|p| match &p.place {
                    portfolio::Place::Csv { file, line, .. } => Named {
                        text: p.to_string(),
                        file: file_name(file),
                        line: Some(*line),
                    },
                    portfolio::Place::Json { .. } => Named {
                        text: p.to_string(),
                        file: None,
                        line: None,
                    },
                })
                .collect(),
        ),
        PortfolioError::JsonSyntax { line, .. } => one(e.to_string(), None, Some(*line)),
        PortfolioError::Io { path, .. } => one(e.to_string(), Some(path), None),
    }
}

fn read(reader: Reader, bytes: &[u8]) -> Outcome {
    let (name, _) = reader.file();
    let path = Path::new("hostile").join(name);
    let csv = |kind: Kind| {
        let mut merge = Merge::new(base());
        let options = CsvOptions {
            kind: Some(kind),
            default_terms: 30,
            ..CsvOptions::default()
        };
        match csv_mapped::import_bytes(&path, bytes, &options, &mut merge, &mut |_, _| {}) {
            Ok(_) => after_import(merge),
            Err(e) => refused(&e),
        }
    };
    match reader {
        Reader::Fec => {
            let mut merge = Merge::new(base());
            let options = FecOptions { default_terms: 30 };
            match fec::import_bytes(&path, bytes, &options, &mut merge, &mut |_, _| {}) {
                Ok(_) => after_import(merge),
                Err(e) => refused(&e),
            }
        }
        Reader::Camt => {
            let mut merge = Merge::new(base());
            match camt053::import_bytes(&path, bytes, &mut merge) {
                Ok(_) => after_import(merge),
                Err(e) => refused(&e),
            }
        }
        Reader::CsvCustomers => csv(Kind::Customers),
        Reader::CsvInvoices => csv(Kind::Invoices),
        Reader::CsvPayments => csv(Kind::Payments),
        Reader::Events => {
            let mut merge = Merge::new(base());
            match events_csv::import_bytes(&path, bytes.to_vec(), &mut merge) {
                Ok(_) => after_import(merge),
                Err(e) => refused(&e),
            }
        }
        Reader::Folder(file) => {
            let dir = folder_with(file, bytes);
            let outcome = match portfolio::load_dir(&dir) {
                Ok(p) => {
                    after_load(&p);
                    match rates::load(Some(&dir)) {
                        Ok(_) => Outcome::Accepted,
                        Err(e) => one(e.to_string(), Some(&e.path), e.line),
                    }
                }
                Err(e) => refused(&e),
            };
            let _ = std::fs::remove_dir_all(&dir);
            outcome
        }
        Reader::Insurers => {
            let text = String::from_utf8_lossy(bytes);
            match insurers::parse(&text) {
                Ok(policies) => {
                    let mut customers = base().customers;
                    insurers::attach(&mut customers, &policies);
                    Outcome::Accepted
                }
                Err(e) => {
                    // As `insurers::load_file` names the file.
                    let e = insurers::InsurersError {
                        path: Some(path.clone()),
                        ..e
                    };
                    one(e.to_string(), e.path.as_deref(), e.line)
                }
            }
        }
        Reader::Rates => {
            let text = String::from_utf8_lossy(bytes);
            match rates::load_text(&text, path.clone()) {
                Ok(r) => {
                    let t = &r.table;
                    for day in [chrono::NaiveDate::MIN, chrono::NaiveDate::MAX] {
                        let _ = (t.legal_rate_on(day), t.floor_on(day), t.ecb_rate_for(day));
                        let _ = t.missing(chrono::NaiveDate::MIN, day);
                    }
                    let _ = (t.floor_warnings(), t.latest_floor(), t.table());
                    Outcome::Accepted
                }
                Err(e) => one(e.to_string(), Some(&e.path), e.line),
            }
        }
        Reader::Json => match std::str::from_utf8(bytes) {
            Ok(text) => match portfolio::from_json(text) {
                Ok(p) => {
                    after_load(&p);
                    Outcome::Accepted
                }
                Err(e) => refused(&e),
            },
            Err(_) => Outcome::Accepted,
        },
    }
}

/// The errors about a whole line-oriented file, which name no line.
const FILE_LEVEL: &[&str] = &["the rate table has no rows"];

/// Reads `bytes` with `reader`: Ok (whether the input was accepted), or the problem found (a
/// panic, an error that does not name the file or, for a line-oriented file, the line).
fn check(reader: Reader, bytes: &[u8]) -> Result<bool, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| read(reader, bytes))).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{reader:?} panicked: {message}")
    })?;
    let Outcome::Refused(problems) = outcome else {
        return Ok(true);
    };
    let (name, by_line) = reader.file();
    if problems.is_empty() {
        return Err(format!("{reader:?}: an error without a problem"));
    }
    for problem in problems {
        if problem.text.trim().is_empty() {
            return Err(format!("{reader:?}: an empty error message"));
        }
        if name.is_empty() {
            continue;
        }
        // A data folder's error may name another of its files (an invoice id changed leaves
        // the payments that name it unknown).
        let named = match (reader, problem.file.as_deref()) {
            (_, None) => false,
            (Reader::Folder(_), Some(file)) => FOLDER.iter().any(|(f, _)| *f == file),
            (_, Some(file)) => file == name,
        };
        if !named {
            return Err(format!(
                "{reader:?}: the error does not name {name}: {}",
                problem.text
            ));
        }
        let file = problem.file.as_deref().unwrap_or(name);
        if !problem.text.contains(file) {
            return Err(format!(
                "{reader:?}: the message does not say {file}: {}",
                problem.text
            ));
        }
        // What is wrong with the whole file is on no line.
        let whole_file = FILE_LEVEL.iter().any(|m| problem.text.contains(m));
        if by_line && problem.line.is_none() && !whole_file {
            return Err(format!(
                "{reader:?}: the error does not name a line: {}",
                problem.text
            ));
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------------------------------------
// (b) Hostile values in otherwise valid files.

#[test]
fn the_valid_fixtures_are_accepted() {
    let mut refused = Vec::new();
    for reader in Reader::ALL {
        let text = fill(reader.template(), "", "");
        if let Outcome::Refused(problems) = read(reader, text.as_bytes()) {
            for p in problems {
                refused.push(format!("{reader:?} refuses its valid fixture: {}", p.text));
            }
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn hostile_values_are_read_or_refused_never_panic() {
    let mut found = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for reader in Reader::ALL {
        for slot in slots(reader.template()) {
            for value in hostile(slot) {
                let text = fill(reader.template(), slot, &value);
                match check(reader, text.as_bytes()) {
                    Ok(true) => accepted += 1,
                    Ok(false) => refused += 1,
                    Err(problem) => {
                        let shown: String = value.chars().take(60).collect();
                        found.push(format!("{slot} = {shown:?}: {problem}"));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    eprintln!("hostile values: {accepted} inputs accepted, {refused} refused");
}

// ---------------------------------------------------------------------------------------------
// (a) Mutations of the valid fixtures.

/// One edit of a file's bytes; positions are taken modulo the length.
#[derive(Debug, Clone)]
enum Mutation {
    Cut(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Bom,
    Crlf,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let odd_bytes = prop::sample::select(vec![
        vec![0xFF],
        vec![0xC3],
        vec![0xE2, 0x82],
        vec![0],
        b"\"".to_vec(),
        b"\n".to_vec(),
        b"\r".to_vec(),
        b";".to_vec(),
        b",".to_vec(),
        b"\t".to_vec(),
        b"<".to_vec(),
        b"&#0;".to_vec(),
        b"]]>".to_vec(),
        "€".as_bytes().to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(a, n)| Mutation::Cut(a, n)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), odd_bytes).prop_map(|(a, b)| Mutation::Insert(a, b)),
        Just(Mutation::Bom),
        Just(Mutation::Crlf),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    let lines = |bytes: &Vec<u8>| -> Vec<Vec<u8>> {
        bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect()
    };
    match m {
        Mutation::Cut(a, n) => {
            let start = a % len;
            let end = (start + n).min(bytes.len());
            bytes.drain(start.min(end)..end);
        }
        Mutation::DuplicateLine(a) => {
            let mut ls = lines(bytes);
            let i = a % ls.len();
            let line = ls[i].clone();
            ls.insert(i, line);
            *bytes = ls.join(&b'\n');
        }
        Mutation::SwapLines(a, b) => {
            let mut ls = lines(bytes);
            let n = ls.len();
            ls.swap(a % n, b % n);
            *bytes = ls.join(&b'\n');
        }
        Mutation::Flip(a, b) => {
            if !bytes.is_empty() {
                let i = a % bytes.len();
                bytes[i] ^= b | 1;
            }
        }
        Mutation::Truncate(a) => bytes.truncate(a % len),
        Mutation::Insert(a, b) => {
            let i = a % (bytes.len() + 1);
            bytes.splice(i..i, b.iter().copied());
        }
        Mutation::Bom => bytes.splice(0..0, [0xEF, 0xBB, 0xBF]).for_each(drop),
        Mutation::Crlf => {
            let text: Vec<u8> = bytes
                .iter()
                .flat_map(|&b| {
                    if b == b'\n' {
                        vec![b'\r', b'\n']
                    } else {
                        vec![b]
                    }
                })
                .collect();
            *bytes = text;
        }
    }
}

/// `cases` runs from `seed`; `RELANCE_HOSTILE_CASES` and `RELANCE_HOSTILE_SEED` change them
/// for a longer search (`RELANCE_HOSTILE_CASES=100000 cargo test -p relance-data --test it
/// never_panics`).
fn config(cases: u32, seed: u64) -> Config {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: var("RELANCE_HOSTILE_CASES").map_or(cases, |n| n as u32),
        rng_seed: RngSeed::Fixed(var("RELANCE_HOSTILE_SEED").unwrap_or(seed)),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(1200, 0x5eed_0010))]

    #[test]
    fn mutated_files_are_read_or_refused_never_panic(
        which in 0..Reader::ALL.len(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let reader = Reader::ALL[which];
        let mut bytes = fill(reader.template(), "", "").into_bytes();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        if let Err(problem) = check(reader, &bytes) {
            prop_assert!(false, "{}\ninput: {:?}", problem, String::from_utf8_lossy(&bytes));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: one test per panic these runs found, each with the input that panicked.

/// `load_dir` panicked with "Addition overflowed" in the reversal check
/// (`validate::check_reversals`) when `payments.csv` held an amount of
/// 79228162514264337593543950335 (`Decimal::MAX`) and `events.csv` a `payment_reversed` of
/// the same invoice: the too-large amount was reported, then still added to what the invoice
/// had been paid.
#[test]
fn a_payment_of_decimal_max_before_a_reversal_is_refused_not_added() {
    let dir = folder_with(
        "payments.csv",
        fill(DATA_PAYMENTS, "amount", "79228162514264337593543950335").as_bytes(),
    );
    let result = portfolio::load_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let message = result.expect_err("too large").to_string();
    assert!(
        message.contains("payments.csv:2 (payment): column \"amount\": too large"),
        "{message}"
    );
}

/// `RateTable::floor_on` panicked with "Multiplication overflowed" (three times the legal
/// rate) on a `rates.csv` whose legal rate was 79228162514264337593543950335: any decimal was
/// read as a rate. A rate is now a percentage from -100 to 100, and the file's error names
/// its line.
#[test]
fn a_rate_of_decimal_max_is_refused_at_its_line() {
    let text = fill(DATA_RATES, "rate", "79228162514264337593543950335");
    let error = rates::load_text(&text, PathBuf::from("data/rates.csv")).expect_err("refused");
    assert_eq!(error.line, Some(2));
    assert!(
        error
            .to_string()
            .starts_with("data/rates.csv: line 2: invalid rate `79228162514264337593543950335`"),
        "{error}"
    );
}

/// Reading a `catch_up` of `gradual 9223372036854775807 weeks` panicked with "attempt to
/// multiply with overflow" (`relance_dsl::ir::CatchUp::from_str`, weeks × 7), in the data
/// folder and in the CSV import alike. A catch-up interval is now at most 3650 of its unit.
#[test]
fn a_catch_up_of_i64_max_weeks_is_refused_at_its_line() {
    for value in [
        "gradual 9223372036854775807 weeks",
        "gradual 4294967295 business days",
    ] {
        let dir = folder_with(
            "invoices.csv",
            fill(DATA_INVOICES, "catch_up", value).as_bytes(),
        );
        let result = portfolio::load_dir(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let message = result.expect_err(value).to_string();
        assert!(
            message.contains("invoices.csv:2: column \"catch_up\": ")
                && message.contains("at most 3650"),
            "{message}"
        );
    }
}
