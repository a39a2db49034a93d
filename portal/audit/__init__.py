"""Append-only, tamper-evident audit log. Used by every feature; imports none of them."""

from portal.audit.service import Actor, record, verify

__all__ = ["Actor", "record", "verify"]
