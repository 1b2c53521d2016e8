//! The console in a real browser: Debian's chromium, headless, driven through chromedriver
//! (on a free loopback port, stopped by its pid at the end) by fantoccini. Signs in as each
//! role, records a call outcome with a promise and sees the case wait, opens a dispute and
//! sees the invoice paused, sees a message held by the contact cadence on its customer's
//! page, retries a dead letter, uploads the example files and applies
//! them, opens the portfolio's charts, a scenario's ladder and a what-if, signs out; runs axe-core on every page
//! (no serious or critical violation); with `RELANCE_SCREENSHOTS=1` writes a PNG of each page
//! to `docs/console/`. Without chromium or chromedriver it skips with a notice, unless `CI` is
//! set, where it fails.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use relance_core::runtime::Status;
use relance_daemon::config::Role;
use relance_daemon::model::MessageStatus;
use serde_json::json;

use super::support::{self, PASSWORD, repo};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const AXE: &str = include_str!("../assets/axe.min.js");

/// chromedriver, killed (by its own pid) when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether the browser is there; when not, skips (locally) or fails (under CI).
fn browser_available() -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !there {
        assert!(
            std::env::var_os("CI").is_none(),
            "{CHROMIUM} and {CHROMEDRIVER} are required under CI (apt-get install chromium chromium-driver)"
        );
        eprintln!("NOTICE: console browser test skipped: {CHROMIUM} or {CHROMEDRIVER} is missing");
    }
    there
}

async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-GB",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    // chromedriver is on loopback: plain HTTP, no TLS.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a chromium session")
}

/// axe-core's serious and critical violations on the current page.
async fn axe(c: &Client) -> Vec<String> {
    c.execute(AXE, vec![]).await.expect("axe loads");
    let out = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(
               r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));",
            vec![],
        )
        .await
        .expect("axe runs");
    serde_json::from_value(out).expect("a list")
}

/// Checks the current page with axe and, when asked, writes its screenshot.
async fn check_page(c: &Client, name: &str, problems: &mut Vec<String>) {
    for v in axe(c).await {
        problems.push(format!("{name}: {v}"));
    }
    if std::env::var("RELANCE_SCREENSHOTS").as_deref() == Ok("1") {
        let png = c.screenshot().await.expect("screenshot");
        let dir = repo().join("docs/console");
        std::fs::create_dir_all(&dir).expect("docs/console");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write png");
    }
}

