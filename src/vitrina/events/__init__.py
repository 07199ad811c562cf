"""Events and webhooks (API.md §8): the outbox reader, webhook subscriptions and deliveries, the delivery
worker (``worker``), the SSRF guard (``ssrf``), Standard Webhooks signatures (``signing``) and the live
Server-Sent Events stream (``stream``). Events are written by ``vitrina.core.outbox.emit``."""
