import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fake_llm_server"]

TOY_TEMPLATE = Path(__file__).parent / "fixtures" / "toy"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("AISCI_NO_PROGRESS", "1")


@pytest.fixture
def toy_template() -> Path:
    return TOY_TEMPLATE
