"""store: the local SQLite cache. Its schema and migrations, ingest of validated records,
the hourly rollups kept at ingest, the failover link tables, the rate book that costs
calls, the status of the last poll and the records polls quarantined. It may import
`records` (and `config` for the metric settings); never `analytics`, `sources`, `sync`
or `ui`.
"""
