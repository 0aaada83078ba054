"""Evaluation results as short markdown tables (for Prefect artifacts and run summaries): names and numbers only."""

from __future__ import annotations

from typing import Any, Mapping

from mtclin.tasks import primary_metric_for


def scalar_metrics(metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per task, its float metrics only (no confusion matrices or per-type tables): what a flow returns."""
    return {task: {k: v for k, v in m.items() if isinstance(v, float)} for task, m in metrics.items()}


def metrics_markdown(result: Mapping[str, Any], header: str = "") -> str:
    """``{"metrics": {task: {...}}, "score"}`` as a table of each task's primary metric and the mean."""
    lines = ["| task | metric | value |", "|---|---|---|"]
    for name, values in result["metrics"].items():
        metric = primary_metric_for(name)
        lines.append(f"| {name} | {metric} | {values[metric]:.4f} |")
    lines.append(f"| **mean** | primary | {result['score']:.4f} |")
    return (f"{header}\n\n" if header else "") + "\n".join(lines)
