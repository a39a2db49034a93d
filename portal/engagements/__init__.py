"""Engagements ("opgaven"): annual accounts, tax returns and other work for a client."""
