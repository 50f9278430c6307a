"""MLflow's Model Registry webhook wired to DeltaOne, once per registry; afterwards every new model
version gets its verdict without anyone calling DeltaOne. The webhook's secret is the one the
registry-webhook function verifies (terraform keeps it in Secrets Manager).

    bash samples/examples/run.sh webhook-integration

Settings: MLFLOW_TRACKING_URI; DELTAONE_WEBHOOK_URL (the registry-webhook function's URL, from
`terraform output`; run.sh serves it with cargo lambda watch); DELTAONE_MLFLOW_WEBHOOK_SECRET.
"""

import os
import sys
import time

from mlflow import MlflowClient

run = os.environ.get("EXAMPLE_RUN", "1")
url = os.environ.get("DELTAONE_WEBHOOK_URL") or f"{os.environ['DELTAONE_LAMBDA_URL']}/lambda-url/deltaone-registry-webhook/"
secret = os.environ["DELTAONE_MLFLOW_WEBHOOK_SECRET"]
client = MlflowClient()

# 1. Once: the registry calls DeltaOne when a version is created or a version's tag is set.
webhook = client.create_webhook(
    name=f"deltaone-{run}",
    url=url,
    events=["model_version.created", "model_version_tag.set"],
    secret=secret,
)
print(f"webhook {webhook.webhook_id} → {url}")
try:
    # MLflow's own test delivery: DeltaOne answers that it heard it.
    test = client.test_webhook(webhook.webhook_id)
    print(f"test delivery: HTTP {test.response_status} {test.response_body}")
    assert test.success, test

    # 2. Business as usual: versions are registered; nobody calls DeltaOne.
    model = f"churn-webhook-{run}"
    client.create_registered_model(model, tags={"benchmark_metric": "auc"})
    experiment = client.create_experiment(f"{model}-runs")
    versions = []
    for auc, tags in [(0.81, {"benchmark_value": "0.81"}), (0.835, {})]:
        training = client.create_run(experiment)
        client.log_metric(training.info.run_id, "auc", auc)
        versions.append(client.create_model_version(model, f"runs:/{training.info.run_id}/model",
                                                    run_id=training.info.run_id, tags=tags))
    candidate = versions[-1]

    # 3. The verdict arrives on the version by itself.
    deadline = time.monotonic() + 120
    while "deltaone_achieved" not in (tags := client.get_model_version(model, candidate.version).tags):
        if time.monotonic() > deadline:
            sys.exit(f"no verdict on {model} v{candidate.version}: is the webhook function reachable at {url}?")
        time.sleep(1)
    print(f"{model} v{candidate.version}: deltaone_achieved={tags['deltaone_achieved']} "
          f"delta_value={tags['delta_value']}")
    assert tags["deltaone_achieved"] == "true" and tags["delta_value"] == "2.5", tags
    print("ok: the registry event alone produced the verdict")
finally:
    # An example cleans up after itself: the webhook would fire for every later version.
    client.delete_webhook(webhook.webhook_id)
