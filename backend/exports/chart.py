"""The trajectory chart of the printed report, as SVG: totals per session over the
clinical cutoff, the client's usual range and the rupture episodes, all as scoring
stored them (nothing clinical is computed here, only where to draw it)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from backend.exports.record import ClientRecord
from scoring.instruments import Instrument

WIDTH, HEIGHT = 680.0, 250.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 12.0, 12.0, 30.0
#: Okabe & Ito (2008), as the dashboard: readable with colour-vision deficiencies.
LINE, CUTOFF, BAND, EPISODE = "#0072B2", "#E69F00", "#56B4E9", "#D55E00"
#: Session numbers labelled on the x axis at most.
X_LABELS = 12


@dataclass(frozen=True)
class Scale:
    first: int
    last: int
    low: float
    high: float

    def x(self, session_number: float) -> float:
        span = max(self.last - self.first, 1)
        return LEFT + (session_number - self.first) / span * (WIDTH - LEFT - RIGHT)

    def y(self, total: float) -> float:
        return TOP + (self.high - total) / (self.high - self.low) * (HEIGHT - TOP - BOTTOM)


def _text(x: float, y: float, label: str, *, anchor: str = "start", size: int = 9) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#333">{escape(label)}</text>'
    )


def trajectory_svg(record: ClientRecord, instrument: Instrument) -> Markup:
    """Totals of ``instrument`` per session; an empty chart says there is nothing yet."""
    points = [
        (r.session.session_number, r.rating.total)
        for r in record.rated
        if r.rating.instrument == instrument.id
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" '
        f'width="{WIDTH:g}" height="{HEIGHT:g}" role="img" '
        f'aria-label="Alliance total per session">'
    ]
    if not points:
        parts.append(_text(WIDTH / 2, HEIGHT / 2, "No ratings yet.", anchor="middle", size=12))
        parts.append("</svg>")
        return Markup("".join(parts))
    first, last = points[0][0], points[-1][0]
    scale = Scale(first, max(last, first + 1), instrument.total_min, instrument.total_max)
    plot_right = WIDTH - RIGHT
    cutoff = instrument.psychometrics.total_cutoff
    parts.append(
        f'<rect x="{LEFT}" y="{scale.y(cutoff):.1f}" width="{plot_right - LEFT:.1f}" '
        f'height="{scale.y(scale.low) - scale.y(cutoff):.1f}" fill="{CUTOFF}" '
        f'fill-opacity="0.12"/>'
    )
    parts.append(_text(LEFT + 4, scale.y(scale.low) - 4, f"Below the cutoff ({cutoff:g})"))
    summary = record.summary
    if (
        summary is not None
        and summary.instrument == instrument.id
        and summary.usual_mean is not None
        and summary.usual_sd is not None
    ):
        # the range scoring judged the latest rating by (scoring.own_range)
        high = min(summary.usual_mean + summary.usual_sd, scale.high)
        low = max(summary.usual_mean - summary.usual_sd, scale.low)
        parts.append(
            f'<rect x="{LEFT}" y="{scale.y(high):.1f}" width="{plot_right - LEFT:.1f}" '
            f'height="{scale.y(low) - scale.y(high):.1f}" fill="{BAND}" fill-opacity="0.22"/>'
        )
        parts.append(_text(plot_right - 4, scale.y(high) - 3, "Usual range", anchor="end"))
    for episode in record.episodes:
        if episode.instrument != instrument.id:
            continue
        end = episode.closed_session if episode.closed_session is not None else scale.last
        x0, x1 = scale.x(episode.opened_session - 0.4), scale.x(end + 0.4)
        x0, x1 = max(x0, LEFT), min(x1, plot_right)
        parts.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM:.1f}" fill="{EPISODE}" fill-opacity="0.10"/>'
        )
        parts.append(_text(x0 + 2, TOP + 10, f"Rupture: {episode.status}", size=8))
    # Axes and ticks.
    parts.append(
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{plot_right}" y2="{HEIGHT - BOTTOM}" '
        f'stroke="#666" stroke-width="0.8"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#666" '
        f'stroke-width="0.8"/>'
    )
    for value in sorted({scale.low, cutoff, scale.high}):
        parts.append(_text(LEFT - 4, scale.y(value) + 3, f"{value:g}", anchor="end"))
    step = max(1, -(-(scale.last - scale.first + 1) // X_LABELS))
    for number in range(scale.first, scale.last + 1, step):
        parts.append(_text(scale.x(number), HEIGHT - BOTTOM + 12, str(number), anchor="middle"))
    parts.append(_text((LEFT + plot_right) / 2, HEIGHT - 4, "Session", anchor="middle"))
    line = " ".join(f"{scale.x(n):.1f},{scale.y(t):.1f}" for n, t in points)
    parts.append(f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="1.6"/>')
    radius = 2.6 if len(points) <= 60 else 1.4
    parts.extend(
        f'<circle cx="{scale.x(n):.1f}" cy="{scale.y(t):.1f}" r="{radius}" fill="{LINE}"/>'
        for n, t in points
    )
    parts.append("</svg>")
    return Markup("".join(parts))
