"""A webhook receiver that verifies Standard Webhooks signatures with the `standardwebhooks` package.

An independent check of DeltaOne's signing: the tests send deliveries here and read the verdicts.

    python standard_webhooks_receiver.py SECRET     # SECRET is whsec_...; listens on a free loopback port

Prints `listening PORT` once, then one JSON line per request:
`{"webhook_id": ..., "verified": true|false, "error": ..., "body_sha256": ..., "event_id": ...}`.
Answers 204 to a verified request and 400 to anything else.
"""

import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> None:
    webhook = Webhook(sys.argv[1])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k: v for k, v in self.headers.items()}
            record = {"webhook_id": headers.get("webhook-id"), "body_sha256": hashlib.sha256(body).hexdigest()}
            try:
                payload = webhook.verify(body, headers)
                record.update(verified=True, error=None, event_id=payload.get("id"))
                status = 204
            except (WebhookVerificationError, ValueError) as e:
                record.update(verified=False, error=f"{type(e).__name__}: {e}", event_id=None)
                status = 400
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            print(json.dumps(record), flush=True)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
