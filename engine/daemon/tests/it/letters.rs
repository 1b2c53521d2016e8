//! Letters and emails as the dispatcher delivers them, through the outbox with the standard
//! scenario set on a virtual clock: a formal notice of the stdlib becomes a PDF letter whose
//! text (`pdftotext -layout`) names the recipient, the address, the notice and the amounts,
//! whose address block lies in the envelope window (`pdftotext -bbox`), and whose bytes are
//! the same when it is written again; a letter to a contact without a postal address is a dead
//! letter saying so, never delivered; a spooled email's `Date:` is the virtual day.
//!
//! pdftotext (Debian's poppler-utils) is required on CI (`CI` set); elsewhere the PDF checks
//! are skipped with a notice when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;

use relance_core::domain::{Portfolio, PostalAddress};
use relance_daemon::config::{Company, Config};
use relance_daemon::dispatcher::Dispatcher;
use relance_daemon::model::{Message, MessageStatus};
use relance_daemon::server::{self, ClockMode};

use crate::support::TempDir;

/// Two customers on the standard B2B scenario, each with an invoice two months late on
/// 1 April 2026 (the formal notice is required): ACME's legal contact has a postal address,
/// NOADDR's has none (and neither has its main nor accounting contact). ACME also has an
/// invoice due on 27 March, reminded by email on 1 April.
fn portfolio() -> Portfolio {
    serde_json::from_value(serde_json::json!({
        "customers": [
            {"id": "ACME", "name": "Acme SA", "segment": "b2b", "language": "fr", "contacts": {
                "accounting": {"email": "compta@acme.example"},
                "legal": {"name": "Acme SA – Service juridique", "address": {
                    "lines": ["Service juridique", "12 avenue de l'Opéra"],
                    "postcode": "75001", "city": "Paris", "country": "FR"}}}},
            {"id": "NOADDR", "name": "Sans Adresse SARL", "segment": "b2b", "language": "fr",
             "contacts": {
                "accounting": {"email": "compta@noaddr.example"},
                "legal": {"name": "Service juridique"}}}
        ],
        "invoices": [
            {"id": "F-1", "customer": "ACME", "amount": "1234.56", "currency": "EUR",
             "issued": "2026-01-01", "due": "2026-01-31"},
            {"id": "F-2", "customer": "ACME", "amount": "500.00", "currency": "EUR",
             "issued": "2026-03-01", "due": "2026-03-27"},
            {"id": "N-1", "customer": "NOADDR", "amount": "1500.00", "currency": "EUR",
             "issued": "2026-01-01", "due": "2026-01-31"}
        ]
    }))
    .expect("portfolio")
}

/// Runs 1 April 2026 and drains the outbox; returns the engine, the messages still in the
/// outbox and the delivered ones.
async fn run_day(
    tmp: &TempDir,
) -> (
    std::sync::Arc<relance_daemon::Engine>,
    Config,
    Vec<Message>,
    Vec<Message>,
) {
    let config = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        company: Company {
            name: "Fournitures Martin SAS".into(),
            phone: "01 23 45 67 89".into(),
            email: "recouvrement@martin.example".into(),
            address: Some(PostalAddress {
                lines: vec!["3 rue des Lilas".into()],
                postcode: Some("69003".into()),
                city: Some("Lyon".into()),
                country: Some("FR".into()),
            }),
            ..Company::default()
        },
        ..Config::default()
    };
    let day: NaiveDate = "2026-04-01".parse().expect("date");
    let engine = server::open(
        &config,
        ClockMode::Virtual { start: Some(day) },
        Some(&crate::workspace().join("stdlib-scenarios")),
    )
    .expect("engine");
    engine.import(&portfolio()).expect("import");
    engine.catch_up(day).expect("the day's run");
    let dispatcher = Dispatcher::new(engine.clone(), &config).expect("dispatcher");
    dispatcher.drain().await.expect("drain");
    let outbox = engine.outbox().expect("outbox");
    let delivered = engine.delivered(0, 1000).expect("delivered");
    (engine, config, outbox, delivered)
}

fn letter_of<'m>(messages: &'m [Message], customer: &str) -> Option<&'m Message> {
    messages
        .iter()
        .find(|m| m.customer == customer && m.channel == "letter")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_without_a_postal_address_is_a_dead_letter_never_delivered() {
    let tmp = TempDir::new("letters-dead");
    let (_engine, _config, outbox, delivered) = run_day(&tmp).await;
    assert!(
        letter_of(&delivered, "NOADDR").is_none(),
        "never delivered: {delivered:#?}"
    );
    let dead = letter_of(&outbox, "NOADDR").expect("NOADDR's formal notice is in the outbox");
    assert_eq!(dead.status, MessageStatus::Dead);
    assert_eq!(
        dead.last_error.as_deref(),
        Some("customer NOADDR has no postal address for legal (nor main, accounting)")
    );
    assert!(
        !tmp.0.join("spool/letters/2026-04-01").exists()
            || std::fs::read_dir(tmp.0.join("spool/letters/2026-04-01"))
                .expect("letters")
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().starts_with("NOADDR")),
        "nothing written for NOADDR"
    );
    // ACME's letter, with an address, went.
    assert!(letter_of(&delivered, "ACME").is_some(), "{outbox:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spooled_email_is_dated_on_the_engines_clock() {
    let tmp = TempDir::new("letters-date");
    let (_engine, _config, _outbox, delivered) = run_day(&tmp).await;
    let email = delivered
        .iter()
        .find(|m| m.customer == "ACME" && m.channel == "email")
        .expect("ACME's reminder was delivered");
    let path = PathBuf::from(email.receipt.as_deref().expect("receipt: the .eml path"));
    let eml = std::fs::read_to_string(&path).expect("the .eml");
    let date = eml
        .lines()
        .find_map(|l| l.strip_prefix("Date: "))
        .expect("a Date header");
    // The virtual day (Wednesday 1 April 2026), whatever the wall clock says.
    assert!(date.starts_with("Wed, 01 Apr 2026 "), "{date}");
}

