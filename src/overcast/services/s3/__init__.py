"""S3: buckets and objects on disk (botocore service "s3", protocol rest-xml).

Requests arrive already parsed (params as boto3 names them, bodies de-chunked by the edge) at
`S3Provider` (provider.py), which is assembled from one mixin per concern: buckets.py (buckets and
their configuration sub-resources), objects.py (put/get/head/delete/copy), listing.py,
multipart.py, cors.py (rules and the OPTIONS preflight data plane) and lifecycle.py (rules and the
expiration sweeper). An upload's bytes go through ingest.py (MD5, checksum and durable write,
overlapped for large bodies): objects up to 64 KiB live in their metadata row and are durable with
the one commit that inserts it; larger ones are blob files in the store (`db.blobs`, named by
opaque ids, written tmp → fsync → rename) committed before the metadata row that names them.
Metadata lives in the service's SQLite database (schema.py), accessed through repo.py; small
writes join the store's group commit. Bucket rows and their configuration, read by every request,
are cached (cache.py) and dropped by every transaction that writes them. Imports store, dispatch
and core only.
"""
