# PolicyWise: slim, non-root, with the pre-built index inside (deploys embed nothing).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    FLASK_ENV=production PORT=8000 TOKENIZERS_PARALLELISM=false

RUN useradd --create-home --uid 10001 policywise
WORKDIR /app

COPY pyproject.toml README.md gunicorn.conf.py ./
COPY src ./src
RUN pip install --no-cache-dir . && rm -rf /root/.cache

COPY data/policies ./data/policies
COPY data/index ./data/index
# Convert the model to int8 and optimise it once at build time, and embed the policy topics' labels, so
# a container starts without writing anything (the conversion peaks at ~0.5 GB, more than the 512 MB
# host has). A host whose CPU has other features than the build machine's saves its own copy of the
# packed weights from the int8 model at first start (~1 s), into data/models, which it owns.
RUN python -c "from policywise.config import load_settings; from policywise.retrieve import open_retriever; open_retriever(load_settings()).warm_topics()" \
    && chown -R policywise:policywise /app/data

USER policywise
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/health', timeout=2)" || exit 1
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
