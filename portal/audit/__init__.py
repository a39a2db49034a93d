"""Append-only, tamper-evident audit log. Used by every feature; imports none of them."""

from portal.audit.service import Actor, Subject, record, record_many, verify

__all__ = ["Actor", "Subject", "record", "record_many", "verify"]
