"""sync: what moves data into the cache. The poller (a source's pages -> parse -> store,
with its watermark, lock and run log) and the inbound part of a poll (inbound_poll.py),
the file importer (and record_files, which reads a file line by line so that a bad spot
costs only itself), the read-ahead that overlaps reading with storing, and doctor, which
checks a configured source (it reads the switch, never the cache). It drives `records`
(parse) into `store` (ingest) in one direction and may import `sources`, `store`,
`records`, `analytics` (to refresh the stored windows after a poll) and `config`; never
`ui`.
"""
