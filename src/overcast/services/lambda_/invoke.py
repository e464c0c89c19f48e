"""Invocations: building the runtime's FunctionSpec, running it, the REPORT line and logs, and
asynchronous invocation on the durable dispatch (retries, destinations, dead-letter queues)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import random
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.dispatch import RetryPolicy, Target
from overcast.dispatch.records import GiveUp, RetryLater
from overcast.runtime import (
    ConcurrencyLimitExceeded,
    FunctionSpec,
    Invocation,
    InvocationResult,
    launch,
    limits,
)
from overcast.runtime.launch import LaunchError
from overcast.services.lambda_ import code
from overcast.services.lambda_.base import (
    LATEST,
    FunctionRef,
    FunctionVersion,
    LambdaBase,
    function_arn,
)
from overcast.services.lambda_.errors import (
    InvalidRequestContent,
    RequestTooLarge,
    ResourceConflict,
    TooManyRequests,
)
from overcast.services.lambda_.logwriter import LogWriter

log = logging.getLogger("overcast.lambda")

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 1024 * 1024
MAX_RESPONSE = 6 * 1024 * 1024
TAIL_BYTES = 4096
CREDENTIAL_LIFETIME = 3000.0  # refresh role credentials well before STS's hour runs out
ASYNC_HANDLER = "lambda.async_invoke"
ASYNC_FAILURE = "lambda.async_failure"


_WARNED: set[str] = set()


class AsyncFunctionError(ServiceError):
    """An asynchronous invocation ended in a function error: dispatch retries it. Its message
    carries the error document and version, for the failure destination."""

    code = "Unhandled"
    sender_fault = False


class InvokeMixin(LambdaBase):
    logs: LogWriter
    rng: random.Random
    _specs: dict[str, tuple[float, FunctionSpec]]

    # -- code and specs -------------------------------------------------------------------------

    def spec_prefix(self, fv: FunctionVersion) -> str:
        return f"{fv.account_id}/{fv.region}/{fv.name}/"

    def run_as(self, fv: FunctionVersion) -> tuple[int | None, int | None]:
        """The unprivileged uid/gid a function runs as, when Overcast runs as root and the
        runtime's executable is reachable by other users."""
        if not limits.drop_privileges():
            return None, None
        runtime = str(fv.config.get("Runtime") or "")
        if runtime in launch.PYTHON_RUNTIMES:
            exe: str | None = launch.python_executable()
        elif runtime in launch.NODE_RUNTIMES:
            exe = launch.node_executable()
        else:
            exe = "/bin/sh"
        if exe is None or not launch.executable_reachable_by_others(exe):
            if runtime not in _WARNED:
                _WARNED.add(runtime)
                log.warning(
                    "%s functions run as Overcast's own user: %s is not reachable by other "
                    "users (install the runtime outside a private folder such as /root to "
                    "isolate them)",
                    runtime,
                    exe,
                )
            return None, None
        uid = limits.function_uid(f"{fv.account_id}/{fv.region}/{fv.name}")
        return uid, uid

    def prepare_code(self, fv: FunctionVersion) -> None:
        """Extract the function's zip (and its layers, merged as /opt) if not done yet."""
        _, gid = self.run_as(fv)
        code.extract(self.db.blobs.read(fv.code_blob), self.code_dir(fv), gid)
        opt = self.opt_dir(fv)
        if opt is not None:
            layers = [(arn, self.layer_zip(arn)) for arn in self.layer_arns(fv)]  # type: ignore[attr-defined]
            code.merge_layers(layers, opt, gid)

    def layer_arns(self, fv: FunctionVersion) -> list[str]:
        return [str(layer["Arn"]) for layer in fv.config.get("Layers") or []]

    def opt_dir(self, fv: FunctionVersion) -> Any:
        arns = self.layer_arns(fv)
        if not arns:
            return None
        import hashlib

        digest = hashlib.sha256("\n".join(arns).encode()).hexdigest()[:24]
        return self.work_root / "opt" / fv.account_id / fv.region / fv.name / digest

    async def spec_for(self, ctx: RequestContext, fv: FunctionVersion) -> FunctionSpec:
        """The runtime's view of a function version (cached; role credentials refreshed)."""
        self.pool.warm_up()
        cache_key = f"{self.spec_prefix(fv)}{fv.version}/{fv.config['RevisionId']}"
        cached = self._specs.get(cache_key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < CREDENTIAL_LIFETIME:
            return cached[1]
        if not self.code_dir(fv).exists() or (
            self.opt_dir(fv) is not None and not self.opt_dir(fv).exists()
        ):
            self.prepare_code(fv)
        creds = await self._credentials(ctx, fv)
        cfg = fv.config
        env = dict((cfg.get("Environment") or {}).get("Variables") or {})
        env.update(creds)
        env.setdefault("AWS_ENDPOINT_URL", self.edge_url or ctx.endpoint)
        uid, gid = self.run_as(fv)
        spec = FunctionSpec(
            key=f"{cache_key}/{int(now)}",
            function_name=fv.name,
            version=fv.version,
            runtime=str(cfg.get("Runtime")),
            handler=str(cfg.get("Handler")),
            code_dir=self.code_dir(fv),
            opt_dir=self.opt_dir(fv),
            memory_mb=int(cfg.get("MemorySize", 128)),
            timeout=float(cfg.get("Timeout", 3)),
            ephemeral_mb=int((cfg.get("EphemeralStorage") or {}).get("Size", 512)),
            region=fv.region,
            env=env,
            log_group=str(
                (cfg.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{fv.name}"
            ),
            account_id=fv.account_id,
            uid=uid,
            gid=gid,
        )
        if cached is not None:
            await self.pool.retire(cached[1].key)
        self._specs[cache_key] = (now, spec)
        return spec

    async def _credentials(self, ctx: RequestContext, fv: FunctionVersion) -> dict[str, str]:
        """Temporary credentials for the function's role, from STS through the dispatcher."""
        role = str(fv.config.get("Role") or "")
        try:
            out = await self.dispatcher.call(
                ctx,
                "sts",
                "AssumeRole",
                {"RoleArn": role, "RoleSessionName": fv.name[:64], "DurationSeconds": 3600},
            )
            c = out["Credentials"]
            return {
                "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                "AWS_SESSION_TOKEN": c["SessionToken"],
            }
        except (ServiceError, KeyError) as err:
            log.warning(
                "no role credentials for %s (%s); using the account's test key", fv.name, err
            )
            return {"AWS_ACCESS_KEY_ID": fv.account_id, "AWS_SECRET_ACCESS_KEY": "test"}

    def reserved(self, fv: FunctionVersion) -> int | None:
        key = ("reserved", fv.account_id, fv.region, fv.name)
        if key in self._meta_cache:
            return self._meta_cache[key]  # type: ignore[no-any-return]
        row = self.db.query_one(
            "SELECT reserved_concurrency FROM function_meta WHERE account_id = ? AND region = ?"
            " AND name = ?",
            (fv.account_id, fv.region, fv.name),
        )
        value = None if row is None else row[0]
        self._meta_cache[key] = value
        return value

    def unreserved_limit(self, account_id: str, region: str) -> int:
        key = ("unreserved", account_id, region)
        if key in self._meta_cache:
            return self._meta_cache[key]  # type: ignore[no-any-return]
        row = self.db.query_one(
            "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM function_meta"
            " WHERE account_id = ? AND region = ?",
            (account_id, region),
        )
        value = self.pool.config.account_limit - int(row[0] if row else 0)
        self._meta_cache[key] = value
        return value

    # -- the Invoke operation -------------------------------------------------------------------

    async def invoke(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        """Invoke: RequestResponse, Event or DryRun, on a version or alias."""
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        payload = bytes(p.get("Payload") or b"")
        kind = p.get("InvocationType") or "RequestResponse"
        fv, alias = self.resolve_version(ref, cached=True)
        if alias is not None:
            routed = self.pick_routed_version(ref, alias, self.rng)  # type: ignore[attr-defined]
            if routed != fv.version:
                fv = self.require(ref, routed, cached=True)
        if fv.config.get("State") not in (None, "Active"):
            raise ResourceConflict(
                "The operation cannot be performed at this time. The function is currently in "
                f"the following state: {fv.config.get('State')}"
            )
        invoked_arn = function_arn(ref, ref.name, ref.qualifier or "")
        if kind == "DryRun":
            return {"StatusCode": 204}
        if kind == "Event":
            if len(payload) > MAX_ASYNC_PAYLOAD:
                raise RequestTooLarge(
                    f"Request must be smaller than {MAX_ASYNC_PAYLOAD} bytes for the "
                    "InvokeFunction operation"
                )
            _check_json(payload)
            self.enqueue_async(ctx, ref, fv.version, payload, invoked_arn)
            return {"StatusCode": 202}
        if len(payload) > MAX_SYNC_PAYLOAD:
            raise RequestTooLarge(
                f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction "
                "operation"
            )
        _check_json(payload)
        client_context = _client_context(p.get("ClientContext"))
        result = await self.execute(
            ctx, fv, payload, ctx.request_id, invoked_arn, client_context=client_context
        )
        out: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": fv.version,
            "Payload": result.payload,
        }
        if len(result.payload) > MAX_RESPONSE:
            out["Payload"] = orjson.dumps(
                {
                    "errorMessage": "Response payload size exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            )
            out["FunctionError"] = "Unhandled"
        elif result.error_type:
            out["FunctionError"] = result.error_type
        if p.get("LogType") == "Tail":
            text = self.log_text(result, fv.version).encode()
            out["LogResult"] = base64.b64encode(text[-TAIL_BYTES:]).decode()
        return out

    async def execute(
        self,
        ctx: RequestContext,
        fv: FunctionVersion,
        payload: bytes,
        request_id: str,
        invoked_arn: str,
        *,
        client_context: str | None = None,
    ) -> InvocationResult:
        """Run one invocation in the runtime and send its log to CloudWatch Logs."""
        spec = await self.spec_for(ctx, fv)
        reserved = self.reserved(fv)
        if reserved != spec.reserved_concurrency:
            spec = dataclasses.replace(spec, reserved_concurrency=reserved)
        inv = Invocation(
            request_id=request_id,
            payload=payload,
            invoked_arn=invoked_arn,
            trace_id=_trace_id(),
            client_context=client_context,
        )
        try:
            result = await self.pool.invoke(
                spec,
                inv,
                function_id=f"{fv.account_id}/{fv.region}/{fv.name}",
                unreserved_limit=self.unreserved_limit(fv.account_id, fv.region),
            )
        except ConcurrencyLimitExceeded as exc:
            raise TooManyRequests(exc.message, fields={"Reason": exc.reason}) from None
        except LaunchError as exc:
            doc = {"errorType": exc.error_type, "errorMessage": exc.message}
            result = InvocationResult(
                request_id=request_id,
                payload=orjson.dumps(doc),
                error_type="Unhandled",
                log=f"{exc.error_type}: {exc.message}\n",
                duration_ms=0.0,
                memory_mb=spec.memory_mb,
                max_memory_used_mb=0,
                init_duration_ms=None,
                status="error",
                runtime_error_type=exc.error_type,
                log_stream=datetime.now(UTC).strftime("%Y/%m/%d")
                + f"/[{fv.version}]"
                + secrets.token_hex(16),
            )
        self.send_logs(fv, spec, result)
        return result

    # -- logs -----------------------------------------------------------------------------------

    def report_lines(self, result: InvocationResult, version: str) -> tuple[str, str, str]:
        rid = result.request_id
        report = (
            f"REPORT RequestId: {rid}\tDuration: {result.duration_ms:.2f} ms\t"
            f"Billed Duration: {result.billed_ms} ms\tMemory Size: {result.memory_mb} MB\t"
            f"Max Memory Used: {result.max_memory_used_mb} MB\t"
        )
        if result.init_duration_ms is not None:
            report += f"Init Duration: {result.init_duration_ms:.2f} ms\t"
        if result.status:
            report += f"Status: {result.status}\t"
            if result.runtime_error_type:
                report += f"Error Type: {result.runtime_error_type}\t"
        return f"START RequestId: {rid} Version: {version}", f"END RequestId: {rid}", report

    def log_text(self, result: InvocationResult, version: str) -> str:
        """The invocation's log as one text (what LogType=Tail returns the end of)."""
        start, end, report = self.report_lines(result, version)
        body = result.log if not result.log or result.log.endswith("\n") else result.log + "\n"
        return f"{start}\n{body}{end}\n{report}\n"

    def send_logs(self, fv: FunctionVersion, spec: FunctionSpec, result: InvocationResult) -> None:
        now = int(time.time() * 1000)
        start, end, report = self.report_lines(result, fv.version)
        events: list[tuple[int, str]] = []
        if result.init_duration_ms is not None:
            events.append(
                (
                    now,
                    f"INIT_START Runtime Version: overcast-{spec.runtime}\t"
                    f"Runtime Version ARN: arn:aws:lambda:{fv.region}::runtime:"
                    f"overcast-{spec.runtime}",
                )
            )
            events += [(now, line) for line in _lines(result.init_log)]
        events.append((now, start))
        events += [(now, line) for line in _lines(result.log)]
        events += [(now, end), (now, report)]
        self.logs.write((fv.account_id, fv.region, spec.log_group, result.log_stream), events)

    # -- asynchronous invocation ----------------------------------------------------------------

    def enqueue_async(
        self,
        ctx: RequestContext,
        ref: FunctionRef,
        version: str,
        payload: bytes,
        invoked_arn: str,
        *,
        attempt_meta: dict[str, Any] | None = None,
    ) -> None:
        """Write the invocation to the durable outbox (it survives restarts)."""
        config = self.event_invoke_config(ref, ref.qualifier or LATEST)  # type: ignore[attr-defined]
        retries = int(config.get("MaximumRetryAttempts", 2))
        max_age = int(config.get("MaximumEventAgeInSeconds", 21600))
        policy = RetryPolicy(
            max_attempts=retries + 1,
            max_age_seconds=max_age,
            base_delay=self.async_retry_base,  # type: ignore[attr-defined]
            max_delay=max(self.async_retry_base * 4, 1.0),  # type: ignore[attr-defined]
        )
        body = {
            "function": ref.name,
            "qualifier": ref.qualifier or "",
            "version": version,
            "payload": payload,
            "invoked_arn": invoked_arn,
            "enqueued": time.time(),
        }
        with self.db.transaction():
            self.dispatcher.enqueue(
                self.db,
                Target(kind="handler", name=ASYNC_HANDLER),
                body,
                ctx=ctx,
                policy=policy,
                on_failure=Target(kind="handler", name=ASYNC_FAILURE),
            )

    async def async_invoke(self, ctx: RequestContext, body: dict[str, Any]) -> None:
        """The dispatch handler: one attempt of an asynchronous invocation."""
        ref = FunctionRef(ctx.account_id, ctx.region, body["function"], body["qualifier"] or None)
        fv = self.load(ref, body["version"])
        if fv is None:
            raise GiveUp(f"function {body['function']}:{body['version']} no longer exists")
        try:
            result = await self.execute(
                ctx, fv, bytes(body["payload"]), ctx.request_id, body["invoked_arn"]
            )
        except TooManyRequests as err:
            raise RetryLater(1.0, f"throttled: {err.message}") from None
        if result.error_type:
            raise AsyncFunctionError(
                orjson.dumps(
                    {
                        "payload": result.payload.decode("utf-8", "replace"),
                        "functionError": result.error_type,
                        "version": fv.version,
                    }
                ).decode()
            )
        await self._destination(  # type: ignore[attr-defined]
            ctx, ref, body, "Success", result.payload, None, fv.version, 1
        )


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line] if text else []


def _check_json(payload: bytes) -> None:
    if not payload:
        return
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None


def _client_context(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"
