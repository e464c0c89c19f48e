"""Where asynchronous invocations end up: destinations (OnSuccess/OnFailure) and dead-letter
queues. A function destination is another asynchronous invocation; queues, topics and buses are
reached through the dispatcher when those services exist."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.services.lambda_.base import LATEST, FunctionRef, LambdaBase, function_arn

log = logging.getLogger("overcast.lambda")


class DestinationsMixin(LambdaBase):
    async def async_failure(self, ctx: RequestContext, letter: dict[str, Any]) -> None:
        """The dispatch failure target: retries are exhausted (or the event is too old)."""
        body = letter["payload"]
        ref = FunctionRef(ctx.account_id, ctx.region, body["function"], body["qualifier"] or None)
        message = str((letter.get("error") or {}).get("message", ""))
        try:
            detail = orjson.loads(message)
        except orjson.JSONDecodeError:
            detail = {
                "payload": orjson.dumps({"errorMessage": message}).decode(),
                "functionError": "Unhandled",
                "version": body["version"],
            }
        attempts = int(letter.get("attempts") or 1)
        age = time.time() - float(body.get("enqueued") or time.time())
        config = self.event_invoke_config(ref, ref.qualifier or LATEST)  # type: ignore[attr-defined]
        condition = (
            "EventAgeExceeded"
            if age >= int(config.get("MaximumEventAgeInSeconds", 21600))
            else "RetriesExhausted"
        )
        response = detail["payload"].encode()
        await self._destination(
            ctx,
            ref,
            body,
            "Failure",
            response,
            detail["functionError"],
            detail["version"],
            attempts,
            condition=condition,
        )
        fv = self.load(ref)
        dlq = ((fv.config.get("DeadLetterConfig") or {}).get("TargetArn")) if fv else None
        if dlq:
            await self.send_to_target(
                ctx,
                dlq,
                bytes(body["payload"]).decode("utf-8", "replace"),
                {
                    "RequestID": ctx.request_id,
                    "ErrorCode": "200",
                    "ErrorMessage": detail["payload"][:1000],
                },
            )

    async def _destination(
        self,
        ctx: RequestContext,
        ref: FunctionRef,
        body: dict[str, Any],
        outcome: str,
        response: bytes,
        function_error: str | None,
        version: str,
        attempts: int,
        *,
        condition: str = "Success",
    ) -> None:
        config = self.event_invoke_config(ref, ref.qualifier or LATEST)  # type: ignore[attr-defined]
        dest = ((config.get("DestinationConfig") or {}).get(f"On{outcome}") or {}).get(
            "Destination"
        )
        if not dest:
            return
        try:
            request_payload = orjson.loads(bytes(body["payload"]) or b"null")
        except orjson.JSONDecodeError:
            request_payload = bytes(body["payload"]).decode("utf-8", "replace")
        try:
            response_payload = orjson.loads(response or b"null")
        except orjson.JSONDecodeError:
            response_payload = response.decode("utf-8", "replace")
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": version}
        if function_error:
            response_context["functionError"] = function_error
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "requestContext": {
                "requestId": ctx.request_id,
                "functionArn": function_arn(ref, ref.name, ref.qualifier or LATEST),
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "requestPayload": request_payload,
            "responseContext": response_context,
            "responsePayload": response_payload,
        }
        await self.send_to_target(ctx, dest, orjson.dumps(record).decode(), None)

    async def send_to_target(
        self, ctx: RequestContext, target_arn: str, message: str, attributes: dict[str, str] | None
    ) -> None:
        """Deliver a destination record or dead letter: another function (asynchronously), or
        a queue, topic or bus through the dispatcher when that service exists."""
        parts = target_arn.split(":")
        service = parts[2] if len(parts) > 5 else ""
        try:
            if service == "lambda":
                dest_ref = self.ref(ctx, target_arn)
                dest_fv, _ = self.resolve_version(dest_ref)
                self.enqueue_async(  # type: ignore[attr-defined]
                    ctx,
                    dest_ref,
                    dest_fv.version,
                    message.encode(),
                    function_arn(dest_ref, dest_ref.name, dest_ref.qualifier or ""),
                )
            elif service == "sqs":
                url = await self.dispatcher.call(
                    ctx,
                    "sqs",
                    "GetQueueUrl",
                    {"QueueName": parts[5], "QueueOwnerAWSAccountId": parts[4]},
                )
                params: dict[str, Any] = {"QueueUrl": url["QueueUrl"], "MessageBody": message}
                if attributes:
                    params["MessageAttributes"] = {
                        k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
                    }
                await self.dispatcher.call(ctx, "sqs", "SendMessage", params)
            elif service == "sns":
                await self.dispatcher.call(
                    ctx, "sns", "Publish", {"TopicArn": target_arn, "Message": message}
                )
            elif service == "events":
                await self.dispatcher.call(
                    ctx,
                    "events",
                    "PutEvents",
                    {
                        "Entries": [
                            {
                                "EventBusName": target_arn,
                                "Source": "lambda",
                                "DetailType": "Lambda Function Invocation Result",
                                "Detail": message,
                            }
                        ]
                    },
                )
            else:
                log.error("unsupported destination %s; record dropped: %s", target_arn, message)
        except ServiceError as err:
            log.error(
                "could not deliver to destination %s: %s; record: %s",
                target_arn,
                err,
                message[:2000],
            )
            raise
