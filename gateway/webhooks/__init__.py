"""Webhooks to tenants: signing, the SSRF guard, sending, the outbox and subscriptions."""
