"""Admin endpoints, enabled only when ADMIN_TOKEN is set, behind a constant-time bearer check."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, jsonify, request

from policywise.web.errors import ApiError
from policywise.web.services import Services

logger = logging.getLogger(__name__)
bp = Blueprint("admin", __name__, url_prefix="/admin")


def _svc() -> Services:
    return current_app.extensions["policywise"]


@bp.before_request
def _authorise() -> None:
    token = _svc().settings.admin_token
    if not token:
        raise ApiError(404, "not_found", "admin endpoints are disabled (set ADMIN_TOKEN)")
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {token}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(
            401,
            "unauthorized",
            "a valid admin bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


@bp.post("/reindex")
def reindex() -> Response:
    svc = _svc()
    if not svc.reindex_lock.acquire(blocking=False):
        raise ApiError(409, "busy", "a reindex is already running")
    try:
        # Imported here: the loaders (pypdf, BeautifulSoup, python-docx) are ~20 MB and 0.2 s of start-up
        # that only a reindex needs.
        from policywise.ingest.pipeline import ingest

        report = ingest([svc.settings.policy_dir], svc.settings)
        if report.changed:
            svc.assistant.reload_index()
    except Exception as exc:  # the old index keeps serving; say why the new one failed
        logger.warning("reindex failed: %s", exc)
        raise ApiError(
            500, "reindex_failed", f"reindex failed, the previous index is still serving: {exc}"
        ) from None
    finally:
        svc.reindex_lock.release()
    return jsonify(report.__dict__)


@bp.get("/stats")
def stats() -> Response:
    days = request.args.get("days", default=30, type=int)
    return jsonify(_svc().analytics.stats(days=max(1, min(days, 365))))
