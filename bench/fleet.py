"""A fleet of realistic monitor YAMLs for the fleet benchmarks (issue 18).

``write_fleet(folder, n)`` writes ``n`` monitor files, varied the way a team's
monitors are: hourly, daily and 15-minute windows, cron schedules, 3 to 12
features of every kind (numeric with several binnings, categorical, boolean,
text), thresholds per feature, reference ranges, alert routes.
"""

from __future__ import annotations

import random
from pathlib import Path

WINDOWS = ("1h", "1d", "15m", "6h")
KINDS = (
    "{{name: {col}, kind: numeric, bins: {bins}}}",
    "{{name: {col}, kind: numeric, strategy: quantile, bins: {bins}}}",
    "{{name: {col}, kind: categorical, top_k: {top_k}}}",
    "{{name: {col}, kind: text, tokenizer: regex, top_k: {vocab}}}",
)


def monitor_yaml(i: int, rng: random.Random) -> str:
    """The text of monitor number ``i``."""
    features = []
    for j in range(rng.randint(3, 12)):
        template = rng.choice(KINDS)
        features.append(
            "  - "
            + template.format(
                col=f"col_{j}",
                bins=rng.choice((5, 10, 20)),
                top_k=rng.choice((10, 20, 50)),
                vocab=rng.choice((200, 500, 1000)),
            )
        )
    lines = [
        f"name: team{i % 17}_model_{i:04d}",
        f"description: Fleet monitor {i} of team {i % 17}.",
        "source:",
        f"  url_env: FLEET_SOURCE_{i % 5}",
        f"table: events_{i % 40}",
        "timestamp: created_at",
    ]
    window = rng.choice(WINDOWS)
    if rng.random() < 0.2:
        lines.append("schedule: '0 * * * *'")
        lines.append("window: 1h")
    else:
        lines.append(f"window: {window}")
    if rng.random() < 0.5:
        lines += ["reference:", "  start: 2024-05-01", "  end: 2024-05-15"]
    lines.append("features:")
    lines += features
    lines.append(f"thresholds: {{warn: {rng.choice((0.02, 0.05))}, critical: 0.2}}")
    return "\n".join(lines) + "\n"


def write_fleet(folder: Path, n: int, *, seed: int = 18) -> list[Path]:
    """Write ``n`` monitor files into ``folder`` (created); return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        path = folder / f"monitor_{i:04d}.yaml"
        path.write_text(monitor_yaml(i, rng), encoding="utf-8")
        paths.append(path)
    return paths
