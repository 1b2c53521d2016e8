//! A client other than ours: headless Neovim and its built-in LSP client against the real
//! `relance lsp` binary, driven by `tests/it/neovim/lsp_client.lua` (diagnostics, completion,
//! go to definition, the outline, the quick fix offered and applied, formatting), and by
//! `tests/it/neovim/set_files.lua` (the diagnostics of a set's template and `rules/*.rhai` files,
//! published while they are closed, then updated and cleared as the rules file is edited in a
//! Neovim buffer). Each Lua script reports what the client saw as JSON; these tests judge it.
//!
//! Needs `nvim` (Debian: `apt-get install neovim`, 0.7 or later). Without it the test is skipped
//! with a notice, except under CI (the `CI` environment variable set to anything but empty, `0`
//! or `false`), where it fails: `.ci/run` installs it. Bounded: the script has a watchdog, and
//! this test kills Neovim and the server by pid when they outlive [`TIMEOUT`].

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::lsp::{SOURCE, TempDir, relance_binary};

const TIMEOUT: Duration = Duration::from_secs(90);

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

fn nvim_available() -> bool {
    Command::new("nvim")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Kills a process by pid (the server Neovim started), ignoring one already gone.
fn kill_pid(pid: &str) {
    let _ = Command::new("kill").args(["-9", pid.trim()]).status();
}

/// The outline the client received, one `name@line` a symbol (0-based line of its name),
/// children indented under their parent.
fn outline(symbols: &Value, indent: &str) -> Vec<String> {
    symbols
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| {
            let name = s["name"].as_str().unwrap_or("?");
            let line = s["line"]
                .as_u64()
                .map_or("?".to_string(), |l| l.to_string());
            std::iter::once(format!("{indent}{name}@{line}"))
                .chain(outline(&s["children"], &format!("{indent}  ")))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs headless Neovim with the Lua `script` of `tests/it/neovim/` in `dir`, the server being
/// the real `relance` binary, with `env` added; returns the JSON report the script wrote.
/// Kills Neovim and the server by pid when they outlive [`TIMEOUT`] or Neovim fails.
fn run_nvim(dir: &TempDir, script: &str, env: &[(&str, &std::ffi::OsStr)]) -> Value {
    let bin = relance_binary();
    let result = dir.0.join("result.json");
    let pid_file = dir.0.join("server.pid");
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("it/neovim")
        .join(script);
    let mut command = Command::new("nvim");
    command
        .args(["--headless", "--clean", "-n", "-i", "NONE", "-u", "NONE"])
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .env("RELANCE_BIN", &bin)
        .env("RELANCE_RESULT", &result)
        .env("RELANCE_SERVER_PID", &pid_file)
        .env("XDG_STATE_HOME", &dir.0)
        .env("XDG_DATA_HOME", &dir.0)
        .env("XDG_CACHE_HOME", &dir.0)
        .current_dir(&dir.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut nvim = command.spawn().expect("nvim starts");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = nvim.try_wait().expect("wait for nvim") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = nvim.kill();
            let _ = nvim.wait();
            if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                kill_pid(&pid);
            }
            panic!("nvim did not finish within {TIMEOUT:?}; killed it and the server");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let report = std::fs::read_to_string(&result).unwrap_or_default();
    if !status.success() {
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            kill_pid(&pid);
        }
        let mut stderr = String::new();
        if let Some(mut e) = nvim.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        panic!("nvim exited with {status}: {report}\n{stderr}");
    }
    let seen: Value = serde_json::from_str(&report).expect("the script's JSON report");
    assert!(seen.get("error").is_none(), "{seen:#}");
    seen
}

/// Skips (with a notice) when `nvim` is missing, except under CI, where it fails.
fn nvim_or_skip(test: &str) -> bool {
    if nvim_available() {
        return true;
    }
    assert!(
        !under_ci(),
        "nvim is missing: CI must install it (.ci/run: apt-get install neovim)"
    );
    eprintln!("notice: skipping {test}: `nvim` is not on PATH");
    false
}

#[test]
fn neovim_lsp_client_gets_diagnostics_completion_definition_outline_fix_and_formatting() {
    if !nvim_or_skip("the Neovim LSP test") {
        return;
    }
    let dir = TempDir::new();
    std::fs::write(dir.0.join("templates").join("reminder-1.fr.txt"), "Bonjour").expect("template");
    let file = dir.0.join("standard.relance");
    std::fs::write(&file, SOURCE).expect("scenario file");
    let seen = run_nvim(
        &dir,
        "lsp_client.lua",
        &[("RELANCE_FILE", file.as_os_str())],
    );

    // Diagnostics: the misspelt step, with its did-you-mean in the message the client shows.
    let diagnostics = seen["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{seen:#}");
    let d = &diagnostics[0];
    assert_eq!(
        d["message"],
        "unknown step `litigaton`\nhelp: did you mean `litigation`?"
    );
    assert_eq!(d["code"], "E0110");
    assert_eq!((d["line"].as_u64(), d["col"].as_u64()), (Some(9), Some(9)));

    // Completion after `goto `: the scenario's steps.
    let labels: Vec<&str> = seen["completion"]
        .as_array()
        .expect("completion")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        labels.contains(&"litigation") && labels.contains(&"reminder"),
        "{labels:?}"
    );

    // Definition: `reminder` in `notice`'s anchor → the name on the `step reminder` line.
    let def = &seen["definition"];
    assert!(
        def["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("/standard.relance")),
        "{seen:#}"
    );
    assert_eq!(
        (def["line"].as_u64(), def["col"].as_u64()),
        (Some(3), Some(7))
    );

    // The outline: the scenario, its three steps as children, each named on its own line.
    assert_eq!(
        outline(&seen["symbols"], ""),
        [
            "standard@1",
            "  reminder@3",
            "  notice@7",
            "  litigation@11"
        ],
        "{seen:#}"
    );

    // The quick fix: offered with the did-you-mean, applied by Neovim, and the diagnostic gone
    // once the server saw the change.
    assert_eq!(
        seen["code_actions"],
        serde_json::json!(["Replace with `litigation`"])
    );
    assert_eq!(seen["fixed_line"], "    goto litigation", "{seen:#}");
    assert_eq!(seen["diagnostics_after_fix"], 0, "{seen:#}");

    // Formatting, applied by Neovim after the fix: the one-line step expanded, the rest kept
    // (the fixed step name included).
    let formatted = seen["formatted"].as_str().expect("formatted text");
    assert!(
        formatted.contains("notice + 15 days {\n    escalate agency\n  }"),
        "{formatted}"
    );
    assert!(formatted.contains("    goto litigation\n"), "{formatted}");
    assert_eq!(seen["stopped"], true, "the server stopped when asked");
}

/// The codes and 0-based (line, column) of a list of diagnostics the script recorded.
fn codes_at(list: &Value) -> Vec<(String, u64, u64)> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("?").to_string(),
                d["line"].as_u64().unwrap_or(u64::MAX),
                d["col"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

#[test]
fn neovim_shows_the_diagnostics_of_templates_and_rules_files_and_clears_them_when_fixed() {
    if !nvim_or_skip("the Neovim templates-and-rules test") {
        return;
    }
    let dir = TempDir::new();
    let scenario = "scenario s {\n  applies when rule(\"big\")\n  step a at due {\n    email \"reminder\" to accounting\n  }\n}\n";
    let file = dir.0.join("s.relance");
    std::fs::write(&file, scenario).expect("scenario file");
    std::fs::write(
        dir.0.join("templates/templates.toml"),
        "languages = [\"fr\"]\n",
    )
    .expect("templates.toml");
    let template = dir.0.join("templates/reminder.fr.txt");
    std::fs::write(
        &template,
        "Subject: Relance\n\nBonjour {{ customer.nmae }},\n",
    )
    .expect("template");
    std::fs::create_dir_all(dir.0.join("rules")).expect("rules folder");
    let rules = dir.0.join("rules/big.rhai");
    std::fs::write(
        &rules,
        "fn big(invoice, customer) {\n    invoice.amount >\n}\n",
    )
    .expect("rules");
    let forbidden = "fn big(invoice, customer) {\n    print(1);\n    true\n}\n";
    let fixed = "fn big(invoice, customer) {\n    invoice.amount > 10\n}\n";
    let seen = run_nvim(
        &dir,
        "set_files.lua",
        &[
            ("RELANCE_FILE", file.as_os_str()),
            ("RELANCE_TEMPLATE", template.as_os_str()),
            ("RELANCE_RULES", rules.as_os_str()),
            ("RELANCE_RULES_FORBIDDEN", forbidden.as_ref()),
            ("RELANCE_RULES_FIXED", fixed.as_ref()),
        ],
    );
    let code = |c: relance_dsl::Code| c.code().to_string();

    // The template, never opened: the misspelt variable at its line and column, with the
    // did-you-mean the author needs.
    assert_eq!(
        codes_at(&seen["template"]),
        [(code(relance_dsl::Code::UnknownTemplateVariable), 2, 11)],
        "{seen:#}"
    );
    assert!(
        seen["template"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("customer.name")),
        "{seen:#}"
    );
    // The rules file, never opened: rhai's syntax error on the line where rhai finds it.
    assert_eq!(
        codes_at(&seen["rules_closed"])
            .iter()
            .map(|(c, line, _)| (c.clone(), *line))
            .collect::<Vec<_>>(),
        [(code(relance_dsl::Code::RulesFileError), 2)],
        "{seen:#}"
    );
    // Opened in Neovim and edited: the forbidden call is reported on the buffer as the client
    // stores it, then cleared once fixed; the scenario stays clean throughout.
    assert_eq!(
        codes_at(&seen["rules_forbidden"])
            .iter()
            .map(|(c, _, _)| c.clone())
            .collect::<Vec<_>>(),
        [code(relance_dsl::Code::ForbiddenInRule)],
        "{seen:#}"
    );
    assert_eq!(seen["rules_cleared"], true, "{seen:#}");
    assert_eq!(seen["scenario_after"], serde_json::json!([]), "{seen:#}");
    assert_eq!(seen["stopped"], true, "the server stopped when asked");
}
