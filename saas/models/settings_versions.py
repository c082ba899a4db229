"""Version counters of settings that server processes keep a copy of (issue 9): a process reads
the counter in a statement it runs anyway and rebuilds its copy only when the counter moved
(saas.services.settings_versions)."""
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantModel

AUTO_REPLIES = "auto_replies"  # the automatic replies (saas.services.auto_replies.timed_rules)
# What a connecting visitor is offered (saas.services.visitor_offer): reception, departments,
# business hours, languages and their texts, the widget's look, the availability replies.
VISITOR_OFFER = "visitor_offer"
SETTINGS_WITH_VERSIONS = (AUTO_REPLIES, VISITOR_OFFER)


class SettingsVersion(TenantModel):
    """One row per setting in SETTINGS_WITH_VERSIONS, from the migration on; bumped in the
    transaction that changes the setting."""

    __tablename__ = "settings_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
