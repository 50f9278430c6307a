//! The scheduled drift function against moto: S3 listing with date partitions, the run's manifest
//! in S3, and real AWS Batch SubmitJob calls (moto accepts them and records them; it cannot run the
//! containers without Docker, so the test reads the jobs back with DescribeJobs).

use aws_sdk_batch::types::{
    CeState, CeType, ComputeEnvironmentOrder, ContainerProperties, JobDefinitionType, JqState, ResourceRequirement,
    ResourceType,
};
use deltaone_app::schedule::plan::BatchTarget;
use deltaone_app::schedule::{Scheduler, read_manifest};
use deltaone_aws::batch::AwsBatch;
use deltaone_aws::s3::S3Listing;
use deltaone_aws::s3::S3Objects;
use deltaone_fn_drift_scheduler::handle;
use deltaone_system_tests::{PrivateMoto, Stack, unique};
use serde_json::json;

/// An IAM role in moto (Batch checks that a compute environment's service role exists). The
/// Query API is simple enough to call directly; moto routes by the credential scope.
async fn iam_role(stack: &Stack, name: &str) -> String {
    let form = [
        ("Action", "CreateRole"),
        ("Version", "2010-05-08"),
        ("RoleName", name),
        ("AssumeRolePolicyDocument", r#"{"Version":"2012-10-17","Statement":[]}"#),
    ];
    let response = reqwest::Client::new()
        .post(&stack.moto_url)
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261123/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            form.iter()
                .map(|(k, v)| {
                    format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC))
                })
                .collect::<Vec<_>>()
                .join("&"),
        )
        .send()
        .await
        .expect("CreateRole");
    assert!(response.status().is_success(), "CreateRole: {}", response.text().await.unwrap_or_default());
    format!("arn:aws:iam::123456789012:role/{name}")
}