/// Whether pdftotext can be used: required on CI (`CI` set), else the PDF checks are skipped.
fn pdftotext_available() -> bool {
    let ok = Command::new("pdftotext")
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        let ci = std::env::var("CI")
            .is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"));
        assert!(
            !ci,
            "pdftotext is not installed: the PDF letter test needs it on CI (apt-get install poppler-utils)"
        );
        eprintln!("skipped: pdftotext is not installed (poppler-utils; required on CI)");
    }
    ok
}

fn pdftotext(pdf: &Path, args: &[&str]) -> String {
    let out = Command::new("pdftotext")
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(
        out.status.success(),
        "pdftotext {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

/// The words of `pdftotext -bbox` output on page 1 (its XHTML entities decoded): text and box
/// (xMin, yMin, xMax, yMax) in points from the top-left corner.
fn words(bbox_html: &str) -> Vec<(String, [f32; 4])> {
    let page_one = bbox_html.split("</page>").next().unwrap_or_default();
    page_one
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("<word ")?;
            let (attrs, text) = rest.split_once('>')?;
            let text = text.strip_suffix("</word>")?;
            let num = |name: &str| -> Option<f32> {
                let start = attrs.find(&format!("{name}=\""))? + name.len() + 2;
                attrs[start..].split('"').next()?.parse().ok()
            };
            let text = text
                .replace("&apos;", "'")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            Some((
                text,
                [num("xMin")?, num("yMin")?, num("xMax")?, num("yMax")?],
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formal_notice_is_a_pdf_letter_that_reads_as_a_french_letter() {
    let tmp = TempDir::new("letters-pdf");
    let (_engine, config, _outbox, delivered) = run_day(&tmp).await;
    let letter = letter_of(&delivered, "ACME").expect("ACME's formal notice was delivered");
    let receipt = PathBuf::from(letter.receipt.as_deref().expect("receipt"));
    assert_eq!(
        receipt.extension().and_then(|e| e.to_str()),
        Some("pdf"),
        "{receipt:?}"
    );
    let bytes = std::fs::read(&receipt).expect("the PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(
        receipt.with_extension("html").exists(),
        "the HTML form stays beside it"
    );

    // The same message written again (a re-send after a crash): the same bytes.
    let registry = relance_daemon::channels::Registry::from_config(
        &config,
        std::sync::Arc::new(relance_daemon::clock::VirtualClock::new(
            "2026-05-20".parse().expect("date"),
        )),
    )
    .expect("channels");
    let again = registry.deliver(letter).await;
    assert_eq!(
        again,
        relance_daemon::outbox::Delivery::Delivered(receipt.display().to_string())
    );
    assert_eq!(
        std::fs::read(&receipt).expect("the PDF"),
        bytes,
        "deterministic"
    );

    if !pdftotext_available() {
        return;
    }
    let text = pdftotext(&receipt, &["-layout"]);
    for expected in [
        // The sender block and the recipient's window block.
        "Fournitures Martin SAS",
        "3 rue des Lilas",
        "69003 Lyon",
        "Acme SA – Service juridique",
        "Service juridique",
        "12 avenue de l'Opéra",
        "75001 Paris",
        // The place and date line, the mention, the subject.
        "Lyon, le 1er avril 2026",
        "Lettre recommandée avec accusé de réception",
        "Objet : Mise en demeure de payer – 1 234,56 €",
        // The formal notice's wording and amounts.
        "Madame, Monsieur,",
        "mise en demeure au sens de l'article 1344 du Code civil",
        "facture F-1 du 1er janvier 2026, de 1 234,56 €",
        "reste dû 1 234,56 €",
        "40,00 € par facture",
        "salutations distinguées",
    ] {
        assert!(
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains(expected),
            "{expected:?} not in the letter:\n{text}"
        );
    }

    // The recipient block lies inside the envelope window: 100 × 45 mm, 20 mm from the right
    // edge, 45 mm from the top (in points from the top-left corner).
    let pt = |mm: f32| mm * 72.0 / 25.4;
    let (left, top, right, bottom) = (pt(90.0), pt(45.0), pt(190.0), pt(90.0));
    let words = words(&pdftotext(&receipt, &["-bbox"]));
    let window: Vec<&(String, [f32; 4])> = words
        .iter()
        .filter(|(_, b)| b[0] >= left && b[2] <= right && b[1] >= top && b[3] <= bottom)
        .collect();
    let inside: Vec<&str> = window.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(
        inside.join(" "),
        "Acme SA – Service juridique Service juridique 12 avenue de l'Opéra 75001 Paris",
        "exactly the recipient block in the window; words: {words:?}"
    );
    // And the sender is above it, out of the window.
    let martin = words
        .iter()
        .find(|(w, _)| w == "Martin")
        .expect("the sender's name");
    assert!(martin.1[3] < top, "{martin:?}");
}
