"""services.json is what gen_services.py makes from the installed botocore, and its curated part
is complete."""

from __future__ import annotations

import json

from overcast.edge.detect import tables
from tests.edge.gen_services import DATA, build, render


def test_generated_tables_match_installed_botocore() -> None:
    data = json.loads(DATA.read_text())
    fresh = {**data, "generated": build(data["curated"])}
    assert render(fresh) == DATA.read_text(), "run: .venv/bin/python tests/edge/gen_services.py"


def test_every_family_defines_every_auth_error() -> None:
    errors = tables().curated["auth_errors"]
    kinds = set(errors["s3"])
    for family, table in errors.items():
        assert set(table) == kinds, family
        for code, status, message in table.values():
            assert code and status in (400, 403, 501) and message


def test_every_service_in_scope_has_a_family_and_a_signing_name() -> None:
    t = tables()
    for service in t.curated["in_scope"]:
        info = t.services[service]
        assert info["family"] in t.curated["auth_errors"]
        assert service in t.signing_names[info["signing_name"]]
