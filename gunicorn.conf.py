"""gunicorn -c gunicorn.conf.py: the packaged settings (src/policywise/web/gunicorn_conf.py).

Loaded by file path rather than imported: importing ``policywise.web.gunicorn_conf`` would first run
``policywise/web/__init__.py``, which imports prometheus_client before the settings can point it at
its multi-process folder.
"""

import importlib.util
from pathlib import Path

_package = importlib.util.find_spec("policywise")
assert _package is not None and _package.origin is not None, "policywise is not installed"
_spec = importlib.util.spec_from_file_location(
    "policywise_gunicorn_conf", Path(_package.origin).parent / "web" / "gunicorn_conf.py"
)
assert _spec is not None and _spec.loader is not None
_conf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conf)
globals().update({k: v for k, v in vars(_conf).items() if not k.startswith("_")})
