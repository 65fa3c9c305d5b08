"""Small pieces of the report's HTML: escaping, numbers, JSON inside a script, a plotly call."""

from __future__ import annotations

import html
import json
import math

__all__ = ["escape", "number", "p_text", "plot_script", "script_json"]


def escape(value: object) -> str:
    """``str(value)`` escaped for HTML text and attribute values.

    Examples
    --------
    >>> escape('<b a="1">')
    '&lt;b a=&quot;1&quot;&gt;'
    """
    return html.escape(str(value), quote=True)


def number(value: float | None) -> str:
    """A divergence for a table: 4 decimals, ``inf``, or ``-`` when there is none.

    Examples
    --------
    >>> number(0.123456), number(float("inf")), number(None)
    ('0.1235', 'inf', '-')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.4f}"


def p_text(value: float) -> str:
    """A p-value for a table: scientific below 0.001.

    Examples
    --------
    >>> p_text(0.5), p_text(1e-12)
    ('0.500', '1.00e-12')
    """
    return f"{value:.2e}" if value < 1e-3 else f"{value:.3f}"


def script_json(value: object) -> str:
    """JSON safe inside a ``<script>``: no ``</script>``, ``<!--`` or line separators.

    Examples
    --------
    >>> script_json({"a": "</script>"})
    '{"a": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def plot_script(element: str, figure: object) -> str:
    """The script that draws ``figure`` (``{"data", "layout"}``) into the element ``element``."""
    return (
        '<script type="text/javascript">(function () {'
        f"var el = document.getElementById({script_json(element)}); "
        f"var fig = {script_json(figure)};"
        "window.Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true})"
        '.then(function () { el.dataset.rendered = "1"; });'
        "})();</script>"
    )
