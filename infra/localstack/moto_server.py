"""moto's server, with DynamoDB requests handled one at a time.

DynamoDB's conditional writes and transactions are atomic; moto's threaded server does not isolate
them from concurrent requests, so tests that race conditional writes (exactly-once claims, the
attestation chain) would see two winners now and then. Serialising DynamoDB calls restores the
guarantee the code relies on, while the other services (SQS long polls, S3) stay concurrent.

Usage: python moto_server.py HOST PORT
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    dynamodb = threading.Lock()

    def serialised_dynamodb(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with dynamodb:
                # Produce the whole response under the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    run_simple(host, port, serialised_dynamodb, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
