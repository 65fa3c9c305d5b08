"""A drift report as HTML: for Jupyter (``_repr_html_``) and as one self-contained file.

The HTML holds a table of every feature with its severity, then for each
drifted feature the reference-vs-live histogram (share of rows per bin) with
each bin's share of the KL divergence, drawn by plotly.js as the dashboard's
run page draws it. plotly.js is the bundle shipped in the ``plotly`` package
(``plotly.offline.get_plotlyjs()``), embedded once per report: no ``<script
src>``, nothing from a CDN, so a report opens offline and is still drawn when
a notebook is reopened or exported. A report with no drifted feature has no
chart and no plotly.js (a few kilobytes instead of about 5 MB).

Every name and label is escaped: a column called ``<script>`` is shown, not run.
"""

from __future__ import annotations

import html
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from drift.stats.verdicts import FeatureScore, Thresholds

__all__ = ["MAX_BINS", "ReportLike", "bins", "page_html", "report_html", "save_html"]

#: Bins drawn per chart at most: those with the largest share of KL (a text feature has thousands).
MAX_BINS = 40

_STYLE = """
.drift-report { font-family: system-ui, sans-serif; font-size: 13px; color: #17324d; }
.drift-report table { border-collapse: collapse; margin: 6px 0 12px; }
.drift-report th, .drift-report td { padding: 3px 10px; border-bottom: 1px solid #dde3ea;
  text-align: right; }
.drift-report th { background: #f3f6f9; }
.drift-report td.name, .drift-report th.name { text-align: left; }
.drift-report .sev { font-weight: 600; border-radius: 3px; padding: 1px 6px; }
.drift-report .sev-ok { background: #e6f4ea; color: #1e6b34; }
.drift-report .sev-warn { background: #fff4d6; color: #7a5300; }
.drift-report .sev-critical { background: #fde2e1; color: #9b1c1c; }
.drift-report .note { color: #5b6b7b; }
.drift-report .chart { width: 100%; max-width: 900px; height: 340px; }
"""


class ReportLike(Protocol):
    """What is drawn: a :class:`drift.frames.DriftReport` (or anything shaped like one)."""

    @property
    def scores(self) -> tuple[FeatureScore, ...]: ...

    @property
    def thresholds(self) -> Thresholds: ...

    @property
    def skipped(self) -> Mapping[str, str]: ...


def report_html(report: ReportLike) -> str:
    """The report as an HTML fragment (what Jupyter shows): table, charts, plotly.js once.

    Examples
    --------
    >>> import numpy as np, pandas as pd, drift
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"<b>x</b>": rng.normal(size=2000)})
    >>> cur = pd.DataFrame({"<b>x</b>": rng.normal(1.0, size=2000)})
    >>> fragment = report_html(drift.compare(ref, cur))
    >>> "&lt;b&gt;x&lt;/b&gt;" in fragment, "<b>x" in fragment, "<script src" in fragment
    (True, False, False)
    >>> fragment.count("Plotly.newPlot("), fragment.count("window.Plotly = Plotly")
    (1, 1)
    """
    scores = report.scores
    drifted = [s for s in scores if s.drifted]
    token = uuid.uuid4().hex[:12]
    parts = [f'<div class="drift-report" id="drift-report-{token}">', f"<style>{_STYLE}</style>"]
    parts.append(_summary(scores, report.thresholds))
    parts.append(_table(scores))
    if report.skipped:
        items = "".join(
            f"<li><code>{_e(name)}</code>: {_e(reason)}</li>"
            for name, reason in report.skipped.items()
        )
        parts.append(f'<p class="note">Left out (no feature):</p><ul class="note">{items}</ul>')
    if drifted:
        parts.append(_plotly_js())
        for i, score in enumerate(drifted):
            parts.append(_chart(score, f"drift-chart-{token}-{i}"))
    parts.append("</div>")
    return "\n".join(parts)


