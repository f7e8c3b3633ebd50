from __future__ import annotations

from pathlib import Path

import pytest

from policywise.config import ConfigError, env_names, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_lists_every_setting() -> None:
    listed = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert set(env_names().values()) <= listed


def test_environment_values_are_typed() -> None:
    s = load_settings(
        env={
            "PORT": "9001",
            "WARM_UP": "false",
            "MAX_TOKENS": "256",
            "DATA_DIR": "/srv/pw",
            "MODEL_CACHE_DIR": "",
        }
    )
    assert s.port == 9001 and s.warm_up is False and s.max_tokens == 256
    assert s.vector_store_path == Path("/srv/pw/index") and s.policy_dir == Path("/srv/pw/policies")
    assert s.model_cache_dir is None  # empty disables the optimised-model cache
    assert not s.llm_configured
    assert load_settings(env={"OPENROUTER_API_KEY": "sk-x"}).llm_endpoint[0] == "https://openrouter.ai/api/v1"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"EMBEDDING_MODEL": "bert-large"}, "EMBEDDING_MODEL"),
        ({"GUARDRAILS_LEVEL": "paranoid"}, "GUARDRAILS_LEVEL"),
        ({"WARM_UP": "maybe"}, "WARM_UP"),
        ({"CHUNK_MAX_TOKENS": "512"}, "CHUNK_MAX_TOKENS"),
    ],
)
def test_bad_values_name_the_variable(env, name) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(env=env)


def test_example_questions_are_split_and_can_be_turned_off() -> None:
    listed = load_settings(env={"EXAMPLE_QUESTIONS": " Can I expense a taxi? | |How long is jury leave?"})
    assert listed.examples == ("Can I expense a taxi?", "How long is jury leave?")
    assert load_settings(env={"EXAMPLE_QUESTIONS": ""}).examples == ()
    assert len(load_settings(env={}).examples) == 4
    with pytest.raises(ConfigError, match="EXAMPLE_QUESTIONS"):
        load_settings(env={"EXAMPLE_QUESTIONS": "|".join(f"Question {i}?" for i in range(9))})
