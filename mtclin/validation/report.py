"""What a validation run found: per corpus, split and expectation, names and numbers only (never data values).

Results come from two places: the GX suite run on a split's text-free view (``source == "gx"``), and the gate's
own checks on the split file before GX can run (``source == "gate"``: ``split_file_exists``,
``split_file_readable``, ``split_columns_present``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """One expectation on one split. ``column``: the view column(s) checked ("a,b" for a pair), None for a table
    check. ``element_count``: rows checked; ``unexpected_count``: rows that failed (None for table checks).
    ``observed_value``: a table check's number (e.g. the row count), else None."""

    expectation_type: str
    column: str | None
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed_value: float | None = None
    source: str = "gx"

    def describe(self) -> str:
        """``expect_...(column) failed on 3 of 120 rows`` (or passed)."""
        name = f"{self.expectation_type}({self.column})" if self.column else self.expectation_type
        outcome = "passed" if self.success else "failed"
        if self.unexpected_count is not None and self.element_count is not None:
            return f"{name} {outcome} on {self.unexpected_count} of {self.element_count} rows"
        if self.observed_value is not None:
            return f"{name} {outcome} (observed {self.observed_value:g})"
        return f"{name} {outcome}"


@dataclass(frozen=True)
class SplitResult:
    corpus: str
    split: str
    kind: str
    suite: str | None  # the suite file run on the view; None when the gate stopped before GX
    rows: int | None  # rows in the split file; None when it could not be read
    checks: tuple[CheckResult, ...]
    file: str = ""  # the split's parquet path

    @property
    def success(self) -> bool:
        return all(c.success for c in self.checks)

    @property
    def name(self) -> str:
        return f"{self.corpus}/{self.split}"


@dataclass(frozen=True)
class ValidationReport:
    """``success``: every check on every split passed. ``splits``: in corpus order, train before test."""

    success: bool
    splits: tuple[SplitResult, ...]
    data_docs: str | None = field(default=None)  # index.html of the Data Docs site, when results_dir was given

    def failures(self) -> list[tuple[SplitResult, CheckResult]]:
        return [(s, c) for s in self.splits for c in s.checks if not c.success]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: names and numbers only."""
        return {
            "success": self.success,
            "data_docs": self.data_docs,
            "splits": [
                {"corpus": s.corpus, "split": s.split, "file": s.file, "kind": s.kind, "suite": s.suite,
                 "rows": s.rows, "success": s.success, "checks": [asdict(c) for c in s.checks]}
                for s in self.splits
            ],
        }

    def summary(self) -> str:
        """One line when everything passed; else a line per failed check, e.g.
        ``i2b2-2010/train: expect_column_values_to_be_in_set(tags_known) failed on 3 of 120 rows``."""
        n_checks = sum(len(s.checks) for s in self.splits)
        corpora = {s.corpus for s in self.splits}
        if self.success:
            return f"data validation passed: {n_checks} checks on {len(self.splits)} splits of {len(corpora)} corpora"
        failures = self.failures()
        lines = [f"data validation failed: {len(failures)} of {n_checks} checks on {len(self.splits)} splits"]
        lines += [f"  {s.name}: {c.describe()}" + (f" ({s.file})" if c.source == "gate" else "") for s, c in failures]
        return "\n".join(lines)


class DataValidationError(Exception):
    """Processed data failed the validation gate; ``report`` holds every result (text-free)."""

    def __init__(self, report: ValidationReport, hint: str = "") -> None:
        super().__init__(report.summary() + (f"\n{hint}" if hint else ""))
        self.report = report