/// A job queue and job definition in moto; returns (queue, definition).
async fn batch_target(stack: &Stack, batch: &aws_sdk_batch::Client) -> BatchTarget {
    let name = unique("drift").replace('.', "-");
    let role = iam_role(stack, &format!("{name}-batch")).await;
    let ce = batch
        .create_compute_environment()
        .compute_environment_name(format!("{name}-ce"))
        .r#type(CeType::Unmanaged)
        .state(CeState::Enabled)
        .service_role(role)
        .send()
        .await
        .expect("compute environment");
    batch
        .create_job_queue()
        .job_queue_name(format!("{name}-queue"))
        .state(JqState::Enabled)
        .priority(1)
        .compute_environment_order(
            ComputeEnvironmentOrder::builder()
                .order(1)
                .compute_environment(ce.compute_environment_arn().unwrap())
                .build(),
        )
        .send()
        .await
        .expect("job queue");
    batch
        .register_job_definition()
        .job_definition_name(format!("{name}-job"))
        .r#type(JobDefinitionType::Container)
        .container_properties(
            ContainerProperties::builder()
                .image("deltaone-drift")
                .resource_requirements(ResourceRequirement::builder().r#type(ResourceType::Vcpu).value("1").build())
                .resource_requirements(ResourceRequirement::builder().r#type(ResourceType::Memory).value("512").build())
                .build(),
        )
        .send()
        .await
        .expect("job definition");
    BatchTarget { job_queue: format!("{name}-queue"), job_definition: format!("{name}-job") }
}

#[tokio::test]
async fn a_schedule_event_submits_map_and_dependent_reduce_jobs_once() {
    // Batch jobs that moto cannot run break its /moto-api/data.json, which other tests read: this
    // test has a moto server of its own.
    let moto = PrivateMoto::start(false).await;
    let stack = Stack { moto_url: moto.url.clone(), ..Stack::get() };
    let aws = stack.aws().await;
    let batch = aws_sdk_batch::Client::new(&aws.config);
    let target = batch_target(&stack, &batch).await;

    let logs = unique("logs");
    let reports = unique("reports");
    aws.bucket(&logs).await;
    aws.bucket(&reports).await;
    let mut expected_current = Vec::new();
    for day in ["2026-11-21", "2026-11-22", "2026-11-23"] {
        for i in 0..4 {
            let key = format!("fraud/dt={day}/part-{i}.parquet");
            let body = vec![b'x'; 600 << 10];
            aws.s3.put_object().bucket(&logs).key(&key).body(body.into()).send().await.unwrap();
            if day != "2026-11-21" {
                expected_current.push(format!("s3://{logs}/{key}"));
            }
        }
        let marker = format!("fraud/dt={day}/_SUCCESS");
        aws.s3.put_object().bucket(&logs).key(marker).body(Vec::new().into()).send().await.unwrap();
    }
    aws.s3
        .put_object()
        .bucket(&logs)
        .key("reference/ref.parquet")
        .body(vec![1u8; 1 << 20].into())
        .send()
        .await
        .unwrap();

    let scheduler = Scheduler {
        listing: std::sync::Arc::new(S3Listing::new(aws.s3.clone())),
        objects: std::sync::Arc::new(S3Objects::new(aws.s3.clone())),
        batch: std::sync::Arc::new(AwsBatch::new(batch.clone())),
        target: target.clone(),
    };
    let event = json!({
        "schedule": {
            "model": "Fraud Detector",
            "cron": "cron(0 6 * * ? *)",
            "current": {"prefix": format!("s3://{logs}/fraud/"), "window": "P1D"},
            "reference": {"prefix": format!("s3://{logs}/reference/")},
            "reports": format!("s3://{reports}/drift/"),
            "target_shard_mib": 2,
            "max_shards": 8
        },
        "scheduled_time": "2026-11-23T06:00:00Z"
    });
    let submitted = handle(&scheduler, event.clone()).await.expect("submitted");
    // 8 files × 600 KiB + 1 MiB = 5.7 MiB at 2 MiB per shard → 3 shards.
    assert_eq!(submitted.shards, 3);
    assert!(!submitted.already_submitted);
    assert_eq!(submitted.run_id, "fraud-detector-20261123T060000Z");
    let roles: Vec<&str> = submitted.jobs.iter().map(|j| j.role.as_str()).collect();
    assert_eq!(roles, ["map", "reduce"]);

    // The manifest lists exactly the window's Parquet files.
    let manifest_key = format!("drift/{}/manifest.json", submitted.run_id);
    let stored = aws.s3.get_object().bucket(&reports).key(&manifest_key).send().await.expect("manifest");
    let manifest = read_manifest(&stored.body.collect().await.unwrap().into_bytes()).unwrap();
    let current: Vec<String> = manifest.current.iter().map(|f| f.uri.clone()).collect();
    assert_eq!(current, expected_current);
    assert_eq!(manifest.reference.len(), 1);
    assert_eq!(submitted.manifest, format!("s3://{reports}/{manifest_key}"));

    // What AWS Batch received.
    let (map_id, reduce_id) = (&submitted.jobs[0].job_id, &submitted.jobs[1].job_id);
    let described = batch.describe_jobs().jobs(map_id).jobs(reduce_id).send().await.expect("describe");
    let job = |id: &str| described.jobs().iter().find(|j| j.job_id() == Some(id)).expect("described");
    let map = job(map_id);
    assert_eq!(map.array_properties().and_then(|a| a.size()), Some(3));
    assert_eq!(map.job_queue().map(|q| q.ends_with(&target.job_queue)), Some(true));
    let command = map.container().map(|c| c.command().to_vec()).unwrap_or_default();
    assert_eq!(command, ["map", "--manifest", &submitted.manifest]);
    let env: Vec<(String, String)> = map
        .container()
        .map(|c| {
            c.environment().iter().map(|kv| (kv.name().unwrap_or("").into(), kv.value().unwrap_or("").into())).collect()
        })
        .unwrap_or_default();
    assert!(env.contains(&("DELTAONE_DRIFT_MANIFEST".into(), submitted.manifest.clone())), "{env:?}");
    assert!(env.contains(&("DELTAONE_DRIFT_MODEL".into(), "Fraud Detector".into())), "{env:?}");
    let reduce = job(reduce_id);
    let depends: Vec<&str> = reduce.depends_on().iter().filter_map(|d| d.job_id()).collect();
    assert_eq!(depends, [map_id.as_str()]);
    assert_eq!(reduce.container().map(|c| c.command()[0].as_str()), Some("reduce"));

    // The scheduler retries invocations: the same event submits nothing new.
    let again = handle(&scheduler, event).await.expect("idempotent");
    assert!(again.already_submitted);
    assert_eq!(again.jobs, submitted.jobs);
    let listed = batch
        .list_jobs()
        .job_queue(&target.job_queue)
        .job_status(aws_sdk_batch::types::JobStatus::Pending)
        .send()
        .await;
    if let Ok(listed) = listed {
        let ours = listed
            .job_summary_list()
            .iter()
            .filter(|j| j.job_name().is_some_and(|n| n.contains("fraud-detector")))
            .count();
        assert!(ours <= 1, "only the one reduce job waits: {ours}");
    }
}

#[tokio::test]
async fn bad_events_and_empty_windows_submit_nothing() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let batch = aws_sdk_batch::Client::new(&aws.config);
    let target = BatchTarget { job_queue: unique("no-queue"), job_definition: "none".into() };
    let logs = unique("logs");
    aws.bucket(&logs).await;
    let scheduler = Scheduler {
        listing: std::sync::Arc::new(S3Listing::new(aws.s3.clone())),
        objects: std::sync::Arc::new(S3Objects::new(aws.s3.clone())),
        batch: std::sync::Arc::new(AwsBatch::new(batch)),
        target,
    };
    let err = handle(&scheduler, json!({"schedule": {"model": "m"}})).await.unwrap_err();
    assert_eq!(err.error_type, "MalformedEvent", "{}", err.error_message);

    let event = json!({
        "schedule": {
            "model": "m",
            "cron": "rate(1 day)",
            "current": {"prefix": format!("s3://{logs}/m/"), "window": "PT6H"},
            "reference": {"prefix": format!("s3://{logs}/ref/")},
            "reports": format!("s3://{logs}/reports/")
        },
        "scheduled_time": "2026-11-23T06:00:00Z"
    });
    let err = handle(&scheduler, event).await.unwrap_err();
    assert_eq!(err.error_type, "NothingToRun");
    assert!(err.error_message.contains("no Parquet files"), "{}", err.error_message);
    let listed = aws.s3.list_objects_v2().bucket(&logs).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "no manifest is written for a run that cannot start");
}
