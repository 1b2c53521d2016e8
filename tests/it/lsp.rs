//! End to end: the real `relance lsp` binary, spoken to over stdin/stdout with hand-written
//! LSP JSON-RPC (Content-Length framing): open a file with an error, get its diagnostics
//! (the did-you-mean in the message) and the quick fix that applies it, complete, go to
//! definition, hover, format, shut down and exit with status 0.
//!
//! Every read has a timeout, and the child is killed whenever the test fails, so the test
//! can never hang.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The multi-byte characters before the goto (`😀` is two UTF-16 units, one char, four bytes)
/// check that columns are UTF-16 code units. The one-line last step is for the formatter.
pub(super) const SOURCE: &str = r#"# Relance LSP integration test
scenario standard {
  title "Relance — été"
  step reminder at due + 3 days {
    skip when invoice.amount < 1000 EUR
    email "reminder-1" to accounting
  }
  step notice at reminder + 7 days {
    if customer.segment == "b2b😀" { goto litigation }
    goto litigaton
  }
  step litigation at notice + 15 days { escalate agency }
}
"#;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace")
        .to_path_buf()
}

/// Builds the `relance` binary (a no-op after `cargo test --workspace`, whose build it
/// reuses: `super::cargo`) and returns its path.
pub(super) fn relance_binary() -> PathBuf {
    let root = workspace_root();
    let status = super::cargo::without_test_variables(&mut Command::new(env!("CARGO")))
        .args(super::cargo::build_args(&["--quiet", "--bin", "relance"]))
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build of relance failed");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let bin = target
        .join("debug")
        .join(format!("relance{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "{} not found", bin.display());
    bin
}

/// A fresh folder under the system temp dir, removed on drop.
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new() -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("relance-lsp-it-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("templates")).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server process and its message stream. Killed on drop unless it exited.
struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    fn start(bin: &Path) -> Server {
        let mut child = Command::new(bin)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("relance lsp starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).expect("json");
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response's `result`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let response = self.wait_for(&format!("the response to {method}"), |m| {
            m["id"] == json!(id) && m.get("method").is_none()
        });
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Reads messages until one matches, within [`TIMEOUT`].
    fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) if matches(&m) => return m,
                Ok(_) => {}
                Err(e) => panic!("no {what} within {TIMEOUT:?}: {e}"),
            }
        }
    }
}

/// One framed message, or `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The LSP position (UTF-16 column) of the first `needle` in `line` of SOURCE, plus `shift`
/// characters.
fn position(line: usize, needle: &str, shift: usize) -> Value {
    let text = SOURCE.lines().nth(line).expect("line");
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} on line {line}"));
    let column = text[..at].encode_utf16().count() + shift;
    json!({ "line": line, "character": column })
}

