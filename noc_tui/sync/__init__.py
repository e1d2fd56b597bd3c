"""sync: what moves data into the cache. The poller (a source's pages -> parse -> store,
with its watermark, lock and run log), the file importer, and the read-ahead that
overlaps reading with storing. It drives `records` (parse) into `store` (ingest) in one
direction and may import `sources`, `store`, `records`, `analytics` (to refresh the
stored windows after a poll) and `config`; never `ui`.
"""
