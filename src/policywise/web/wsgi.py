"""WSGI entry point for gunicorn (preloaded in the master).

The master loads the embedding model, BM25, chunk and sentence vectors once; forked workers share
those pages and a recycled worker serves at once. When the index is queried through Chroma, its
client is opened in each worker after the fork (gunicorn_conf.post_fork), because it runs threads
that a fork does not copy.
"""

from __future__ import annotations

import logging

from policywise.config import load_settings
from policywise.web import create_app

logger = logging.getLogger(__name__)

settings = load_settings()
app = create_app(settings.with_overrides(warm_up=False))
if settings.warm_up:
    try:
        assistant = app.extensions["policywise"].assistant
        if assistant.retriever.index.dense_backend == "chroma":
            # Import Chroma's modules here (~0.7 s) so a recycled worker only has to open its client.
            import chromadb  # noqa: F401
        assistant.warm_up(vectors=False)
        if assistant.retriever.index.dense_backend != "chroma":
            # Searched once here for every worker; a search through Chroma would start its threads here.
            app.extensions["policywise"].suggestions()
    except Exception as exc:  # the service still starts; /health reports what is missing
        logger.warning("preload failed: %s", exc)
