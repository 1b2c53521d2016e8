//! Plain HTTP tests of the console's safety: CSRF refusals, cookie flags, security headers,
//! the sign-in limiter, and role refusals (403 for what a role may not do).

use relance_daemon::model::MessageStatus;
use reqwest::StatusCode;

use super::support::{self, Http, PASSWORD, cookie_of, csrf_of, pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_needs_the_sessions_csrf_token_and_roles_are_enforced() {
    let d = support::start().await;
    let h = Http::new(&d.base);

    // Security headers on a page, long cache on the script.
    let page = h.get("/console/sign-in", "").await;
    let headers = page.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in ["script-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    let js = h.get("/console/assets/htmx.min.js", "").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert_eq!(h.get("/", "").await.headers()["location"], "/console/");

    // A sign-in without its token is refused before the password is looked at.
    let no_token = h
        .post_form(
            "/console/sign-in",
            "",
            &[("user", "ana-admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    assert!(cookie_of(&no_token, "relance_session").is_none());

    let (status, session) = h.sign_in("ana-admin", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = session.expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(flag), "{set}");
    }
    let session = pair(&set);

    // The browser's language picks the words and the formats.
    for (accept, lang, word) in [
        ("fr-FR,fr;q=0.9", "fr", "Se déconnecter"),
        ("en-GB,en;q=0.9", "en", "Sign out"),
    ] {
        let page = h
            .request(reqwest::Method::GET, "/console/today", &session)
            .header("accept-language", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{accept}"
        );
        assert!(html.contains(word), "{accept}: {word}");
    }
    let (status, html) = h.page("/console/outbox", &session).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf_of(&html);
    let dead = d
        .message(|m| m.status == MessageStatus::Dead)
        .expect("a dead letter in the example run");
    let retry = format!("/console/outbox/{}/retry", dead.id);
    let long = "x".repeat(43);
    let bad_forms: [&[(&str, &str)]; 3] = [&[], &[("csrf", long.as_str())], &[("csrf", "")]];
    for bad in bad_forms {
        let r = h.post_form(&retry, &session, bad).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{bad:?}");
    }
    let still = d.message(|m| m.id == dead.id).unwrap();
    assert_eq!(still.status, MessageStatus::Dead);

    // The sales role may not retry: no button, and 403 with a valid token.
    let sales = h.session("sam-sales").await;
    let (_, html) = h.page("/console/outbox", &sales).await;
    assert!(
        !html.contains("/retry\""),
        "the sales role sees no retry button"
    );
    let sales_token = csrf_of(&html);
    // Its own valid token, and another session's token (not this one's).
    for csrf in [sales_token.as_str(), token.as_str()] {
        let r = h.post_form(&retry, &sales, &[("csrf", csrf)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{csrf}");
    }

    // The integration role has no page.
    let integ = h.session("erp-integration").await;
    let r = h.get("/console/today", &integ).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Sign-out ends the session: its cookie no longer opens a page.
    let r = h
        .post_form("/console/sign-out", &session, &[("csrf", token.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = h.get("/console/outbox", &session).await;
    assert_eq!(r.headers()["location"], "/console/sign-in");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_limited() {
    let d = support::start().await;
    let h = Http::new(&d.base);
    // Five wrong passwords, then the sixth attempt is refused even with the right password.
    let attempts = [("wrong password", StatusCode::UNAUTHORIZED); 5]
        .into_iter()
        .chain([(PASSWORD, StatusCode::TOO_MANY_REQUESTS)]);
    for (i, (password, expected)) in attempts.enumerate() {
        let (status, session) = h.sign_in("camille-cm", password).await;
        assert_eq!(status, expected, "attempt {i}");
        assert!(session.is_none(), "attempt {i}");
    }
    d.stop().await;
}
