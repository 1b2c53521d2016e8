//! The imports page over plain HTTP: a file with a bad line is refused with its file, line and
//! field, and nothing is written; a good file's dry run writes nothing until the apply; the
//! apply needs the session's CSRF token and a role of the data-write family; a camt.053's
//! bank proposals are confirmed (a payment fact) or rejected (nothing) before the apply.

use reqwest::StatusCode;

use super::support::{self, Http, csrf_of};

/// Whether invoice `id` of customer C000000 is in the store.
fn stored(d: &support::Daemon, id: &str) -> bool {
    d.engine
        .customer_invoices("C000000")
        .unwrap()
        .iter()
        .any(|i| i == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_is_reported_by_file_line_and_field_and_nothing_is_written() {
    let d = support::start().await;
    let h = Http::new(&d.base);
    let url = "/console/imports";
    let apply = "/console/imports/apply";
    let session = h.session("camille-cm").await;
    let (status, html) = h.page(url, &session).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf_of(&html);

    let header = "id,customer,amount,currency,issued,due,po_number";
    let bad = format!(
        "{header}\nF-T-1,C000000,100.00,EUR,2026-04-01,2026-05-01,\nF-T-2,C000000,douze,EUR,2026-04-01,2026-05-01,\n"
    );
    let good = format!("{header}\nF-T-3,C000000,250.00,EUR,2026-04-01,2026-05-01,\n");

    // Without the token: refused before the upload is read.
    let (status, _) = h
        .upload(url, &session, "", &[("invoices.csv", &good)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A bad amount on line 3: file, line and field named, nothing written.
    let (status, html) = h
        .upload(url, &session, &token, &[("invoices.csv", &bad)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let problems = html
        .split("id=\"problems\"")
        .nth(1)
        .expect("a problem table");
    let row = problems.split("<tbody>").nth(1).unwrap_or_default();
    assert!(row.contains("invoices.csv"), "{row}");
    assert!(row.contains("<td class=\"num\">3</td>"), "line 3: {row}");
    assert!(row.contains("<td>amount</td>"), "field amount: {row}");
    assert!(!html.contains(apply), "no apply after a refusal");
    for id in ["F-T-1", "F-T-2"] {
        assert!(!stored(&d, id), "{id} not written");
    }

    // A good file: the dry run writes nothing, the apply writes it.
    let (status, html) = h
        .upload(url, &session, &token, &[("invoices.csv", &good)])
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(apply), "an apply button");
    assert!(!stored(&d, "F-T-3"), "a dry run writes nothing");
    // The sales role may not apply (nor see the page).
    let sales = h.session("sam-sales").await;
    assert_eq!(h.get(url, &sales).await.status(), StatusCode::FORBIDDEN);
    let (_, sales_html) = h.page("/console/today", &sales).await;
    assert!(
        !sales_html.contains("/console/imports"),
        "no menu entry for sales"
    );
    let sales_token = csrf_of(&sales_html);

    // Sales with its own token: refused, nothing written; the credit manager: applied; the
    // same again: the files were kept for one apply only.
    let applies = [
        (&sales, &sales_token, StatusCode::FORBIDDEN, false),
        (&session, &token, StatusCode::OK, true),
        (&session, &token, StatusCode::BAD_REQUEST, true),
    ];
    for (i, (who, csrf, expected, written)) in applies.into_iter().enumerate() {
        let r = h.post_form(apply, who, &[("csrf", csrf.as_str())]).await;
        assert_eq!(r.status(), expected, "apply {i}");
        let html = r.text().await.unwrap();
        if expected == StatusCode::OK {
            assert!(html.contains("id=\"applied\""), "{html}");
        }
        assert_eq!(stored(&d, "F-T-3"), written, "apply {i}");
    }
    d.stop().await;
}

/// A balanced camt.053 statement `id` of two credits from a payer named like customer
/// C000000, without a reference and of amounts no open invoice has: two proposals.
fn statement(id: &str) -> String {
    let entry = |reference: &str, amount: &str, e2e: &str| {
        format!(
            r#"<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-05-10</Dt></BookgDt><ValDt><Dt>2026-05-10</Dt></ValDt><AcctSvcrRef>{reference}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>
<RltdPties><Dbtr><Nm>Ateliers Dupont 0</Nm></Dbtr><DbtrAcct><Id><IBAN>FR7611808009101234567890147</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>virement</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"#
        )
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>{id}</MsgId><CreDtTm>2026-05-10T18:00:00+02:00</CreDtTm></GrpHdr>
<Stmt><Id>{id}</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-05-10</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">191.34</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-05-10</Dt></Dt></Bal>
{}{}
</Stmt></BkToCstmrStmt></Document>"#,
        entry("BK-T-1", "123.45", "DUPONT-E2E-1"),
        entry("BK-T-2", "67.89", "NOTPROVIDED"),
    )
}

/// The invoice of candidate `j` of proposal `i` in a dry run's page.
fn candidate(html: &str, i: usize, j: usize) -> String {
    let at = html
        .find(&format!("for=\"p{i}-pay-{j}\">"))
        .unwrap_or_else(|| panic!("candidate {i}/{j}"));
    let label = &html[at..];
    let label = &label[label.find('>').expect("label") + 1..];
    let words: Vec<&str> = label.split_whitespace().collect();
    // "Confirm: pays {invoice} ({customer}, …)"
    words[2].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_proposals_are_confirmed_or_rejected_before_the_apply() {
    let d = support::start().await;
    let h = Http::new(&d.base);
    let session = h.session("camille-cm").await;
    let (_, html) = h.page("/console/imports", &session).await;
    let token = csrf_of(&html);

    let (status, html) = h
        .upload(
            "/console/imports",
            &session,
            &token,
            &[("statement.xml", &statement("STMT-T-1"))],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for shown in [
        "id=\"proposal-0\"",
        "id=\"proposal-1\"",
        "BK-T-1 · 123.45 EUR",
        "Ateliers Dupont 0",
        "IBAN FR7611808009101234567890147",
        "EndToEndId DUPONT-E2E-1",
        "value=\"reject\" checked",
        "id=\"apply\"",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    let invoice = candidate(&html, 0, 0);
    let before = d.engine.case(&invoice).unwrap().expect("a case").case;
    let lost = candidate(&html, 1, 0);
    let lost_before = d
        .engine
        .case(&lost)
        .unwrap()
        .expect("a case")
        .case
        .outstanding;

    // Proposal 0 confirmed on its first candidate, 1 rejected; a proposal that does not
    // exist and a second field for proposal 0 are ignored.
    let r = h
        .post_form(
            "/console/imports/apply",
            &session,
            &[
                ("csrf", token.as_str()),
                ("proposal-0", "pay-0"),
                ("proposal-1", "reject"),
                ("proposal-7", "pay-0"),
                ("proposal-0", "pay-99"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let confirmed = html
        .split("id=\"confirmed\"")
        .nth(1)
        .unwrap_or_else(|| panic!("a list: {html}"));
    assert!(
        confirmed.contains(&format!("BK-T-1 → {invoice} · 123.45 EUR")),
        "{confirmed}"
    );
    assert!(!confirmed.contains("BK-T-2"), "{confirmed}");
    let after = d.engine.case(&invoice).unwrap().expect("a case").case;
    let paid = "123.45".parse::<rust_decimal::Decimal>().unwrap();
    assert_eq!(
        after.paid - before.paid,
        paid,
        "a payment fact of the amount"
    );
    if lost != invoice {
        let now = d
            .engine
            .case(&lost)
            .unwrap()
            .expect("a case")
            .case
            .outstanding;
        assert_eq!(now, lost_before, "the rejected one is not applied");
    }

    // The same statement again (other bytes, so not the same batch): the confirmed
    // transaction is known by its bank reference (skipped), the rejected one is proposed again.
    let (status, html) = h
        .upload(
            "/console/imports",
            &session,
            &token,
            &[(
                "again.xml",
                &format!("{}\n<!-- sent again -->\n", statement("STMT-T-1")),
            )],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("BK-T-2 · 67.89 EUR"), "{html}");
    assert!(!html.contains("BK-T-1 · 123.45 EUR"), "{html}");
    assert!(!html.contains("id=\"proposal-1\""), "{html}");
    d.stop().await;
}
