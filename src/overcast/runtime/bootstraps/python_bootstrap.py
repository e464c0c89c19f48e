"""Overcast's Python bootstrap: the handler contract of AWS's Python runtimes, spoken over the
Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API. Runs inside the execution environment with the
host's Python; imports nothing from Overcast and keeps start-up imports few (cold starts)."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

BASE = "/2018-06-01/runtime"


class RuntimeClient:
    """A keep-alive HTTP/1.1 client for the Runtime API (http.client costs milliseconds to import)."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.addr = (host or "127.0.0.1", int(port))
        self.sock: socket.socket | None = None
        self.buf = b""

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):
            try:
                return self._request(method, path, body, headers or {})
            except OSError:
                self.close()
                if attempt:
                    raise
        raise OSError("unreachable")

    def post_then_next(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """POST an outcome and ask for the next invocation in one write (HTTP/1.1 pipelining):
        one wake-up per invocation instead of two. Returns the `/next` response."""
        try:
            self._connect()
            assert self.sock is not None
            self.sock.sendall(
                _head("POST", path, body, headers)
                + body
                + _head("GET", f"{BASE}/invocation/next", b"", {})
            )
            self._read_response()
            return self._read_response()
        except OSError:
            self.close()
        # The connection broke: say it again, one request at a time (a repeated outcome is
        # refused by the Runtime API as an unknown request id, which is harmless).
        self.request("POST", path, body, headers)
        return self.request("GET", f"{BASE}/invocation/next")

    def _connect(self) -> None:
        if self.sock is None:
            self.sock = socket.create_connection(self.addr)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""

    def _request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        self._connect()
        assert self.sock is not None
        self.sock.sendall(_head(method, path, body, headers) + body)
        return self._read_response()

    def _read_response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        text = head.decode("latin-1").split("\r\n")
        status = int(text[0].split(" ", 2)[1])
        out: dict[str, str] = {}
        for line in text[1:]:
            k, _, v = line.partition(":")
            out[k.strip().lower()] = v.strip()
        length = int(out.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        data, self.buf = self.buf[:length], self.buf[length:]
        return status, out, data

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("Runtime API closed the connection")
        self.buf += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def _head(method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: runtime", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class CognitoIdentity:
    def __init__(self, data: dict[str, Any]) -> None:
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class Client:
    def __init__(self, data: dict[str, Any]) -> None:
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class ClientContext:
    def __init__(self, data: dict[str, Any]) -> None:
        self.client = Client(data["client"]) if data.get("client") else None
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext:
    """The `context` argument of a Python handler, as AWS's runtime builds it."""

    def __init__(self, request_id: str, headers: dict[str, str]) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        cc = headers.get("lambda-runtime-client-context")
        self.client_context = ClientContext(json.loads(cc)) if cc else None
        ident = headers.get("lambda-runtime-cognito-identity")
        self.identity = CognitoIdentity(json.loads(ident) if ident else {})
        self.tenant_id = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg: str) -> None:
        sys.stdout.write(msg)
        sys.stdout.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class FaultError(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


CURRENT_REQUEST = {"id": ""}


def _install_logging() -> None:
    import logging

    class RequestIdFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.aws_request_id = CURRENT_REQUEST["id"]
            return True

    handler = logging.StreamHandler(sys.stdout)
    fmt = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S",
    )
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]


def _load_handler(spec: str) -> Any:
    try:
        module_path, func_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}") from None
    module_name = module_path.replace("/", ".")
    if module_name.startswith("."):
        raise FaultError(
            "Runtime.BadHandler", f"Cannot use relative import '{module_name}' in handler"
        )
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FaultError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n', f"    {exc.text}"]
        raise FaultError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace
        ) from None
    except Exception as exc:
        frames = traceback.format_list(traceback.extract_tb(exc.__traceback__))
        raise FaultError(
            "Runtime.Unknown",
            f"Unable to import module '{module_name}': {exc}",
            frames,
        ) from None
    handler = getattr(module, func_name, None)
    if handler is None:
        raise FaultError(
            "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'"
        )
    return handler


def _error_doc(exc: BaseException, request_id: str | None) -> tuple[str, dict[str, Any]]:
    if isinstance(exc, FaultError):
        doc: dict[str, Any] = {
            "errorMessage": exc.message,
            "errorType": exc.error_type,
            "requestId": request_id or "",
            "stackTrace": exc.trace,
        }
        return exc.error_type, doc
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop the bootstrap's own frame
    doc = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id or "",
        "stackTrace": traceback.format_list(frames),
    }
    return type(exc).__name__, doc


def _log_error(doc: dict[str, Any]) -> None:
    # AWS prints one record: "[ERROR] Type: message" then the traceback.
    lines = [f"[ERROR] {doc['errorType']}: {doc['errorMessage']}"]
    lines.append("Traceback (most recent call last):")
    lines += [frame.rstrip("\n") for frame in doc["stackTrace"]]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def main() -> None:
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    _install_logging()
    try:
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except FaultError as exc:
        error_type, doc = _error_doc(exc, None)
        _log_error(doc)
        client.request(
            "POST",
            f"{BASE}/init/error",
            json.dumps(doc).encode(),
            {"Lambda-Runtime-Function-Error-Type": error_type},
        )
        sys.exit(1)
    _status, headers, body = client.request("GET", f"{BASE}/invocation/next")
    while True:
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        CURRENT_REQUEST["id"] = request_id
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        context = LambdaContext(request_id, headers)
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
            try:
                out = json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                raise FaultError(
                    "Runtime.MarshalError", f"Unable to marshal response: {exc}"
                ) from None
        except Exception as exc:
            error_type, doc = _error_doc(exc, request_id)
            _log_error(doc)
            sys.stderr.flush()
            _status, headers, body = client.post_then_next(
                f"{BASE}/invocation/{request_id}/error",
                json.dumps(doc).encode(),
                {"Lambda-Runtime-Function-Error-Type": error_type},
            )
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        _status, headers, body = client.post_then_next(
            f"{BASE}/invocation/{request_id}/response",
            out,
            {"Content-Type": "application/json"},
        )


if __name__ == "__main__":
    main()
