"""The WSGI layer in front of moto, and the server that runs it.

For every AWS request: faults decided first (a throttled or reset request
never reaches moto), then request-model validation, then moto, whose answer
aws_answers may turn into AWS's where the two differ. Requests under
/_local_aws/ are the control API (faults, stats, validation, accounts); they are not
AWS requests, so they are neither counted nor logged. Every AWS request is
first placed in its account (accounts.py).
"""

import json
import socket
import struct
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import ThreadedWSGIServer

from . import aws_answers, errors, patterns, request, validate
from .accounts import Accounts
from .faults import Faults
from .oplog import OpLog
from .stats import Stats

# (kind, protocol) -> (status, code, message); Query protocol (CloudWatch)
# names throttling "Throttling", the JSON protocols "ThrottlingException".
_FAULT_ERRORS = {
    ("throttle", "json"): (400, "ThrottlingException", "Rate exceeded"),
    ("throttle", "query"): (400, "Throttling", "Rate exceeded"),
    ("500", "json"): (500, "InternalFailure", "The request processing has failed because of an unknown error."),
    ("503", "json"): (503, "ServiceUnavailable", "The service is unavailable. Please try again later."),
}
_FAULT_ERRORS[("500", "query")] = _FAULT_ERRORS[("500", "json")]
_FAULT_ERRORS[("503", "query")] = _FAULT_ERRORS[("503", "json")]


class Dropped(ConnectionAbortedError):
    """Raised to abandon a request: werkzeug then writes no answer."""


class Gateway:
    def __init__(self, oplog_path=None):
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.oplog = OpLog(oplog_path)
        self.stats = Stats()
        self.faults = Faults()
        self.accounts = Accounts()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_local_aws/"):
            return self._control(environ, start_response)
        req = request.read(environ)
        if req is None:
            return self.moto(environ, start_response)
        self.accounts.route(environ, req.access_key)
        self.accounts.identify(req, environ)
        fault = self.faults.decide(req)
        protocol = "query" if req.protocol == "query" else "json"
        json_type = environ.get("CONTENT_TYPE", "").split(";")[0] or "application/x-amz-json-1.1"
        if fault == "reset":
            self._record(req, None, fault)
            _drop(environ)
        if (fault, protocol) in _FAULT_ERRORS:
            return self._send(req, start_response,
                              errors.answer(protocol, *_FAULT_ERRORS[(fault, protocol)], json_type), fault)
        problem = validate.check(req)
        if problem:
            code = "ValidationError" if protocol == "query" else "ValidationException"
            return self._send(req, start_response, errors.answer(protocol, 400, code, problem, json_type),
                              None, problem)
        answer = aws_answers.answer(req, environ, lambda env: _call(self.moto, env))
        if req.operation == "AssumeRole" and answer[0].startswith("2"):
            self.accounts.note_issued(req.access_key, answer[2])
        if fault == "lost_write" and answer[0].startswith("2"):
            self._record(req, None, fault)
            _drop(environ)
        return self._send(req, start_response, answer, None)

    def _record(self, req, status, fault, problem=None):
        self.stats.record(req, fault=fault, invalid=problem is not None)
        self.oplog.write(req, status, fault, problem)

    def _send(self, req, start_response, answer, fault, problem=None):
        status, headers, body = answer
        self._record(req, int(status.split(" ", 1)[0]), fault, problem)
        start_response(status, headers)
        return [body]

    def _control(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/_local_aws/stats" and method == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            key, account = (query.get(name, [None])[0] for name in ("access_key", "account"))
            return _json(start_response, 200, self.stats.report(key, account))
        if path == "/_local_aws/validation" and method == "GET":
            # Patterns met so far that could not be checked (see patterns.py).
            return _json(start_response, 200, {"untranslatable_patterns": dict(patterns.UNTRANSLATABLE)})
        installers = {"/_local_aws/faults": self.faults.install, "/_local_aws/accounts": self.accounts.register}
        if path in installers and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
            except ValueError as e:
                return _json(start_response, 400, {"error": f"body: not JSON ({e})"})
            problem = installers[path](spec) if isinstance(spec, dict) else "body: expected an object"
            return _json(start_response, 400 if problem else 200, {"error": problem} if problem else {})
        return _json(start_response, 404, {"error": f"no control endpoint {method} {path}"})


def _call(app, environ):
    """Runs a WSGI app to completion; returns (status, headers, body)."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, list(headers)

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body


def _json(start_response, status, value):
    body = json.dumps(value).encode()
    start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _drop(environ):
    """Ends the connection with a reset and no answer (see Handler.finish)."""
    handler = environ["localaws.handler"]
    handler.close_connection = True
    handler.dropped = True
    raise Dropped("fault injected")


class Handler(MotoRequestHandler):
    dropped = False

    def make_environ(self):
        environ = super().make_environ()
        environ["localaws.handler"] = self
        return environ

    def log_request(self, *args, **kwargs):
        pass

    def finish(self):
        super().finish()
        if self.dropped:
            # Linger 0: closing sends RST, and no FIN precedes it, so the
            # client sees a reset connection rather than an empty answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


def serve(oplog_path=None) -> ThreadedWSGIServer:
    """A started-on-demand threaded server on a free loopback port."""
    server = ThreadedWSGIServer("127.0.0.1", 0, Gateway(oplog_path), handler=Handler)
    return server
