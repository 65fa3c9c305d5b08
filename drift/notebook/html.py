"""A drift report as HTML: for Jupyter (``_repr_html_``) and as one self-contained file.

The HTML holds a table of every feature with its severity (pairs too), the
pairs' chain-rule split and the segment x feature table
(:mod:`drift.notebook.breakdown`), then for each drifted feature, and each
feature drifted in a segment, the reference-vs-live histogram (share of
rows per bin) with each bin's share of the KL divergence, drawn by
plotly.js as the dashboard's run page draws it; a drifted pair gets a
heatmap of its cells' shares instead. plotly.js is the bundle shipped in the ``plotly`` package
(``plotly.offline.get_plotlyjs()``), embedded once per report: no ``<script
src>``, nothing from a CDN, so a report opens offline and is still drawn when
a notebook is reopened or exported. A report with no drifted feature has no
chart and no plotly.js (a few kilobytes instead of about 5 MB).

Every name and label is escaped: a column called ``<script>`` is shown, not run.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from drift.notebook.breakdown import pair_heatmap, pair_table, segment_table
from drift.notebook.markup import escape, number, p_text, plot_script
from drift.stats.binning import Binning, PairBinning
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

    @property
    def binnings(self) -> Mapping[str, Binning]: ...


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
    whole = [s for s in scores if not s.segment]
    drifted = [s for s in scores if s.drifted]
    token = uuid.uuid4().hex[:12]
    parts = [f'<div class="drift-report" id="drift-report-{token}">', f"<style>{_STYLE}</style>"]
    parts.append(_summary(scores, report.thresholds))
    parts.append(_table(whole))
    parts.append(pair_table(whole))
    parts.append(segment_table(scores))
    if report.skipped:
        items = "".join(
            f"<li><code>{escape(name)}</code>: {escape(reason)}</li>"
            for name, reason in report.skipped.items()
        )
        parts.append(f'<p class="note">Left out (no feature):</p><ul class="note">{items}</ul>')
    if drifted:
        parts.append(_plotly_js())
        for i, score in enumerate(drifted):
            element = f"drift-chart-{token}-{i}"
            pair = report.binnings.get(score.feature)
            if isinstance(pair, PairBinning) and not score.segment:
                parts.append(pair_heatmap(score, pair, element))
            else:
                parts.append(_chart(score, element))
    parts.append("</div>")
    return "\n".join(p for p in parts if p)


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
        f"<title>{escape(title)}</title>\n</head>\n<body>\n{report_html(report)}\n</body>\n</html>\n"
    )


def save_html(report: ReportLike, path: str | Path, title: str = "Drift report") -> Path:
    """Write :func:`page_html` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(page_html(report, title), encoding="utf-8")
    return target


def _summary(scores: Sequence[FeatureScore], thresholds: Thresholds) -> str:
    whole = [s for s in scores if not s.segment]
    drifted = [s for s in whole if s.drifted]
    worst = {sev: sum(1 for s in drifted if s.severity == sev) for sev in ("critical", "warn")}
    counts = ", ".join(f"{n} {sev}" for sev, n in worst.items() if n)
    head = f"{len(whole)} feature{'s' if len(whole) != 1 else ''}, {len(drifted)} drifted"
    per_segment = [s for s in scores if s.segment]
    if per_segment:
        flagged = sum(s.drifted for s in per_segment)
        head += f"; per segment, {flagged} of {len(per_segment)} scores drifted"
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
            f'<tr data-feature="{escape(s.feature)}" data-severity="{escape(s.severity)}">'
            f'<td class="name">{escape(s.feature)}</td><td class="name">{escape(s.kind)}</td>'
            f'<td><span class="sev sev-{escape(s.severity)}">{escape(s.severity)}</span></td>'
            f"<td>{drifted}</td><td>{number(s.metrics.get('kl_corrected'))}</td>"
            f"<td>{number(s.metrics.get('psi'))}</td><td>{number(s.metrics.get('jensen_shannon'))}</td>"
            f"<td>{p_text(s.p_adjusted)}</td><td>{s.reference.rows:,}</td><td>{s.current.rows:,}</td>"
            "</tr>"
        )
    return f'<table class="features"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


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
    drawn["labels"] = [escape(label) for label in drawn["labels"]]
    shown = len(drawn["labels"])
    note = (
        f" (the {shown} of {len(score.labels)} bins with the largest share of KL)"
        if shown < len(score.labels)
        else ""
    )
    kl = score.metrics.get("kl_corrected", 0.0)
    where = f' data-feature="{escape(score.feature)}"'
    title = escape(score.feature)
    if score.segment:
        where += f' data-segment="{escape(score.segment)}"'
        title += f' <span class="note">in</span> {escape(score.segment)}'
    heading = (
        f'<h4>{title} <span class="sev sev-{escape(score.severity)}">'
        f'{escape(score.severity)}</span> <span class="note">bias-corrected KL {number(kl)} nats'
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
    return (
        f'<div class="feature"{where}>{heading}'
        f'<div class="chart" id="{element}"></div>'
        f"{plot_script(element, {'data': data, 'layout': layout})}</div>"
    )