async fn sign_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/console/sign-in")).await.unwrap();
    c.find(Locator::Id("user"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, ".who strong").await;
    let shown = c
        .find(Locator::Css(".who strong"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown, user);
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css(".who button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "#user").await;
}

async fn wait_for(c: &Client, css: &str) {
    let found = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await;
    if let Err(e) = found {
        let url = c.current_url().await.map(|u| u.to_string());
        let source = c.source().await.unwrap_or_default();
        panic!("{css}: {e} at {url:?}:\n{source}");
    }
}

/// Waits until the page's URL path is `path`.
async fn wait_path(c: &Client, path: &str) {
    for _ in 0..100 {
        if c.current_url()
            .await
            .map(|u| u.path() == path)
            .unwrap_or(false)
        {
            // The page is loaded when its main landmark is there.
            wait_for(c, "main").await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let d = support::start().await;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().expect("profile");
    let c = browser(&driver, profile.path()).await;
    let base = d.base.clone();
    let mut problems = Vec::new();

    c.goto(&format!("{base}/")).await.unwrap();
    wait_path(&c, "/console/sign-in").await;
    check_page(&c, "sign-in", &mut problems).await;

    // Each role that has pages signs in and sees its menu; the sales role no promise form.
    for (user, role) in support::USERS
        .iter()
        .filter(|(_, r)| *r != Role::Integration)
    {
        sign_in(&c, &base, user).await;
        wait_path(&c, "/console/today").await;
        let source = c.source().await.unwrap();
        assert!(source.contains("/console/customers"), "{user}: menu");
        let promise_form = source.contains("value=\"promise\"");
        assert_eq!(promise_form, *role != Role::Sales, "{user}: promise form");
        sign_out(&c).await;
    }

    // The credit manager records a promise on a call: the case waits for it.
    sign_in(&c, &base, "camille-cm").await;
    wait_path(&c, "/console/today").await;
    check_page(&c, "today", &mut problems).await;
    let form = c
        .find(Locator::Css("form.call-outcome"))
        .await
        .expect("an open agenda entry with an outcome form");
    let action = form.attr("action").await.unwrap().unwrap();
    let id: u64 = action.split('/').nth(3).unwrap().parse().unwrap();
    let entry = d
        .engine
        .agenda(d.engine.today() - chrono::Days::new(30), d.engine.today())
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap();
    let promised = d.engine.today() + chrono::Days::new(7);
    let date_input = form
        .find(Locator::Css("input[name=promise_date]"))
        .await
        .unwrap();
    // A date input takes the date typed in the browser's locale; set its value directly.
    c.execute(
        "arguments[0].value = arguments[1];",
        vec![
            serde_json::to_value(&date_input).unwrap(),
            json!(promised.to_string()),
        ],
    )
    .await
    .unwrap();
    form.find(Locator::Css("button[value=promise]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, ".done").await;
    for inv in &entry.invoices {
        let case = d.engine.case(inv).unwrap().unwrap().case;
        assert!(
            matches!(case.status, Status::Waiting { .. }) || case.promise.is_some(),
            "{inv}: {:?}",
            case.status
        );
        assert_eq!(case.promise.map(|p| p.date), Some(promised), "{inv}");
    }

    // A dispute from a customer's page pauses the invoice.
    c.goto(&format!("{base}/console/customers")).await.unwrap();
    wait_path(&c, "/console/customers").await;
    check_page(&c, "customers", &mut problems).await;
    let customer = d
        .engine
        .customer_invoices(&entry.customer)
        .unwrap()
        .into_iter()
        .find(|i| {
            d.engine
                .case(i)
                .unwrap()
                .is_some_and(|r| r.case.is_open() && r.case.dispute.is_none())
        });
    let invoice = customer.expect("an open invoice without a dispute");
    c.goto(&format!("{base}/console/customers/{}", entry.customer))
        .await
        .unwrap();
    wait_for(&c, "#d-code").await;
    check_page(&c, "customer", &mut problems).await;
    c.find(Locator::Id("d-inv"))
        .await
        .unwrap()
        .select_by_value(&invoice)
        .await
        .unwrap();
    c.find(Locator::Id("d-code"))
        .await
        .unwrap()
        .send_keys("quality")
        .await
        .unwrap();
    c.find(Locator::Id("d-comment"))
        .await
        .unwrap()
        .send_keys("broken pallets")
        .await
        .unwrap();
    c.find(Locator::Css("form[action$='/dispute'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#h-disputes").await;
    let mut paused = false;
    for _ in 0..50 {
        let case = d.engine.case(&invoice).unwrap().unwrap().case;
        if matches!(case.status, Status::Paused { .. }) {
            paused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(paused, "{invoice} paused by the dispute");
    let mut listed = false;
    for _ in 0..50 {
        if c.source()
            .await
            .unwrap()
            .contains(&format!("{invoice}: quality"))
        {
            listed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed, "the dispute is listed on the customer's page");

    // A note on the same case, shown in its history.
    c.find(Locator::Id("no-inv"))
        .await
        .unwrap()
        .select_by_value(&invoice)
        .await
        .unwrap();
    c.find(Locator::Id("no-text"))
        .await
        .unwrap()
        .send_keys("photos of the pallets asked for")
        .await
        .unwrap();
    c.find(Locator::XPath(
        "//textarea[@id='no-text']/ancestor::form//button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let mut noted = false;
    for _ in 0..50 {
        if c.source()
            .await
            .unwrap()
            .contains("note by camille-cm: photos of the pallets asked for")
        {
            noted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(noted, "the note is in the case's history");
    let actions = d.engine.case_actions(&invoice).unwrap();
    assert!(
        actions.last().is_some_and(|a| a.action
            == relance_daemon::case_action::CaseAction::Note {
                text: "photos of the pallets asked for".into()
            }),
        "{actions:?}"
    );

    // What the engine holds for a customer: a message the contact cadence holds back (the
    // example portfolio under standard-b2b's 5-day cadence has some) is listed on its page
    // with the day it goes.
    let held = relance_daemon::cadence::waiting(d.engine.store()).unwrap();
    let m = held
        .first()
        .expect("a message held by the contact cadence in the example portfolio");
    c.goto(&format!("{base}/console/customers/{}", m.customer))
        .await
        .unwrap();
    wait_for(&c, "#cadence-waits").await;
    for v in axe(&c).await {
        problems.push(format!("customer with held messages: {v}"));
    }
    let table = c
        .find(Locator::Id("cadence-waits"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains(&m.invoice) && table.contains(&m.step),
        "{} {} in {table}",
        m.invoice,
        m.step
    );
    sign_out(&c).await;

    // The admin retries a dead letter.
    sign_in(&c, &base, "ana-admin").await;
    c.goto(&format!("{base}/console/outbox")).await.unwrap();
    wait_path(&c, "/console/outbox").await;
    check_page(&c, "outbox", &mut problems).await;
    let dead = d
        .message(|m| m.status == MessageStatus::Dead)
        .expect("a dead letter");
    c.goto(&format!("{base}/console/outbox/{}", dead.id))
        .await
        .unwrap();
    wait_for(&c, "#h-preview").await;
    check_page(&c, "message", &mut problems).await;
    c.find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_path(&c, "/console/outbox").await;
    let after = d.message(|m| m.id == dead.id).map(|m| m.status);
    assert_ne!(
        after,
        Some(MessageStatus::Dead),
        "the letter left the dead ones"
    );

    // The portfolio's charts, each with its table.
    c.goto(&format!("{base}/console/portfolio")).await.unwrap();
    wait_for(&c, "#chart-aged svg").await;
    for id in ["aged", "dso-cei", "activity", "channels", "errors"] {
        wait_for(&c, &format!("#chart-{id} svg")).await;
        wait_for(&c, &format!("#chart-{id} table tbody tr")).await;
    }
    check_page(&c, "portfolio", &mut problems).await;

    // The deployed scenarios; one scenario's ladder; a what-if on a stored invoice.
    c.goto(&format!("{base}/console/scenarios")).await.unwrap();
    wait_for(&c, "main table a").await;
    check_page(&c, "scenarios", &mut problems).await;
    c.find(Locator::Css("main table a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#ladder svg").await;
    c.find(Locator::Id("w-invoice"))
        .await
        .unwrap()
        .send_keys(&invoice)
        .await
        .unwrap();
    c.find(Locator::Css("#what-if-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#plan svg").await;
    let plan = c
        .find(Locator::Css("#h-plan"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(plan.contains(&invoice), "{plan}");
    check_page(&c, "scenario", &mut problems).await;

    // The admin uploads the example files, reads the dry run, applies it.
    c.goto(&format!("{base}/console/imports")).await.unwrap();
    wait_for(&c, "#files").await;
    // The daemon holds the examples already: payments.csv gets one new line, a partial
    // payment of the disputed invoice today, so the import has something to write.
    let upload = tempfile::tempdir().expect("upload dir");
    let names = [
        "customers.csv",
        "invoices.csv",
        "payments.csv",
        "events.csv",
    ];
    for f in names {
        let mut text = std::fs::read_to_string(repo().join("examples").join(f)).unwrap();
        if f == "payments.csv" {
            text.push_str(&format!(
                "{},{invoice},1.00,VIR-CONSOLE-TEST\n",
                d.engine.today()
            ));
        }
        std::fs::write(upload.path().join(f), text).unwrap();
    }
    let files: Vec<String> = names
        .iter()
        .map(|f| upload.path().join(f).display().to_string())
        .collect();
    c.find(Locator::Id("files"))
        .await
        .unwrap()
        .send_keys(&files.join("\n"))
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/console/imports'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#h-report").await;
    check_page(&c, "imports", &mut problems).await;
    let report = c.source().await.unwrap();
    for f in [
        "customers.csv",
        "invoices.csv",
        "payments.csv",
        "events.csv",
    ] {
        assert!(report.contains(f), "{f} in the dry run's report");
    }
    let events_before = d.engine.store().count(relance_daemon::store::Tree::Events);
    c.find(Locator::Id("apply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#applied").await;
    assert!(
        d.engine.store().count(relance_daemon::store::Tree::Events) > events_before,
        "the new payment was imported"
    );
    sign_out(&c).await;

    c.close().await.unwrap();
    drop(driver);
    d.stop().await;
    assert!(problems.is_empty(), "axe-core: {problems:#?}");
}
