//! The handler over in-memory S3 and AWS Batch: a scheduler event as EventBridge Scheduler sends
//! it (the model's entry of the schedules file and the scheduled time), no servers. The system test
//! (`tests/tests/drift_scheduler.rs`) runs it against moto's S3 and Batch.

use std::sync::Arc;

use deltaone_app::objects::MemoryObjects;
use deltaone_app::schedule::batch::MemoryBatchJobs;
use deltaone_app::schedule::plan::BatchTarget;
use deltaone_app::schedule::{MemoryListing, Scheduler, read_manifest};
use serde_json::{Value, json};

use super::*;

struct Rig {
    scheduler: Scheduler,
    listing: Arc<MemoryListing>,
    objects: Arc<MemoryObjects>,
    batch: Arc<MemoryBatchJobs>,
}

fn rig() -> Rig {
    let (listing, objects, batch) =
        (Arc::new(MemoryListing::new()), Arc::new(MemoryObjects::new()), Arc::new(MemoryBatchJobs::new()));
    let scheduler = Scheduler {
        listing: listing.clone(),
        objects: objects.clone(),
        batch: batch.clone(),
        target: BatchTarget { job_queue: "deltaone-drift".into(), job_definition: "deltaone-drift-job".into() },
    };
    // Three daily partitions of four files each (with Spark's markers) and one reference file.
    for day in ["2026-11-21", "2026-11-22", "2026-11-23"] {
        for i in 0..4 {
            listing.add(&format!("s3://logs/fraud/dt={day}/part-{i}.parquet"), 600 << 10);
        }
        listing.add(&format!("s3://logs/fraud/dt={day}/_SUCCESS"), 0);
    }
    listing.add("s3://logs/reference/ref.parquet", 1 << 20);
    Rig { scheduler, listing, objects, batch }
}

/// The scheduler's input for the fraud model at 06:00, `target_shard_mib` per map shard.
fn event(target_shard_mib: u64) -> Value {
    json!({
        "schedule": {
            "model": "Fraud Detector",
            "cron": "cron(0 6 * * ? *)",
            "current": {"prefix": "s3://logs/fraud/", "window": "P1D"},
            "reference": {"prefix": "s3://logs/reference/"},
            "reports": "s3://reports/drift/",
            "target_shard_mib": target_shard_mib,
            "max_shards": 8
        },
        "scheduled_time": "2026-11-23T06:00:00Z"
    })
}

#[tokio::test]
async fn a_small_window_writes_the_manifest_and_submits_one_job() {
    let rig = rig();
    let submitted = handle(&rig.scheduler, event(256)).await.expect("submitted");
    assert_eq!((submitted.shards, submitted.already_submitted), (1, false));
    assert_eq!(submitted.run_id, "fraud-detector-20261123T060000Z");
    assert_eq!(submitted.manifest, "s3://reports/drift/fraud-detector-20261123T060000Z/manifest.json");

    // The manifest lists exactly the window's Parquet files: P1D ending 06:00 on the 23rd.
    let stored = rig.objects.bytes("reports", "drift/fraud-detector-20261123T060000Z/manifest.json").expect("manifest");
    let manifest = read_manifest(&stored).unwrap();
    let current: Vec<&str> = manifest.current.iter().map(|f| f.uri.as_str()).collect();
    assert_eq!(current.len(), 8);
    assert!(current.iter().all(|uri| !uri.contains("2026-11-21") && uri.ends_with(".parquet")), "{current:?}");
    assert_eq!(manifest.reference.len(), 1);

    let jobs = rig.batch.submitted();
    assert_eq!(jobs.len(), 1);
    let (job, depends_on) = &jobs[0];
    assert_eq!((job.role.as_str(), job.array_size), ("run", None));
    assert!(depends_on.is_empty());
    assert_eq!(job.job_queue, "deltaone-drift");
    assert!(job.command.contains(&submitted.manifest), "{:?}", job.command);
    assert_eq!(submitted.jobs[0].job_id, "job-1");
}

#[tokio::test]
async fn a_large_window_submits_a_map_array_and_a_reduce_that_waits_for_it() {
    let rig = rig();
    let submitted = handle(&rig.scheduler, event(2)).await.expect("submitted");
    // 8 files × 600 KiB + 1 MiB = 5.7 MiB at 2 MiB per shard → 3 shards.
    assert_eq!(submitted.shards, 3);
    let roles: Vec<&str> = submitted.jobs.iter().map(|j| j.role.as_str()).collect();
    assert_eq!(roles, ["map", "reduce"]);

    let jobs = rig.batch.submitted();
    let (map, reduce) = (&jobs[0], &jobs[1]);
    assert_eq!(map.0.array_size, Some(3));
    assert_eq!(map.0.command, ["map", "--manifest", &submitted.manifest]);
    assert_eq!(map.0.environment.get("DELTAONE_DRIFT_MODEL").map(String::as_str), Some("Fraud Detector"));
    assert_eq!(reduce.0.command[0], "reduce");
    assert_eq!(reduce.1, [submitted.jobs[0].job_id.clone()], "reduce waits for the map job");
}

#[tokio::test]
async fn a_second_invocation_for_the_same_run_submits_nothing_new() {
    let rig = rig();
    let first = handle(&rig.scheduler, event(2)).await.expect("submitted");
    // More files arrive before the scheduler retries: the run is already fixed by its manifest.
    rig.listing.add("s3://logs/fraud/dt=2026-11-23/part-9.parquet", 600 << 10);
    let again = handle(&rig.scheduler, event(2)).await.expect("idempotent");
    assert!(again.already_submitted);
    assert_eq!(again.jobs, first.jobs);
    assert_eq!(rig.batch.submitted().len(), 2, "map and reduce, once");
}

#[tokio::test]
async fn a_bad_event_is_a_typed_error_that_is_not_retried_and_submits_nothing() {
    let rig = rig();
    let mut bad_cron = event(256);
    bad_cron["schedule"]["cron"] = json!("every morning");
    for bad in [json!({"Records": []}), json!("2026-11-23T06:00:00Z"), bad_cron] {
        let diagnostic = handle(&rig.scheduler, bad.clone()).await.unwrap_err();
        assert_eq!(diagnostic.error_type, "MalformedEvent", "{bad}: {}", diagnostic.error_message);
    }
    // A window without files is an input error too: invoking again would not help.
    let mut empty = event(256);
    empty["schedule"]["current"]["prefix"] = json!("s3://logs/nothing-here/");
    let diagnostic = handle(&rig.scheduler, empty).await.unwrap_err();
    assert_eq!(diagnostic.error_type, "NothingToRun", "{}", diagnostic.error_message);
    assert!(rig.batch.submitted().is_empty());
    assert!(rig.objects.keys("reports").is_empty());
}

#[tokio::test]
async fn an_s3_outage_is_retryable_and_submits_nothing() {
    let rig = rig();
    rig.objects.set_down(true);
    let diagnostic = handle(&rig.scheduler, event(256)).await.unwrap_err();
    assert_eq!(diagnostic.error_type, "Retryable", "{}", diagnostic.error_message);
    assert!(rig.batch.submitted().is_empty());
}
