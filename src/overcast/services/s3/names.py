"""S3's bucket naming rules (general purpose buckets)."""

from __future__ import annotations

import ipaddress
import re

from overcast.services.s3.errors import InvalidBucketName

_CHARS = re.compile(r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid bucket name, or None if it is."""
    if not 3 <= len(name) <= 63:
        return "Bucket name must be between 3 and 63 characters long"
    if not _CHARS.match(name):
        return (
            "Bucket name can consist only of lowercase letters, numbers, periods and hyphens, "
            "and must begin and end with a letter or number"
        )
    if ".." in name:
        return "Bucket name must not contain two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
        return "Bucket name must not be formatted as an IP address"
    except ValueError:
        pass
    if name.startswith(_PREFIXES) or name.endswith(_SUFFIXES):
        return "Bucket name uses a reserved prefix or suffix"
    return None


def check_bucket_name(name: str) -> None:
    """Raise InvalidBucketName (S3's message, with the name) unless `name` follows the rules."""
    if bucket_name_problem(name) is not None:
        raise InvalidBucketName(BucketName=name)
