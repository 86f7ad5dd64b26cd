"""What people type reaches markdown and CSV downloads inert."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.safe_text import csv_safe, inert_cell, plain


@pytest.mark.parametrize(
    "typed",
    [
        "[Click here](https://evil.example)",
        "**Boss** _of_ `everyone`",
        ":red[Urgent] :material/warning:",
        "<img src=x onerror=alert(1)>",
        "# Heading",
    ],
)
def test_markdown_in_a_name_is_escaped_character_by_character(typed) -> None:
    escaped = plain(typed)
    assert escaped.replace("\\", "") == typed.replace("\\", "")
    for mark in "[]()*_`:<>#":
        assert f"{mark}" not in escaped.replace(f"\\{mark}", "")


@pytest.mark.parametrize(
    ("cell", "inert"),
    [
        (
            '=HYPERLINK("https://evil.example","Open")',
            '\'=HYPERLINK("https://evil.example","Open")',
        ),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-1.5", "-1.5"),  # a number stays a number
        ("Sam Lee", "Sam Lee"),
        (7, 7),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_quoted(cell, inert) -> None:
    assert inert_cell(cell) == inert


def test_every_text_column_of_a_table_is_made_inert() -> None:
    frame = pd.DataFrame({"Note": ["=1+1", "fine"], "Session": [1, 2]})
    safe = csv_safe(frame)
    assert safe["Note"].tolist() == ["'=1+1", "fine"]
    assert safe["Session"].tolist() == [1, 2]
    assert frame["Note"].tolist() == ["=1+1", "fine"]  # the original is left alone


def test_the_sidebar_shows_a_display_name_as_typed_not_as_a_link(backend, clinic) -> None:
    from sqlmodel import select

    from backend.users.models import User
    from tests.dashboard.conftest import app_as

    with backend.database.writing() as session:
        user = session.exec(select(User).where(User.id == clinic.supervisor.id)).one()
        user.display_name = "[Click here](https://evil.example)"
        session.add(user)
    at = app_as(backend, clinic.supervisor)
    caption = next(c.value for c in at.sidebar.caption if "Signed in as" in c.value)
    assert plain("[Click here](https://evil.example)") in caption
    assert "[Click here](" not in caption
