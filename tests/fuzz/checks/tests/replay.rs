//! Replays every input of every fuzz target's corpus (`tests/fuzz/corpus/<target>/`) and of its
//! regressions (`tests/fuzz/regressions/<target>/`) through the same checks the fuzzer runs. Fast:
//! it fuzzes nothing; `tests/fuzz/campaign.sh` does. A target without a corpus fails.

use std::path::{Path, PathBuf};

use deltaone_fuzz_checks::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("checks/ sits in tests/fuzz/").to_path_buf()
}

/// The files of a directory, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.expect("a readable entry").path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let corpus = inputs(&fuzz_dir().join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "{target}: no corpus in tests/fuzz/corpus/{target}/ (seed it, see tests/fuzz/README.md)"
    );
    let regressions = inputs(&fuzz_dir().join("regressions").join(target));
    for path in corpus.iter().chain(&regressions) {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Name the input that broke, then let the check's own panic say what.
        let outcome = std::panic::catch_unwind(|| check(&data));
        if let Err(panic) = outcome {
            eprintln!("{target}: {} fails", path.display());
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn every_target_has_a_corpus_and_a_fuzz_target() {
    let targets = fuzz_dir().join("fuzz_targets");
    for (target, _) in TARGETS {
        assert!(targets.join(format!("{target}.rs")).is_file(), "{target}: no tests/fuzz/fuzz_targets/{target}.rs");
        assert!(!inputs(&fuzz_dir().join("corpus").join(target)).is_empty(), "{target}: no corpus");
    }
    let listed: Vec<PathBuf> = inputs(&targets);
    assert_eq!(listed.len(), TARGETS.len(), "a fuzz target that is not in TARGETS: {listed:?}");
}

macro_rules! replays {
    ($($target:ident),* $(,)?) => {$(
        #[test]
        fn $target() {
            replay(stringify!($target), deltaone_fuzz_checks::$target);
        }
    )*};
}

replays!(
    attestation,
    drift_config_toml,
    drift_manifest,
    drift_parquet,
    metrics_artifact,
    mlflow_webhook,
    predictions_parquet,
    query_request,
    s3_event,
    settings_toml,
    shard_partial,
    webhook_config,
    webhook_signature,
);
