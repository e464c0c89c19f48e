"""Prints the protocol coverage table at the end of the run (collected by test_roundtrip)."""

from __future__ import annotations

from typing import Any

from tests.protocol.roundtrip import Coverage

REPORTS: list[Coverage] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORTS:
        return
    tr = terminalreporter
    tr.section("protocol round-trip coverage")
    total_ops = total_in = total_out = total_err = total_err_ok = 0
    for cov in sorted(REPORTS, key=lambda c: (c.service, c.protocol)):
        tr.write_line(
            f"{cov.service:18} {cov.protocol:19} operations {cov.operations:4}  "
            f"inputs {cov.inputs:4}  outputs {cov.outputs:4}  "
            f"errors {cov.errors:3}/{cov.error_shapes:<3}"
        )
        total_ops += cov.operations
        total_in += cov.inputs
        total_out += cov.outputs
        total_err += cov.error_shapes
        total_err_ok += cov.errors
    tr.write_line(
        f"{'TOTAL':38} operations {total_ops:4}  inputs {total_in:4}  outputs {total_out:4}  "
        f"errors {total_err_ok:3}/{total_err}"
    )
    for cov in REPORTS:
        for op, reason in sorted(cov.not_covered.items()):
            tr.write_line(f"not covered: {cov.service}.{op} ({cov.protocol}): {reason}")
        for op, twin in sorted(cov.twins.items()):
            tr.write_line(
                f"routed to twin: {cov.service}.{op} arrives as {twin} (same wire form; "
                "parsed with its own shape)"
            )
