"""The carrier screen and its parts, one module each.

screen.py composes them and runs them: it reads each part from the cache in a worker
the first time its tab is shown (and again when new data arrives), hands what was read
to the part, and turns keys into tab changes and reloads. head.py is the facts and
sparklines atop every tab; part.py what every tab is (CarrierPart); contacts, rates,
consistency, failures, summary and failover are the tabs, each with its columns, its
read of the cache, how it shows it, and its styles (DEFAULT_CSS, a few lines).
"""
