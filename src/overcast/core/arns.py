"""Building and reading ARNs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def arn(service: str, region: str, account: str, resource: str, partition: str = "aws") -> str:
    """`arn:aws:{service}:{region}:{account}:{resource}`."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def parse_arn(value: str) -> Arn:
    """Split an ARN into its parts; raises ValueError if it is not one."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {value!r}")
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])
