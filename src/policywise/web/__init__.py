"""The web service: create_app() builds a Flask app around one shared Assistant per process."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from policywise.config import Settings, load_settings
from policywise.web import ratelimit  # noqa: F401  (registers the local:// storage)
from policywise.web.errors import register_error_handlers
from policywise.web.headers import SECURITY_HEADERS, request_id
from policywise.web.logs import configure_logging
from policywise.web.services import Services

logger = logging.getLogger(__name__)


def create_app(config: Settings | dict | None = None, services: Services | None = None) -> Flask:
    """``config``: Settings, or a dict of overrides applied to the environment's settings."""
    settings = config if isinstance(config, Settings) else load_settings(**(config or {}))
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        DEBUG=settings.flask_env == "development",
        PROPAGATE_EXCEPTIONS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keys in the order the views build them
    svc = services or Services(settings)
    app.extensions["policywise"] = svc
    limiter = Limiter(
        get_remote_address,
        app=app,
        default_limits=[],
        storage_uri=settings.ratelimit_storage_uri,
        # Two counters per client and window, weighted: close to a moving window without its list of
        # timestamps per client (7% of /search throughput at 30 clients).
        strategy="sliding-window-counter",
    )
    app.extensions["policywise_limiter"] = limiter

    from policywise.web.admin import bp as admin_bp
    from policywise.web.api import bp as api_bp
    from policywise.web.health import bp as health_bp
    from policywise.web.ui import bp as ui_bp

    limit = limiter.shared_limit(settings.ratelimit, scope="api")
    app.register_blueprint(health_bp)
    app.register_blueprint(ui_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    # Only the API is rate limited.
    limiter.exempt(health_bp)
    limiter.exempt(ui_bp)
    _skip_limiter_outside_api(app, limiter)
    for endpoint in ("api.chat", "api.search", "api.feedback"):
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    register_error_handlers(app)
    _install_hooks(app, settings)
    from policywise.web.health import HealthFastPath

    app.wsgi_app = HealthFastPath(app.wsgi_app, svc)  # type: ignore[method-assign]
    if settings.warm_up:
        svc.warm_up_async()
    return app


def _skip_limiter_outside_api(app: Flask, limiter: Limiter) -> None:
    """Flask-Limiter runs its hooks on every request before it looks at exemptions, which cost an
    exempt /health about a fifth of its time under load; requests outside the API now skip them.

    Its before-request check is dropped altogether: it looks for default, application and blueprint
    limits, and there are none. The API's limit is on its views, whose decorator checks it."""
    funcs = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit  # the hook Limiter.init_app registered
    if check in funcs:
        funcs.remove(check)

    after = app.after_request_funcs.setdefault(None, [])
    for i, hook in enumerate(after):
        if getattr(hook, "args", None) == (limiter,):  # functools.partial(Limiter.__inject_headers, limiter)
            after[i] = _api_only_after(hook)
    teardown = app.teardown_request_funcs.setdefault(None, [])
    for i, hook in enumerate(teardown):
        if getattr(hook, "__self__", None) is limiter:
            teardown[i] = _api_only_teardown(hook)


def _api_only_after(hook: Callable[[Response], Response]) -> Callable[[Response], Response]:
    def inject_api_only(resp: Response) -> Response:
        return hook(resp) if request.blueprint == "api" else resp

    return inject_api_only


_Teardown = Callable[[BaseException | None], None]


def _api_only_teardown(hook: _Teardown) -> _Teardown:
    def release_api_only(exc: BaseException | None) -> None:
        if request.blueprint == "api":
            hook(exc)

    return release_api_only


def _install_hooks(app: Flask, settings: Settings) -> None:
    origins = {o.strip() for o in settings.cors_origins.split(",") if o.strip()}

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_id = request_id(request.headers.get("X-Request-ID", ""))

    @app.after_request
    def _finish(resp: Response) -> Response:
        resp.headers["X-Request-ID"] = g.get("request_id", "")
        for name, value in SECURITY_HEADERS:
            resp.headers[name] = value
        origin = request.headers.get("Origin")
        if origin and (origin in origins or "*" in origins):
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Vary"] = "Origin"
            resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization, X-Request-ID"
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        svc: Services = app.extensions["policywise"]
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        if not resp.is_streamed:
            elapsed = time.perf_counter() - g.get("started", time.perf_counter())
            svc.metrics.observe_request(endpoint, request.method, resp.status_code, elapsed)
            if endpoint not in ("/health", "/metrics") and not endpoint.startswith("/static"):
                logger.info(
                    "%s %s",
                    request.method,
                    endpoint,
                    extra={
                        "endpoint": endpoint,
                        "status": resp.status_code,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
        return resp
