"""Uses a DeltaOne stack that Terraform applied to a moto server, as AWS would run it.

Run by infra/deploy-apply.sh after `terraform apply` of tests/deploy/. Every function runs from its
packaged zip (the `bootstrap` inside it) with exactly the environment Terraform gave it, read back
from the emulated Lambda API (GetFunctionConfiguration), plus what the Lambda service itself sets
(function name, memory, version, log format, the Runtime API address, a session token) and only the
overrides needed to reach moto (AWS_ENDPOINT_URL, dummy credentials). A small Runtime API emulator
here hands each binary its events, as Lambda would. moto's own Lambda service cannot run functions.

The drift job runs with the environment of the Batch job definition Terraform made, plus the
container overrides of the job the drift-scheduler function submitted, as Batch would start it.

  python use_stack.py --outputs stack.json --package-dir DIR --moto URL --mlflow URL --root REPO \
      --drift-binary PATH
  python use_stack.py --leftovers --moto URL        # after destroy: nothing of the stack is left

Exit status 0 when every expectation held; otherwise an AssertionError names the one that did not.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import queue
import shutil
import socketserver
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile

import boto3

REGION = "us-east-1"
SESSION_TOKEN = "deploy-test-session-token"


def say(message):
    print(f"deploy-use: {message}", flush=True)


class RuntimeApi:
    """The Lambda Runtime API (2018-06-01) for one function process: hands out queued events and
    collects the answers. Also serves the AWS Parameters and Secrets extension's GET
    /secretsmanager/get from moto, which the webhook functions read their secrets through."""

    def __init__(self, function_arn, timeout_secs, secrets):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.first_poll = None
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, headers=()):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path = urllib.parse.urlparse(self.path)
                if path.path == "/2018-06-01/runtime/invocation/next":
                    if api.first_poll is None:
                        api.first_poll = time.monotonic()
                    request_id, event = api.events.get()
                    deadline = int((time.time() + timeout_secs) * 1000)
                    self.reply(200, json.dumps(event).encode(), [
                        ("Lambda-Runtime-Aws-Request-Id", request_id),
                        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                        ("Lambda-Runtime-Invoked-Function-Arn", function_arn),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                        ("Content-Type", "application/json"),
                    ])
                elif path.path == "/secretsmanager/get":
                    if self.headers.get("X-Aws-Parameters-Secrets-Token") != SESSION_TOKEN:
                        self.reply(401, {"error": "missing or wrong X-Aws-Parameters-Secrets-Token"})
                        return
                    secret_id = urllib.parse.parse_qs(path.query).get("secretId", [""])[0]
                    try:
                        value = secrets.get_secret_value(SecretId=secret_id)
                    except secrets.exceptions.ResourceNotFoundException as e:
                        self.reply(400, {"error": str(e)})
                        return
                    value.pop("ResponseMetadata", None)
                    self.reply(200, json.dumps(value, default=str).encode())
                else:
                    self.reply(404, {"error": self.path})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.strip("/").split("/")
                if parts[-1] in ("response", "error"):
                    kind = parts[-1] if parts[-2] != "init" else "init-error"
                    self.reply(202, {"status": "OK"})
                    api.answers.put((kind, body.decode()))
                else:
                    self.reply(404, {"error": self.path})

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the function's process is killed mid-poll once its events are answered

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Stack:
    def __init__(self, args):
        self.args = args
        self.outputs = json.load(open(args.outputs))
        kw = dict(endpoint_url=args.moto, region_name=REGION, aws_access_key_id="testing",
                  aws_secret_access_key="testing")
        self.client = lambda service: boto3.client(service, **kw)
        self.s3 = self.client("s3")
        self.dynamodb = self.client("dynamodb")
        self.sqs = self.client("sqs")
        self.awslambda = self.client("lambda")
        self.batch = self.client("batch")
        self.secrets = self.client("secretsmanager")
        self.work = tempfile.mkdtemp(prefix="deltaone-deploy-use-")
        self.figures = []

    # ---- functions -------------------------------------------------------------------------

    def function_config(self, key):
        name = self.outputs["function_names"][key]
        config = self.awslambda.get_function_configuration(FunctionName=name)
        assert config["Architectures"] == ["x86_64"], f"{name}: architectures {config['Architectures']}"
        assert config["Runtime"] == "provided.al2023" and config["Handler"] == "bootstrap", config
        return config

    def bootstrap(self, key):
        """The function's packaged binary: bootstrap from <package-dir>/lambda/<binary>.zip."""
        binary = {"evaluation": "deltaone-evaluation", "registry_webhook": "deltaone-registry-webhook",
                  "webhook_notifier": "deltaone-webhook-notifier", "query_api": "deltaone-query-api",
                  "drift_scheduler": "deltaone-drift-scheduler",
                  "registry_sweep": "deltaone-registry-sweep"}[key]
        path = os.path.join(self.args.package_dir, "lambda", f"{binary}.zip")
        target = os.path.join(self.work, binary)
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            assert names == ["bootstrap"], f"{path}: expected exactly a bootstrap, found {names}"
            info = z.getinfo("bootstrap")
            assert (info.external_attr >> 16) & stat.S_IXUSR, f"{path}: bootstrap is not executable"
            z.extractall(target)
        os.chmod(os.path.join(target, "bootstrap"), 0o755)
        return target

    def invoke(self, key, events, overrides=None):
        """Starts the function's bootstrap with its deployed environment (plus `overrides`, each
        with its reason at the call), hands it `events` one after the other through the Runtime
        API and returns the answers as (kind, body)."""
        config = self.function_config(key)
        task_root = self.bootstrap(key)
        api = RuntimeApi(config["FunctionArn"], config["Timeout"], self.secrets)
        deployed = config.get("Environment", {}).get("Variables", {})
        logging = config.get("LoggingConfig", {})
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            # What the Lambda service sets for every function, from its configuration.
            "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
            "AWS_LAMBDA_FUNCTION_VERSION": config.get("Version", "$LATEST"),
            "AWS_LAMBDA_LOG_GROUP_NAME": logging.get("LogGroup", f"/aws/lambda/{config['FunctionName']}"),
            "AWS_LAMBDA_LOG_STREAM_NAME": "deploy-test",
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
            "_HANDLER": config["Handler"],
            "LAMBDA_TASK_ROOT": task_root,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            # Overrides to reach the emulators instead of AWS.
            "AWS_ENDPOINT_URL": self.args.moto,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(api.port),
        }
        if logging.get("LogFormat") == "JSON":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = logging.get("ApplicationLogLevel", "INFO")
        clash = sorted(set(deployed) & set(env))
        assert not clash, f"{key}: Terraform sets variables the Lambda service owns: {clash}"
        env.update(deployed)
        env.update(overrides or {})
        log_path = os.path.join(self.work, f"{key}.log")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen([os.path.join(task_root, "bootstrap")], env=env, cwd=task_root,
                                       stdout=log, stderr=subprocess.STDOUT)
        answers = []
        try:
            for event in events:
                api.events.put((str(uuid.uuid4()), event))
                deadline = time.monotonic() + config["Timeout"] + 10
                while True:
                    try:
                        answers.append(api.answers.get(timeout=0.5))
                        break
                    except queue.Empty:
                        if process.poll() is not None:
                            raise AssertionError(f"{key} exited ({process.returncode}) without answering; "
                                                 f"its log:\n{open(log_path).read()[-4000:]}")
                        if time.monotonic() > deadline:
                            raise AssertionError(f"{key} did not answer within {config['Timeout']} s; "
                                                 f"its log:\n{open(log_path).read()[-4000:]}")
                if answers[-1][0] == "init-error":
                    raise AssertionError(f"{key} failed to initialise: {answers[-1][1]}")
        finally:
            process.kill()
            process.wait()
            api.close()
        cold = (api.first_poll - started) * 1000 if api.first_poll else float("nan")
        self.figures.append(f"{key}: process start -> first Runtime API poll {cold:.0f} ms")
        for kind, body in answers:
            say(f"{key} answered ({kind}): {body[:300]}")
        return answers

    # ---- the scenario ----------------------------------------------------------------------

    def mlflow(self, endpoint, body=None, method="POST"):
        url = f"{self.args.mlflow}/api/2.0/mlflow/{endpoint}"
        if method == "GET":
            url += "?" + urllib.parse.urlencode(body or {})
            request = urllib.request.Request(url)
        else:
            request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(request, timeout=30))

    def receive_all(self, queue_url, wait=5):
        """Every message waiting in a queue (deleted once read)."""
        out, deadline = [], time.monotonic() + wait
        while time.monotonic() < deadline:
            got = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           MessageAttributeNames=["All"]).get("Messages", [])
            for m in got:
                out.append(m)
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            if out and not got:
                break
        return out

    def notices(self):
        """Messages on the alerts topic as its SQS subscription (Terraform's notifier-input) got them."""
        queue_url = self.outputs["queue_urls"]["notifier-input"]
        out = []
        for m in self.receive_all(queue_url):
            envelope = json.loads(m["Body"])
            assert envelope.get("Type") == "Notification", envelope
            assert envelope["TopicArn"] == self.outputs["alerts_topic_arn"], envelope
            out.append((m, envelope))
        return out

    def evaluation(self, model):
        """An artifact uploaded to the Terraform-made bucket ends as a verdict in the Terraform-made
        table and a notice on the Terraform-made subscription."""
        # The registry: version 1 is the benchmarked baseline (0.9 accuracy), version 2 the candidate.
        self.mlflow("registered-models/create", {"name": model})
        self.mlflow("model-versions/create", {"name": model, "source": "s3://models/deploy-test", "tags": [
            {"key": "benchmark_metric", "value": "accuracy"}, {"key": "benchmark_value", "value": "0.9"}]})
        self.mlflow("model-versions/create", {"name": model, "source": "s3://models/deploy-test"})

        bucket = self.outputs["bucket_names"]["artifacts"]
        key = f"evaluations/{model}/2/metrics.json"
        body = open(os.path.join(self.args.root, "samples/events/metrics.json"), "rb").read()
        put = self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        # The event S3 sends the function (the notification Terraform configured): the key
        # URL-encoded as S3 does, with the bucket's ARN and the object's size and ETag.
        notification = self.s3.get_bucket_notification_configuration(Bucket=bucket)
        targets = notification.get("LambdaFunctionConfigurations", [])
        evaluation_arn = self.function_config("evaluation")["FunctionArn"]
        assert [t["LambdaFunctionArn"] for t in targets] == [evaluation_arn], targets
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        event = {"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION, "eventTime": now,
            "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "203.0.113.7"},
            "responseElements": {"x-amz-request-id": "EXAMPLE", "x-amz-id-2": "EXAMPLE"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": targets[0].get("Id", "tf"),
                   "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                              "arn": f"arn:aws:s3:::{bucket}"},
                   "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": len(body),
                              "eTag": put["ETag"].strip('"'), "sequencer": "0055AED6DCD90281E5"}}}]}
        answers = self.invoke("evaluation", [event])
        assert answers[0][0] == "response", answers
        assert json.loads(answers[0][1]) == {"evaluated": 1, "parked": 0}, answers

        table = self.outputs["table_names"]["verdicts"]
        item = self.dynamodb.get_item(TableName=table, Key={"model": {"S": model}, "version": {"N": "2"}},
                                      ConsistentRead=True).get("Item")
        assert item, f"no verdict for {model} v2 in {table}"
        assert item["outcome"]["S"] == "achieved" and item["delta_pp"]["S"] in ("1.5", "1.50"), item
        assert item["notified"]["BOOL"] and item["written_back"]["BOOL"], item
        say(f"verdict in {table}: {model} v2 {item['outcome']['S']} ({item['delta_pp']['S']} pp over v1)")

        version = self.mlflow("model-versions/get", {"name": model, "version": "2"}, method="GET")
        tags = {t["key"]: t["value"] for t in version["model_version"].get("tags", [])}
        assert tags.get("deltaone_achieved") == "true", tags

        notices = [(m, e) for m, e in self.notices()
                   if json.loads(e["Message"]).get("model") == model]
        assert len(notices) == 1, f"expected one notice for {model} on notifier-input, got {notices}"
        message = json.loads(notices[0][1]["Message"])
        assert message["event_type"] == "deltaone.achieved", message
        say(f"notice on the alerts topic's SQS subscription: {message['event_type']} for {model}")
        return notices[0][0]

    def webhook_notifier(self, model, message):
        """The alert reaches the webhook notifier as Lambda's poller of the Terraform-made event
        source mapping would hand it over; the endpoint (a loopback address, refused by the SSRF
        guard) makes it park the delivery in the Terraform-made webhook dead-letter queue."""
        function_arn = self.function_config("webhook_notifier")["FunctionArn"]
        mappings = self.awslambda.list_event_source_mappings(FunctionName=function_arn)["EventSourceMappings"]
        queue_url = self.outputs["queue_urls"]["notifier-input"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert [m["EventSourceArn"] for m in mappings] == [queue_arn], mappings
        assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], mappings
        # The operator's step after the first apply: the endpoint's signing key into its secret.
        key = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        self.secrets.put_secret_value(SecretId=self.outputs["endpoint_secret_arns"]["orders"], SecretString=key)
        record = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                  "body": message["Body"], "attributes": message.get("Attributes", {}),
                  "messageAttributes": {}, "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs",
                  "eventSourceARN": queue_arn, "awsRegion": REGION}
        answers = self.invoke("webhook_notifier", [{"Records": [record]}])
        assert answers[0][0] == "response", answers
        assert json.loads(answers[0][1]) == {"batchItemFailures": []}, answers
        parked = [json.loads(m["Body"]) for m in self.receive_all(self.outputs["queue_urls"]["webhook-dead-letters"])]
        assert len(parked) == 1, parked
        text = json.dumps(parked[0])
        assert "orders" in text and model in text, parked[0]
        say(f"webhook notifier: the {model} alert's delivery to endpoint orders parked in webhook-dead-letters (loopback refused)")

    def query(self, model):
        """The query API's Function URL answers with the verdict the evaluation recorded."""
        sample = json.load(open(os.path.join(self.args.root, "samples/events/function-url-query.json")))
        path = f"/models/{urllib.parse.quote(model, safe='')}/deltaone"
        sample["rawPath"] = sample["requestContext"]["http"]["path"] = path
        answers = self.invoke("query_api", [sample])
        assert answers[0][0] == "response", answers
        response = json.loads(answers[0][1])
        assert response["statusCode"] == 200, response
        body = json.loads(response["body"])
        assert body["model"] == model and body["latest"]["version"] == 2, body
        say(f"query API: latest verdict of {model} is v{body['latest']['version']} {body['latest']['outcome']}")

    def registry_webhook(self, model):
        """A signed MLflow webhook delivery (model_version.created) through the Function URL: the
        function reads its secret from the Terraform-made secret through the extension, verifies
        the signature, claims the delivery and queues the check on the Terraform-made queue; then the
        same function, given the queue's messages as Lambda's SQS trigger hands them over, checks
        the new version."""
        self.mlflow("model-versions/create", {"name": model, "source": "s3://models/deploy-test",
                                              "tags": [{"key": "accuracy", "value": "0.8"}]})
        secret_arn = self.outputs["webhook_secret_arn"]
        secret = self.secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
        body = json.dumps({"entity": "model_version", "action": "created", "timestamp": time.time(),
                           "data": {"name": model, "version": "3", "source": "s3://models/deploy-test",
                                    "run_id": None, "tags": {"accuracy": "0.8"}, "description": None}})
        delivery, stamp = str(uuid.uuid4()), str(int(time.time()))
        signature = base64.b64encode(hmac.new(secret.encode(), f"{delivery}.{stamp}.{body}".encode(),
                                              hashlib.sha256).digest()).decode()
        event = json.load(open(os.path.join(self.args.root, "samples/events/function-url-query.json")))
        event.update({"rawPath": "/", "rawQueryString": "", "body": body, "isBase64Encoded": False})
        event.pop("queryStringParameters", None)
        event["requestContext"]["http"].update({"method": "POST", "path": "/"})
        event["requestContext"].pop("authorizer", None)
        event["headers"] = {"content-type": "application/json", "x-mlflow-delivery-id": delivery,
                            "x-mlflow-timestamp": stamp, "x-mlflow-signature": f"v1,{signature}"}
        answers = self.invoke("registry_webhook", [event])
        assert answers[0][0] == "response", answers
        response = json.loads(answers[0][1])
        assert response["statusCode"] == 200, response
        assert json.loads(response["body"])["status"] == "queued", response
        table = self.outputs["table_names"]["verdicts"]
        key = {"model": {"S": model}, "version": {"N": "3"}}
        assert "Item" not in self.dynamodb.get_item(TableName=table, Key=key), "the check ran inside MLflow's request"
        queue_url = self.outputs["queue_urls"]["registry-checks"]
        arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        messages = self.receive_all(queue_url)
        assert len(messages) == 1, messages
        batch = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                              "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION}
                             for m in messages]}
        worked = self.invoke("registry_webhook", [batch])
        assert worked[0][0] == "response" and json.loads(worked[0][1]) == {"batchItemFailures": []}, worked
        item = self.dynamodb.get_item(TableName=table, Key={"model": {"S": model}, "version": {"N": "3"}},
                                      ConsistentRead=True).get("Item")
        assert item and item["outcome"]["S"] == "not_achieved", item
        claimed = self.dynamodb.get_item(TableName=self.outputs["table_names"]["deliveries"],
                                         Key={"delivery_id": {"S": delivery}}, ConsistentRead=True).get("Item")
        assert claimed, f"delivery {delivery} not recorded in the deliveries table"
        say(f"registry webhook: signed delivery verified; {model} v3 {item['outcome']['S']}")

    def registry_sweep(self, model):
        """A registry event lost on purpose: a new version MLflow never told the webhook about. The
        sweep, invoked with the Terraform-made schedule's input, checks it once and records its
        watermark; a second sweep finds nothing to do."""
        created = self.mlflow("model-versions/create", {"name": model, "source": "s3://models/deploy-test",
                                                        "tags": [{"key": "accuracy", "value": "0.95"}]})
        version = created["model_version"]["version"]
        schedules = [s for s in self.client("scheduler").list_schedules()["Schedules"]
                     if s["Name"].endswith("-registry-sweep")]
        assert len(schedules) == 1, schedules
        detail = self.client("scheduler").get_schedule(Name=schedules[0]["Name"])
        assert detail["ScheduleExpression"].startswith("rate("), detail["ScheduleExpression"]
        assert detail["Target"]["Arn"].endswith(self.outputs["function_names"]["registry_sweep"]), detail["Target"]
        event = json.loads(detail["Target"]["Input"])
        # The MLflow server is shared with other tests (sweep only this test's model), and the version
        # was created a moment ago (the deployed settle time would leave it to its webhook).
        overrides = {"DELTAONE_SWEEP_MODELS": model, "DELTAONE_SWEEP_SETTLE_SECS": "0"}
        answers = self.invoke("registry_sweep", [event, event], overrides)
        assert [kind for kind, _ in answers] == ["response", "response"], answers
        first, second = (json.loads(body)["models"][0] for _, body in answers)
        assert first["reconciled"] >= 1 and first["watermark_after"] == version, first
        assert second["examined"] == 0 and second["reconciled"] == 0, second
        table = self.outputs["table_names"]["verdicts"]
        item = self.dynamodb.get_item(TableName=table, Key={"model": {"S": model}, "version": {"N": version}},
                                      ConsistentRead=True).get("Item")
        assert item, f"no verdict for {model} v{version} after the sweep"
        mark = self.dynamodb.get_item(TableName=self.outputs["table_names"]["deliveries"],
                                      Key={"delivery_id": {"S": f"deltaone-sweep#{model}"}},
                                      ConsistentRead=True).get("Item")
        assert mark and mark["watermark"]["N"] == version, mark
        say(f"registry sweep: the unannounced {model} v{version} got its verdict ({item['outcome']['S']}); "
            f"{first['reconciled']} reconciled, a second sweep found nothing")

    def drift(self):
        """The scheduled drift run: drift-scheduler (invoked as EventBridge Scheduler would, with the
        Terraform-made schedule's input) writes the manifest and submits the Batch job; the job
        then runs with the job definition's environment and the job's overrides."""
        schedule = [s for s in self.client("scheduler").list_schedules()["Schedules"] if "-drift-" in s["Name"]]
        assert len(schedule) == 1, schedule
        detail = self.client("scheduler").get_schedule(Name=schedule[0]["Name"])
        target_input = json.loads(detail["Target"]["Input"])
        entry = target_input["schedule"]
        model = entry["model"]
        for window in ("reference", "current"):
            uri = urllib.parse.urlparse(entry[window]["prefix"])
            self.s3.upload_file(os.path.join(self.args.root, f"samples/drift/{window}.parquet"),
                                uri.netloc, uri.path.lstrip("/") + f"{window}.parquet")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        event = dict(target_input, scheduled_time=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        answers = self.invoke("drift_scheduler", [event])
        assert answers[0][0] == "response", answers

        queue_arn = self.outputs["drift_job_queue_arn"]
        summaries = self.batch.list_jobs(jobQueue=queue_arn, jobStatus="SUBMITTED")["jobSummaryList"]
        if not summaries:  # moto moves jobs along on its own; any state will do
            summaries = [j for status in ("PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
                         for j in self.batch.list_jobs(jobQueue=queue_arn, jobStatus=status)["jobSummaryList"]]
        assert len(summaries) == 1, f"expected one drift job on {queue_arn}, got {summaries}"
        job = self.batch.describe_jobs(jobs=[summaries[0]["jobId"]])["jobs"][0]
        definition = self.batch.describe_job_definitions(
            jobDefinitions=[job["jobDefinition"]])["jobDefinitions"][0]
        assert definition["jobDefinitionName"] == self.outputs["drift_job_definition"].split("/")[-1], definition
        container = definition["containerProperties"]
        env = {e["name"]: e["value"] for e in container.get("environment", [])}
        overrides = job.get("container", {})
        command = overrides.get("command") or container["command"]
        for e in overrides.get("environment", []):
            env[e["name"]] = e["value"]
        say(f"drift job {job['jobName']}: {' '.join(command)} with {len(env)} variables from the job definition and overrides")

        reports = self.outputs["bucket_names"]["reports"]
        before = {o["Key"] for o in self.s3.list_objects_v2(Bucket=reports, Prefix="drift/").get("Contents", [])}
        # AWS_BATCH_JOB_ID: what Batch sets in every job (the job's EMF metrics are on under it).
        overrides_env = {"AWS_ENDPOINT_URL": self.args.moto, "AWS_ACCESS_KEY_ID": "testing",
                         "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                         "AWS_BATCH_JOB_ID": job["jobId"]}
        started = time.monotonic()
        # The container's entry point is this binary (infra/drift-image.sh runs the image itself).
        result = subprocess.run([self.args.drift_binary, *command], capture_output=True, text=True, timeout=600,
                                env={"PATH": "/usr/bin:/bin", **env, **overrides_env})
        how = "the binary"
        self.figures.append(f"drift job ({how}): {time.monotonic() - started:.1f} s")
        if result.returncode != 0:
            raise AssertionError(f"the drift job failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        after = {o["Key"] for o in self.s3.list_objects_v2(Bucket=reports, Prefix="drift/").get("Contents", [])}
        written = sorted(after - before)
        assert any(k.endswith("drift.json") for k in written) and any(k.endswith("report.html") for k in written), written
        table = self.outputs["table_names"]["drift"]
        items = self.dynamodb.query(TableName=table, KeyConditionExpression="pk = :pk",
                                    ExpressionAttributeValues={":pk": {"S": f"{model}#RUN"}})["Items"]
        assert len(items) == 1, f"expected one run summary for {model} in {table}, got {items}"
        notices = [json.loads(e["Message"]) for _, e in self.notices()]
        kinds = [n["event_type"] for n in notices if n.get("model") == model]
        assert len(kinds) == 1 and kinds[0] in ("drift.detected", "drift.report"), notices
        # The run's EMF line is filed under the model the Terraform alarm watches (dimension Model).
        emf = [json.loads(line) for line in result.stderr.splitlines() if line.startswith('{"') and '"_aws"' in line]
        runs = [m for m in emf if "RowsRead" in m]
        assert len(runs) == 1 and runs[0]["Model"] == model and runs[0]["RowsRead"] > 0, runs
        alarms = self.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{self.outputs['name_prefix']}-drift-runs-missing")
        watched = [{d["Name"]: d["Value"] for d in a["Dimensions"]} for a in alarms["MetricAlarms"]]
        assert {"Model": model} in watched, watched
        say(f"drift run ({how}): {len(written)} objects in s3://{reports}/drift/, run summary in {table}, notice {kinds[0]}, "
            f"{len(emf)} EMF lines (RowsRead {runs[0]['RowsRead']:.0f} for the alarm on {model})")


def leftovers(moto):
    """Everything a destroyed stack may have left on the moto server: nothing but the account's own
    (the default VPC and its security group, AWS-managed KMS keys) and the stack's KMS key pending
    deletion (AWS never deletes a key at once)."""
    kw = dict(endpoint_url=moto, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    c = lambda service: boto3.client(service, **kw)  # noqa: E731
    # AWS-managed keys (alias/aws/dynamodb, …) belong to the account, not to the stack.
    aws_managed = {a["TargetKeyId"] for a in c("kms").list_aliases()["Aliases"]
                   if a["AliasName"].startswith("alias/aws/") and "TargetKeyId" in a}
    found = {
        "s3 buckets": [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
        "dynamodb tables": c("dynamodb").list_tables()["TableNames"],
        "lambda functions": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]],
        "lambda layers": [layer["LayerName"] for layer in c("lambda").list_layers()["Layers"]],
        "sqs queues": c("sqs").list_queues().get("QueueUrls", []),
        "sns topics": [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        "sns subscriptions": [s["SubscriptionArn"] for s in c("sns").list_subscriptions()["Subscriptions"]],
        "iam roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"]],
        "log groups": [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
        "kms keys not pending deletion": [
            k["KeyId"] for k in c("kms").list_keys()["Keys"]
            if k["KeyId"] not in aws_managed
            and c("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"],
        "kms aliases": [a["AliasName"] for a in c("kms").list_aliases()["Aliases"]
                        if not a["AliasName"].startswith("alias/aws/")],
        "secrets": [s["Name"] for s in c("secretsmanager").list_secrets()["SecretList"] if "DeletedDate" not in s],
        "ecr repositories": [r["repositoryName"] for r in c("ecr").describe_repositories()["repositories"]],
        "batch compute environments": [e["computeEnvironmentName"]
                                       for e in c("batch").describe_compute_environments()["computeEnvironments"]],
        "batch job queues": [q["jobQueueName"] for q in c("batch").describe_job_queues()["jobQueues"]],
        "batch job definitions": [d["jobDefinitionName"]
                                  for d in c("batch").describe_job_definitions(status="ACTIVE")["jobDefinitions"]],
        "schedules": [s["Name"] for s in c("scheduler").list_schedules()["Schedules"]],
        "event rules": [r["Name"] for r in c("events").list_rules()["Rules"]],
        "alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
        "security groups": [g["GroupName"] for g in c("ec2").describe_security_groups()["SecurityGroups"]
                            if g["GroupName"] != "default"],
    }
    left = {k: v for k, v in found.items() if v}
    assert not left, f"terraform destroy left resources behind: {left}"
    say(f"nothing left after destroy ({len(found)} kinds of resource checked)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moto", required=True)
    parser.add_argument("--leftovers", action="store_true", help="only check that the moto server is empty")
    parser.add_argument("--outputs")
    parser.add_argument("--package-dir")
    parser.add_argument("--mlflow")
    parser.add_argument("--root")
    parser.add_argument("--drift-binary")
    args = parser.parse_args()
    if args.leftovers:
        leftovers(args.moto)
        return
    missing = [a for a in ("outputs", "package_dir", "mlflow", "root", "drift_binary") if not getattr(args, a)]
    if missing:
        parser.error("missing " + ", ".join("--" + a.replace("_", "-") for a in missing))
    stack = Stack(args)
    model = f"deploy-test-{os.getpid()}-{int(time.time())}"
    try:
        notice = stack.evaluation(model)
        stack.webhook_notifier(model, notice)
        stack.query(model)
        stack.registry_webhook(model)
        stack.registry_sweep(model)
        stack.drift()
    except BaseException:
        # The unpacked bootstraps and the functions' logs are what a failure is debugged with.
        say(f"kept the functions' logs and bootstraps in {stack.work}")
        raise
    # ~200 MB of unpacked binaries per run: a passing run leaves nothing behind.
    shutil.rmtree(stack.work, ignore_errors=True)
    for figure in stack.figures:
        say(figure)


if __name__ == "__main__":
    main()
