"""Small static SVG charts for the site: line charts (training loss) and grouped bars.

Charts are inline SVG rendered from a jinja2 template (``templates/site/chart.svg.j2``),
drawn with ``currentColor`` for axes and text so that they stay readable in both the light
and the dark Material palette, and with a fixed, colour-blind-safe series palette (Okabe–Ito).
They are computed in pure Python: a 10,000-run site needs 10,000 loss curves, which
matplotlib (~50 ms a figure) would turn into minutes.

Every label is escaped by the template (autoescape on).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import jinja2

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999")
W, H = 560, 260
PAD_L, PAD_R, PAD_T, PAD_B = 56, 16, 28, 44


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    from importlib import resources

    text = (resources.files("compiler") / "templates" / "site" / "chart.svg.j2").read_text("utf-8")
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return env.from_string(text)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """'Nice' tick values covering [lo, hi] (Heckbert's algorithm, Graphics Gems 1990)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    span = _nice(hi - lo, False)
    step = _nice(span / max(1, n - 1), True)
    start = math.floor(lo / step) * step
    out, v = [], start
    while v <= hi + step * 0.5 and len(out) < 20:
        out.append(round(v, 12))
        v += step
    return out


def _nice(x: float, round_: bool) -> float:
    exp = math.floor(math.log10(x)) if x > 0 else 0
    f = x / 10**exp
    if round_:
        nf = 1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10
    else:
        nf = 1 if f <= 1 else 2 if f <= 2 else 5 if f <= 5 else 10
    return nf * 10**exp


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.4g}"


LEGEND_ROW = 16


def _legend(labels: Sequence[tuple[str, str]]) -> tuple[list[dict[str, object]], int]:
    """Legend entries laid out in rows under the x axis (never over the data): returns the
    entries with positions and the extra height they need."""
    out: list[dict[str, object]] = []
    x, row = PAD_L, 0
    for label, color in labels:
        width = 18 + 6.5 * min(len(label), 40)
        if x + width > W - PAD_R and x > PAD_L:
            x, row = PAD_L, row + 1
        out.append({"x": x, "y": H + row * LEGEND_ROW, "label": label[:40], "color": color})
        x += width + 12
    return out, ((row + 1) * LEGEND_ROW + 4 if labels else 0)


def line_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    title: str,
    x_label: str,
    y_label: str,
) -> str:
    """An SVG line chart of ``series`` = [(label, [(x, y), …]), …]. Empty input → ''."""
    pts = [(x, y) for _, s in series for x, y in s if math.isfinite(x) and math.isfinite(y)]
    if not pts:
        return ""
    xt = _ticks(min(p[0] for p in pts), max(p[0] for p in pts))
    yt = _ticks(min(p[1] for p in pts), max(p[1] for p in pts))
    sx, sy = _scale(xt, W - PAD_L - PAD_R, PAD_L, False), _scale(yt, H - PAD_T - PAD_B, PAD_T, True)
    lines = []
    for i, (label, s) in enumerate(series):
        coords = " ".join(
            f"{sx(x):.1f},{sy(y):.1f}" for x, y in s if math.isfinite(x) and math.isfinite(y)
        )
        lines.append({"label": label, "points": coords, "color": PALETTE[i % len(PALETTE)]})
    return _template().render(
        kind="line",
        title=title,
        x_label=x_label,
        y_label=y_label,
        w=W,
        h=H,
        pad_l=PAD_L,
        pad_r=PAD_R,
        pad_t=PAD_T,
        pad_b=PAD_B,
        xticks=[(sx(v), _fmt(v)) for v in xt],
        yticks=[(sy(v), _fmt(v)) for v in yt],
        lines=lines,
        bars=[],
        whiskers=[],
        dots=[],
        **_legend_args([(x["label"], x["color"]) for x in lines] if len(lines) > 1 else []),
    )


