import pytest
from pydantic import ValidationError

from backend.config import DEMO_SECRET_KEY, Settings


@pytest.mark.parametrize("secret", ["", "short", DEMO_SECRET_KEY])
def test_production_refuses_a_missing_short_or_default_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_SECRET_KEY"):
        Settings(mode="production", secret_key=secret)


def test_production_accepts_a_long_random_secret() -> None:
    assert Settings(mode="production", secret_key="x" * 48).secret_key == "x" * 48


@pytest.mark.parametrize("mode", ["demo", "dev"])
def test_demo_and_dev_modes_fall_back_to_the_demo_secret(mode: str) -> None:
    assert Settings(mode=mode, secret_key="").secret_key == DEMO_SECRET_KEY


def test_production_hides_the_api_docs() -> None:
    assert not Settings(mode="production", secret_key="x" * 48).docs_enabled
