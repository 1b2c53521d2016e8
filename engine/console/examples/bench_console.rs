//! The console's page-time benchmark (issue 18's done-means): a seeded synthetic portfolio
//! (the generator of `relance gen`, the stdlib scenarios) loaded into an on-disk sled store
//! through the engine's import, the load day's run and a week of daily runs (so Today has
//! entries; `--days`), then Today, the biggest customer's page, the customer list (overdue,
//! outstanding, risk on page 4, a search sorted by scenario; `--list-only`: only these) and the
//! Portfolio page rendered K times each (with `--list-only`, first what the list read per view
//! before its index, for the comparison), in-process through the console's router
//! (tower `oneshot`, signed in as an admin). Prints one JSON line per page: p50, p99, max in ms.
//!
//! A figure for the notes, never a timed test. Only a temporary folder (under the target
//! dir) is used, removed at the end. It must not shortcut the console's code paths.
//!
//! ```text
//! cargo run --release -p relance-console --example bench_console -- [--invoices N] [--customers C] [--runs K] [--days D] [--list-only]
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{Days, NaiveDate};
use relance_core::domain::{Event, Portfolio};
use relance_daemon::Engine;
use relance_daemon::api::AppState;
use relance_daemon::catalog::Bundle;
use relance_daemon::clock::VirtualClock;
use relance_daemon::config::{Config, ConsoleUser, Role};
use relance_daemon::store::SledStore;
use relance_data::generator::{Spec, generate};
use serde_json::json;
use tower::ServiceExt;

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    invoices: usize,
    customers: usize,
    runs: usize,
    /// Daily runs after the load day.
    days: u64,
    /// Only the customer list's pages.
    list_only: bool,
}

fn args() -> Result<Args, Failure> {
    let mut a = Args {
        invoices: 100_000,
        customers: 10_000,
        runs: 50,
        days: 7,
        list_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--invoices" => a.invoices = value()?.parse()?,
            "--customers" => a.customers = value()?.parse()?,
            "--runs" => a.runs = value()?.parse()?,
            "--days" => a.days = value()?.parse()?,
            "--list-only" => a.list_only = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

/// A folder of this run, removed on drop.
struct Workdir(PathBuf);

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn workdir() -> Result<Workdir, Failure> {
    let parent = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = parent.join(format!("bench-console-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(Workdir(dir))
}

/// Loads the portfolio through the engine's import (customers, then invoices with their
/// events in chunks), as the daemon's benchmark does.
fn load(engine: &Engine, p: Portfolio) -> Result<(), Failure> {
    for chunk in p.customers.chunks(10_000) {
        engine.put_customers(chunk)?;
    }
    let mut events: HashMap<String, Vec<Event>> = HashMap::new();
    for ev in p.events {
        let key = ev.kind.invoice().unwrap_or_default().to_string();
        events.entry(key).or_default().push(ev);
    }
    for chunk in p.invoices.chunks(5_000) {
        let part = Portfolio {
            events: chunk
                .iter()
                .flat_map(|i| events.remove(&i.id).unwrap_or_default())
                .collect(),
            invoices: chunk.to_vec(),
            ..Portfolio::default()
        };
        engine.import(&part)?;
    }
    engine.flush()?;
    Ok(())
}

fn cookie_of(resp: &axum::response::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

async fn body_text(resp: axum::response::Response) -> Result<String, Failure> {
    let bytes = to_bytes(resp.into_body(), usize::MAX).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Signs in through the sign-in form: the session's cookie pair.
async fn sign_in(app: &Router, user: &str, password: &str) -> Result<String, Failure> {
    let form = app
        .clone()
        .oneshot(Request::get("/console/sign-in").body(Body::empty())?)
        .await?;
    let pre = cookie_of(&form, "relance_signin").ok_or("no sign-in cookie")?;
    let html = body_text(form).await?;
    let at = html.find("name=\"csrf\" value=\"").ok_or("no csrf field")? + 19;
    let token = html[at..].split('"').next().unwrap_or_default().to_string();
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &token)
        .append_pair("user", user)
        .append_pair("password", password)
        .finish();
    let resp = app
        .clone()
        .oneshot(
            Request::post("/console/sign-in")
                .header(header::COOKIE, pre)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))?,
        )
        .await?;
    cookie_of(&resp, "relance_session").ok_or_else(|| "sign-in failed".into())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// What the customer list read per page view before its index (for the comparison only): every
/// customer decoded from the store and every customer's per-currency sums, then the overdue
/// sort. Prints one JSON line like [`measure`].
fn measure_scan(engine: &Engine, runs: usize) -> Result<(), Failure> {
    use relance_daemon::store::Tree;
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let mut found = Vec::new();
        engine.store().scan(Tree::Customers, &mut |_, v| {
            if let Ok(c) =
                relance_daemon::model::decode::<relance_core::domain::Customer>("customer", v)
            {
                found.push(c);
            }
            Ok(())
        })?;
        let mut keyed = Vec::with_capacity(found.len());
        for c in found {
            let oldest = engine
                .customer_currencies(&c.id)?
                .iter()
                .filter_map(|x| x.oldest_due)
                .min();
            keyed.push((oldest, c.id));
        }
        keyed.sort();
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "page": "before the index: scan of the customers and their sums (overdue sort)",
            "runs": runs,
            "p50_ms": round(percentile(&ms, 0.5)),
            "p99_ms": round(percentile(&ms, 0.99)),
            "max_ms": round(ms.last().copied().unwrap_or(0.0)),
        })
    );
    Ok(())
}

async fn measure(app: &Router, session: &str, path: &str, runs: usize) -> Result<(), Failure> {
    let mut ms = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let resp = app
            .clone()
            .oneshot(
                Request::get(path)
                    .header(header::COOKIE, session)
                    .body(Body::empty())?,
            )
            .await?;
        let status = resp.status();
        let html = body_text(resp).await?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != StatusCode::OK {
            return Err(format!("{path}: {status}").into());
        }
        bytes = html.len();
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "page": path, "runs": runs, "bytes": bytes,
            "p50_ms": round(percentile(&ms, 0.5)),
            "p99_ms": round(percentile(&ms, 0.99)),
            "max_ms": round(ms.last().copied().unwrap_or(0.0)),
        })
    );
    Ok(())
}

