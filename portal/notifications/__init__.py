"""Mail outbox, mail templates, reminders and the worker loop. Used by every feature;
imports none of them."""

from portal.notifications.mail import Mail, practice_url
from portal.notifications.service import enqueue, enqueue_many

__all__ = ["Mail", "enqueue", "enqueue_many", "practice_url"]
