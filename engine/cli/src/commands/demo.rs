//! `relance demo`: the daemon's real path on bundled data. A fresh embedded store in a temporary
//! folder (removed when the demo ends, whatever happens), the stdlib scenarios deployed (the
//! ones built into the binary unless `--scenarios` names a set), the example portfolio imported
//! (built in too unless `--data`), then N virtual days through the daily run and the outbox
//! (emails, SMS and webhooks to a spool folder inside the temporary one, no SMTP needed);
//! prints the agenda and what was sent. With `--serve`, the daemon then keeps serving that
//! store (API and web console, virtual clock on the demo's last day) until Ctrl-C, with a
//! console user `demo` whose one-time password is printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use chrono::{Days, NaiveDate};

use super::bundled::Folder;
use super::exit;
use relance_core::domain::Portfolio;
use relance_daemon::config::{Config, ConsoleUser, EmailTransport, Role};
use relance_daemon::dispatcher::Dispatcher;
use relance_daemon::model::Message;
use relance_daemon::server::{self, ClockMode};
use relance_daemon::{DaemonError, Engine};
use relance_data::portfolio;

pub fn run(
    scenarios: &Folder,
    data: &Folder,
    from: NaiveDate,
    days: u32,
    serve: Option<std::net::SocketAddr>,
) -> u8 {
    // The store, the spool and the letters live here; dropped (deleted) when the demo ends.
    let root = match tempfile::Builder::new().prefix("relance-demo-").tempdir() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("error: cannot create a temporary folder: {e}");
            return exit::USAGE;
        }
    };
    let config = match demo(scenarios, data, root.path(), from, days) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    match serve {
        None => exit::OK,
        Some(addr) => keep_serving(config, addr),
    }
}

/// Serves the demo's store (its engine closed by now) with the API and the web console.
fn keep_serving(mut config: Config, addr: std::net::SocketAddr) -> u8 {
    let password = relance_console::session::random_token();
    let hash = match relance_console::password::hash(&password) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    config.listen = addr;
    config.console.users = vec![ConsoleUser {
        name: "demo".into(),
        password_hash: hash,
        role: Role::Admin,
        agenda: Vec::new(),
    }];
    println!(
        "\n== the web console: http://{addr}/console/  (user `demo`, password {password}; \
         Ctrl-C to stop)"
    );
    super::serve::init_tracing();
    super::serve::serve_with_console(config, ClockMode::Virtual { start: None })
}

fn demo(
    scenarios: &Folder,
    data: &Folder,
    root: &Path,
    from: NaiveDate,
    days: u32,
) -> Result<Config, DaemonError> {
    let started = Instant::now();
    let name = |f: &Folder, what: &str| {
        if f.embedded() {
            format!("the built-in {what}")
        } else {
            f.path().display().to_string()
        }
    };
    let mut config = Config {
        data: root.join("data"),
        spool: root.join("spool"),
        spool_unconfigured: true,
        ..Config::default()
    };
    config.email.transport = EmailTransport::Spool;
    config.email.from = "Example SA credit department <credit@example.com>".into();
    config.company.name = "Example SA".into();
    config.company.iban = "FR76 3000 6000 0112 3456 7890 189".into();
    config.company.phone = "+33 1 23 45 67 89".into();
    config.company.email = "credit@example.com".into();

    println!(
        "== relance demo: the daemon's path on {} with {}",
        name(data, "example portfolio"),
        name(scenarios, "stdlib scenarios")
    );
    let engine = server::open(
        &config,
        ClockMode::Virtual { start: Some(from) },
        Some(&scenarios.path().to_path_buf()),
    )?;
    let p = portfolio::load_dir(data.path()).map_err(|e| DaemonError::Io(e.to_string()))?;
    let (past, future): (Vec<_>, Vec<_>) = p.events.iter().cloned().partition(|e| e.date <= from);
    let report = engine.import(&Portfolio {
        from: None,
        customers: p.customers.clone(),
        invoices: p.invoices.clone(),
        events: past,
    })?;
    engine.flush()?;
    println!(
        "store {} · imported {} customers, {} invoices ({} cases opened on {from})",
        config.data.display(),
        report.customers,
        report.invoices,
        report.stats.opened
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Io(e.to_string()))?;
    let dispatcher = Dispatcher::new(engine.clone(), &config)?;
    engine.catch_up(from)?;
    runtime.block_on(dispatcher.drain())?;
    let last = from
        .checked_add_days(Days::new(u64::from(days.max(1)) - 1))
        .unwrap_or(from);
    let mut day = from;
    while day < last {
        let Some(next) = day.succ_opt() else { break };
        engine.advance_to(next)?;
        let todays: Vec<_> = future.iter().filter(|e| e.date == next).cloned().collect();
        if !todays.is_empty() {
            engine.apply_events(&todays)?;
            engine.flush()?;
        }
        runtime.block_on(dispatcher.drain())?;
        day = next;
    }
    print_summary(&engine, from, last, &config.spool)?;
    println!(
        "\n{} virtual days in {:.1} s",
        (last - from).num_days() + 1,
        started.elapsed().as_secs_f64()
    );
    Ok(config)
}

