//! Templates are part of the checked set, and a fallback language shows: `relance check`
//! reports a broken template with its file, line and column (text and JSON); `relance
//! simulate` and `relance test` say when a message is written in the set's fallback language.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SET: &str = r#"scenario standard {
  step reminder at due + 3 days {
    email "reminder-1" to accounting
  }
}

test "a German customer gets the English variant" {
  use standard
  customer HANS { segment b2b language "de" }
  invoice F-1 { customer HANS amount 100 EUR issued 2026-01-01 due 2026-01-31 }
  expect {
    2026-02-03 email "reminder-1" to accounting for F-1
  }
}
"#;

/// A set folder under the temporary directory, removed when dropped.
struct SetDir(PathBuf);

impl SetDir {
    fn new(name: &str, files: &[(&str, &str)]) -> SetDir {
        let dir = std::env::temp_dir().join(format!("relance-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        SetDir(dir)
    }
}

impl Drop for SetDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn relance(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(args)
        .arg(dir)
        .output()
        .expect("relance runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_reports_a_broken_template_with_its_place() {
    let set = SetDir::new(
        "check-templates",
        &[
            ("set.relance", SET),
            (
                "templates/reminder-1.fr.txt",
                "Subject: Relance\nBonjour {{ customer.name },\n",
            ),
            (
                "templates/reminder-1.en.txt",
                "Subject: Reminder\nHello {{ customer.nme }},\n",
            ),
        ],
    );
    let (code, text) = relance(&["check"], &set.0);
    assert_eq!(code, Some(1), "{text}");
    let fr = set
        .0
        .join("templates/reminder-1.fr.txt")
        .display()
        .to_string();
    assert!(text.contains("error[E0501]: syntax error"), "{text}");
    assert!(text.contains(&format!("{fr}:2:26")), "{text}");
    assert!(
        text.contains("error[E0502]: unknown template variable `customer.nme`"),
        "{text}"
    );
    // No templates.toml: the set declares no language, which is said (W0501).
    assert!(
        text.contains("warning[W0501]: templates/ has no templates.toml"),
        "{text}"
    );
    assert!(
        text.contains("checked 3 file(s): 2 error(s), 1 warning(s)"),
        "{text}"
    );
    let (code, json) = relance(&["check", "--format", "json"], &set.0);
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(report["errors"], 2);
    let broken = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "E0501")
        .expect("E0501");
    assert_eq!(broken["file"], fr.as_str());
    assert_eq!(
        (broken["line"].as_u64(), broken["column"].as_u64()),
        (Some(2), Some(26))
    );
}

#[test]
fn simulate_and_test_show_a_fallback_language() {
    let case = r#"{
  "customers": [{"id": "HANS", "segment": "b2b", "language": "de",
                 "contacts": {"accounting": {"email": "ap@hans.example"}}}],
  "invoices": [{"id": "F-1", "customer": "HANS", "amount": "100.00", "currency": "EUR",
                "issued": "2026-01-01", "due": "2026-01-31"}]
}"#;
    let files = [
        ("set.relance", SET),
        (
            "templates/reminder-1.fr.txt",
            "Subject: Relance\n{{ total_outstanding | money }}\n",
        ),
        (
            "templates/reminder-1.en.txt",
            "Subject: Reminder\n{{ total_outstanding | money }}\n",
        ),
        (
            "templates/templates.toml",
            "languages = [\"fr\", \"en\"]\nfallback = [\"en\"]\n",
        ),
        ("case.json", case),
    ];
    let set = SetDir::new("fallback", &files);
    let case_path = set.0.join("case.json").display().to_string();
    let (code, json) = relance(
        &[
            "simulate",
            "--case",
            &case_path,
            "--until",
            "2026-02-10",
            "--format",
            "json",
        ],
        &set.0,
    );
    assert_eq!(code, Some(0), "{json}");
    let timeline: Value = serde_json::from_str(&json).expect("JSON");
    let email = timeline["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "email")
        .expect("the reminder");
    assert_eq!(email["language"], "en", "{email}");
    assert_eq!(email["fallback_from"], "de", "{email}");
    let (code, out) = relance(&["test"], &set.0);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("(template in en: none in de)"), "{out}");

    // Without the declaration, no fallback: the message would not be sent, and says so.
    let without: Vec<(&str, &str)> = files
        .iter()
        .copied()
        .filter(|(p, _)| *p != "templates/templates.toml")
        .collect();
    let set = SetDir::new("no-fallback", &without);
    let case_path = set.0.join("case.json").display().to_string();
    let (code, text) = relance(
        &["simulate", "--case", &case_path, "--until", "2026-02-10"],
        &set.0,
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("(no template in de: not sent)"), "{text}");
}