def page_html(report: ReportLike, title: str = "Drift report") -> str:
    """The report as a whole HTML page, which loads nothing from anywhere.

    Its Content-Security-Policy allows only the page's own inline scripts and
    styles and ``data:`` images, so a browser refuses any request it would make.
    """
    csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{_e(title)}</title>\n</head>\n<body>\n{report_html(report)}\n</body>\n</html>\n"
    )


def save_html(report: ReportLike, path: str | Path, title: str = "Drift report") -> Path:
    """Write :func:`page_html` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(page_html(report, title), encoding="utf-8")
    return target


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _summary(scores: Sequence[FeatureScore], thresholds: Thresholds) -> str:
    drifted = [s for s in scores if s.drifted]
    worst = {sev: sum(1 for s in drifted if s.severity == sev) for sev in ("critical", "warn")}
    counts = ", ".join(f"{n} {sev}" for sev, n in worst.items() if n)
    head = f"{len(scores)} feature{'s' if len(scores) != 1 else ''}, {len(drifted)} drifted"
    rule = (
        f"drifted: adjusted p &lt; {thresholds.p_value:g} and bias-corrected KL &ge; "
        f"{thresholds.min_effect:g} nats; warn from {thresholds.warn:g}, critical from "
        f"{thresholds.critical:g} nats"
    )
    return (
        f"<p><strong>Drift report: {head}</strong>{f' ({counts})' if counts else ''}</p>"
        f'<p class="note">{rule}</p>'
    )


def _table(scores: Sequence[FeatureScore]) -> str:
    head = (
        '<tr><th class="name">feature</th><th class="name">kind</th><th>severity</th>'
        "<th>drifted</th><th>KL (corrected)</th><th>PSI</th><th>Jensen-Shannon</th>"
        "<th>p (adjusted)</th><th>rows ref</th><th>rows live</th></tr>"
    )
    rows = []
    for s in scores:
        drifted = "yes" if s.drifted else ("-" if s.enough_data else "too few rows")
        rows.append(
            f'<tr data-feature="{_e(s.feature)}" data-severity="{_e(s.severity)}">'
            f'<td class="name">{_e(s.feature)}</td><td class="name">{_e(s.kind)}</td>'
            f'<td><span class="sev sev-{_e(s.severity)}">{_e(s.severity)}</span></td>'
            f"<td>{drifted}</td><td>{_num(s.metrics.get('kl_corrected'))}</td>"
            f"<td>{_num(s.metrics.get('psi'))}</td><td>{_num(s.metrics.get('jensen_shannon'))}</td>"
            f"<td>{_p(s.p_adjusted)}</td><td>{s.reference.rows:,}</td><td>{s.current.rows:,}</td>"
            "</tr>"
        )
    return f'<table class="features"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.4f}"


def _p(value: float) -> str:
    return f"{value:.2e}" if value < 1e-3 else f"{value:.3f}"


def _plotly_js() -> str:
    """plotly.js from the ``plotly`` package, run only where no Plotly is loaded yet."""
    from plotly.offline import get_plotlyjs

    return (
        '<script type="text/javascript">if (typeof window.Plotly === "undefined") {\n'
        f"{get_plotlyjs()}\n}}</script>"
    )


def bins(score: FeatureScore) -> dict[str, list[str] | list[float] | list[float | None]]:
    """The drawn bins of one feature: labels, shares of rows, KL contributions and shares.

    At most :data:`MAX_BINS` bins, those with the largest share of KL, in bin
    order. A bin's share of KL is its contribution over the feature's KL
    (contributions can be negative; shares sum to 1 over all bins), ``None``
    when KL is 0 or infinite.

    Examples
    --------
    >>> import numpy as np, pandas as pd, drift
    >>> ref = pd.DataFrame({"c": ["a"] * 500 + ["b"] * 500})
    >>> cur = pd.DataFrame({"c": ["a"] * 800 + ["b"] * 200})
    >>> drawn = bins(drift.compare(ref, cur)["c"])
    >>> drawn["labels"], drawn["reference"], drawn["current"]
    (['a', 'b', '<other>'], [0.5, 0.5, 0.0], [0.8, 0.2, 0.0])
    >>> round(sum(x for x in drawn["kl_share"] if x is not None), 6)
    1.0
    """
    labels = list(score.labels)
    ref = [int(c) for c in score.reference.counts]
    cur = [int(c) for c in score.current.counts]
    contributions = [float(c) for c in score.contributions]
    total = sum(contributions)
    ok = math.isfinite(total) and total > 0
    order = range(len(labels))
    if len(labels) > MAX_BINS:
        top = sorted(order, key=lambda i: -abs(contributions[i]))[:MAX_BINS]
        order = sorted(top)  # type: ignore[assignment]
    ref_total, cur_total = sum(ref) or 1, sum(cur) or 1
    return {
        "labels": [labels[i] for i in order],
        "reference": [ref[i] / ref_total for i in order],
        "current": [cur[i] / cur_total for i in order],
        "kl": [contributions[i] if math.isfinite(contributions[i]) else None for i in order],
        "kl_share": [contributions[i] / total if ok else None for i in order],
    }


def _chart(score: FeatureScore, element: str) -> str:
    drawn = bins(score)
    # plotly.js reads tags in tick and hover text: escaped, a label shows as written.
    drawn["labels"] = [_e(label) for label in drawn["labels"]]
    shown = len(drawn["labels"])
    note = (
        f" (the {shown} of {len(score.labels)} bins with the largest share of KL)"
        if shown < len(score.labels)
        else ""
    )
    kl = score.metrics.get("kl_corrected", 0.0)
    heading = (
        f'<h4>{_e(score.feature)} <span class="sev sev-{_e(score.severity)}">'
        f'{_e(score.severity)}</span> <span class="note">bias-corrected KL {_num(kl)} nats'
        f"{note}</span></h4>"
        '<p class="note">Share of KL: the bin\'s term of KL (live || reference) over the total; '
        "below 0 where live has fewer rows there than the reference.</p>"
    )
    data = [
        {"x": drawn["labels"], "y": drawn["reference"], "name": "reference", "type": "bar",
         "marker": {"color": "#90a4ae"},
         "hovertemplate": "%{x}<br>reference %{y:.1%}<extra></extra>"},
        {"x": drawn["labels"], "y": drawn["current"], "name": "live", "type": "bar",
         "marker": {"color": "#17324d"},
         "hovertemplate": "%{x}<br>live %{y:.1%}<extra></extra>"},
        {"x": drawn["labels"], "y": drawn["kl_share"], "customdata": drawn["kl"],
         "name": "share of KL", "type": "scatter", "mode": "markers", "yaxis": "y2",
         "marker": {"color": "#c62828", "size": 9, "symbol": "diamond"},
         "hovertemplate": "%{x}<br>%{y:.1%} of KL (%{customdata:.4f} nats)<extra></extra>"},
    ]  # fmt: skip
    layout = {
        "barmode": "group",
        "height": 340,
        "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
        "legend": {"orientation": "h", "y": -0.25},
        "xaxis": {"type": "category", "automargin": True},
        "yaxis": {"title": {"text": "share of rows"}, "tickformat": ".0%", "automargin": True},
        "yaxis2": {"title": {"text": "share of KL", "standoff": 8}, "overlaying": "y",
                   "side": "right", "tickformat": ".0%", "tickmode": "auto", "showgrid": False,
                   "zeroline": False, "automargin": True},
    }  # fmt: skip
    figure = _json({"data": data, "layout": layout})
    script = (
        "(function () {"
        f"var el = document.getElementById({_json(element)}); var fig = {figure};"
        "window.Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true})"
        '.then(function () { el.dataset.rendered = "1"; });'
        "})();"
    )
    return (
        f'<div class="feature" data-feature="{_e(score.feature)}">{heading}'
        f'<div class="chart" id="{element}"></div>'
        f'<script type="text/javascript">{script}</script></div>'
    )


def _json(value: object) -> str:
    """JSON safe inside a ``<script>``: no ``</script>``, ``<!--`` or line separators."""
    text = json.dumps(value, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
