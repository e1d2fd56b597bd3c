"""alerts: alarms sent to people beyond the dashboard. A configured command and a
webhook (plain JSON, Slack, PagerDuty), each with a timeout and retries, in a thread of
its own so that neither a poll nor the dashboard waits on them. It may import `store`
(to note how a delivery went), `analytics`, `records` and `config`; `sync` (the
poller), `ui` and the command line use it. No Textual here.
"""
