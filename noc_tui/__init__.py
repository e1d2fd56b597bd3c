"""noc-tui: a terminal dashboard for VoIP NOC operators."""

__version__ = "0.1.0"
