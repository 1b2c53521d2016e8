//! The daemon–planner differential under SIGKILL (issue 15's "done means"; issue 20's crash
//! test on PostgreSQL). A seeded generated portfolio (`relance_data::generator`) is planned
//! whole by the simulator, as `relance plan` does; the same facts are fed over HTTP to real
//! `relance serve` processes on the virtual clock, day by day: each day the clock moves with
//! its run held (`{"run": false}`), the day's facts arrive in 1 to 4 random batches in a
//! random order that keeps dependencies (`parity::batches`, each under its own
//! `Idempotency-Key`), and the next move runs the day. Meanwhile the daemons are killed with
//! SIGKILL at seeded random moments (during imports, a daily run, dispatch, start-up) and
//! started again on the same store; the step in flight is sent again, as a client retries.
//! At the end the store is opened in process and compared with `parity.rs` (the comparison of
//! the in-process differential) against the planner's plan of the portfolio as received (its
//! events in the order sent: facts posted through the API count in their order of receipt
//! within a day, LANGUAGE.md "What happens first on one day"; `parity::as_received`): the same
//! dated actions per invoice and the same case states;
//! nothing left to send; every delivered email reached the SMTP sink of `daemon_e2e.rs`, no
//! email arrived that the store does not know, and an email received twice carries the one
//! Message-ID of its message with the same recipients and subject.
//!
//! On PostgreSQL (`RELANCE_TEST_PG`, the rule of `store_copy.rs`'s `Db`: skipped with a notice
//! without it, failing under CI) two daemons share the database: one serves, the other waits
//! as a standby and takes over when the first dies; kills hit either.
//!
//! Sizes: `RELANCE_CRASH_SEED`, `RELANCE_CRASH_INVOICES`, `RELANCE_CRASH_DAYS`,
//! `RELANCE_CRASH_KILLS` (the seed is printed on failure). Every wait has a deadline; every
//! process started here is killed by its pid when its guard drops, on panic too. This file
//! must not hold a second SMTP sink nor its own comparison.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use relance_core::domain::Portfolio;
use relance_daemon::config::Config;
use relance_daemon::model::MessageStatus;
use relance_daemon::server::{self, ClockMode};
use relance_data::generator::{self, Spec};

use crate::daemon_e2e::{Mail, start_hooks, start_smtp, write_config};
use crate::parity::{arrivals, as_received, assert_agree, batches, decided, differences, planned};
use crate::support::TempDir;

const TOKEN: &str = "crash-admin-token-000001";

/// The run's size, from the environment or the CI defaults.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    seed: u64,
    invoices: usize,
    days: u64,
    kills: usize,
}

impl Sizes {
    fn from_env(seed: u64, invoices: usize, days: u64, kills: usize) -> Sizes {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        }
        Sizes {
            seed: var("RELANCE_CRASH_SEED", seed),
            invoices: var("RELANCE_CRASH_INVOICES", invoices),
            days: var("RELANCE_CRASH_DAYS", days),
            kills: var("RELANCE_CRASH_KILLS", kills),
        }
    }
}

/// One step of the feed. Each is safe to send again after a kill (the clock's moves are
/// idempotent by target day, the imports by their `Idempotency-Key`).
#[derive(Debug, Clone)]
enum Step {
    /// Move the clock to the day, running every day before it, holding the day's own run.
    Hold(NaiveDate),
    /// One batch of the day's facts (the case JSON) under its idempotency key.
    Import { key: String, body: Value },
    /// Run through the last day.
    Run(NaiveDate),
    /// Wait until the outbox has nothing pending or retrying (the dispatcher's work).
    Settle,
}

impl Step {
    fn phase(&self) -> &'static str {
        match self {
            Step::Hold(_) | Step::Run(_) => "daily run",
            Step::Import { .. } => "import",
            Step::Settle => "dispatch",
        }
    }
}

