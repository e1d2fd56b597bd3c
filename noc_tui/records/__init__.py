"""records: what a record is. The record formats shared by import files, the switch API
and every source (carriers, contacts, rates, attempts; and, in inbound.py, trunk groups,
DIDs, registration events and delivery attempts, with what a delivery amounts to), their
validation and the rejection of a bad record with its place and reason; the fast attempt
parser; the definition of a failover link between two attempts of a call; time and
duration parsing. The bottom layer: it imports nothing else of noc_tui. What parsing
needs from the cache (the rates that cost a call) is handed in by the caller.
"""
