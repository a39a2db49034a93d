"""gunicorn picks this file up in a checkout; the settings live in portal/gunicorn_conf.py,
so an installed portal has them too (gunicorn -c python:portal.gunicorn_conf)."""

from portal.gunicorn_conf import *  # noqa: F403
