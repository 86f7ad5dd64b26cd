"""The languages a client can be spoken to in: gettext catalogs managed with Babel.

English is the source language: every message id is the English text, and
``backend/locales/messages.pot`` is the template extracted from the code, the
templates and the instrument registry (``make i18n-extract``). Each other
language is one ``backend/locales/<lang>/LC_MESSAGES/messages.po``; adding a
language is adding that file. The compiled ``.mo`` next to it is built by
``make i18n-compile`` at install, or here on first use when it is missing or
older than its ``.po`` (in memory when the install is read-only).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO

from babel import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

SOURCE_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
#: Accept-Language lists longer than this are cut: a header is not a place to do work.
MAX_ACCEPTED_LANGUAGES = 20


def _po_files() -> dict[str, Path]:
    return {
        po.parent.parent.name: po
        for po in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        if po.parent.parent.name != SOURCE_LANGUAGE
    }


@cache
def available_languages() -> tuple[str, ...]:
    """English first, then every language with a catalog, as BCP 47 tags (``es``, ``pt-BR``)."""
    return (SOURCE_LANGUAGE, *(code.replace("_", "-") for code in _po_files()))


def compiled_catalog(po_path: Path) -> bytes:
    """The ``.mo`` bytes for a ``.po``; fuzzy (unreviewed) entries are left out, as pybabel does."""
    with po_path.open("rb") as source:
        catalog = read_po(source, locale=po_path.parent.parent.name, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _mo_for(po_path: Path) -> IO[bytes]:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return mo_path.open("rb")
    compiled = compiled_catalog(po_path)
    try:
        handle, scratch = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(compiled)
        os.replace(scratch, mo_path)  # atomic: a concurrent worker reads old or new, never half
    except OSError:
        pass  # a read-only install: use the catalog compiled in memory
    return io.BytesIO(compiled)


@cache
def translations_for(language: str) -> NullTranslations:
    """The catalog of a language from ``available_languages()``; English is the message ids."""
    po_path = _po_files().get(language.replace("-", "_"))
    if po_path is None:
        return NullTranslations()
    with _mo_for(po_path) as mo:
        return Translations(fp=mo, domain=DOMAIN)


def _accepted(header: str) -> Iterator[tuple[float, int, str]]:
    for position, part in enumerate(header.split(",")[:MAX_ACCEPTED_LANGUAGES]):
        tag, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            yield -quality, position, tag


def negotiate_language(accept_language: str | None) -> str:
    """The best available language for an ``Accept-Language`` header; English if none fits.

    The header only orders the browser's wishes by ``q``; Babel's negotiation does
    the matching, so ``es-MX`` and ``es-419`` find ``es``.
    """
    preferred = [tag for *_, tag in sorted(_accepted(accept_language or ""))]
    available = available_languages()
    chosen = negotiate_locale(preferred, available, sep="-")
    if chosen is None:
        return SOURCE_LANGUAGE
    return next(code for code in available if code.lower() == chosen.lower())