fn main() -> Result<(), Failure> {
    let a = args()?;
    let dir = workdir()?;
    let as_of: NaiveDate = "2026-03-31".parse()?;
    let gen_dir = dir.0.join("gen");
    let started = Instant::now();
    generate(
        Spec {
            customers: a.customers,
            invoices: a.invoices,
            seed: 1,
            as_of,
        },
        &gen_dir,
        &mut |_| {},
    )?;
    let p = relance_data::portfolio::load_dir(&gen_dir)?;
    let mut per_customer: HashMap<&str, usize> = HashMap::new();
    for i in &p.invoices {
        *per_customer.entry(i.customer.as_str()).or_default() += 1;
    }
    let biggest = per_customer
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
        .map(|(id, _)| id.to_string())
        .ok_or("no customer")?;
    drop(per_customer);
    let clock = Arc::new(VirtualClock::new(as_of));
    let engine = Arc::new(Engine::open(
        Arc::new(SledStore::open(&dir.0.join("data"))?),
        clock,
    )?);
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios");
    engine.deploy(Bundle::read_dir(&scenarios)?)?;
    load(&engine, p)?;
    engine.run_day(as_of)?;
    let later = as_of.checked_add_days(Days::new(a.days)).ok_or("date")?;
    engine.advance_to(later)?;
    engine.flush()?;
    eprintln!(
        "loaded {} invoices and ran to {later} in {:.0} s",
        a.invoices,
        started.elapsed().as_secs_f64()
    );

    let password = "bench console password";
    let mut config = Config::default();
    config.console.users = vec![ConsoleUser {
        name: "bench-admin".into(),
        password_hash: relance_console::password::hash(password)?,
        role: Role::Admin,
        agenda: Vec::new(),
    }];
    let state = Arc::new(AppState::new(
        engine.clone(),
        &config,
        Arc::new(tokio::sync::Notify::new()),
    ));
    let app = relance_console::router(state, &config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let session = sign_in(&app, "bench-admin", password).await?;
        let customer = format!("/console/customers/{biggest}");
        let list = [
            "/console/customers",
            "/console/customers?sort=outstanding",
            "/console/customers?sort=risk&page=3",
            "/console/customers?q=dupont&sort=scenario",
        ];
        if a.list_only {
            let e = engine.clone();
            let runs = a.runs;
            tokio::task::spawn_blocking(move || measure_scan(&e, runs)).await??;
        }
        let pages: Vec<&str> = if a.list_only {
            list.to_vec()
        } else {
            let mut all = vec!["/console/today", customer.as_str()];
            all.extend(list);
            all.push("/console/portfolio");
            all
        };
        for path in pages {
            // The portfolio folds the engine's kept counters (`aggregates.rs`): as many runs.
            measure(&app, &session, path, a.runs).await?;
        }
        Ok::<(), Failure>(())
    })?;
    drop(app);
    drop(engine);
    drop(dir);
    Ok(())
}
