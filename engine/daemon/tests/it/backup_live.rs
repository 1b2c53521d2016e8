//! A backup taken while the daemon writes (`backup::export_live`, what `GET /v1/backup`
//! runs): event writes proceed while the backup is paused half-way (paused by its output, a
//! hook of the test, not by a timer), and the backup, restored, is exactly the store of the
//! moment it started: none of the writes made meanwhile, neither whole nor in part.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use chrono::NaiveDate;

use relance_core::domain::{Event, EventKind};
use relance_daemon::backup;
use relance_daemon::store::{SledStore, Store, Tree};
use relance_data::portfolio;

use crate::daemon_engine::started;
use crate::support::TempDir;

/// Bound of every wait of the test (a deadlock fails it instead of hanging it).
const BOUND: Duration = Duration::from_secs(120);

/// An output that, once it holds `after` lines, tells `reached` and waits for `release`.
struct PausedOutput {
    bytes: Vec<u8>,
    lines: usize,
    after: usize,
    reached: Option<mpsc::Sender<()>>,
    release: mpsc::Receiver<()>,
}

impl Write for PausedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        self.lines += buf.iter().filter(|b| **b == b'\n').count();
        if self.lines >= self.after
            && let Some(reached) = self.reached.take()
        {
            let _ = reached.send(());
            self.release
                .recv_timeout(BOUND)
                .map_err(|e| std::io::Error::other(format!("never released: {e}")))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn export(store: &dyn Store) -> Vec<u8> {
    let mut out = Vec::new();
    backup::export(store, &mut out).expect("export");
    out
}

#[test]
fn writes_proceed_during_a_backup_and_it_restores_the_moment_it_started() {
    let tmp = TempDir::new("backup-live");
    let today: NaiveDate = "2026-04-01".parse().expect("date");
    let p = portfolio::load_dir(&crate::workspace().join("examples")).expect("examples");
    let engine = started(&tmp, today, &p);
    engine.flush().expect("flush");
    let open: Vec<_> = p
        .invoices
        .iter()
        .filter(|i| {
            engine
                .case(&i.id)
                .expect("case")
                .is_some_and(|r| r.case.is_open())
        })
        .map(|i| i.id.clone())
        .take(40)
        .collect();
    assert_eq!(open.len(), 40, "enough open cases to write to");
    let mut before = export(engine.store());
    let lines = before.iter().filter(|b| **b == b'\n').count();
    assert!(lines > 1000, "a store of some size: {lines} lines");

    // Paused after 5 lines (the first meta entries: every tree the writes touch is ahead of
    // the backup), half-way, and 20 lines before its end (most of them behind it).
    for (round, after) in [5, lines / 2, lines - 20].into_iter().enumerate() {
        let (reached_tx, reached) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let mut out = PausedOutput {
            bytes: Vec::new(),
            lines: 0,
            after,
            reached: Some(reached_tx),
            release: release_rx,
        };
        let e = engine.clone();
        let backup = std::thread::spawn(move || {
            let stats = backup::export_live(&e, &mut out).expect("the backup");
            (stats, out.bytes)
        });
        reached
            .recv_timeout(BOUND)
            .expect("the backup reached its pause");

        // (a) Writes while the backup is paused: each one durable, none waits for it.
        let (done_tx, done) = mpsc::channel();
        let e = engine.clone();
        let cases = open.clone();
        let writer = std::thread::spawn(move || {
            for (n, invoice) in cases.iter().enumerate() {
                let kind = if n % 2 == 0 {
                    EventKind::PromiseMade {
                        invoice: invoice.clone(),
                        promised_date: "2026-04-20".parse().expect("date"),
                        amount: None,
                    }
                } else {
                    EventKind::Payment {
                        invoice: invoice.clone(),
                        amount: rust_decimal::Decimal::new(100, 2), // 1.00
                        reference: Some(format!("live-{round}-{n}")),
                        details: Default::default(),
                    }
                };
                e.apply_events(&[Event {
                    date: "2026-04-01".parse().expect("date"),
                    kind,
                }])
                .expect("an event write during the backup");
                e.flush().expect("flush");
            }
            let _ = done_tx.send(());
        });
        let wrote = done.recv_timeout(BOUND).is_ok();
        let _ = release.send(());
        let (stats, bytes) = backup.join().expect("backup thread");
        writer.join().expect("writer thread");
        assert!(wrote, "the writes finished while the backup was paused");

        // (b) The backup is the store of its start: byte for byte the export taken then
        // (nothing was written between the two), and it restores to that.
        let now = export(engine.store());
        assert_ne!(now, before, "the writes landed in the store");
        assert!(
            bytes == before,
            "paused after {after} lines: the backup is not the store of the moment it started"
        );
        let dir = tmp.0.join(format!("restored-{after}"));
        let restored = SledStore::open(&dir).expect("open");
        let n = backup::restore(&restored, &mut bytes.as_slice(), false).expect("restore");
        assert_eq!(n.entries, stats.entries);
        assert_eq!(
            String::from_utf8_lossy(&export(&restored)),
            String::from_utf8_lossy(&bytes),
            "restored whole"
        );
        for tree in Tree::ALL {
            let mut walked = 0;
            restored
                .scan(tree, &mut |_, _| {
                    walked += 1;
                    Ok(())
                })
                .expect("scan");
            assert_eq!(restored.count(tree), walked, "{}", tree.name());
        }
        // The next round starts from the store as it is now.
        before = now;
    }
}

/// `GET /v1/backup` streams: no `Content-Length` (the body is sent as it is written, not
/// built first), and the body is a whole backup (header, entries, end line with their count).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_endpoint_streams_a_whole_backup() {
    let tmp = TempDir::new("backup-http");
    let (base, client) = crate::support::serve(&tmp.0, "2026-04-01", Duration::from_secs(60)).await;
    let resp = client
        .get(format!("{base}/v1/backup"))
        .bearer_auth(crate::support::ADMIN)
        .send()
        .await
        .expect("GET /v1/backup");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-ndjson")
    );
    assert!(
        resp.headers().get("content-length").is_none(),
        "streamed, not built whole: {:?}",
        resp.headers()
    );
    let body = resp.text().await.expect("body");
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines[0]["format"], "relance-backup");
    let end = lines.last().expect("an end line");
    assert_eq!(end["end"], true);
    assert_eq!(end["entries"].as_u64(), Some(lines.len() as u64 - 2));
    assert!(
        lines.len() > 3,
        "the deployed set is in it: {} lines",
        lines.len()
    );
}