/// The feed: day by day from `from` through `until`, a settle on about a quarter of the days;
/// with the batches in the order sent (see [`as_received`]).
fn steps(
    p: &Portfolio,
    from: NaiveDate,
    until: NaiveDate,
    rng: &mut ChaCha8Rng,
) -> (Vec<Step>, Vec<Portfolio>) {
    let mut by_day = arrivals(p, from);
    let mut out = Vec::new();
    let mut sent = Vec::new();
    let mut day = from;
    let mut n = 0;
    while day <= until {
        out.push(Step::Hold(day));
        let facts = by_day.remove(&day).unwrap_or_default();
        for batch in batches(&facts, rng) {
            n += 1;
            out.push(Step::Import {
                key: format!("crash-batch-{n}"),
                body: serde_json::to_value(&batch).expect("json"),
            });
            sent.push(batch);
        }
        if rng.random_bool(0.25) {
            out.push(Step::Settle);
        }
        day = day.succ_opt().expect("date");
    }
    assert!(by_day.is_empty(), "every fact is sent");
    out.push(Step::Run(until));
    out.push(Step::Settle);
    (out, sent)
}

// ----- the daemons -------------------------------------------------------------------------

/// A `relance serve` process, killed (SIGKILL, by its pid) and reaped when dropped.
struct Serve {
    child: Child,
    listening: mpsc::Receiver<String>,
    addr: Option<String>,
}

impl Serve {
    fn spawn(config: &Path, log: &Path, start: NaiveDate) -> Serve {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(["serve", "--clock", "virtual", "--start", &start.to_string()])
            .arg("--config")
            .arg(config)
            .env("RELANCE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("relance serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("relance: listening on ") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        Serve {
            child,
            listening: rx,
            addr: None,
        }
    }

    /// Whether it listens now (its address read from its output).
    fn poll(&mut self) -> bool {
        if self.addr.is_none()
            && let Ok(a) = self.listening.try_recv()
        {
            self.addr = Some(a);
        }
        self.addr.is_some()
    }

    /// SIGTERM, then waits for the graceful exit (SIGKILL on drop if it does not come).
    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "graceful shutdown exits 0: {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no graceful shutdown within 30 s");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log, for a failure message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// What a run counted.
#[derive(Debug, Default)]
struct Counts {
    kills: usize,
    leader_kills: usize,
    standby_kills: usize,
    by_phase: BTreeMap<&'static str, usize>,
    retried_steps: usize,
    replays: usize,
}

/// One daemon (sled) or a leader and a standby (PostgreSQL) on one store, killed at the
/// planned moments and started again.
struct Cluster {
    config: PathBuf,
    logs: Vec<PathBuf>,
    start: NaiveDate,
    slots: Vec<Option<Serve>>,
    leader: Option<usize>,
    kill_at: Option<Instant>,
    rng: ChaCha8Rng,
    counts: Counts,
    seed: u64,
    /// Kills still to land during a start-up (after every fourth kill of the serving daemon).
    startup_kills: usize,
}

enum Answer {
    Reply(u16, Value, bool),
    /// The serving daemon was killed while the request was in flight.
    Killed,
}

impl Cluster {
    fn new(config: PathBuf, dir: &Path, start: NaiveDate, daemons: usize, seed: u64) -> Cluster {
        Cluster {
            config,
            logs: (0..daemons)
                .map(|i| dir.join(format!("daemon-{i}.log")))
                .collect(),
            start,
            slots: (0..daemons).map(|_| None).collect(),
            leader: None,
            kill_at: None,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xdead),
            counts: Counts::default(),
            seed,
            startup_kills: 0,
        }
    }

