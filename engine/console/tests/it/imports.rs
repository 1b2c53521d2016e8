//! The imports page over plain HTTP: a file with a bad line is refused with its file, line and
//! field, and nothing is written; a good file's dry run writes nothing until the apply; the
//! apply needs the session's CSRF token and a role of the data-write family.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};

use super::http::{client, csrf_of, pair, sign_in};
use super::support::{self, PASSWORD};

const BOUNDARY: &str = "relance-test-boundary-7d1f";

/// A `multipart/form-data` body: the CSRF field, then `files` parts (name, content).
fn multipart(csrf: &str, files: &[(&str, &str)]) -> String {
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n");
    for (name, text) in files {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

/// Whether invoice `id` of customer C000000 is in the store.
fn stored(d: &support::Daemon, id: &str) -> bool {
    d.engine
        .customer_invoices("C000000")
        .unwrap()
        .iter()
        .any(|i| i == id)
}

async fn post(c: &reqwest::Client, url: &str, session: &str, body: String) -> (StatusCode, String) {
    let r = c
        .post(url)
        .header(COOKIE, session)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_is_reported_by_file_line_and_field_and_nothing_is_written() {
    let d = support::start().await;
    let c = client();
    let base = d.base.clone();
    let url = format!("{base}/console/imports");
    let (_, session) = sign_in(&c, &base, "camille-cm", PASSWORD).await;
    let session = pair(&session.expect("session"));
    let page = c.get(&url).header(COOKIE, &session).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let token = csrf_of(&page.text().await.unwrap());

    let header = "id,customer,amount,currency,issued,due,po_number";
    let bad = format!(
        "{header}\nF-T-1,C000000,100.00,EUR,2026-04-01,2026-05-01,\nF-T-2,C000000,douze,EUR,2026-04-01,2026-05-01,\n"
    );
    let good = format!("{header}\nF-T-3,C000000,250.00,EUR,2026-04-01,2026-05-01,\n");

    // Without the token: refused before the upload is read.
    let (status, _) = post(
        &c,
        &url,
        &session,
        multipart("", &[("invoices.csv", &good)]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A bad amount on line 3: file, line and field named, nothing written.
    let (status, html) = post(
        &c,
        &url,
        &session,
        multipart(&token, &[("invoices.csv", &bad)]),
    )
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
    assert!(
        !html.contains("/console/imports/apply"),
        "no apply after a refusal"
    );
    for id in ["F-T-1", "F-T-2"] {
        assert!(!stored(&d, id), "{id} not written");
    }

    // A good file: the dry run writes nothing, the apply writes it.
    let (status, html) = post(
        &c,
        &url,
        &session,
        multipart(&token, &[("invoices.csv", &good)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("/console/imports/apply"), "an apply button");
    assert!(!stored(&d, "F-T-3"), "a dry run writes nothing");
    let apply = format!("{base}/console/imports/apply");
    // The sales role may not apply (nor see the page).
    let (_, sales) = sign_in(&c, &base, "sam-sales", PASSWORD).await;
    let sales = pair(&sales.expect("sales session"));
    let r = c.get(&url).header(COOKIE, &sales).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .get(format!("{base}/console/today"))
        .header(COOKIE, &sales)
        .send()
        .await
        .unwrap();
    let sales_html = r.text().await.unwrap();
    assert!(
        !sales_html.contains("/console/imports"),
        "no menu entry for sales"
    );
    let sales_token = csrf_of(&sales_html);
    let r = c
        .post(&apply)
        .header(COOKIE, &sales)
        .form(&[("csrf", sales_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!stored(&d, "F-T-3"));

    let r = c
        .post(&apply)
        .header(COOKIE, &session)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"applied\""), "{html}");
    assert!(stored(&d, "F-T-3"), "applied");
    // The files were kept for one apply only.
    let r = c
        .post(&apply)
        .header(COOKIE, &session)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    d.stop().await;
}
