"""The report's segments and pairs as HTML: a segment x feature table, the pairs' split, heatmaps.

- :func:`segment_table`: one row per segment, one column per feature scored
  per segment; a cell shows the bias-corrected KL, with the severity when
  the feature drifted there, or "too few rows" when the segment was
  reported, not judged (fewer than its ``min_rows`` values on a side).
- :func:`pair_table`: every pair with its KL split by the chain rule into
  the marginal term (how much ``x`` moved) and the conditional term (how
  much the relationship changed), and the conditional share.
- :func:`pair_heatmap`: a drifted pair's per-cell share of KL, ``x`` down,
  ``y`` across.

Every name and label is escaped (:func:`drift.notebook.markup.escape`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from drift.notebook.markup import escape, number, p_text, plot_script
from drift.stats.binning import PairBinning
from drift.stats.verdicts import FeatureScore

__all__ = ["heatmap_cells", "pair_heatmap", "pair_table", "segment_table"]


def segment_table(scores: Sequence[FeatureScore]) -> str:
    """The segment x feature table of the per-segment scores (``""`` when there are none).

    Examples
    --------
    >>> import numpy as np, pandas as pd, drift
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=4000), "c": rng.choice(["a", "b"], 4000)})
    >>> cur = ref.assign(x=np.where(ref["c"] == "a", ref["x"] + 1, ref["x"]))
    >>> table = segment_table(drift.compare(ref, cur, segments="c").scores)
    >>> 'data-segment="c=a" data-feature="x" data-severity="critical"' in table
    True
    """
    per_segment = [s for s in scores if s.segment]
    if not per_segment:
        return ""
    features = list(dict.fromkeys(s.feature for s in per_segment))
    segments = list(dict.fromkeys(s.segment for s in per_segment))
    cells = {(s.segment, s.feature): s for s in per_segment}
    head = '<th class="name">segment</th>' + "".join(f"<th>{escape(f)}</th>" for f in features)
    rows = []
    for segment in segments:
        row = [f'<td class="name">{escape(segment)}</td>']
        for feature in features:
            score = cells.get((segment, feature))
            row.append(_cell(segment, feature, score))
        rows.append(f'<tr data-segment="{escape(segment)}">{"".join(row)}</tr>')
    return (
        '<p><strong>Per segment</strong> <span class="note">bias-corrected KL (nats); '
        "severity where drifted</span></p>"
        f'<table class="segments"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _cell(segment: str, feature: str, score: FeatureScore | None) -> str:
    if score is None:
        return "<td>-</td>"
    where = f'data-segment="{escape(segment)}" data-feature="{escape(feature)}"'
    sizes = f"{score.current.rows:,} live, {score.reference.rows:,} reference rows"
    if not score.enough_data:
        return (
            f'<td {where} data-severity="ok" data-judged="no" title="{sizes}">'
            '<span class="note">too few rows</span></td>'
        )
    value = number(score.metrics.get("kl_corrected"))
    badge = (
        f'<span class="sev sev-{escape(score.severity)}">{escape(score.severity)}</span> '
        if score.drifted
        else ""
    )
    return (
        f'<td {where} data-severity="{escape(score.severity)}" data-judged="yes" '
        f'title="{sizes}; p (adjusted) {p_text(score.p_adjusted)}">{badge}{value}</td>'
    )


def pair_table(scores: Sequence[FeatureScore]) -> str:
    """The pairs with the chain-rule split of their KL (``""`` when there are none)."""
    pairs = [s for s in scores if "kl_conditional" in s.metrics and not s.segment]
    if not pairs:
        return ""
    head = (
        '<tr><th class="name">pair</th><th>severity</th><th>KL (corrected)</th><th>KL</th>'
        "<th>marginal KL(P(x) || Q(x))</th><th>conditional sum P(x) KL(P(y|x) || Q(y|x))</th>"
        "<th>conditional share</th><th>p (adjusted)</th></tr>"
    )
    rows = []
    for s in pairs:
        kl, conditional = s.metrics["kl"], s.metrics["kl_conditional"]
        share = f"{conditional / kl:.0%}" if kl > 0 and math.isfinite(kl) else "-"
        rows.append(
            f'<tr data-pair="{escape(s.feature)}" data-severity="{escape(s.severity)}">'
            f'<td class="name">{escape(s.feature)}</td>'
            f'<td><span class="sev sev-{escape(s.severity)}">{escape(s.severity)}</span></td>'
            f"<td>{number(s.metrics['kl_corrected'])}</td><td>{number(kl)}</td>"
            f"<td>{number(s.metrics['kl_marginal'])}</td><td>{number(conditional)}</td>"
            f'<td class="share">{share}</td><td>{p_text(s.p_adjusted)}</td></tr>'
        )
    return (
        '<p><strong>Pairs</strong> <span class="note">the joint KL split by the chain rule: '
        "the change of x, and the change of the relationship (y given x)</span></p>"
        f'<table class="pairs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
    )


def heatmap_cells(score: FeatureScore, pair: PairBinning) -> list[list[float | None]]:
    """A pair's per-cell share of KL as ``k_x`` rows of ``k_y`` (None where KL is 0 or inf).

    Examples
    --------
    >>> import numpy as np
    >>> from drift.stats import Histogram, NumericBinning, score_feature
    >>> pair = PairBinning(NumericBinning((0.0,)), NumericBinning((0.0,)))
    >>> s = score_feature(
    ...     Histogram(pair.labels, np.array([400, 100, 100, 400])),
    ...     Histogram(pair.labels, np.array([100, 400, 400, 100])),
    ...     feature="x × y", kind="pair", shape=pair.shape,
    ... )
    >>> [[round(v, 2) for v in row] for row in heatmap_cells(s, pair)]
    [[-0.17, 0.67], [0.67, -0.17]]
    """
    contributions = np.asarray(score.contributions, dtype=np.float64)
    total = float(contributions.sum())
    ok = math.isfinite(total) and total > 0
    grid = contributions.reshape(pair.shape)
    return [[float(v) / total if ok and math.isfinite(v) else None for v in row] for row in grid]


def pair_heatmap(score: FeatureScore, pair: PairBinning, element: str) -> str:
    """A drifted pair's heading, split, and heatmap of each cell's share of KL."""
    kl = score.metrics["kl"]
    conditional = score.metrics["kl_conditional"]
    share = f"{conditional / kl:.0%}" if kl > 0 and math.isfinite(kl) else "-"
    heading = (
        f'<h4>{escape(score.feature)} <span class="sev sev-{escape(score.severity)}">'
        f'{escape(score.severity)}</span> <span class="note">bias-corrected KL '
        f"{number(score.metrics['kl_corrected'])} nats; marginal "
        f"{number(score.metrics['kl_marginal'])}, conditional {number(conditional)} "
        f"({share} of KL)</span></h4>"
        '<p class="note">Share of KL per cell: the cell\'s term of the joint KL over the total; '
        "below 0 where live has fewer rows there than the reference.</p>"
    )
    x_name, _, y_name = score.feature.partition(" × ")
    data = [{
        "type": "heatmap", "z": heatmap_cells(score, pair),
        "x": [escape(label) for label in pair.y.labels],
        "y": [escape(label) for label in pair.x.labels],
        "colorscale": "RdBu", "reversescale": True, "zmid": 0,
        "colorbar": {"title": {"text": "share of KL"}, "tickformat": ".0%"},
        "hovertemplate": "%{y} × %{x}<br>%{z:.1%} of KL<extra></extra>",
    }]  # fmt: skip
    layout = {
        "height": 380,
        "margin": {"l": 90, "r": 20, "t": 10, "b": 60},
        "xaxis": {"type": "category", "title": {"text": escape(y_name)}, "automargin": True},
        "yaxis": {"type": "category", "title": {"text": escape(x_name)}, "automargin": True},
    }
    return (
        f'<div class="feature pair" data-feature="{escape(score.feature)}">{heading}'
        f'<div class="chart" id="{element}"></div>'
        f"{plot_script(element, {'data': data, 'layout': layout})}</div>"
    )
