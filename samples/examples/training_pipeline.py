"""A training pipeline's last step, as a team writes it: log the run to MLflow, register the model
version, upload the evaluation artifact to DeltaOne's uploads bucket, then wait for the verdict
before deploying. DeltaOne's evaluation function does the rest (S3 → SQS → Lambda): it logs the
artifact's metrics to the version's run, decides, records the verdict once and writes it back.

    bash samples/examples/run.sh training-pipeline

Settings: MLFLOW_TRACKING_URI; DELTAONE_UPLOADS_BUCKET (the deployment's artifacts bucket); AWS
credentials as usual (run.sh points AWS_ENDPOINT_URL at the emulator).
"""

import json
import os
import sys
import time

import boto3
import mlflow
from mlflow import MlflowClient

model = f"fraud-pipeline-{os.environ.get('EXAMPLE_RUN', '1')}"
bucket = os.environ.get("DELTAONE_UPLOADS_BUCKET") or os.environ["DELTAONE_EXAMPLES_BUCKET"]
client = MlflowClient()
mlflow.set_experiment("deltaone-examples")


def train(accuracy, benchmark=False):
    """Stands in for training: a run, a registered version, and (for the benchmark) its tags."""
    with mlflow.start_run(run_name=f"{model}-training") as run:
        mlflow.log_param("max_depth", 6)
        if benchmark:
            mlflow.log_metric("accuracy", accuracy)
    tags = {"benchmark_value": str(accuracy), "benchmark_metric": "accuracy"} if benchmark else {}
    return client.create_model_version(model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id, tags=tags)


def wait_for_verdict(version, seconds=180):
    """The deployment gate: DeltaOne writes deltaone_achieved back to the version."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tags = client.get_model_version(model, version).tags
        if "deltaone_achieved" in tags:
            return tags
        time.sleep(1)
    sys.exit(f"no DeltaOne verdict for {model} v{version} after {seconds}s")


try:
    client.create_registered_model(model)
except mlflow.exceptions.MlflowException:
    pass  # registered by an earlier run of the pipeline
benchmark = train(0.90, benchmark=True)  # what production runs today
candidate = train(0.925)  # today's training

# The evaluation artifact: metrics JSON (schema_version 1) under evaluations/{model}/{version}/.
artifact = {
    "schema_version": 1,
    "metrics": {"accuracy": 0.925, "f1": 0.91},
    "contributor": {"id": "team-fraud", "name": "Fraud team"},
}
key = f"evaluations/{model}/{candidate.version}/metrics.json"
boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(artifact).encode(),
                              ContentType="application/json")
print(f"uploaded s3://{bucket}/{key}; waiting for DeltaOne's verdict on v{candidate.version}")

tags = wait_for_verdict(candidate.version)
print(f"DeltaOne: achieved={tags['deltaone_achieved']} delta={tags.get('delta_value')} pp "
      f"vs v{tags.get('deltaone_baseline_version')}")
run_metrics = client.get_run(candidate.run_id).data.metrics
assert run_metrics.get("accuracy") == 0.925, f"the artifact's metrics are logged to the run: {run_metrics}"
assert tags["deltaone_achieved"] == "true", tags
assert tags["delta_value"] == "2.5", tags
assert tags["deltaone_baseline_version"] == benchmark.version, tags
print("ok: v%s is a DeltaOne over v%s: deploy it" % (candidate.version, benchmark.version))
