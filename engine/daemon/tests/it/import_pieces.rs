//! One import and the same data in pieces (issue 15): for each seed, a generated data folder
//! (`relance_data::generator`) goes to one daemon as one batch (`POST /v1/import/batch`, its
//! four files) and to another in pieces: `customers.csv`, then `invoices.csv` cut by issue
//! date, then `payments.csv` and `events.csv` each cut by date into pieces of whole days, the
//! pieces of both sent one request each in a seeded random order, all before the first day's
//! run. Both then run the same days, and each must decide what the planner decides on the
//! folder (`parity.rs`: the same dated actions per invoice and the same case states), so both
//! decide alike. A day's facts of one kind stay in one piece, in line order: the canonical
//! order of a day (LANGUAGE.md, "What happens first on one day") then gives the pieces the
//! folder's order whatever order they arrive in.
//!
//! Bounded: two seeds of 150 invoices, in process (the real router on 127.0.0.1); a failure
//! prints the seed. This file must not hold its own comparison (`parity.rs` does).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};

use relance_daemon::Engine;
use relance_daemon::server::{self, ClockMode};
use relance_data::generator::{self, Spec};
use relance_data::portfolio;

use crate::parity::{Actions, assert_agree, decided, planned};
use crate::support::{ADMIN, INTEGRATION, TempDir, config, serve_engine};

/// A file's text cut into pieces of whole days: the lines whose date (in `column`) falls in
/// each of `n` date ranges (seeded cuts), each piece with the header and the lines in file
/// order. Empty pieces are dropped.
fn by_day(text: &str, column: usize, n: usize, rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let rows: Vec<(&str, &str)> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| (l.split(',').nth(column).expect("a date cell"), l))
        .collect();
    let dates: BTreeSet<&str> = rows.iter().map(|(d, _)| *d).collect();
    let dates: Vec<&str> = dates.into_iter().collect();
    let mut cuts: Vec<&str> = (1..n)
        .filter_map(|_| dates.get(rng.random_range(0..dates.len().max(1))).copied())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let piece_of = |d: &str| cuts.partition_point(|c| *c <= d);
    let mut pieces = vec![String::new(); cuts.len() + 1];
    for (d, line) in rows {
        let piece = &mut pieces[piece_of(d)];
        if piece.is_empty() {
            piece.push_str(header);
            piece.push('\n');
        }
        piece.push_str(line);
        piece.push('\n');
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}

struct Daemon {
    engine: Arc<Engine>,
    base: String,
    client: reqwest::Client,
    _tmp: TempDir,
}

impl Daemon {
    async fn start(tag: &str, from: NaiveDate) -> Daemon {
        let tmp = TempDir::new(tag);
        let config = config(&tmp.0);
        let engine = server::open(
            &config,
            ClockMode::Virtual { start: Some(from) },
            Some(&crate::workspace().join("stdlib-scenarios")),
        )
        .expect("engine");
        let (base, client) = serve_engine(engine.clone(), config, Duration::from_secs(120)).await;
        Daemon {
            engine,
            base,
            client,
            _tmp: tmp,
        }
    }

    async fn post(&self, path: &str, token: &str, body: String) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// One file to its own endpoint; it must be written.
    async fn upload(&self, path: &str, text: &str) {
        let (st, v) = self.post(path, INTEGRATION, text.to_string()).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        assert_eq!(v["written"], true, "{path}: {v}");
    }

    /// Runs every day through `until`, then reads back what was decided.
    async fn run_and_read(
        &self,
        until: NaiveDate,
        p: &relance_core::domain::Portfolio,
    ) -> (Actions, Vec<String>) {
        let (st, v) = self
            .post(
                "/v1/clock/advance",
                ADMIN,
                json!({ "to": until }).to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        decided(&self.engine, p)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_import_and_the_same_data_in_pieces_decide_what_the_planner_decides() {
    for seed in [11u64, 12] {
        let tmp = TempDir::new(&format!("pieces-{seed}"));
        let folder = tmp.0.join("data");
        let as_of = NaiveDate::from_ymd_opt(2026, 5, 15).expect("date");
        generator::generate(
            Spec {
                customers: 25,
                invoices: 150,
                seed,
                as_of,
            },
            &folder,
            &mut |_| {},
        )
        .expect("generate");
        let p = portfolio::load_dir(&folder).expect("the folder loads");
        let until = as_of.checked_add_days(Days::new(40)).expect("date");
        let stdlib = crate::workspace().join("stdlib-scenarios");
        let (plan, plan_states, _) = planned(&p, Path::new(&stdlib), as_of, until);
        let compared: usize = plan.values().map(BTreeSet::len).sum();
        assert!(compared > 50, "seed {seed}: a meaningful run ({compared})");
        let read = |name: &str| std::fs::read_to_string(folder.join(name)).expect("file");
        let files = [
            ("csv", "customers.csv", read("customers.csv")),
            ("csv", "invoices.csv", read("invoices.csv")),
            ("csv", "payments.csv", read("payments.csv")),
            ("events", "events.csv", read("events.csv")),
        ];

        let one = Daemon::start(&format!("pieces-one-{seed}"), as_of).await;
        let batch: Vec<Value> = files
            .iter()
            .map(|(format, name, text)| json!({"format": format, "name": name, "text": text}))
            .collect();
        let (st, v) = one
            .post(
                "/v1/import/batch",
                INTEGRATION,
                json!({ "files": batch }).to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "seed {seed}: {v}");
        let (got, got_states) = one.run_and_read(until, &p).await;
        assert_agree(seed, (&plan, &plan_states), (&got, &got_states));

        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pieces = Daemon::start(&format!("pieces-split-{seed}"), as_of).await;
        pieces.upload("/v1/import/csv/customers", &files[0].2).await;
        let invoice_pieces = by_day(&files[1].2, 4, 3, &mut rng);
        for piece in &invoice_pieces {
            pieces.upload("/v1/import/csv/invoices", piece).await;
        }
        let mut facts: Vec<(&str, String)> = Vec::new();
        for piece in by_day(&files[2].2, 0, 4, &mut rng) {
            facts.push(("/v1/import/csv/payments", piece));
        }
        for piece in by_day(&files[3].2, 0, 4, &mut rng) {
            facts.push(("/v1/import/events", piece));
        }
        facts.shuffle(&mut rng);
        let sent = facts.len();
        for (path, piece) in &facts {
            pieces.upload(path, piece).await;
        }
        let (got, got_states) = pieces.run_and_read(until, &p).await;
        assert_agree(seed, (&plan, &plan_states), (&got, &got_states));
        eprintln!(
            "seed {seed}: {compared} dated actions agree, one batch and {} requests ({sent} of facts)",
            1 + invoice_pieces.len() + sent
        );
    }
}
