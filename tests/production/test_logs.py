"""Log lines in JSON carry the request id, taken from X-Request-ID or generated, and sent back in the response."""
from __future__ import annotations

import io
import json
import logging

from app.operations.logs import configure_logging


def test_the_response_carries_the_given_or_a_generated_request_id(db_app):
    client = db_app.test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "edge-42.a"}).headers["X-Request-ID"] == "edge-42.a"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != client.get("/healthz").headers["X-Request-ID"]
    # an id that could forge a log line or a header is replaced
    forged = client.get("/healthz", headers={"X-Request-ID": "x\" level=ERROR"}).headers["X-Request-ID"]
    assert len(forged) == 32 and "ERROR" not in forged


def test_a_json_log_line_carries_the_request_id(db_app):
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    try:
        # the app's own before-request hooks run, as for any request; then application code logs
        with db_app.test_request_context("/healthz", headers={"X-Request-ID": "req-7f3a"}):
            db_app.preprocess_request()
            logging.getLogger("app.example").warning("export finished")
        logging.getLogger("app.example").warning("outside a request")
    finally:
        configure_logging(db_app.config["LOG_LEVEL"], db_app.config["LOG_FORMAT"])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in lines if line.get("message") == "export finished"]
    assert len(ours) == 1
    assert ours[0]["request_id"] == "req-7f3a"
    assert ours[0]["level"] == "WARNING" and ours[0]["logger"] == "app.example" and "time" in ours[0]
    assert [line["request_id"] for line in lines if line.get("message") == "outside a request"] == ["-"]
