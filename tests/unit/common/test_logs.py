"""Structured log lines: the fields every line has, the request id and trace ids of the work it is about."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

from opentelemetry import trace

from switchboard.common.logs import JsonFormatter, TextFormatter, bind_request_id, request_scope, unbind_request_id
from switchboard.common.tracing import current_trace_ids, tracer_provider


def record(message: str = "served %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("switchboard.test", logging.INFO, __file__, 1, message, args or ("it",), None)
    made.__dict__.update(extra)
    return made


def test_a_line_has_its_fields_and_the_extras_it_was_given() -> None:
    line = json.loads(JsonFormatter("orchestrator").format(record(model="claude-x", latency_ms=12.5)))
    assert line.pop("time").endswith("Z")
    assert line == {
        "level": "INFO",
        "service": "orchestrator",
        "logger": "switchboard.test",
        "message": "served it",
        "model": "claude-x",
        "latency_ms": 12.5,
    }


def test_the_bound_request_id_is_on_every_line_until_unbound() -> None:
    formatter = JsonFormatter("api-gateway")
    token = bind_request_id("req_abc")
    try:
        assert json.loads(formatter.format(record()))["request_id"] == "req_abc"
        with request_scope("req_inner"):
            assert json.loads(formatter.format(record()))["request_id"] == "req_inner"
        assert json.loads(formatter.format(record()))["request_id"] == "req_abc"
    finally:
        unbind_request_id(token)
    assert "request_id" not in json.loads(formatter.format(record()))


def test_an_explicit_request_id_and_trace_beat_the_context() -> None:
    """Metering logs completions of many requests from one batch: each line names its own."""
    formatter = JsonFormatter("metering")
    with request_scope("req_batch"):
        line = json.loads(formatter.format(record(request_id="req_one", trace_id="ab" * 16)))
    assert (line["request_id"], line["trace_id"]) == ("req_one", "ab" * 16)


def test_lines_inside_a_span_carry_its_trace_and_span_ids() -> None:
    span = tracer_provider("test", "none").get_tracer("test").start_span("work")
    with trace.use_span(span, end_on_exit=True):
        ids = current_trace_ids()
        line = json.loads(JsonFormatter("tool-broker").format(record()))
    assert ids is not None and (line["trace_id"], line["span_id"]) == ids
    assert "trace_id" not in json.loads(JsonFormatter("tool-broker").format(record()))


def test_an_exception_is_one_field_of_one_line() -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(JsonFormatter("metering").format(failed))
    assert line["message"] == "failed"
    assert line["exception"].startswith("Traceback") and "ValueError: bad value" in line["exception"]


def test_text_lines_put_the_request_id_in_brackets() -> None:
    with request_scope("req_t"):
        assert "switchboard.test [req_t]: served it" in TextFormatter().format(record())
    assert "switchboard.test: served it" in TextFormatter().format(record())


def test_configured_process_writes_json_lines_from_every_logger_to_stderr() -> None:
    """Our loggers and libraries' (uvicorn configures none of its own with ``log_config=None``) alike."""
    program = textwrap.dedent(
        """
        import logging
        from switchboard.common.logs import configure_logging, request_scope
        configure_logging("api-gateway", "INFO")
        logging.getLogger("uvicorn.error").info("Started server process")
        with request_scope("req_1"):
            logging.getLogger("switchboard.api_gateway").warning("slow %d", 3)
        logging.getLogger("switchboard").debug("not at INFO")
        logging.getLogger("aiohttp.client").info("headers, keys: never below WARNING")
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30, check=True)
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["message"], line.get("request_id")) for line in lines] == [
        ("uvicorn.error", "Started server process", None),
        ("switchboard.api_gateway", "slow 3", "req_1"),
    ]
    assert done.stdout == ""
