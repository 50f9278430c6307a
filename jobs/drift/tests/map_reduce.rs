//! Map / reduce as separate processes of the real binary, as AWS Batch runs them: N map children
//! (shard from AWS_BATCH_JOB_ARRAY_INDEX), then one reduce, against `run --manifest`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn drift() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_deltaone-drift"));
    for (var, _) in std::env::vars() {
        if var.starts_with("DELTAONE_") || var == "AWS_BATCH_JOB_ARRAY_INDEX" || var == "AWS_ENDPOINT_URL" {
            command.env_remove(var);
        }
    }
    command.env("DELTAONE_DRIFT_NO_PROGRESS", "true");
    command
}

fn ok(output: Output) -> Output {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

/// The sample windows cut into 6 reference and 5 current files; a manifest with `shards` shards
/// writing under `dir/out-<shards>/`.
fn manifest(dir: &Path, shards: u32) -> PathBuf {
    let cut = |name: &str, current: bool, cuts: &[usize]| -> Vec<Value> {
        let batch = deltaone_drift::samples::batch(current);
        let mut start = 0;
        let mut files = Vec::new();
        for (i, &end) in cuts.iter().chain([&batch.num_rows()]).enumerate() {
            let path = dir.join(format!("{name}-{i}.parquet"));
            if !path.exists() {
                deltaone_drift::samples::write_parquet(&path, &batch.slice(start, end - start)).unwrap();
            }
            files.push(json!({"uri": path.display().to_string(), "bytes": std::fs::metadata(&path).unwrap().len()}));
            start = end;
        }
        files
    };
    let out = dir.join(format!("out-{shards}"));
    let manifest = json!({
        "format": 1,
        "run_id": "proc-run",
        "model": "fraud",
        "scheduled_time": "2026-11-23T06:00:00Z",
        "reference": cut("reference", false, &[700, 1800, 2000, 3500, 4100]),
        "current": cut("current", true, &[1200, 2600, 2700, 4400]),
        "current_window": {"start": "2026-11-22T06:00:00Z", "end": "2026-11-23T06:00:00Z"},
        "shards": shards,
        "output": out.display().to_string(),
    });
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    path
}

/// drift.json without `bytes_read` (every shard also reads the schema file's footer).
fn result(dir: &Path, shards: u32) -> Value {
    let mut value: Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("out-{shards}")).join("drift.json")).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("bytes_read");
    value
}

fn map_processes(manifest: &Path, shards: u32, env: &[(&str, &str)]) {
    let children: Vec<_> = (0..shards)
        .map(|i| {
            drift()
                .args(["map", "--manifest"])
                .arg(manifest)
                .env("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string())
                .envs(env.iter().copied())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        ok(child.wait_with_output().unwrap());
    }
}

#[test]
fn n_map_processes_and_a_reduce_write_the_single_process_result() {
    let dir = tempfile::tempdir().unwrap();
    let single = manifest(dir.path(), 1);
    let out = ok(drift().args(["run", "--manifest"]).arg(&single).output().unwrap());
    assert!(String::from_utf8_lossy(&out.stdout).contains("dataset: "), "the summary is printed");
    let expected = result(dir.path(), 1);
    assert_eq!(expected["windows"]["current"]["rows"], 5000);
    for shards in [1, 2, 4, 7] {
        let m = manifest(dir.path(), shards);
        map_processes(&m, shards, &[]);
        for shard in 0..shards {
            assert!(dir.path().join(format!("out-{shards}/partials/{shard}.json")).exists());
        }
        ok(drift().args(["reduce", "--manifest"]).arg(&m).output().unwrap());
        assert_eq!(result(dir.path(), shards), expected, "{shards} shard(s)");
        assert!(dir.path().join(format!("out-{shards}/report.html")).exists());
    }
}

#[test]
fn sketch_mode_through_the_environment_is_the_same_for_every_shard_count() {
    let dir = tempfile::tempdir().unwrap();
    let single = manifest(dir.path(), 1);
    ok(drift().args(["run", "--manifest"]).arg(&single).env("DELTAONE_DRIFT_SKETCH", "true").output().unwrap());
    let expected = result(dir.path(), 1);
    assert_eq!(expected["columns"][0]["statistics"]["kind"], "numeric_sketch", "{}", expected["columns"][0]);
    let m = manifest(dir.path(), 4);
    map_processes(&m, 4, &[("DELTAONE_DRIFT_SKETCH", "true")]);
    ok(drift().args(["reduce", "--manifest"]).arg(&m).env("DELTAONE_DRIFT_SKETCH", "true").output().unwrap());
    assert_eq!(result(dir.path(), 4), expected);
}

#[test]
fn a_killed_map_process_rerun_writes_the_same_partial() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 4);
    let partial = dir.path().join("out-4/partials/1.json");
    let run = || drift().args(["map", "--manifest"]).arg(&m).args(["--shard", "1"]).output().unwrap();
    ok(run());
    let first = std::fs::read(&partial).unwrap();
    std::fs::remove_file(&partial).unwrap();
    let mut child = drift().args(["map", "--manifest"]).arg(&m).args(["--shard", "1"]).spawn().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    ok(run());
    assert_eq!(std::fs::read(&partial).unwrap(), first);
}

#[test]
fn reduce_without_a_shard_names_it_and_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), 2);
    ok(drift().args(["map", "--manifest"]).arg(&m).args(["--shard", "0"]).output().unwrap());
    let output = drift().args(["reduce", "--manifest"]).arg(&m).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("partial of shard 1: reading") && stderr.contains("1.json"), "{stderr}");
    let output = drift().args(["map", "--manifest"]).arg(&m).args(["--shard", "2"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("shard 2 is not in 0..2"));
}
