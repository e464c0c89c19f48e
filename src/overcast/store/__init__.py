"""The data directory: connections, transactions, migrations and blob files.

One SQLite database (WAL mode, synchronous=FULL) per service under the data directory, each with
named, append-only migrations; blob files written to a temporary file, fsynced and renamed into
place before the row that names them commits. Each service declares its own tables as
migrations and runs portable SQL through the connection a `Database` hands out inside
`transaction()` / `read()`; no other package opens a database or writes under the data
directory. Every service database also carries the `_outbox` table that `dispatch` reads, so a
delivery is written in the same transaction as its cause. `GroupCommit` lets writes issued
together on the event loop share one durable commit. Imports only `core`.
"""

from overcast.store.blobs import BlobStore
from overcast.store.db import Database, Migration, Store
from overcast.store.group import GroupCommit

__all__ = ["BlobStore", "Database", "GroupCommit", "Migration", "Store"]
