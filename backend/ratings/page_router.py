"""The client's rating page: server-rendered HTML that works with or without JavaScript.

Without JavaScript, scale items (e.g. 0–10) are a ``<select>`` that starts on
"Choose a number": a range input always has a value, so an untouched slider
would silently become an answer. The script replaces each select with a
slider that likewise shows "Not answered yet" until it is moved, and submits
through the public JSON API with an idempotency key.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import Response
from starlette.types import Scope

from backend.config import get_settings
from backend.db import Database, DatabaseDep
from backend.errors import Conflict, Gone, InvalidInput, NotFound
from backend.flows import after_submission, submit_rating
from backend.i18n import SOURCE_LANGUAGE, negotiate_language, translations_for
from backend.ratings.models import COMMENT_MAX_LENGTH
from backend.ratings.page import (
    ERROR_INVALID,
    ERROR_MISSING,
    NOTICES,
    item_views,
    parse_answers,
)
from backend.ratings.schemas import RatingForm, RatingSubmission
from backend.ratings.service import link_language, rating_form
from backend.ratings.wording import emergency_notice, who_reads
from backend.static_assets import static_url

router = APIRouter(prefix="/r", tags=["client pages"], include_in_schema=False)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

#: Longer tokens are never issued; treat them as unknown without touching the database.
MAX_TOKEN_LENGTH = 512


@cache
def templates_in(language: str) -> Jinja2Templates:
    """The page templates, speaking one language through its catalog (``_()`` in templates).

    Old-style gettext: a translation is plain text that Jinja escapes like any other,
    so a quote or ``<`` in a catalog can never become markup.
    """
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations_for(language), newstyle=False
    )
    environment.globals["static_url"] = static_url
    return Jinja2Templates(env=environment)


def _render(
    request: Request, template: str, *, language: str, status_code: int, **context: Any
) -> HTMLResponse:
    settings = get_settings()
    words = translations_for(language)
    return templates_in(language).TemplateResponse(
        request,
        template,
        {
            "lang": language,
            "emergency_notice": emergency_notice(settings, language, words),
            "who_reads": who_reads(settings, language, words),
            **context,
        },
        status_code=status_code,
    )


def _unanswerable(*, submitting: bool) -> str:
    """The notice for a link that no longer works: on a submission, say the answers are lost."""
    return "not_sent" if submitting else "invalid"


def _unknown(request: Request, *, submitting: bool = False) -> HTMLResponse:
    language = negotiate_language(request.headers.get("accept-language"))
    return _notice(
        request, _unanswerable(submitting=submitting), language=language, status_code=404
    )


def _notice(request: Request, kind: str, *, language: str, status_code: int) -> HTMLResponse:
    title, text = NOTICES[kind]
    return _render(
        request, "notice.html", language=language, status_code=status_code, title=title, text=text
    )


def _closed(
    request: Request,
    db: DatabaseDep,
    token: str,
    gone: Gone | Conflict,
    *,
    submitting: bool = False,
) -> HTMLResponse:
    """Why the link cannot be answered; on a submission, that the answers did not arrive."""
    with db.reading() as session:
        language = link_language(session=session, token=token) or SOURCE_LANGUAGE
    used = gone.extra.get("state") == "used"
    kind = "used" if used else _unanswerable(submitting=submitting)
    return _notice(request, kind, language=language, status_code=410)


def too_many_requests_page(scope: Scope, retry_after: int) -> Response:
    """What the rate limiter shows on ``/r/``: calm words, in the browser's language."""
    request = Request(scope)
    language = negotiate_language(request.headers.get("accept-language"))
    return _notice(request, "too_many", language=language, status_code=429)


def _form_page(
    request: Request,
    form: RatingForm,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    values = values or {}
    words = translations_for(form.language)
    return _render(
        request,
        "form.html",
        language=form.language,
        status_code=status_code,
        error_missing=words.gettext(ERROR_MISSING),
        error_invalid=words.gettext(ERROR_INVALID),
        link_closed=words.gettext(NOTICES["not_sent"][1]),
        items=item_views(form.instrument),
        values=values,
        errors=errors or {},
        comment=values.get("comment", ""),
        wants_to_talk=bool(values.get("wants_to_talk")),
        comment_max=COMMENT_MAX_LENGTH,
    )


def _open_form(
    request: Request, db: Database, token: str, *, submitting: bool = False
) -> RatingForm | HTMLResponse:
    """The link's form, or the calm page that says why it cannot be answered."""
    if len(token) > MAX_TOKEN_LENGTH:
        return _unknown(request, submitting=submitting)
    try:
        with db.reading() as session:
            form = rating_form(session=session, token=token)
    except NotFound:
        return _unknown(request, submitting=submitting)
    except Gone as gone:
        return _closed(request, db, token, gone, submitting=submitting)
    return form


@router.get("/{token}", response_class=HTMLResponse)
def rating_page(token: str, request: Request, db: DatabaseDep) -> HTMLResponse:
    form = _open_form(request, db, token)
    if isinstance(form, HTMLResponse):
        return form
    return _form_page(request, form)


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


@router.post("/{token}", response_class=HTMLResponse)
def submit_rating_page(
    token: str, request: Request, fields: FormFields, db: DatabaseDep, background: BackgroundTasks
) -> HTMLResponse:
    """The no-JavaScript submission: same validation and flow as the JSON API."""
    form = _open_form(request, db, token, submitting=True)
    if isinstance(form, HTMLResponse):
        return form
    words = translations_for(form.language)
    scores, errors = parse_answers(form, fields, words)
    if not errors:
        submission = RatingSubmission(
            scores=scores,
            comment=fields.get("comment") or None,
            wants_to_talk=bool(fields.get("wants_to_talk")),
        )
        try:
            outcome = submit_rating(db=db, token=token, submission=submission, idempotency_key=None)
        except InvalidInput as invalid:
            errors[str(invalid.extra.get("item", "form"))] = words.gettext(ERROR_INVALID)
        except NotFound:
            return _unknown(request, submitting=True)
        except (Gone, Conflict) as closed:
            return _closed(request, db, token, closed, submitting=True)
        else:
            after_submission(background, db=db, outcome=outcome)
    if errors:
        return _form_page(request, form, status_code=422, values=fields, errors=errors)
    return _render(
        request,
        "thanks.html",
        language=form.language,
        status_code=200,
        wants_to_talk=bool(fields.get("wants_to_talk")),
    )
