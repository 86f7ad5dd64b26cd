"""Every word the client's rating page says, in each shipped language.

Item wording is not here: it lives with its instrument in ``scoring.instruments``.
The emergency notice is a setting (``Settings.emergency_notice_in``) because it
depends on where the clinic is.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "Rate today's session",
        "intro_heading": "How was today's session?",
        "intro": "Your therapist sees these answers; they help you both.",
        "scale_hint": "Choose a number from {low} ({low_label}) to {high} ({high_label}).",
        "choose_number": "Choose a number",
        "not_answered": "Not answered yet",
        "slider_value": "{value} out of {high}",
        "comment_label": "Anything you'd like your therapist to know?",
        "comment_hint": "Optional. Up to {max} characters.",
        "wants_to_talk": "I'd like to talk about how our sessions are going",
        "submit": "Submit",
        "sending": "Sending…",
        "not_sent_yet": "Not sent yet — we'll keep trying. Your answers are safe on this page.",
        "errors_heading": "Please check your answers",
        "error_missing": "Please choose an answer for this question.",
        "error_invalid": "This answer could not be used. Please choose again.",
        "error_comment_too_long": "Please keep this to {max} characters or fewer.",
        "error_comment_control_characters": (
            "This contains invisible control characters. Please type it again."
        ),
        "thanks_title": "Thank you",
        "thanks_heading": "Thank you — your answers were sent",
        "thanks_rough_patches": (
            "It is normal for the working relationship with a therapist to have rough "
            "patches. Noticing them is how they get better."
        ),
        "thanks_bring_it_up": (
            "It is okay to bring up anything about how your sessions are going, "
            "in your next session or whenever you are ready."
        ),
        "thanks_right_fit": (
            "You are never obligated to stay with a therapist who isn't the right fit for you."
        ),
        "thanks_close": "You can close this page now.",
        "used_title": "Already sent",
        "used": "This rating has already been sent — thank you.",
        "invalid_title": "Link not valid",
        "invalid": "This link is no longer valid; ask your therapist for a new one.",
        "too_many_title": "Please wait a moment",
        "too_many": "Too many tries from this connection. Please wait a minute and try again.",
        "safety_heading": "Safety",
    },
    "es": {
        "page_title": "Valora la sesión de hoy",
        "intro_heading": "¿Cómo fue la sesión de hoy?",
        "intro": "Tu terapeuta ve estas respuestas; les sirven a los dos.",
        "scale_hint": "Elige un número del {low} ({low_label}) al {high} ({high_label}).",
        "choose_number": "Elige un número",
        "not_answered": "Sin responder todavía",
        "slider_value": "{value} de {high}",
        "comment_label": "¿Hay algo que quieras que sepa tu terapeuta?",
        "comment_hint": "Opcional. Hasta {max} caracteres.",
        "wants_to_talk": "Me gustaría hablar de cómo van nuestras sesiones",
        "submit": "Enviar",
        "sending": "Enviando…",
        "not_sent_yet": (
            "Aún no se ha enviado — seguiremos intentándolo. Tus respuestas siguen en esta página."
        ),
        "errors_heading": "Revisa tus respuestas",
        "error_missing": "Elige una respuesta para esta pregunta.",
        "error_invalid": "No se pudo usar esta respuesta. Elige de nuevo, por favor.",
        "error_comment_too_long": "Escribe {max} caracteres como máximo, por favor.",
        "error_comment_control_characters": (
            "Contiene caracteres de control invisibles. Escríbelo de nuevo, por favor."
        ),
        "thanks_title": "Gracias",
        "thanks_heading": "Gracias — tus respuestas se han enviado",
        "thanks_rough_patches": (
            "Es normal que la relación de trabajo con un terapeuta pase por momentos "
            "difíciles. Darse cuenta de ellos es lo que permite mejorarlos."
        ),
        "thanks_bring_it_up": (
            "Está bien hablar de cómo van tus sesiones, en la próxima sesión o cuando quieras."
        ),
        "thanks_right_fit": (
            "Nunca tienes la obligación de seguir con un terapeuta que no es el adecuado para ti."
        ),
        "thanks_close": "Ya puedes cerrar esta página.",
        "used_title": "Ya enviada",
        "used": "Esta valoración ya se ha enviado — gracias.",
        "invalid_title": "Enlace no válido",
        "invalid": "Este enlace ya no es válido; pide uno nuevo a tu terapeuta.",
        "too_many_title": "Espera un momento",
        "too_many": (
            "Demasiados intentos desde esta conexión. Espera un minuto y vuelve a intentarlo."
        ),
        "safety_heading": "Seguridad",
    },
}


def messages_in(language: str) -> Mapping[str, str]:
    return MESSAGES.get(language) or MESSAGES[DEFAULT_LANGUAGE]


def language_from_accept(header: str | None) -> str:
    """The best shipped language for an ``Accept-Language`` header; English if none fits."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in MESSAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
