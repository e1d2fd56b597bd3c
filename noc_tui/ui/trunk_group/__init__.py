"""The trunk-group screen (Enter on the trunk-group list): one module per tab (DIDs,
Deliveries, Registrations, Findings, Summary), the screen that holds them, and a
delivery's chain (Enter on a delivery)."""