#[test]
fn relance_lsp_speaks_the_protocol_end_to_end() {
    let bin = relance_binary();
    let dir = TempDir::new();
    std::fs::write(dir.0.join("templates").join("reminder-1.fr.txt"), "Bonjour").expect("template");
    let file = dir.0.join("standard.relance");
    std::fs::write(&file, SOURCE).expect("scenario file");
    let uri = format!("file://{}", file.display());

    let mut server = Server::start(&bin);
    let init = server.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    let caps = &init["capabilities"];
    assert_eq!(caps["hoverProvider"], json!(true), "{init}");
    assert_eq!(caps["definitionProvider"], json!(true));
    assert_eq!(caps["documentFormattingProvider"], json!(true));
    server.notify("initialized", json!({}));

    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "relance", "version": 1, "text": SOURCE } }),
    );
    let published = server.wait_for("publishDiagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == json!(uri)
    });
    let diagnostics = published["params"]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    assert_eq!(
        diagnostics.len(),
        1,
        "only the misspelt step: {diagnostics:#?}"
    );
    let d = &diagnostics[0];
    assert_eq!(d["code"], "E0110");
    assert_eq!(d["source"], "relance");
    assert_eq!(d["severity"], 1);
    assert_eq!(
        d["message"],
        "unknown step `litigaton`\nhelp: did you mean `litigation`?"
    );
    assert_eq!(
        d["range"],
        json!({ "start": { "line": 9, "character": 9 }, "end": { "line": 9, "character": 18 } })
    );

    // The quick fix for it, asked with the cursor on the misspelt name.
    let actions = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": { "start": position(9, "litigaton", 2), "end": position(9, "litigaton", 2) },
            "context": { "diagnostics": [d] }
        }),
    );
    let actions = actions.as_array().expect("code actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["title"], "Replace with `litigation`");
    assert_eq!(
        actions[0]["edit"]["changes"][&uri],
        json!([{ "range": d["range"], "newText": "litigation" }])
    );

    // Completion right after `goto `.
    let completion = server.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position(9, "litigaton", 0) }),
    );
    let labels: Vec<&str> = completion
        .as_array()
        .expect("an item list")
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(labels.contains(&"litigation"), "{labels:?}");
    assert!(labels.contains(&"reminder"), "{labels:?}");

    // Definition of the goto target after the emoji: the name on the `step litigation` line.
    let definition = server.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": position(8, "litigation", 3) }),
    );
    assert_eq!(definition["uri"], json!(uri), "{definition}");
    assert_eq!(
        definition["range"],
        json!({ "start": { "line": 11, "character": 7 }, "end": { "line": 11, "character": 17 } })
    );

    // Hover on a field path.
    let hover = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(4, "amount", 2) }),
    );
    let value = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        value.contains("invoice.amount") && value.contains("Amount including taxes"),
        "{hover}"
    );

    // Formatting: one edit over the whole document, the one-line step expanded.
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let edits = edits.as_array().expect("edits");
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(
        edits[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );
    assert_eq!(
        edits[0]["range"]["end"],
        json!({ "line": 13, "character": 0 })
    );
    let formatted = edits[0]["newText"].as_str().unwrap_or_default();
    assert!(
        formatted.contains("notice + 15 days {\n    escalate agency\n  }"),
        "{formatted}"
    );

    // A change that fixes the step: the diagnostics clear.
    let fixed = SOURCE.replace("goto litigaton", "goto litigation");
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    let published = server.wait_for("publishDiagnostics after the change", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2
    });
    assert_eq!(published["params"]["diagnostics"], json!([]), "{published}");

    let result = server.request("shutdown", Value::Null);
    assert_eq!(result, Value::Null);
    server.notify("exit", Value::Null);
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit within {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}

/// A `rules/*.rhai` file that does not compile: its diagnostic is published on the rules
/// file (line and column of rhai's error) when the scenario opens, and cleared when the rules
/// file, opened in the editor, is fixed.
#[test]
fn rules_diagnostics_are_published_on_the_rules_file() {
    let bin = relance_binary();
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.0.join("rules")).expect("rules folder");
    let broken = "fn big(invoice, customer) {\n    invoice.amount >\n}\n";
    let rules = dir.0.join("rules").join("big.rhai");
    std::fs::write(&rules, broken).expect("rules file");
    let scenario = "scenario s {\n  applies when rule(\"big\")\n  step a at due {}\n}\n";
    let file = dir.0.join("s.relance");
    std::fs::write(&file, scenario).expect("scenario file");
    let uri = format!("file://{}", file.display());
    let rules_uri = format!("file://{}", rules.display());

    let mut server = Server::start(&bin);
    server.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    server.notify("initialized", json!({}));
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "relance", "version": 1, "text": scenario } }),
    );
    let published = server.wait_for("the rules file's diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == json!(rules_uri)
    });
    let diagnostics = published["params"]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["code"], "E0190");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 2, "{published}");

    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": rules_uri, "languageId": "rhai", "version": 1, "text": broken } }),
    );
    let fixed = "fn big(invoice, customer) {\n    invoice.amount > 10\n}\n";
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": rules_uri, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    let published = server.wait_for("the rules file cleared", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == json!(rules_uri)
            && m["params"]["version"] == 2
    });
    assert_eq!(published["params"]["diagnostics"], json!([]), "{published}");

    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
}
