"""store: the local SQLite cache. Its schema and migrations, ingest of validated records,
the hourly rollups kept at ingest, the failover link tables, the rate book that costs
calls, and the status of the last poll. It may import `records` (and `config` for the
metric settings); never `analytics`, `sources`, `sync` or `ui`.
"""