def bar_chart(
    groups: Sequence[tuple[str, Sequence[tuple[str, float]]]], title: str, y_label: str
) -> str:
    """Grouped bars: ``groups`` = [(x group label, [(series label, value), …]), …]."""
    vals = [v for _, s in groups for _, v in s if v is not None and math.isfinite(v)]
    if not vals:
        return ""
    yt = _ticks(min(0.0, min(vals)), max(vals))
    sy = _scale(yt, H - PAD_T - PAD_B, PAD_T, True)
    series_labels: list[str] = []
    for _, s in groups:
        for label, _v in s:
            if label not in series_labels:
                series_labels.append(label)
    inner = W - PAD_L - PAD_R
    gw = inner / max(1, len(groups))
    bw = gw * 0.8 / max(1, len(series_labels))
    bars, xticks = [], []
    for gi, (glabel, s) in enumerate(groups):
        x0 = PAD_L + gi * gw + gw * 0.1
        xticks.append((PAD_L + gi * gw + gw / 2, glabel))
        for label, v in s:
            if v is None or not math.isfinite(v):
                continue
            si = series_labels.index(label)
            top, base = sy(v), sy(max(0.0, yt[0]))
            bars.append(
                {
                    "x": x0 + si * bw,
                    "y": min(top, base),
                    "w": bw * 0.92,
                    "h": abs(base - top),
                    "color": PALETTE[si % len(PALETTE)],
                    "label": f"{glabel} / {label}: {_fmt(v)}",
                }
            )
    return _template().render(
        kind="bar",
        title=title,
        x_label="",
        y_label=y_label,
        w=W,
        h=H,
        pad_l=PAD_L,
        pad_r=PAD_R,
        pad_t=PAD_T,
        pad_b=PAD_B,
        xticks=xticks,
        yticks=[(sy(v), _fmt(v)) for v in yt],
        lines=[],
        bars=bars,
        whiskers=[],
        dots=[],
        **_legend_args([(label, PALETTE[i % len(PALETTE)])
                        for i, label in enumerate(series_labels)]),
    )


def _legend_args(labels: Sequence[tuple[str, str]]) -> dict[str, object]:
    legend, extra = _legend(labels)
    return {"legend": legend, "total_h": H + extra}


def level_chart(levels: Sequence[tuple[str, float, float | None, Sequence[float]]],
                title: str, y_label: str, x_label: str = "") -> str:
    """A metric by factor level: per level ``(label, mean, sd or None, run values)`` a mean
    marker with a ±sd error bar and each run's value as a small dot. The y axis spans the
    data (not from zero), so differences of a few thousandths stay visible."""
    vals = [v for _l, m, sd, pts in levels for v in (m, *(pts or ()),
            *((m - sd, m + sd) if sd is not None else ())) if v is not None and math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.15 or abs(hi) * 0.05 or 1.0
    yt = _ticks(lo - pad, hi + pad)
    sy = _scale(yt, H - PAD_T - PAD_B, PAD_T, True)
    inner = W - PAD_L - PAD_R
    gw = inner / max(1, len(levels))
    xticks, whiskers, dots = [], [], []
    for i, (label, mean, sd, pts) in enumerate(levels):
        cx = PAD_L + i * gw + gw / 2
        xticks.append((cx, label))
        for j, v in enumerate(pts or ()):
            if math.isfinite(v):
                dx = (j - (len(pts) - 1) / 2) * 6
                dots.append({"x": cx + 14 + dx, "y": sy(v), "r": 3, "color": PALETTE[1],
                             "label": f"{label}: run {_fmt(v)}"})
        if mean is None or not math.isfinite(mean):
            continue
        if sd is not None and math.isfinite(sd):
            whiskers.append({"x": cx, "y1": sy(mean - sd), "y2": sy(mean + sd),
                             "color": PALETTE[0]})
        dots.append({"x": cx, "y": sy(mean), "r": 5, "color": PALETTE[0],
                     "label": f"{label}: mean {_fmt(mean)}"
                     + (f" ± {_fmt(sd)}" if sd is not None else "")})
    return _template().render(
        kind="level", title=title, x_label=x_label, y_label=y_label, w=W, h=H,
        pad_l=PAD_L, pad_r=PAD_R, pad_t=PAD_T, pad_b=PAD_B,
        xticks=xticks, yticks=[(sy(v), _fmt(v)) for v in yt], lines=[], bars=[],
        whiskers=whiskers, dots=dots,
        **_legend_args([("mean ± sd", PALETTE[0]), ("one run", PALETTE[1])]),
    )


def _scale(ticks: list[float], length: float, offset: float, invert: bool):  # type: ignore[no-untyped-def]
    lo, hi = ticks[0], ticks[-1]
    span = (hi - lo) or 1.0

    def f(v: float) -> float:
        r = (v - lo) / span
        return offset + (1 - r) * length if invert else offset + r * length

    return f
