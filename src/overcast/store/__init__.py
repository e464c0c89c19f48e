"""The only package that speaks SQL or touches the data directory.

One SQLite database (WAL mode, synchronous=FULL) per service under the data directory, each with
named, append-only migrations; blob files written to a temporary file, fsynced and renamed into
place before the row that names them commits. Every service database also carries the `_outbox`
table that `dispatch` reads, so a delivery is written in the same transaction as its cause.
Imports only `core`.
"""

from overcast.store.blobs import BlobStore
from overcast.store.db import Database, Migration, Store

__all__ = ["BlobStore", "Database", "Migration", "Store"]
