"""Function code and layers on disk: zips are blobs in the store (the truth); extracted folders
are a cache under the runtime's work root, rebuilt from the blobs whenever missing.

When functions run as unprivileged users, a function's folders belong to its own group and are
closed to everyone else, so no function can read another's code.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

from overcast.services.lambda_.errors import InvalidParameterValue

MAX_ZIP_DIRECT = 50 * 1024 * 1024  # ZipFile in the request
MAX_UNZIPPED = 250 * 1024 * 1024


def sha256_b64(data: bytes) -> str:
    """CodeSha256 as AWS reports it: base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def check_zip(data: bytes) -> None:
    """Reject what is not a readable zip, or unzips too large, with AWS's errors."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    if total > MAX_UNZIPPED:
        raise InvalidParameterValue(f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes")


def extract(data: bytes, dest: Path, owner_gid: int | None) -> None:
    """Unzip into `dest` (atomically: a temporary folder renamed into place), keeping the
    executable bits the zip recorded and refusing paths that leave the folder."""
    if dest.exists():
        return
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    root = tmp.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            target = (root / info.filename).resolve()
            if target != root and root not in target.parents:
                continue  # a "../" entry: never written outside the folder
            mode = (info.external_attr >> 16) & 0o777
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if stat.S_ISLNK(info.external_attr >> 16):
                link = zf.read(info).decode()
                if not os.path.isabs(link):
                    target.symlink_to(link)
                continue
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            executable = bool(mode & 0o111)
            os.chmod(target, 0o755 if executable else 0o644)
    _restrict(tmp, owner_gid)
    try:
        os.replace(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another worker extracted it first
        if not dest.exists():
            raise


def merge_layers(layers: list[tuple[str, bytes]], dest: Path, owner_gid: int | None) -> None:
    """Extract layers in order into one folder (later layers overwrite earlier files), as
    AWS builds /opt."""
    if dest.exists():
        return
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for i, (_, data) in enumerate(layers):
        part = tmp.with_name(tmp.name + f".{i}")
        shutil.rmtree(part, ignore_errors=True)
        extract(data, part, None)
        shutil.copytree(part, tmp, symlinks=True, dirs_exist_ok=True)
        shutil.rmtree(part, ignore_errors=True)
    _restrict(tmp, owner_gid)
    try:
        os.replace(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not dest.exists():
            raise


def _restrict(folder: Path, gid: int | None) -> None:
    """Readable by the function's group only (when functions run as their own users)."""
    if gid is None:
        return
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            if os.path.islink(p):
                continue
            os.chown(p, 0, gid)
            mode = os.stat(p).st_mode
            os.chmod(p, (mode & 0o750) | 0o040 | (0o010 if stat.S_ISDIR(mode) else 0))
    os.chown(folder, 0, gid)
    os.chmod(folder, 0o750)
