"""Which AWS service a request is for, the way AWS's front door tells: by the SigV4 credential
scope first, then X-Amz-Target, the RPCv2 path, the query Action and Version, the REST path, and
S3 for anything else.

The lookup tables come from `services.json` (generated from botocore's models plus a curated
section) and are built once; `detect` itself is a handful of dict lookups.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from overcast.core.context import DEFAULT_REGION
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest
from overcast.core.memo import Memo

_DATA_FILE = Path(__file__).with_name("services.json")
_FORM = "application/x-www-form-urlencoded"
_V4_CREDENTIAL = "AWS4-HMAC-SHA256 Credential="
# Bodies of unsigned query requests (STS AssumeRoleWithWebIdentity...) are small; a larger form
# body is not worth parsing just to look for an Action.
_MAX_FORM_SCAN = 1 << 20


@dataclass(frozen=True, slots=True)
class Detection:
    """The service a request is for and what the request says about its caller."""

    service: str
    protocol: str | None
    region: str
    access_key_id: str | None
    s3_bucket_host: str | None


class UnrecognizedService(ServiceError):
    """Nothing in the request names a service Overcast can route."""

    code = "UnrecognizedService"
    status = 400


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    segments: tuple[str, ...]  # literal, "{}" for one label, "{+}" for a greedy label
    service: str


@dataclass(frozen=True, slots=True)
class Tables:
    """The lookup tables, built once from services.json."""

    curated: dict[str, Any]
    services: dict[str, dict[str, Any]]
    signing_names: dict[str, tuple[str, ...]]
    target_prefixes: dict[str, str]
    query_versions: dict[str, str]
    query_actions: dict[str, str]
    routes: dict[str, tuple[_Route, ...]]
    route_services: dict[str, frozenset[str]]
    fallback: str

    def family(self, service: str) -> str:
        """The auth-error family ("s3", "query", "json", "rest-json") of a service."""
        info = self.services.get(service)
        return info["family"] if info else "json"


def _compile_route(method: str, uri: str, service: str) -> _Route:
    segs: list[str] = []
    for seg in uri.strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("+}"):
            segs.append("{+}")
        elif seg.startswith("{") and seg.endswith("}"):
            segs.append("{}")
        else:
            segs.append(seg)
    return _Route(method, tuple(segs), service)


@cache
def tables() -> Tables:
    """Load services.json and build the lookup tables (once per process)."""
    data = json.loads(_DATA_FILE.read_text())
    curated, gen = data["curated"], data["generated"]
    signing = {k: tuple(v) for k, v in gen["signing_names"].items()}
    for alias, target in curated.get("signing_aliases", {}).items():
        signing[alias] = signing[target]
    routes: dict[str, tuple[_Route, ...]] = {}
    route_services: dict[str, frozenset[str]] = {}
    for first, entries in gen["rest_routes"].items():
        routes[first] = tuple(_compile_route(m, uri, svc) for m, uri, svc, *_ in entries)
        route_services[first] = frozenset(r.service for r in routes[first])
    return Tables(
        curated=curated,
        services=gen["services"],
        signing_names=signing,
        target_prefixes=gen["target_prefixes"],
        query_versions=gen["query_versions"],
        query_actions=gen["query_actions"],
        routes=routes,
        route_services=route_services,
        fallback=curated.get("fallback_service", "s3"),
    )


def is_data_plane(req: HttpRequest) -> bool:
    """True for requests the edge serves itself rather than as an AWS API call: Overcast's own
    endpoints (`/_overcast/`), the path forms of API Gateway stages and function URLs (`/_aws/`),
    and the host forms `{id}.execute-api.*` and `{id}.lambda-url.*`."""
    path = req.path
    if path.startswith("/_overcast/") or path.startswith("/_aws/") or path == "/_overcast":
        return True
    host = req.headers.get("host", "")
    return ".execute-api." in host or ".lambda-url." in host


# SigV4 credential scopes seen (a client signs with one per day and region), split; bounded.
_v4_scopes: Memo[str, tuple[str | None, str | None, str | None]] = Memo()


def scope_of(req: HttpRequest) -> tuple[str | None, str | None, str | None]:
    """(access key id, region, signing name) as the request's signature states them, without
    checking anything; (None, None, None) for an unsigned request. SigV2 gives no region and no
    signing name."""
    auth = req.headers.get("authorization")
    if auth:
        if auth.startswith("AWS4-"):
            i = auth.find("Credential=")
            if i < 0:
                return None, None, None
            cred = auth[i + 11 :]
            end = cred.find(",")
            if end >= 0:
                cred = cred[:end]
            if auth.startswith("AWS4-ECDSA"):
                return _split_credential(cred.strip(), True, req)
            found = _v4_scopes.get(cred)
            if found is None:
                found = _v4_scopes.remember(cred, _split_credential(cred.strip(), False, req))
            return found
        if auth.startswith("AWS "):
            return auth[4:].partition(":")[0].strip() or None, None, None
        return None, None, None
    qs = req.query_string
    if not qs:
        return None, None, None
    if "X-Amz-Credential=" in qs:
        for name, value in parse_qsl(qs, keep_blank_values=True):
            if name == "X-Amz-Credential":
                v4a = "X-Amz-Algorithm=AWS4-ECDSA" in qs
                return _split_credential(value, v4a, req)
    if "AWSAccessKeyId=" in qs:
        for name, value in parse_qsl(qs, keep_blank_values=True):
            if name == "AWSAccessKeyId":
                return value or None, None, None
    return None, None, None


def _split_credential(
    cred: str, v4a: bool, req: HttpRequest
) -> tuple[str | None, str | None, str | None]:
    parts = cred.split("/")
    if v4a:
        # SigV4a scopes carry no region: AK/date/service/aws4_request (+ X-Amz-Region-Set).
        if len(parts) < 4:
            return parts[0] or None, None, None
        region_set = req.headers.get("x-amz-region-set", "")
        region = region_set.split(",")[0].strip() if region_set and "*" not in region_set else None
        return parts[-4] or None, region, parts[-2]
    if len(parts) < 5:
        return parts[0] or None, None, None
    # Access key ids contain no "/", but be exact about the tail of the scope.
    return "/".join(parts[:-4]) or None, parts[-3] or None, parts[-2] or None


def detect(req: HttpRequest) -> Detection:
    """Name the service (botocore's name), its wire protocol where it speaks several, the region
    and access key from the signature, and the bucket of a virtual-host S3 request."""
    auth = req.headers.get("authorization")
    head = None
    if auth is not None:
        # Most requests: a credential scope seen before whose signing name alone decides, or
        # which, with the X-Amz-Target, does (DynamoDB and its Streams share a signing name).
        # The key is the header up to its first comma: `AWS4-HMAC-SHA256 Credential=<scope>`
        # whole (only such heads are remembered; they name the scope exactly).
        head = auth.partition(",")[0]
        found = _by_credential.get(head)
        if found is not None:
            return found
        target = req.headers.get("x-amz-target")
        if target is not None:
            found = _by_credential_target.get((head, target))
            if found is not None:
                return found
        if not head.startswith(_V4_CREDENTIAL):
            head = None
    t = tables()
    access_key, region, signing = scope_of(req)
    if signing:
        simple = _simple.get(signing)
        if simple is None:
            simple = _simple[signing] = _simple_service(t, signing)
        if simple:  # the signing name alone decides, and the service speaks one protocol
            d = Detection(simple, None, region or DEFAULT_REGION, access_key, None)
            if head is not None:
                _by_credential.remember(head, d)
            return d
    target = req.headers.get("x-amz-target")
    if signing:
        service = _by_signing_name(t, signing, req, target)
    else:
        service = _unsigned(t, req, target)
    protocol = None
    info = t.services.get(service)
    if info is not None and len(info["protocols"]) > 1:
        protocol = _protocol(req, target, info["protocols"])
    bucket = bucket_from_host(req.headers.get("host", "")) if service == "s3" else None
    d = Detection(service, protocol, region or DEFAULT_REGION, access_key, bucket)
    if (
        head is not None
        and target
        and protocol is None
        and service != "s3"
        and t.target_prefixes.get(target.partition(".")[0]) == service
    ):
        # The target's prefix decided among the signing name's services: so it will again.
        _by_credential_target.remember((head, target), d)
    return d


# Detections that follow from a SigV4 credential scope alone (see `_simple`), by the text of
# the Authorization header up to its first comma (`AWS4-HMAC-SHA256 Credential=<scope>`).
# Detections are immutable, so one object serves every request.
_by_credential: Memo[str, Detection] = Memo()


# The same for detections that the credential scope and the X-Amz-Target decide together.
_by_credential_target: Memo[tuple[str, str], Detection] = Memo()


# By signing name: the service when the name alone decides detection (one service signs with it,
# and it speaks one protocol and is not S3), else "". Filled as names are seen.
_simple: dict[str, str] = {}


def _simple_service(t: Tables, signing: str) -> str:
    candidates = t.signing_names.get(signing)
    if candidates is None or len(candidates) != 1 or candidates[0] == "s3":
        return ""
    info = t.services.get(candidates[0])
    return candidates[0] if info is not None and len(info["protocols"]) == 1 else ""


def _by_signing_name(t: Tables, signing: str, req: HttpRequest, target: str | None) -> str:
    candidates = t.signing_names.get(signing)
    if candidates is None:
        # A signing name botocore does not know: trust a known target or RPCv2 path, else refuse.
        found = _by_target(t, req, target)
        if found is None:
            raise UnrecognizedService(
                f"Overcast does not recognize the service '{signing}' named in the request's "
                "credential scope."
            )
        return found
    if len(candidates) == 1:
        return candidates[0]
    # Several services sign with this name (dynamodb/dynamodbstreams, apigateway/apigatewayv2).
    found = _by_target(t, req, target)
    if found in candidates:
        return found
    owners = t.route_services.get(_first_segment(req.path))
    if owners:
        ours = [c for c in candidates if c in owners]
        if len(ours) == 1:
            return ours[0]
    return candidates[0]


def _by_target(t: Tables, req: HttpRequest, target: str | None) -> str | None:
    if target:
        found = t.target_prefixes.get(target.partition(".")[0])
        if found:
            return found
    path = req.path
    if path.startswith("/service/"):
        # Smithy RPCv2: /service/{ServiceShape}/operation/{Operation}
        return t.target_prefixes.get(path.split("/", 3)[2])
    return None


def _unsigned(t: Tables, req: HttpRequest, target: str | None) -> str:
    found = _by_target(t, req, target)
    if found:
        return found
    found = _by_query_action(t, req)
    if found:
        return found
    found = _by_route(t, req)
    if found:
        return found
    return t.fallback


def _by_query_action(t: Tables, req: HttpRequest) -> str | None:
    params: list[tuple[str, str]] | None = None
    if "Action=" in req.query_string:
        params = parse_qsl(req.query_string, keep_blank_values=True)
    elif (
        req.method == "POST"
        and req.headers.get("content-type", "").startswith(_FORM)
        and len(req.body) <= _MAX_FORM_SCAN
        and b"Action=" in req.body
    ):
        params = parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    if not params:
        return None
    action = version = None
    for name, value in params:
        if name == "Action":
            action = value
        elif name == "Version":
            version = value
    if version and version in t.query_versions:
        return t.query_versions[version]
    if action:
        return t.query_actions.get(action)
    return None


def _first_segment(path: str) -> str:
    start = 1 if path.startswith("/") else 0
    end = path.find("/", start)
    return path[start:] if end < 0 else path[start:end]


def _by_route(t: Tables, req: HttpRequest) -> str | None:
    routes = t.routes.get(_first_segment(req.path))
    if not routes:
        return None
    segments = req.path.strip("/").split("/")
    matched = {
        r.service for r in routes if r.method == req.method and _matches(r.segments, segments)
    }
    if len(matched) == 1:
        return matched.pop()
    if len(matched) > 1:
        # A prefix shared by several services (`/tags/{arn}`): the ARN names the service.
        return _service_of_arn(t, segments[1] if len(segments) > 1 else "", matched)
    return None


def _matches(template: tuple[str, ...], segments: list[str]) -> bool:
    for i, tpl in enumerate(template):
        if tpl == "{+}":
            return len(segments) > i and all(segments[i:])
        if i >= len(segments):
            return False
        if tpl == "{}":
            if not segments[i]:
                return False
        elif tpl != segments[i]:
            return False
    return len(segments) == len(template)


def _service_of_arn(t: Tables, segment: str, matched: set[str]) -> str | None:
    parts = unquote(segment).split(":")
    if len(parts) < 3 or parts[0] != "arn":
        return None
    for candidate in t.signing_names.get(parts[2], ()):
        if candidate in matched:
            return candidate
    return None


def _protocol(req: HttpRequest, target: str | None, protocols: list[str]) -> str:
    """Which of a multi-protocol service's wire forms this request uses."""
    headers = req.headers
    if "smithy-rpc-v2-cbor" in protocols and (
        headers.get("smithy-protocol") == "rpc-v2-cbor" or req.path.startswith("/service/")
    ):
        return "smithy-rpc-v2-cbor"
    if "json" in protocols and (
        target or headers.get("content-type", "").startswith("application/x-amz-json")
    ):
        return "json"
    if "query" in protocols:
        return "query"
    return protocols[0]


def bucket_from_host(host: str) -> str | None:
    """The bucket a virtual-hosted S3 request names in its Host, or None for path style:
    `b.s3.localhost:4566`, `b.localhost:4566`, `b.s3.amazonaws.com`, `b.s3.us-east-1.amazonaws.com`,
    `b.s3-us-west-2.amazonaws.com`, `b.s3.<anything>`."""
    if not host or host.startswith("["):
        return None
    name = host.rpartition(":")[0] if ":" in host else host
    name = name.rstrip(".").lower()
    labels = name.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return None  # a bare host name or an IPv4 literal
    if labels[-1] == "localhost":
        end = len(labels) - 1
        for i in range(end - 1, -1, -1):
            if labels[i] == "s3":
                end = i
                break
        return ".".join(labels[:end]) or None
    aws = len(labels) >= 3 and labels[-2] == "amazonaws"
    for i in range(len(labels) - 2, -1, -1):
        label = labels[i]
        if label == "s3" or (aws and label.startswith("s3-") and not label.startswith(_NOT_BUCKET)):
            return ".".join(labels[:i]) or None
    return None


# Host labels that look like a legacy `s3-<region>` endpoint but address something other than a
# bucket.
_NOT_BUCKET = ("s3-accesspoint", "s3-object-lambda", "s3-control", "s3-outposts")
