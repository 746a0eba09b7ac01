"""The events a payment platform can be told of: one list, read by the policy file (``notify``),
the hold lifecycle (what each transition announces) and the webhooks (what a tenant may
subscribe to)."""

from __future__ import annotations

# In the order of a hold's life: held, then one of the four ends.
HOLD_EVENTS = ("otp.held", "otp.released", "otp.cancelled", "otp.expired", "otp.failed")
RISK_EVENTS = ("risk.sim_swap", "risk.call_forwarding", "risk.routing_anomaly")
EVENT_TYPES = HOLD_EVENTS + RISK_EVENTS
# Sent to one endpoint when its tenant asks (POST /v1/webhooks/{id}/test), whatever it
# subscribed to; never subscribable, so a receiver cannot take it for a real hold.
TEST_EVENT = "webhook.test"
