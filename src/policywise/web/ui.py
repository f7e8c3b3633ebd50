"""The chat page: one template, one script, one stylesheet; no CDN, no build step."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

bp = Blueprint("ui", __name__)


@bp.get("/")
def index() -> Response:
    svc = current_app.extensions["policywise"]
    llm = svc.assistant.llm
    mode = (
        f"Answers by {llm.model}, checked against the policies"
        if llm
        else "Offline mode: answers quote the policies"
    )
    page = render_template("index.html", mode=mode, examples=svc.suggestions())
    return Response(page, mimetype="text/html")
