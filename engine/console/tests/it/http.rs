//! Plain HTTP tests of the console's safety: CSRF refusals, cookie flags, security headers,
//! the sign-in limiter, and role refusals (403 for what a role may not do).

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};

use super::support::{self, PASSWORD};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `value` of the first `name="csrf"` hidden field of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap_or_default().to_string()
}

/// `name=value` of the `Set-Cookie` for `name`.
fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// Signs in `user`; answers the session's cookie pair and CSRF token.
pub async fn sign_in(
    c: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    let form = c
        .get(format!("{base}/console/sign-in"))
        .send()
        .await
        .expect("get");
    let pre = pair(&cookie_of(&form, "relance_signin").expect("pre cookie"));
    let token = csrf_of(&form.text().await.expect("body"));
    let resp = c
        .post(format!("{base}/console/sign-in"))
        .header(COOKIE, &pre)
        .form(&[
            ("csrf", token.as_str()),
            ("user", user),
            ("password", password),
        ])
        .send()
        .await
        .expect("post");
    let session = cookie_of(&resp, "relance_session");
    (resp.status(), session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_needs_the_sessions_csrf_token_and_roles_are_enforced() {
    let d = support::start().await;
    let c = client();
    let base = d.base.clone();

    // Security headers on a page, long cache on the script.
    let page = c
        .get(format!("{base}/console/sign-in"))
        .send()
        .await
        .unwrap();
    let h = page.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    let js = c
        .get(format!("{base}/console/assets/htmx.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert_eq!(
        c.get(format!("{base}/")).send().await.unwrap().headers()["location"],
        "/console/"
    );

    // A sign-in without its token is refused before the password is looked at.
    let no_token = c
        .post(format!("{base}/console/sign-in"))
        .form(&[("user", "ana-admin"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    assert!(cookie_of(&no_token, "relance_session").is_none());

    let (status, session) = sign_in(&c, &base, "ana-admin", PASSWORD).await;
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
        let page = c
            .get(format!("{base}/console/today"))
            .header(COOKIE, &session)
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
    let outbox = c
        .get(format!("{base}/console/outbox"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(outbox.status(), StatusCode::OK);
    let html = outbox.text().await.unwrap();
    let token = csrf_of(&html);
    let dead = d
        .engine
        .outbox()
        .unwrap()
        .into_iter()
        .find(|m| m.status == relance_daemon::model::MessageStatus::Dead)
        .expect("a dead letter in the example run");
    let retry = format!("{base}/console/outbox/{}/retry", dead.id);
    for bad in [
        vec![],
        vec![("csrf", "x".repeat(43))],
        vec![("csrf", String::new())],
    ] {
        let r = c
            .post(&retry)
            .header(COOKIE, &session)
            .form(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{bad:?}");
    }
    let still = d
        .engine
        .outbox()
        .unwrap()
        .into_iter()
        .find(|m| m.id == dead.id)
        .unwrap();
    assert_eq!(still.status, relance_daemon::model::MessageStatus::Dead);

    // The sales role may not retry: no button, and 403 with a valid token.
    let (_, sales) = sign_in(&c, &base, "sam-sales", PASSWORD).await;
    let sales = pair(&sales.expect("sales session"));
    let page = c
        .get(format!("{base}/console/outbox"))
        .header(COOKIE, &sales)
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("/retry\""),
        "the sales role sees no retry button"
    );
    let sales_token = csrf_of(&html);
    let r = c
        .post(&retry)
        .header(COOKIE, &sales)
        .form(&[("csrf", sales_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Another session's token is not this one's.
    let r = c
        .post(&retry)
        .header(COOKIE, &sales)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The integration role has no page.
    let (_, integ) = sign_in(&c, &base, "erp-integration", PASSWORD).await;
    let integ = pair(&integ.expect("integration session"));
    let r = c
        .get(format!("{base}/console/today"))
        .header(COOKIE, &integ)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Sign-out ends the session: its cookie no longer opens a page.
    let r = c
        .post(format!("{base}/console/sign-out"))
        .header(COOKIE, &session)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .get(format!("{base}/console/outbox"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/console/sign-in");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_limited() {
    let d = support::start().await;
    let c = client();
    for i in 0..5 {
        let (status, session) = sign_in(&c, &d.base, "camille-cm", "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert!(session.is_none());
    }
    // The sixth attempt is refused even with the right password.
    let (status, session) = sign_in(&c, &d.base, "camille-cm", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(session.is_none());
    d.stop().await;
}
