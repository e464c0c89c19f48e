"""HTTP API first-class AWS service integrations (AWS_PROXY with an IntegrationSubtype):
SQS, EventBridge and Step Functions operations called through the dispatcher, their parameters
taken from the integration's RequestParameters mapping."""

from __future__ import annotations

import json
from typing import Any

from overcast.services.apigateway.v2.mapping import resolve

# subtype → (service, operation, parameters that are lists/maps in the API's shape)
SUBTYPES: dict[str, tuple[str, str]] = {
    "SQS-SendMessage": ("sqs", "SendMessage"),
    "SQS-ReceiveMessage": ("sqs", "ReceiveMessage"),
    "SQS-DeleteMessage": ("sqs", "DeleteMessage"),
    "SQS-PurgeQueue": ("sqs", "PurgeQueue"),
    "EventBridge-PutEvents": ("events", "PutEvents"),
    "StepFunctions-StartExecution": ("stepfunctions", "StartExecution"),
    "StepFunctions-StartSyncExecution": ("stepfunctions", "StartSyncExecution"),
    "StepFunctions-StopExecution": ("stepfunctions", "StopExecution"),
}

_INTS = {"MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds", "DelaySeconds"}


def build_params(subtype: str, mapping: dict[str, str], sources: dict[str, Any]) -> dict[str, Any]:
    """The operation's parameters from the RequestParameters mapping."""
    values = {k: resolve(v, sources) for k, v in mapping.items()}
    if subtype == "EventBridge-PutEvents":
        entry: dict[str, Any] = {}
        for k in ("Detail", "DetailType", "Source", "EventBusName", "TraceHeader"):
            if values.get(k):
                entry[k] = values[k]
        if values.get("Resources"):
            entry["Resources"] = [r.strip() for r in values["Resources"].split(",") if r.strip()]
        return {"Entries": [entry]}
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k == "Region" or v == "":
            continue
        if k in _INTS:
            out[k] = int(v)
        elif k in ("MessageAttributes", "MessageSystemAttributes"):
            out[k] = json.loads(v)
        elif k in ("AttributeNames", "MessageAttributeNames"):
            out[k] = [a.strip() for a in v.split(",") if a.strip()]
        else:
            out[k] = v
    return out


def jsonable(value: Any) -> Any:
    """An operation's result as JSON (bytes and datetimes as strings)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
