//! The imports page over plain HTTP: a file with a bad line is refused with its file, line and
//! field, and nothing is written; a good file's dry run writes nothing until the apply; the
//! apply needs the session's CSRF token and a role of the data-write family.

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
