//! The Portfolio and Scenarios pages over plain HTTP: who may see them, the five charts each
//! with its table, the ladder of a deployed scenario, a what-if typed in (an amount, a due
//! date, a segment) planned with dated actions, a what-if's bad input told on the page, an
//! unknown scenario a 404.

use reqwest::StatusCode;

use super::support::{self, Http};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portfolio_and_scenarios_pages() {
    let d = support::start().await;
    let h = Http::new(&d.base);
    let sales = &h.session("sam-sales").await;
    let integration = &h.session("erp-integration").await;

    // Pages by role: every role that reads the data, not the integration role.
    for path in ["/console/portfolio", "/console/scenarios"] {
        let (status, _) = h.page(path, integration).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _) = h.page(path, sales).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }

    let (_, html) = h.page("/console/portfolio", sales).await;
    for id in ["aged", "dso-cei", "activity", "channels", "errors"] {
        let section = html
            .split(&format!("id=\"chart-{id}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("chart {id}"));
        let section = section.split("</section>").next().unwrap_or_default();
        assert!(section.contains("<svg"), "{id}: a picture");
        assert!(section.contains("<tbody><tr>"), "{id}: a table with rows");
    }
    assert!(!html.contains("<script>"), "no inline script");

    let (_, html) = h.page("/console/scenarios", sales).await;
    let link = "/console/scenarios/1/standard-b2b";
    assert!(html.contains(link), "{html}");

    let (status, html) = h.page(link, sales).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"ladder\""));
    assert!(
        !html.contains("id=\"plan\""),
        "no what-if before the form is sent"
    );

    let cases: &[(&str, Option<&str>)] = &[
        ("amount=1200.50&due=2026-05-01&segment=b2b", None),
        ("amount=douze&due=2026-05-01&segment=b2b", Some("amount")),
        ("amount=10&due=01/05/2026&segment=b2b", Some("due")),
        ("amount=10&due=2026-05-01&segment=martian", Some("segment")),
        ("invoice=NO-SUCH-INVOICE", Some("NO-SUCH-INVOICE")),
    ];
    for (query, error) in cases {
        let (status, html) = h.page(&format!("{link}?{query}"), sales).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        match error {
            None => {
                let plan = html.split("id=\"plan\"").nth(1).expect("a plan");
                assert!(plan.contains("<svg"), "{query}");
                assert!(plan.contains("2026-0"), "dated actions: {plan}");
                assert!(!html.contains("role=\"alert\""), "{query}");
            }
            Some(word) => {
                let alert = html.split("role=\"alert\"").nth(1).expect("an alert");
                assert!(alert.contains(word), "{query}: {alert}");
                assert!(!html.contains("id=\"plan\""), "{query}");
            }
        }
    }

    for path in [
        "/console/scenarios/99/standard-b2b",
        "/console/scenarios/1/no-such",
    ] {
        let (status, _) = h.page(path, sales).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    d.stop().await;
}
