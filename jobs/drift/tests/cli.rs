//! The binary: options from the environment, exit codes.

use std::path::PathBuf;
use std::process::Command;

fn sample(name: &str) -> String {
    deltaone_drift::samples::default_dir().join(name).display().to_string()
}

fn drift() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_deltaone-drift"));
    for var in ["DELTAONE_DRIFT_REFERENCE", "DELTAONE_DRIFT_CURRENT", "DELTAONE_DRIFT_OUTPUT", "DELTAONE_DRIFT_JSON"] {
        command.env_remove(var);
    }
    command
}

#[test]
fn options_come_from_the_environment_and_json_goes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("out");
    let output = drift()
        .arg("run")
        .env("DELTAONE_DRIFT_REFERENCE", sample("reference.parquet"))
        .env("DELTAONE_DRIFT_CURRENT", sample("current.parquet"))
        .env("DELTAONE_DRIFT_OUTPUT", &out)
        .env("DELTAONE_DRIFT_RUN_ID", "env-run")
        .env("DELTAONE_DRIFT_JSON", "true")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["run_id"], "env-run");
    assert_eq!(printed["dataset"]["drifted"], true);
    assert!(out.join("drift.json").exists() && out.join("report.html").exists());
}

#[test]
fn an_empty_window_exits_with_1_and_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = drift()
        .args(["run", "--reference", &sample("reference.parquet"), "--current"])
        .arg(dir.path().join("nothing-*.parquet"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the current window has no readable rows"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

/// Log lines go to a pipe here: no ANSI colour codes in them (colour is for a terminal), whatever the
/// terminal the tests run from.
#[test]
fn warnings_written_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let current = dir.path().join("current");
    std::fs::create_dir(&current).unwrap();
    std::fs::copy(sample("current.parquet"), current.join("a.parquet")).unwrap();
    std::fs::write(current.join("b.parquet"), b"not parquet at all").unwrap();
    let output = drift()
        .args(["run", "--reference", &sample("reference.parquet"), "--current"])
        .arg(current.join("*.parquet"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .env("RUST_LOG", "warn")
        .env_remove("NO_COLOR")
        .env_remove("DELTAONE_LOG_FORMAT")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("WARN") && stderr.contains("b.parquet"), "a warning names the skipped file: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "colour codes in a pipe: {stderr:?}");
}
