//! Test helpers shared by the language server's unit tests: temporary scenario sets, and a
//! file using every kind of AST node.

use tower_lsp_server::ls_types::Uri;

/// A set in a fresh temporary folder, removed on drop.
pub struct TempSet(pub std::path::PathBuf);

impl TempSet {
    pub fn new(tag: &str, files: &[(&str, &str)]) -> TempSet {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("relance-lsp-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        TempSet(dir)
    }

    pub fn uri(&self, name: &str) -> Uri {
        Uri::from_file_path(self.0.join(name)).unwrap()
    }
}

impl Drop for TempSet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file using every kind of AST node at least once, without syntax errors.
pub const EVERY_NODE: &str = r#"scenario s {
  title "t"
  applies when customer.segment == "b2b" and not (invoice.amount > 3 EUR) or rule("r", [1, 2])
  group by invoice
  calendar fr
  tolerance 5 EUR
  promise grace 2 days
  step a at due - 3 business days required {
    skip when -invoice.days_late < 2
    stop when dispute.open
    if today > 2026-01-01 { goto a } else if 1 > 2 { stop "x" } else { pause }
    wait until promise.date + 2 days
    email "e" to accounting cc sales
    sms "s" to main
    letter "l" to legal registered
    call accounting assign collector
    task "t" assign sales
    webhook "w"
    escalate agency "a"
    escalate litigation
    alert "a" to sales
    block deliveries
    unblock deliveries
    charge indemnity
    charge late-interest
    charge 5 EUR "fee"
    tag "x"
  }
  step b at a {}
  on dispute opened { resume after 2 days }
}
policy p { use s when 10% > 5% use s otherwise }
test "t" {
  use s
  from 2026-01-01
  until 2026-02-01
  customer A { segment "b2b" tags ["x"] }
  invoice "F 1" { customer A amount 10 EUR issued 2026-01-01 due 2026-01-31 }
  on 2026-01-02 payment F-1 1 EUR
  on 2026-01-02 dispute F-1 "c" amount 1 EUR
  on 2026-01-02 resolve F-1
  on 2026-01-02 promise F-1 2026-02-01 1 EUR
  on 2026-01-02 credit note F-1 1 EUR
  on 2026-01-02 write off F-1
  on 2026-01-02 risk A 3
  on 2026-01-02 outcome F-1 "x" promise 2026-02-01
  on 2026-01-02 bounce A accounting
  expect { 2026-01-05 charge indemnity 40 EUR for F-1 }
}
test "u" { expect snapshot }
"#;
