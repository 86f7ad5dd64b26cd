"""The client's words: complete catalogs, the right language, no English left in Spanish,
the clinic's own safety notice, and answers that stay tied to the wording they answered."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlmodel import select

import scoring.instruments as registry
from backend.config import Settings, get_settings
from backend.i18n import LOCALES_DIR, available_languages, negotiate_language, translations_for
from backend.ratings.models import Rating
from backend.ratings.wording import DEFAULT_EMERGENCY_NOTICE, emergency_notice
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = LOCALES_DIR / "messages.pot"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")
SPAIN = (
    "Nadie lee estas respuestas en el momento. En una emergencia, llame al 112. Si piensa "
    "en el suicidio, llame al 024: es gratis y confidencial."
)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def entries(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(message.context, message.id) for message in catalog if message.id}


def catalog_gaps(template: Catalog, catalog: Catalog) -> list[str]:
    """What a catalog lacks against the English template: missing, empty, unreviewed
    (fuzzy) or with other placeholders than the English."""
    gaps = []
    for english in template:
        if not english.id:
            continue
        translated = catalog.get(english.id, context=english.context)
        where = f"{english.context or ''}|{english.id}"
        if translated is None or not translated.string:
            gaps.append(f"missing: {where}")
        elif translated.fuzzy:
            gaps.append(f"fuzzy: {where}")
        elif sorted(PLACEHOLDER.findall(translated.string)) != sorted(
            PLACEHOLDER.findall(english.id)
        ):
            gaps.append(f"placeholders differ: {where}")
    return gaps


def test_the_english_template_holds_every_string_the_code_and_registry_say() -> None:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {
        (context, message if isinstance(message, str) else message[0])
        for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, options_map)
    }
    assert extracted == entries(read_catalog(TEMPLATE)), "run `make i18n-update`"


@pytest.mark.parametrize("language", [lang for lang in available_languages() if lang != "en"])
def test_every_catalog_translates_every_english_string(language: str) -> None:
    po = LOCALES_DIR / language.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    assert catalog_gaps(read_catalog(TEMPLATE), read_catalog(po)) == []


def test_a_catalog_that_lacks_or_has_not_reviewed_a_string_is_caught() -> None:
    template = read_catalog(TEMPLATE)
    spanish = read_catalog(LOCALES_DIR / "es" / "LC_MESSAGES" / "messages.po")
    spanish.delete("Submit")
    spanish.get("Choose a number").flags.add("fuzzy")
    spanish.get("Optional. Up to %(max)s characters.").string = "Opcional."
    assert sorted(catalog_gaps(template, spanish)) == [
        "fuzzy: |Choose a number",
        "missing: |Submit",
        "placeholders differ: |Optional. Up to %(max)s characters.",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX", "es"),
        ("es-419", "es"),
        ("es-ES", "es"),
        ("en-US", "en"),
        ("es-MX,es;q=0.9,en;q=0.5", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("en;q=0.1, es-419", "es"),
        ("fr-CA, es;q=0.5", "es"),
        ("es;q=0", "en"),
        ("de-DE", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("x;;;q=abc,,", "en"),
    ],
)
def test_the_browsers_language_is_negotiated_and_unknown_means_english(header, expected) -> None:
    assert negotiate_language(header) == expected


class VisibleText(HTMLParser):
    """What a reader meets on a page: text, and the attributes that are read aloud or shown."""

    READ = ("content", "aria-label", "title", "placeholder")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")
        shown = tag != "meta" or ("name", "description") in attrs
        for name, value in attrs:
            if shown and value and (name in self.READ or name.startswith("data-msg-")):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


ENGLISH_WORDS = re.compile(r"\b(the|you|your|and|to|of|is|it|not|how|please|session)\b", re.I)


def assert_no_english(html: str) -> None:
    text = visible_text(html).replace("· Rapport", "")
    for message in read_catalog(TEMPLATE):
        if message.id and len(message.id) > 3:
            assert message.id not in text
    assert ENGLISH_WORDS.findall(text) == [], text


#: Forms of tú the old Spanish used; the page speaks usted.
TU_FORMS = re.compile(
    r"\b(tú|tu|tus|te|ti|tienes|puedes|quieras|elige|escribe|revisa|pide|espera)\b", re.I
)


def pages_in(api, db, language: str) -> dict[str, str]:
    """Every page a client can meet, in one language."""
    client = make_client(db, signed_in(db))
    pages = {}
    for instrument in ("alliance4", "wai12"):
        _, token = make_session_with_link(db, client, instrument=instrument, language=language)
        pages[f"{instrument} form"] = api.get(f"/r/{token}").text
    _, token = make_session_with_link(db, client, language=language)
    pages["form with errors"] = api.post(f"/r/{token}", data={"goals": "11", "comment": "x" * 1001})
    pages["form with errors"] = pages["form with errors"].text
    answers = {key: str(value) for key, value in alliance4().items()}
    pages["thanks after asking to talk"] = api.post(
        f"/r/{token}", data={**answers, "wants_to_talk": "yes"}
    ).text
    pages["already sent"] = api.get(f"/r/{token}").text
    headers = {"Accept-Language": "es-MX" if language == "es" else "en-US"}
    pages["unknown link"] = api.get("/r/" + "x" * 43, headers=headers).text
    limiter = api.app.state.public_rate_limiter
    limit, limiter.limit = limiter.limit, 0
    try:
        pages["too many tries"] = api.get("/r/" + "x" * 43, headers=headers).text
    finally:
        limiter.limit = limit
    return pages


def test_every_spanish_page_is_all_spanish_in_usted(api, db) -> None:
    pages = pages_in(api, db, "es")
    assert len(pages) == 7
    for name, html in pages.items():
        assert '<html lang="es">' in html, name
        assert_no_english(html)
        text = visible_text(html)
        assert TU_FORMS.findall(text) == [], name
    form = visible_text(pages["alliance4 form"])
    assert "Está bien elegir números bajos." in form
    assert "Su terapeuta lee sus respuestas." in form
    assert "marque 2" in form and "AYUDA" in form
    assert "Seguridad" not in form
    talk = visible_text(pages["thanks after asking to talk"])
    assert "Su terapeuta verá su pedido" in talk
    assert "que no sea adecuado" in talk  # subjunctive: not "this therapist is wrong for you"


def test_every_english_page_is_in_english(api, db) -> None:
    pages = pages_in(api, db, "en")
    spanish = read_catalog(LOCALES_DIR / "es" / "LC_MESSAGES" / "messages.po")
    for name, html in pages.items():
        assert '<html lang="en">' in html, name
        for message in spanish:
            if message.id and message.string != message.id and len(message.string) > 3:
                assert message.string not in html, (name, message.string)
    form = visible_text(pages["alliance4 form"])
    assert "It's okay to choose low numbers." in form
    assert "Overall, how well did today's session work for you?" in form
    assert "The person who supervises your therapist may also see them" in form


def test_the_thanks_says_what_happens_next_only_to_a_client_who_asked_to_talk(api, db) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client)
    answers = {key: str(value) for key, value in alliance4().items()}
    thanks = api.post(f"/r/{token}", data=answers).text
    assert '<div id="thanks-talk" class="talk" hidden>' in thanks
    _, token = make_session_with_link(db, client)
    asked = api.post(f"/r/{token}", data={**answers, "wants_to_talk": "yes"}).text
    assert '<div id="thanks-talk" class="talk">' in asked


@pytest.fixture
def clinic_settings(monkeypatch):
    def configure(**environment: str) -> None:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield configure
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_clinic_in_spain_never_shows_a_us_number_in_any_language(
    api, db, clinic_settings
) -> None:
    clinic_settings(
        RAPPORT_EMERGENCY_NOTICE_ES=SPAIN,
        RAPPORT_WHO_READS_ANSWERS_ES="Solo su terapeuta lee sus respuestas.",
    )
    client = make_client(db, signed_in(db))
    for language in ("es", "en"):
        _, token = make_session_with_link(db, client, language=language)
        text = visible_text(api.get(f"/r/{token}").text)
        assert "024" in text and "112" in text
        assert "988" not in text and "911" not in text
        assert "Solo su terapeuta lee sus respuestas." in text


@pytest.mark.parametrize(
    ("configured", "language", "shown"),
    [
        ({}, "en", "call or text 988"),
        ({}, "es", "marque 2"),
        ({"emergency_notice": "Call 112."}, "es", "Call 112."),
        ({"emergency_notice": "Call 112.", "emergency_notice_es": "Llame al 112."}, "es", "112"),
        ({"emergency_notice_es": "Llame al 112."}, "en", "Llame al 112."),
    ],
)
def test_the_safety_notice_is_the_clinics_own_once_it_set_one(configured, language, shown) -> None:
    settings = Settings(mode="dev", **configured)
    notice = emergency_notice(settings, language, translations_for(language))
    assert shown in notice
    if configured:
        assert "988" not in notice and "911" not in notice


def test_a_blank_safety_notice_is_refused_naming_the_variable(clinic_settings) -> None:
    from backend.config import ConfigurationError

    clinic_settings(RAPPORT_EMERGENCY_NOTICE="")
    with pytest.raises(ConfigurationError, match="RAPPORT_EMERGENCY_NOTICE:"):
        get_settings()


def test_the_spanish_default_notice_says_how_to_reach_988_in_spanish() -> None:
    spanish = translations_for("es").gettext(DEFAULT_EMERGENCY_NOTICE)
    assert spanish != DEFAULT_EMERGENCY_NOTICE
    for fact in ("911", "988", "marque 2", "AYUDA", "gratis", "confidencial"):
        assert fact in spanish


def rating_rows(db) -> list[Rating]:
    with db.reading() as session:
        return list(session.exec(select(Rating).order_by(Rating.id)))


def test_a_rating_keeps_the_wording_version_its_client_read(api, db, monkeypatch) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    _, token = make_session_with_link(db, client)
    form = api.get(f"/api/public/ratings/{token}").json()
    assert form["instrument"]["wording_version"] == 2
    assert api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()}).status_code == 201

    reworded = registry.WordingVersion(3, "2027-01-01", construct_changed=("goals",))
    versions = {**registry.WORDING_VERSIONS}
    versions["alliance4"] = (*versions["alliance4"], reworded)
    monkeypatch.setattr(registry, "WORDING_VERSIONS", versions)
    _, token = make_session_with_link(db, client)
    assert api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()}).status_code == 201

    assert [row.wording_version for row in rating_rows(db)] == [2, 3]
    listed = api.get(f"/api/clients/{client.code}/ratings", headers=me.headers).json()
    assert [r["wording_version"] for r in listed] == [2, 3]


def test_a_spanish_link_gets_the_spanish_wording_through_the_json_api_too(api, db) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, instrument="wai12", language="es")
    form = api.get(f"/api/public/ratings/{token}").json()["instrument"]
    assert form["choices"][2:4] == ["Con frecuencia", "Con mucha frecuencia"]
    assert form["items"][2]["prompt"] == "Siento que mi terapeuta me trata con calidez."
    assert form["items"][0]["low_anchor"] == "Rara vez"


@pytest.fixture
def fresh_locales(tmp_path, monkeypatch):
    """A copy of the catalogs with no .mo, loaded afresh."""
    import shutil

    import backend.i18n as i18n

    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALES_DIR", copy)
    i18n.available_languages.cache_clear()
    i18n.translations_for.cache_clear()
    yield copy / "es" / "LC_MESSAGES"
    monkeypatch.undo()
    i18n.available_languages.cache_clear()
    i18n.translations_for.cache_clear()


def test_a_missing_mo_is_built_on_first_use(fresh_locales) -> None:
    assert not (fresh_locales / "messages.mo").exists()
    assert translations_for("es").gettext("Submit") == "Enviar"
    assert (fresh_locales / "messages.mo").stat().st_size > 1000


def test_a_read_only_install_compiles_the_catalog_in_memory(fresh_locales, monkeypatch) -> None:
    import backend.i18n as i18n

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(i18n.tempfile, "mkstemp", read_only)  # root ignores chmod
    assert translations_for("es").gettext("Submit") == "Enviar"
    assert not (fresh_locales / "messages.mo").exists()


def test_a_new_language_is_a_new_po_file(fresh_locales) -> None:
    import shutil

    from babel.messages.pofile import write_po

    portuguese = fresh_locales.parent.parent / "pt_BR" / "LC_MESSAGES"
    portuguese.mkdir(parents=True)
    catalog = read_catalog(fresh_locales / "messages.po")
    catalog.get("Submit").string = "Enviar respostas"
    with (portuguese / "messages.po").open("wb") as out:
        write_po(out, catalog)
    assert available_languages() == ("en", "es", "pt-BR")
    assert negotiate_language("pt-BR,pt;q=0.9") == "pt-BR"
    assert translations_for("pt-BR").gettext("Submit") == "Enviar respostas"
    shutil.rmtree(portuguese.parent)


def wording_fingerprint(instrument_id: str, language: str) -> str:
    """A hash of what a client reads of an instrument's items in one language."""
    import hashlib

    po = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    catalog = read_catalog(TEMPLATE if language == "en" else po)
    texts = sorted(
        f"{message.context}|{message.id}|{message.string}"
        for message in catalog
        if message.context and message.context.split(".")[0] == instrument_id
    )
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]


#: What each instrument's current wording version says, per reviewed language. A change
#: of wording fails here: add a WordingVersion in scoring/instruments.py (saying which
#: items changed construct), then record the new fingerprints. A new language is not
#: listed until its wording has been reviewed, so adding one needs no change here.
WORDING_FINGERPRINTS = {
    ("alliance4", 2): {"en": "42ee843f927b88c4", "es": "7f6ffcbb69cdc629"},
    ("wai12", 2): {"en": "f3ae3e6cd1480222", "es": "88d3663e28fea91a"},
}


@pytest.mark.parametrize("instrument_id", ["alliance4", "wai12"])
def test_a_change_of_wording_comes_with_a_new_wording_version(instrument_id: str) -> None:
    recorded = WORDING_FINGERPRINTS[
        (instrument_id, registry.current_wording_version(instrument_id))
    ]
    assert {lang: wording_fingerprint(instrument_id, lang) for lang in recorded} == recorded
