"""Shared fixtures: repo paths, settings pointing at temporary folders, small corpora."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from policywise.config import Settings, load_settings

if TYPE_CHECKING:
    from policywise.assistant import Assistant

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_POLICIES = ROOT / "data" / "policies"
BUNDLED_INDEX = ROOT / "data" / "index"
EXTERNAL_CORPUS = ROOT.parent / "shared" / "corpora" / "external-1"


@pytest.fixture(scope="session")
def settings() -> Settings:
    # Tests never depend on the developer's environment beyond defaults.
    return load_settings(env={})


def assistant_over(settings: Settings, root: Path, name: str, text: str, **others: str) -> Assistant:
    """An offline Assistant over a corpus written by the test: one document, and ``others`` by file name."""
    from policywise.assistant import Assistant
    from policywise.ingest.pipeline import ingest

    (root / "policies").mkdir()
    for file_name, body in {name: text, **others}.items():
        (root / "policies" / file_name).write_text(body, encoding="utf-8")
    ingest([root / "policies"], settings, index_root=root / "index")
    return Assistant(replace(settings, vector_store_path=root / "index"))


@pytest.fixture(scope="session")
def external_corpus() -> Path:
    if not EXTERNAL_CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {EXTERNAL_CORPUS} (only present beside a team checkout)")
    return EXTERNAL_CORPUS


SMALL_DOCS = {
    "vacation.md": """# Vacation Policy

Effective: January 1, 2026. Owner: People Operations.

## Accrual

Full-time employees accrue 18 vacation days per year. Part-time employees accrue vacation pro rata.

## Carry-over

Up to 4 unused days may be carried into the next year. Carried days expire on April 30.
""",
    "expenses.md": """# Expense Policy

## Submitting claims

Submit expense claims in the Quillpay tool within 45 days. Receipts are required above $30.

## Meals

Meals while travelling are reimbursed up to $60 per day.
""",
    "security.txt": """Information Security Basics

PASSWORDS

Passwords must be at least 16 characters long. Use the company password manager.

LOST DEVICES

Report a lost laptop to the service desk within 2 hours.
""",
}


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    root.mkdir()
    for name, text in SMALL_DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the committed index: Chroma writes to its SQLite file even to read."""
    if not (BUNDLED_INDEX / "CURRENT").is_file():
        pytest.fail("the committed index is missing: run `policywise ingest data/policies --rebuild`")
    copy = tmp_path_factory.mktemp("bundled") / "index"
    shutil.copytree(BUNDLED_INDEX, copy, ignore=shutil.ignore_patterns(".lock"))
    return copy


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