    fn logs(&self) -> String {
        self.logs
            .iter()
            .map(|l| format!("--- {}\n{}", l.display(), tail(l)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Starts every missing daemon (a second one waits as a standby on PostgreSQL).
    fn fill(&mut self) {
        for i in 0..self.slots.len() {
            if self.slots[i].is_none() {
                self.slots[i] = Some(Serve::spawn(&self.config, &self.logs[i], self.start));
            }
        }
    }

    /// SIGKILLs one daemon: on PostgreSQL sometimes the standby, else the one serving (or,
    /// while none serves yet, any). Returns whether the serving daemon died.
    fn kill(&mut self, phase: &'static str) -> bool {
        self.kill_at = None;
        let live: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].is_some())
            .collect();
        let victim = match self.leader {
            Some(l) if live.len() > 1 && self.rng.random_bool(0.3) => {
                *live.iter().find(|&&i| i != l).expect("a standby")
            }
            Some(l) => l,
            None => live[self.rng.random_range(0..live.len())],
        };
        drop(self.slots[victim].take()); // SIGKILL by pid, reaped
        self.counts.kills += 1;
        *self.counts.by_phase.entry(phase).or_default() += 1;
        let hit = self.leader == Some(victim);
        if hit {
            self.leader = None;
            self.counts.leader_kills += 1;
            if self.startup_kills > 0 && self.counts.leader_kills.is_multiple_of(4) {
                // The next one lands while the restarted daemon opens the store and catches up.
                self.startup_kills -= 1;
                self.kill_at =
                    Some(Instant::now() + Duration::from_millis(self.rng.random_range(0..400)));
            }
        } else if self.leader.is_some() {
            self.counts.standby_kills += 1;
        }
        self.fill();
        hit
    }

    fn due(&self) -> bool {
        self.kill_at.is_some_and(|t| Instant::now() >= t)
    }

    /// Until a daemon serves: its base URL. A kill planned meanwhile lands during start-up.
    fn serving(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            self.fill();
            if let Some(l) = self.leader {
                let addr = self.slots[l].as_ref().and_then(|s| s.addr.clone());
                return format!("http://{}", addr.expect("the leader listens"));
            }
            for i in 0..self.slots.len() {
                if self.slots[i].as_mut().is_some_and(Serve::poll) {
                    self.leader = Some(i);
                }
            }
            if self.leader.is_some() {
                continue;
            }
            for s in self.slots.iter_mut().flatten() {
                if let Ok(Some(status)) = s.child.try_wait() {
                    panic!(
                        "seed {}: a daemon exited by itself ({status}):\n{}",
                        self.seed,
                        self.logs()
                    );
                }
            }
            if self.due() {
                self.kill("start-up");
                continue;
            }
            assert!(
                Instant::now() < deadline,
                "seed {}: no daemon serves after 120 s:\n{}",
                self.seed,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// One request to the serving daemon, raced against the planned kill.
    fn request(
        &mut self,
        rt: &tokio::runtime::Runtime,
        client: &reqwest::Client,
        step: &Step,
        phase: &'static str,
    ) -> Answer {
        if self.due() && self.kill(phase) {
            return Answer::Killed;
        }
        let base = self.serving();
        let req = match step {
            Step::Hold(day) => client
                .post(format!("{base}/v1/clock/advance"))
                .json(&json!({"to": day, "run": false})),
            Step::Run(day) => client
                .post(format!("{base}/v1/clock/advance"))
                .json(&json!({"to": day})),
            Step::Import { key, body } => client
                .post(format!("{base}/v1/import"))
                .header("Idempotency-Key", key)
                .json(body),
            Step::Settle => client.get(format!("{base}/v1/outbox?limit=1")),
        }
        .bearer_auth(TOKEN);
        rt.block_on(async {
            let fut = async {
                let resp = req.send().await?;
                let status = resp.status().as_u16();
                let replayed = resp.headers().contains_key("idempotent-replayed");
                let text = resp.text().await?;
                Ok::<_, reqwest::Error>((status, text, replayed))
            };
            tokio::pin!(fut);
            loop {
                let wait = self
                    .kill_at
                    .map(|t| t.saturating_duration_since(Instant::now()))
                    .unwrap_or(Duration::from_secs(3600));
                tokio::select! {
                    r = &mut fut => {
                        return match r {
                            Ok((status, text, replayed)) => Answer::Reply(
                                status,
                                serde_json::from_str(&text).unwrap_or(Value::String(text)),
                                replayed,
                            ),
                            Err(e) => panic!(
                                "seed {}: the daemon failed without being killed ({e}):\n{}",
                                self.seed,
                                self.logs()
                            ),
                        };
                    }
                    _ = tokio::time::sleep(wait) => {
                        if self.kill(phase) {
                            return Answer::Killed;
                        }
                    }
                }
            }
        })
    }

    /// Sends one step until it is done, whatever the kills.
    fn run_step(&mut self, rt: &tokio::runtime::Runtime, client: &reqwest::Client, step: &Step) {
        let phase = step.phase();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut attempts = 0;
        loop {
            assert!(
                Instant::now() < deadline,
                "seed {}: step {step:?} not done in 120 s:\n{}",
                self.seed,
                self.logs()
            );
            attempts += 1;
            match self.request(rt, client, step, phase) {
                Answer::Killed => continue,
                Answer::Reply(200, v, replayed) => {
                    if let Step::Settle = step
                        && (v["counts"]["pending"] != 0 || v["counts"]["retrying"] != 0)
                    {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    self.counts.replays += usize::from(replayed);
                    break;
                }
                Answer::Reply(status, v, _) => panic!(
                    "seed {}: step {step:?} answered {status}: {v}\n{}",
                    self.seed,
                    self.logs()
                ),
            }
        }
        if attempts > 1 && !matches!(step, Step::Settle) {
            self.counts.retried_steps += 1;
        }
    }

    /// Stops the daemons: a standby (waiting for the database's lock, it serves nothing) by
    /// SIGKILL first, so that it does not take over, then the serving one gracefully (SIGTERM).
    fn stop(&mut self) {
        for i in 0..self.slots.len() {
            if Some(i) != self.leader {
                drop(self.slots[i].take());
            }
        }
        if let Some(mut s) = self.leader.and_then(|l| self.slots[l].take()) {
            s.terminate();
        }
        self.leader = None;
    }
}

// ----- one run -----------------------------------------------------------------------------

/// Generates, plans, feeds `daemons` daemons under kills, compares. `store`: a PostgreSQL URL.
fn crash_run(tag: &str, sizes: Sizes, daemons: usize, store: Option<&str>) {
    let started = Instant::now();
    let Sizes {
        seed,
        invoices,
        days,
        kills,
    } = sizes;
    eprintln!("crash run {tag}: {sizes:?} (RELANCE_CRASH_SEED={seed} replays it)");
    let tmp = TempDir::new(&format!("crash-{tag}"));
    let as_of = NaiveDate::from_ymd_opt(2026, 5, 15).expect("date");
    generator::generate(
        Spec {
            customers: (invoices / 6).max(3),
            invoices,
            seed,
            as_of,
        },
        &tmp.0.join("gen"),
        &mut |_| {},
    )
    .expect("generate");
    let p = relance_data::portfolio::load_dir(&tmp.0.join("gen")).expect("generated data loads");
    let from = as_of.checked_sub_days(Days::new(45)).expect("date");
    let until = from.checked_add_days(Days::new(days)).expect("date");
    let set = crate::workspace().join("stdlib-scenarios");
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let (feed, sent) = steps(&p, from, until, &mut rng);
    // The facts go through the JSON API: a day's facts count in their order of receipt.
    let (plan, plan_states, _) = planned(&as_received(&p, &sent), &set, from, until);
    // The kills: at distinct random steps, each a few milliseconds into the step (inside the
    // request, or just after it while the dispatcher works); some during the next start-up.
    let at_steps = (kills - kills / 5).min(feed.len());
    let mut at = rand::seq::index::sample(&mut rng, feed.len(), at_steps).into_vec();
    at.sort_unstable();

    let (smtp, mails) = start_smtp();
    let (hook_port, _hooks) = start_hooks();
    let config = write_config(&tmp.0, store, TOKEN, smtp, hook_port);
    // The daemon starts the day before the first: its start-up run finds nothing, and the
    // first day's facts come before that day's run.
    let start = from.pred_opt().expect("date");
    let mut cluster = Cluster::new(config.clone(), &tmp.0, start, daemons, seed);
    cluster.startup_kills = kills / 5;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut planned_kills = at.into_iter().peekable();
    for (i, step) in feed.iter().enumerate() {
        // A planned kill lands a few milliseconds into its step (or the next one, when the
        // previous kill has not landed yet).
        if cluster.kill_at.is_none() && planned_kills.next_if(|&k| k <= i).is_some() {
            cluster.kill_at = Some(Instant::now() + Duration::from_millis(rng.random_range(0..40)));
        }
        cluster.run_step(&rt, &client, step);
    }
    // The kills not landed yet land now, each followed by a settle of the last day.
    loop {
        if cluster.kill_at.is_none() {
            if planned_kills.next().is_none() {
                if cluster.startup_kills == 0 {
                    break;
                }
                cluster.startup_kills -= 1;
            }
            cluster.kill_at = Some(Instant::now());
        }
        cluster.run_step(&rt, &client, &Step::Settle);
    }
    cluster.run_step(&rt, &client, &Step::Run(until));
    cluster.run_step(&rt, &client, &Step::Settle);
    cluster.stop();
    let counts = std::mem::take(&mut cluster.counts);

    // The store, opened here once the daemons are gone.
    let cfg = Config {
        data: tmp.0.join("data"),
        spool: tmp.0.join("spool"),
        store: store.map(String::from),
        ..Config::default()
    };
    if store.is_some() {
        server::register_url_store(relance_pg::open_store);
    }
    let engine = server::open(&cfg, ClockMode::Virtual { start: Some(start) }, Some(&set))
        .expect("the store opens");
    assert_eq!(
        engine.today(),
        until,
        "seed {seed}: the clock ended on the last day"
    );
    // Every message due was delivered; every email reached the sink under its one Message-ID.
    let outbox = engine.outbox().expect("outbox");
    let delivered = engine.delivered(0, usize::MAX).expect("delivered");
    let left: Vec<_> = outbox
        .iter()
        .filter(|m| matches!(m.status, MessageStatus::Pending | MessageStatus::Retrying))
        .map(|m| (m.id, m.date, &m.channel, &m.last_error))
        .collect();
    assert!(
        left.is_empty(),
        "seed {seed}: messages never sent: {left:?}"
    );
    let dead: Vec<_> = outbox
        .iter()
        .filter(|m| matches!(m.status, MessageStatus::Dead))
        .map(|m| (m.id, &m.channel, m.last_error.clone().unwrap_or_default()))
        .collect();
    assert!(
        dead.iter().all(|(_, _, e)| !e.contains("connect")),
        "seed {seed}: a message died of a connection error: {dead:?}"
    );
    let mut why: BTreeMap<String, usize> = BTreeMap::new();
    for (_, channel, e) in &dead {
        // "customer C000008 has no phone number for main": the reason, not the customer.
        let reason = e.split_once(" has ").map_or(e.as_str(), |(_, r)| r);
        *why.entry(format!("{channel}: {reason}")).or_default() += 1;
    }
    eprintln!("crash run {tag}: dead letters by reason: {why:?}");
    let mut emails: BTreeMap<String, Mail> = BTreeMap::new();
    for m in delivered.iter().filter(|m| m.channel == "email") {
        let r = m.rendered.as_ref().expect("a delivered email is rendered");
        let id = r.message_id.clone().expect("an email has a Message-ID");
        let mut to: Vec<String> = r.to.iter().chain(&r.cc).cloned().collect();
        to.sort();
        let mail = Mail {
            to,
            message_id: id.clone(),
            subject: r.subject.clone().unwrap_or_default(),
        };
        assert!(
            emails.insert(id.clone(), mail).is_none(),
            "seed {seed}: two messages share the Message-ID {id}"
        );
    }
    let received = mails.lock().map(|m| m.clone()).unwrap_or_default();
    let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
    for mail in &received {
        let stored = emails.get(&mail.message_id).unwrap_or_else(|| {
            panic!(
                "seed {seed}: an email the store does not know arrived: {} {:?}",
                mail.message_id, mail.subject
            )
        });
        assert_eq!(
            stored, mail,
            "seed {seed}: an email received differs from its message"
        );
        *copies.entry(mail.message_id.as_str()).or_default() += 1;
    }
    let missing: Vec<&String> = emails
        .keys()
        .filter(|id| !copies.contains_key(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "seed {seed}: delivered emails never received: {missing:?}"
    );
    let duplicates = received.len() - copies.len();
    // The comparison comes after the figures (a run that disagrees still reports them).
    let (got, got_states) = decided(&engine, &p);
    let compared: usize = plan.values().map(|s| s.len()).sum();
    eprintln!(
        "crash run {tag}: seed {seed}, {invoices} invoices, {days} days: {} kills ({} of the serving daemon, {} of the standby; by phase {:?}), {} steps sent again, {} replayed imports; {compared} dated actions compared, {} invoices differ; {} messages delivered ({} emails), {} dead letters; {} emails received, {duplicates} duplicates, each with its original's Message-ID; {:.1} s",
        counts.kills,
        counts.leader_kills,
        counts.standby_kills,
        counts.by_phase,
        counts.retried_steps,
        counts.replays,
        differences(&plan, &got, usize::MAX).len(),
        delivered.len(),
        emails.len(),
        dead.len(),
        received.len(),
        started.elapsed().as_secs_f64()
    );
    assert_agree(seed, (&plan, &plan_states), (&got, &got_states));

    assert!(
        counts.kills >= kills,
        "seed {seed}: {} kills of {kills}",
        counts.kills
    );
    assert!(compared > 50, "seed {seed}: a meaningful run ({compared})");
    assert!(!emails.is_empty(), "seed {seed}: emails were sent");
    if daemons > 1 {
        assert!(
            counts.leader_kills > 0 && counts.standby_kills > 0,
            "seed {seed}: both the serving daemon and the standby were killed: {counts:?}"
        );
    }
}

#[test]
fn the_daemon_killed_at_random_decides_what_the_planner_decides() {
    crash_run("sled", Sizes::from_env(20261207, 200, 75, 20), 1, None);
}

#[test]
fn a_leader_and_a_standby_on_postgresql_killed_at_random_decide_what_the_planner_decides() {
    let Some(db) = crate::store_copy::Db::new("crash") else {
        return;
    };
    crash_run(
        "pg",
        Sizes::from_env(20261207, 100, 50, 20),
        2,
        Some(&db.url),
    );
}

/// `{"run": false}` holds the new day's run, through a SIGKILL and a restart too (without the
/// hold, the restarted daemon ran the day before its facts arrived); the next advance runs it.
#[test]
fn a_held_day_is_run_by_the_next_advance_not_by_a_restart() {
    let tmp = TempDir::new("crash-hold");
    let config = write_config(&tmp.0, None, TOKEN, 9, 9);
    let log = tmp.0.join("daemon.log");
    let d0 = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let call = |s: &mut Serve, path: &str, body: Option<Value>| -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !s.poll() {
            assert!(Instant::now() < deadline, "no start: {}", tail(&log));
            std::thread::sleep(Duration::from_millis(5));
        }
        let url = format!("http://{}{path}", s.addr.as_deref().unwrap_or(""));
        rt.block_on(async {
            let req = match body {
                Some(b) => client.post(url).json(&b),
                None => client.get(url),
            };
            let resp = req.bearer_auth(TOKEN).send().await.expect("answer");
            assert_eq!(resp.status(), 200, "{path}");
            resp.json().await.expect("json")
        })
    };
    let day = |n: u64| d0.checked_add_days(Days::new(n)).expect("date").to_string();
    let mut s = Serve::spawn(&config, &log, d0);
    // (request, then the clock's `today` and `run_through`)
    let rows: [(Option<Value>, u64, u64); 3] = [
        (None, 0, 0),
        (Some(json!({"to": day(2), "run": false})), 2, 1),
        (Some(json!({"to": day(2), "run": false})), 2, 1),
    ];
    for (i, (advance, today, through)) in rows.into_iter().enumerate() {
        if let Some(b) = advance {
            call(&mut s, "/v1/clock/advance", Some(b));
        }
        let clock = call(&mut s, "/v1/clock", None);
        assert_eq!(
            (clock["today"].as_str(), clock["run_through"].as_str()),
            (Some(day(today).as_str()), Some(day(through).as_str())),
            "row {i}"
        );
    }
    drop(s); // SIGKILL
    let mut s = Serve::spawn(&config, &log, d0);
    let clock = call(&mut s, "/v1/clock", None);
    assert_eq!(
        clock["run_through"].as_str(),
        Some(day(1).as_str()),
        "the restart did not run the held day: {clock}"
    );
    call(&mut s, "/v1/clock/advance", Some(json!({"to": day(2)})));
    let clock = call(&mut s, "/v1/clock", None);
    assert_eq!(clock["run_through"].as_str(), Some(day(2).as_str()));
    s.terminate();
}
