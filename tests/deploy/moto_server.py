"""The local stack's moto server (infra/localstack/moto_server.py) for the applied deployment, with
two corrections.

1. Bucket policies.
The deployment's buckets carry AWS's usual TLS-only statement: Deny when aws:SecureTransport is
"false". moto 5.2 knows neither that key nor the Bool operator, and takes an unknown condition as
holding, so the statement would deny every object read and write. Here a request counts as made
over TLS (plain HTTP on loopback stands in for the HTTPS the functions use on AWS), so the statement
does not apply to it, as on AWS; every other statement is evaluated by moto unchanged.

2. SQS event source mappings. moto's Lambda cannot run functions (it needs Docker), yet for a queue
with a mapping it takes each message out of the queue to "invoke" the function, and the message
is gone. Here the invocation reports failure, so moto makes the messages visible again, and the
test plays Lambda's poller: it reads them and runs the function's binary itself.

3. Batch job definitions by ARN without a revision. SubmitJob accepts
arn:aws:batch:REGION:ACCOUNT:job-definition/NAME (the latest active revision) as AWS documents it,
which is what the drift-scheduler function is given (the module's arn_prefix output); moto 5.2
only finds NAME, NAME:REVISION or the full ARN with its revision.

Usage: python moto_server.py HOST PORT
"""

import os
import sys

from moto.awslambda import models as awslambda
from moto.batch import models as batch
from moto.iam import access_control

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "infra", "localstack"))
import moto_server  # noqa: E402

_is_action_permitted = access_control.IAMPolicyStatement.is_action_permitted


def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    insecure_only = (self._statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")
    if insecure_only in ("false", False, ["false"]):
        return access_control.PermissionResult.NEUTRAL
    return _is_action_permitted(self, action, resource, principal, incoming_condition_values)


access_control.IAMPolicyStatement.is_action_permitted = is_action_permitted
awslambda.LambdaBackend.send_sqs_batch = lambda self, function_arn, messages, queue_arn: False

_get_job_definition = batch.BatchBackend.get_job_definition


def get_job_definition(self, identifier):
    found = _get_job_definition(self, identifier)
    if found is None and identifier.startswith("arn:") and ":job-definition/" in identifier:
        name = identifier.split(":job-definition/", 1)[1]
        if ":" not in name:
            found = self.get_job_definition_by_name(name)
    return found


batch.BatchBackend.get_job_definition = get_job_definition

if __name__ == "__main__":
    moto_server.main()
