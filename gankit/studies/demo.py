"""A toy study, the runner's worked example: the mean of ``n`` standard normal draws, over seeds.

Each job draws ``n`` numbers with its own seed and returns their mean; the report gives the mean of the
means with a normal-theory 95 % interval, which must cover 0 (the true mean) about 95 % of the time.
Copy this file to start a new study.

Example::

    gankit study demo --seeds 8 --workers 2 --out studies/demo
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gankit.studies.runner import Job, Study, StudyError, StudyReport, settings_of

DESCRIPTION = "toy study: mean of n normal draws over seeds (the runner's example)"
DEFAULT_OUT = "studies/demo"


def add_arguments(parser: Any) -> None:
    parser.add_argument("--seeds", type=int, default=4, help="number of jobs, one per seed (default 4)")
    parser.add_argument("--n", type=int, default=1000, help="draws per job (default 1000)")


def job(seed: int, n: int) -> dict[str, Any]:
    """The mean of ``n`` N(0, 1) draws from ``torch.Generator().manual_seed(seed)``."""
    import torch

    x = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return {"seed": seed, "mean": float(x.mean()), "threads": torch.get_num_threads()}


@dataclass
class DemoStudy(Study):
    seeds: int = 4
    n: int = 1000
    name: str = "demo"

    def settings(self) -> dict[str, Any]:
        return settings_of(self)

    def jobs(self) -> list[Job]:
        if self.seeds < 1 or self.n < 1:
            raise StudyError(f"--seeds and --n must be at least 1, got {self.seeds} and {self.n}")
        return [Job("gankit.studies.demo:job", {"seed": s, "n": self.n},
                    label=f"seed{s}") for s in range(self.seeds)]

    def report(self, records: list[dict[str, Any]]) -> StudyReport:
        from gankit.report import html

        means = [r["result"]["mean"] for r in records]
        k = len(means)
        mean = sum(means) / k
        half = 1.96 / math.sqrt(self.n * k)  # sd of the mean of k*n unit-variance draws
        summary = {"mean": mean, "ci95": [mean - half, mean + half], "jobs": k, "n": self.n}
        rows = [[r["result"]["seed"], r["result"]["mean"], r["seconds"]] for r in records]
        md = (f"# demo study\n\nmean of {k} x {self.n} N(0,1) draws: {mean:.4f} "
              f"(95 % CI [{mean - half:.4f}, {mean + half:.4f}])\n\n| seed | mean | seconds |\n|---|---|---|\n"
              + "".join(f"| {s} | {m:.4f} | {t:.3f} |\n" for s, m, t in rows))
        body = [html.paragraph(f"mean {mean:.4f}, 95 % CI [{mean - half:.4f}, {mean + half:.4f}]"),
                html.figure(_histogram(means), "per-seed means"),
                html.table(["seed", "mean", "seconds"], rows)]
        return StudyReport(summary, md, body, title="gankit study demo")


def _histogram(values: list[float]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.hist(values, bins=max(3, len(values) // 2))
    ax.set_xlabel("mean of n draws")
    return fig


STUDY = DemoStudy
__all__ = ["DemoStudy", "STUDY", "job"]
