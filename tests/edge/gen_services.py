"""Rebuild the "generated" section of src/overcast/edge/services.json from botocore's models.

Run from the repository root:  .venv/bin/python tests/edge/gen_services.py
The "curated" section (hand-kept facts: aliases, auth error codes per family, ...) is kept as it is.
tests/edge/test_services_data.py fails when the file is out of date with the installed botocore.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.session

DATA = Path(__file__).resolve().parents[2] / "src" / "overcast" / "edge" / "services.json"


def _family(metadata: dict[str, Any]) -> str:
    """Which table of auth error codes a service answers with (see curated.auth_errors)."""
    protocol = metadata["protocol"]
    if protocol == "query" or "awsQueryCompatible" in metadata:
        return "query"
    if protocol == "rest-xml":
        return "s3"
    if protocol == "rest-json":
        return "rest-json"
    return "json"


def _is_unsigned(op: dict[str, Any]) -> bool:
    return op.get("authtype") == "none" or op.get("auth") == ["smithy.api#noAuth"]


def build(curated: dict[str, Any]) -> dict[str, Any]:
    """The generated tables, from the botocore models installed here."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    in_scope: list[str] = curated["in_scope"]

    # Signing name -> services signing with it. In-scope services first (in curated order): the
    # first entry is the default when nothing else tells them apart; out-of-scope services are kept
    # only for signing names no in-scope service uses, so their requests can be named in errors.
    by_signing: dict[str, list[str]] = {}
    for name in session.get_available_services():
        md = loader.load_service_model(name, "service-2")["metadata"]
        by_signing.setdefault(md.get("signingName") or md["endpointPrefix"], []).append(name)
    signing_names: dict[str, list[str]] = {}
    for signing, names in sorted(by_signing.items()):
        ours = [s for s in in_scope if s in names]
        if ours:
            signing_names[signing] = ours
        else:
            names.sort(key=lambda n: (n != signing, n))
            signing_names[signing] = names[:1]

    services: dict[str, Any] = {}
    target_prefixes: dict[str, str] = {}
    query_versions: dict[str, str] = {}
    action_owners: dict[str, set[str]] = {}
    rest_routes: dict[str, list[list[str]]] = {}
    for svc in in_scope:
        model = loader.load_service_model(svc, "service-2")
        md = model["metadata"]
        protocols = list(md.get("protocols") or [md["protocol"]])
        for extra in curated.get("extra_protocols", {}).get(svc, []):
            if extra not in protocols:
                protocols.append(extra)
        ops = model["operations"]
        services[svc] = {
            "signing_name": md.get("signingName") or md["endpointPrefix"],
            "protocols": protocols,
            "family": _family(md),
            "api_version": md["apiVersion"],
            "unsigned_operations": sorted(n for n, op in ops.items() if _is_unsigned(op)),
        }
        if "targetPrefix" in md:
            target_prefixes[md["targetPrefix"]] = svc
        if "query" in protocols:
            query_versions[md["apiVersion"]] = svc
            for name in ops:
                action_owners.setdefault(name, set()).add(svc)
        if md["protocol"] == "rest-json":
            for name, op in sorted(ops.items()):
                uri = op["http"]["requestUri"].split("?")[0]
                first = uri.strip("/").split("/")[0]
                rest_routes.setdefault(first, []).append([op["http"]["method"], uri, svc, name])
    query_actions = {a: next(iter(o)) for a, o in sorted(action_owners.items()) if len(o) == 1}
    return {
        "botocore_version": botocore.__version__,
        "signing_names": signing_names,
        "services": services,
        "target_prefixes": dict(sorted(target_prefixes.items())),
        "query_versions": dict(sorted(query_versions.items())),
        "query_actions": query_actions,
        "rest_routes": dict(sorted(rest_routes.items())),
    }


def render(data: dict[str, Any]) -> str:
    """The file's text, stable so that regeneration makes no diff when nothing changed."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    data = json.loads(DATA.read_text())
    data["generated"] = build(data["curated"])
    DATA.write_text(render(data))
    print(f"wrote {DATA}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