fn print_summary(
    engine: &Engine,
    from: NaiveDate,
    last: NaiveDate,
    spool: &Path,
) -> Result<(), DaemonError> {
    let mut sent: Vec<Message> = Vec::new();
    let mut after = 0;
    loop {
        let page = engine.delivered(after, 10_000)?;
        let Some(m) = page.last() else { break };
        after = m.id;
        sent.extend(page);
    }
    let mut by_channel: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for m in &sent {
        let e = by_channel.entry(m.channel.as_str()).or_default();
        e.0 += 1;
        e.1 += m.items.len();
    }
    println!("\n== what was sent from {from} to {last}");
    for (channel, (messages, invoices)) in &by_channel {
        println!("  {channel:9} {messages:4} message(s) about {invoices} invoice(s)");
    }
    println!("\n== emails (first 12)");
    let emails: Vec<&Message> = sent.iter().filter(|m| m.channel == "email").collect();
    for m in emails.iter().take(12) {
        let r = m.rendered.as_ref();
        println!(
            "  {}  {:8}  to {:28}  {}",
            m.date,
            m.customer,
            r.map(|r| r.to.join(", ")).unwrap_or_default(),
            r.and_then(|r| r.subject.clone()).unwrap_or_default()
        );
    }
    if emails.len() > 12 {
        println!(
            "  … and {} more in {}",
            emails.len() - 12,
            spool.join("email").display()
        );
    }
    println!("\n== agenda (calls, tasks, alerts), by day and assignee");
    let agenda = engine.agenda(from, last)?;
    for e in agenda.iter().take(20) {
        println!(
            "  {}  {:16}  {:8}  {:5}  {}  [{}]",
            e.date,
            e.assignee.as_deref().unwrap_or("unassigned"),
            e.customer,
            e.kind,
            e.text,
            e.invoices.join(",")
        );
    }
    if agenda.len() > 20 {
        println!("  … and {} more", agenda.len() - 20);
    }
    let undelivered = engine.outbox()?;
    let dead: Vec<&Message> = undelivered
        .iter()
        .filter(|m| m.status == relance_daemon::model::MessageStatus::Dead)
        .collect();
    println!(
        "\n== outbox: {} delivered, {} waiting, {} dead letter(s)",
        sent.len(),
        undelivered.len() - dead.len(),
        dead.len()
    );
    for m in dead.iter().take(5) {
        println!(
            "  {}  {:8}  {}: {}",
            m.date,
            m.customer,
            m.text,
            m.last_error.as_deref().unwrap_or("")
        );
    }
    println!(
        "letters and spooled messages: {} (removed with the demo's temporary folder when it ends)",
        spool.display()
    );
    Ok(())
}
