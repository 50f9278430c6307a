"""The model registry as a training team leaves it, made with MLflow's own client: the examples'
fixtures. Each call prints what it made.

    python lib/registry.py model NAME [--tag KEY=VALUE ...]
    python lib/registry.py version NAME [--metric KEY=VALUE ...] [--tag KEY=VALUE ...]   (prints the version)
    python lib/registry.py tag NAME VERSION KEY                                             (prints the value, or nothing)
"""

import argparse

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def pairs(values):
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"registry.py: {item!r} is not KEY=VALUE")
        out[key] = value
    return out


parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
sub = parser.add_subparsers(dest="command", required=True)
model = sub.add_parser("model")
model.add_argument("name")
model.add_argument("--tag", action="append")
version = sub.add_parser("version")
version.add_argument("name")
version.add_argument("--metric", action="append")
version.add_argument("--tag", action="append")
tag = sub.add_parser("tag")
tag.add_argument("name")
tag.add_argument("version")
tag.add_argument("key")
args = parser.parse_args()
client = MlflowClient()

if args.command == "model":
    try:
        client.create_registered_model(args.name, tags=pairs(args.tag))
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    print(f"registered model {args.name}")
elif args.command == "version":
    experiment = client.get_experiment_by_name("deltaone-examples")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("deltaone-examples")
    run = client.create_run(experiment_id, run_name=f"{args.name}-training")
    for key, value in pairs(args.metric).items():
        client.log_metric(run.info.run_id, key, float(value))
    client.set_terminated(run.info.run_id)
    made = client.create_model_version(args.name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id,
                                       tags=pairs(args.tag))
    print(made.version)
else:
    print(client.get_model_version(args.name, args.version).tags.get(args.key, ""))
