"""The outbox: alerts, digests and notices, each written before it is posted to Slack, and
posted at most once by one shared claim / lease / retry mechanism (queue.py)."""
