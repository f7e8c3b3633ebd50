"""gunicorn -c gunicorn.conf.py: the packaged settings (src/policywise/web/gunicorn_conf.py)."""

from policywise.web.gunicorn_conf import *  # noqa: F403
