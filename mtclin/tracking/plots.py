"""Training-run figures as PNG files: learning curves, per-type F1 bars (NER), confusion matrices (entailment).

Built with ``matplotlib.figure.Figure`` directly (Agg canvas, no pyplot state, no GUI backend). Only metric values,
task names and label names are drawn; nothing from the notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def learning_curve(history: Sequence[Mapping[str, Any]], task: str, metric: str, best_epoch: int) -> Figure:
    """The task's primary ``metric`` (left axis) and mean training loss (right axis) per epoch."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    epochs = [h["epoch"] for h in history if task in h["metrics"]]
    values = [h["metrics"][task][metric] for h in history if task in h["metrics"]]
    ax.plot(epochs, values, marker="o", color="tab:blue", label=f"test {metric}")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(metric, color="tab:blue")
    ax.axvline(best_epoch, color="grey", linestyle=":", label="best epoch (mean primary)")
    losses = [(h["epoch"], h["train_loss"][task]) for h in history if task in h.get("train_loss", {})]
    if losses:
        right = ax.twinx()
        right.plot(*zip(*losses), marker="s", color="tab:red", label="train loss")
        right.set_ylabel("mean train loss", color="tab:red")
    ax.set_title(f"{task}: learning curve")
    ax.legend(loc="lower left", fontsize="small")
    return fig


def per_type_f1(metrics: Mapping[str, Any], task: str) -> Figure:
    """Horizontal F1 bars per entity type (``metrics["per_type"]``), gold support beside each bar."""
    per_type = metrics.get("per_type", {})
    types = sorted(per_type)
    fig = Figure(figsize=(6, 1 + 0.35 * max(len(types), 1)), layout="constrained")
    ax = fig.add_subplot()
    scores = [per_type[t]["f1"] for t in types]
    bars = ax.barh(types, scores, color="tab:green")
    for bar, t in zip(bars, types):
        ax.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2,
                f"{per_type[t]['f1']:.3f} (n={per_type[t].get('support', 0)})", va="center", fontsize="small")
    ax.set_xlim(0, 1.25)
    ax.invert_yaxis()
    ax.set_xlabel("exact-span F1")
    ax.set_title(f"{task}: F1 per entity type (micro F1 {metrics.get('f1', 0.0):.3f})")
    return fig


def confusion_matrix(metrics: Mapping[str, Any], task: str) -> Figure:
    """The confusion matrix (rows gold, columns predicted) with counts in the cells."""
    matrix, labels = metrics["confusion"], metrics["labels"]
    fig = Figure(figsize=(1.8 + 1.1 * len(labels), 1.4 + 1.0 * len(labels)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    peak = max((max(row) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if count > peak / 2 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{task}: accuracy {metrics.get('accuracy', 0.0):.3f}")
    fig.colorbar(image, ax=ax)
    return fig


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def write_run_plots(history: Sequence[Mapping[str, Any]], best_epoch: int, primary: Mapping[str, str],
                    out_dir: Path) -> list[Path]:
    """Every figure of a training run into ``out_dir``: ``learning_curves/<task>.png`` for each task,
    ``per_type_f1/<task>.png`` for each NER task and ``confusion/<task>.png`` for each entailment task (both at
    the best epoch). ``primary``: {task: primary metric name}. Returns the files written."""
    written = []
    best = next((h for h in history if h["epoch"] == best_epoch), history[-1] if history else None)
    for task, metric in primary.items():
        written.append(save(learning_curve(history, task, metric, best_epoch), out_dir / "learning_curves" /
                            f"{task}.png"))
        metrics = best["metrics"].get(task, {}) if best else {}
        if "per_type" in metrics:
            written.append(save(per_type_f1(metrics, task), out_dir / "per_type_f1" / f"{task}.png"))
        if "confusion" in metrics:
            written.append(save(confusion_matrix(metrics, task), out_dir / "confusion" / f"{task}.png"))
    return written
