"""analytics: what the figures mean and how to read them. Metric definitions
(docs/metrics.md) as queries over the cache (the inbound ones in inbound.py), the views
the screens and exports read (carrier list, carrier pages, call ladder and time line,
the calls behind a number), the list state and the export builders. It may import
`store`, `records` and `config`; never `sources`, `sync` or `ui`, and no Textual.
"""
