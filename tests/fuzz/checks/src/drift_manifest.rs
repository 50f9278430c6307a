//! Drift run manifests (`deltaone_app::schedule::read_manifest`) and what the drift job's map and
//! reduce steps make of one (`deltaone_drift::shard`).

use deltaone::sharding::assign;
use deltaone_app::schedule::read_manifest;
use deltaone_drift::RunOptions;
use deltaone_drift::shard::{manifest_options, manifest_order, manifest_out, partial_location};

use crate::support::rejected;

/// The bytes as a stored `manifest.json`:
///
/// * a manifest is read, or refused with a reason;
/// * one that is read, written back and read again is the same (the format is ours);
/// * every shard it names has its files (each file in exactly one shard), and the job's options,
///   the partials' locations and the output are made from it, or refused with a reason.
pub fn drift_manifest(data: &[u8]) {
    let manifest = match read_manifest(data) {
        Ok(manifest) => manifest,
        Err(e) => return rejected("drift_manifest", &e, &["manifest"]),
    };
    let written = serde_json::to_vec(&manifest).expect("a manifest serialises");
    assert_eq!(read_manifest(&written).expect("a written manifest reads back"), manifest);

    // What the map step does with its shard's index: every shard has its files, each file is in
    // exactly one shard. (All shards at once: `Manifest::shard` assigns the whole list each time.)
    for files in [&manifest.reference, &manifest.current] {
        let shards = assign(files, manifest.shards);
        assert_eq!(shards.len(), manifest.shards.max(1) as usize);
        assert_eq!(shards.iter().map(Vec::len).sum::<usize>(), files.len(), "a file lost or doubled");
    }
    for shard in [0, manifest.shards.saturating_sub(1)] {
        assert_eq!(manifest.shard(shard).is_some(), shard < manifest.shards);
        let _ = partial_location(&manifest, shard);
    }
    assert!(manifest.shard(manifest.shards).is_none(), "a shard beyond the count");
    let order = manifest_order(&manifest);
    for file in manifest.reference.iter().chain(&manifest.current) {
        let _ = order(&file.uri);
    }
    let _ = manifest_out(&manifest);
    if let Err(e) = manifest_options(&RunOptions::new(Vec::new(), Vec::new()), &manifest) {
        rejected("drift_manifest", &e, &["manifest window"]);
    }
}
