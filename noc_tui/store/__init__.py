"""store: the local SQLite cache. Its schema and migrations, ingest of validated records,
the hourly rollups kept at ingest, the failover link tables, the rate book that costs
calls, the status of the last poll, the records polls quarantined, and what the cache
keeps (retention.py: pruning); the inbound records with a row per delivery and hourly
rollups per trunk group (inbound.py). It may import `records` (and `config` for the metric
settings); never `analytics`, `sources`, `sync` or `ui`.
"""
