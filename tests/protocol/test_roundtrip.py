"""Every operation of every service in scope, against botocore itself (see roundtrip.py)."""

from __future__ import annotations

import pytest

from tests.protocol.conftest import REPORTS
from tests.protocol.roundtrip import cases, run


@pytest.mark.parametrize(("service", "protocol"), cases(), ids=lambda v: str(v))
def test_botocore_round_trip(service: str, protocol: str) -> None:
    cov = run(service, protocol)
    REPORTS.append(cov)
    print(
        f"{service} {protocol}: {cov.operations} operations, {cov.inputs} inputs, "
        f"{cov.outputs} outputs, {cov.errors}/{cov.error_shapes} errors"
    )
    for op, reason in cov.not_covered.items():
        print(f"  not covered: {op}: {reason}")
    assert not cov.failures, f"{len(cov.failures)} failures:\n\n" + "\n\n".join(cov.failures)
