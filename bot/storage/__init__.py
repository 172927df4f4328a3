"""paperbot's storage: one Store whose parts each keep one concern (see ARCHITECTURE.md).

SQL lives only in this package. The rest of the bot gets a Store passed in and calls its
parts, such as `store.papers.get(paper_id)` or `store.alerts.claim(limit)`.
"""

from bot.storage.database import StoreError
from bot.storage.postgresql import shown
from bot.storage.records import Delivery, DigestRun, Notice, Subscription, UpsertResult
from bot.storage.store import Store, made_by, require_existing

__all__ = [
    "Delivery",
    "DigestRun",
    "Notice",
    "Store",
    "StoreError",
    "Subscription",
    "UpsertResult",
    "made_by",
    "require_existing",
    "shown",
]