/// A client that opens `GET /v1/backup`, takes its first chunk and then reads nothing more
/// cannot hold the backup's snapshot for ever: once a chunk has waited
/// `http.send_timeout_secs` (here 1 s), the server cuts the body short (no end line, so
/// restore would refuse it) and drops the snapshot (the sled store keeps nothing more for
/// it), and it goes on answering other requests meanwhile. The store is padded with 24 MiB
/// of meta entries so that the backup cannot fit in the socket buffers between the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_a_backup_releases_its_snapshot_after_the_send_timeout() {
    use relance_daemon::server::{self, ClockMode};
    use relance_daemon::store::Op;
    let tmp = TempDir::new("backup-stalled");
    let mut config = crate::support::config(&tmp.0);
    config.http.send_timeout_secs = 1;
    let scenarios = crate::workspace().join("stdlib-scenarios");
    let engine = server::open(
        &config,
        ClockMode::Virtual {
            start: "2026-04-01".parse().ok(),
        },
        Some(&scenarios),
    )
    .expect("engine");
    let padding: Vec<Op> = (0..384u32)
        .map(|i| {
            Op::Put(
                Tree::Meta,
                format!("test-padding/{i:04}").into_bytes(),
                vec![0xA5; 64 * 1024],
            )
        })
        .collect();
    engine.store().commit(&padding).expect("padding");
    engine.flush().expect("flush");
    let store = engine.clone();
    let (base, client) =
        crate::support::serve_engine(engine, config, Duration::from_secs(120)).await;

    let mut resp = client
        .get(format!("{base}/v1/backup"))
        .bearer_auth(crate::support::ADMIN)
        .send()
        .await
        .expect("GET /v1/backup");
    assert_eq!(resp.status(), 200);
    let first = resp.chunk().await.expect("first chunk").expect("a chunk");
    assert!(first.starts_with(b"{\"format\":\"relance-backup\""));
    assert_eq!(
        store.store().open_snapshots(),
        1,
        "the backup is under way, its snapshot open"
    );

    // Nothing more is read: within a bound, the server gives up and drops the snapshot.
    let start = std::time::Instant::now();
    while store.store().open_snapshots() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the stalled backup still holds its snapshot after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Other requests are answered all along.
    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), 200);

    // What the client can still read is a backup without its end line.
    let mut rest = first.to_vec();
    while let Ok(Some(c)) = resp.chunk().await {
        rest.extend_from_slice(&c);
    }
    let text = String::from_utf8_lossy(&rest);
    assert!(
        !text.lines().any(|l| l.starts_with("{\"end\":true")),
        "the cut body has no end line"
    );
}
