"""The data-validation gate: run the GX suites in ``expectations/`` on every processed split before training.

GX only ever sees a split's text-free view (``views.validation_view``), so no GX result, report or Data Docs page
can hold note text. One ephemeral GX context per ``validate`` call; the suites are read from their JSON files at
run time (they are versioned with the code, not built here). great_expectations is imported on first use, so
importing mtclin.validation stays cheap.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Sequence

import polars as pl

from mtclin.preprocess.dev_split import PROCESSED_SPLITS
from mtclin.corpora.types import TaskKind
from mtclin.tasks import TaskSpec, task_for_corpus
from mtclin.validation.report import CheckResult, DataValidationError, SplitResult, ValidationReport
from mtclin.validation.views import SOURCE_COLUMNS, missing_source_columns, validation_view

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
REPORT_FILE = "validation_report.json"
DATA_DOCS_DIR = "data_docs"
# GX keeps at most this many failing view values per check; they are counts and booleans, never text
_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


def suite_path(kind: TaskKind, suites_dir: Path = SUITES_DIR) -> Path:
    return Path(suites_dir) / f"{kind}.json"


def load_suite(kind: TaskKind, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    """The suite file of a task kind as GX's JSON dict (name, expectations [{type, kwargs, notes}], meta)."""
    path = suite_path(kind, suites_dir)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no GX suite for task kind {kind!r} (expected expectations/{kind}.json "
                                "beside the mtclin package, or pass suites_dir)")
    try:
        suite = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list):
        raise ValueError(f"{path}: a GX suite is a JSON object with a list under \"expectations\"")
    return suite


def validate(processed_dir: Path, corpora: Sequence[str], results_dir: Path | None = None, *,
             suites_dir: Path = SUITES_DIR) -> ValidationReport:
    """Validate ``processed_dir/<corpus>/{train,test}.parquet`` of each corpus with its task kind's suite.

    A missing, unreadable or empty split is a reported failure, not an exception. With ``results_dir``, writes
    ``results_dir/validation_report.json`` (``report.to_dict()``) and the GX Data Docs site built from the same
    text-free results into ``results_dir/data_docs``. Returns the report; see ``require_valid`` to stop on failure.
    """
    from mtclin.corpora.registry import source_of

    # a derived task (assertion, relation) reads its source corpus's tables: validating those covers it
    specs = [task_for_corpus(c, Path(processed_dir)) for c in dict.fromkeys(source_of(c) for c in corpora)]
    suite_dicts = {kind: load_suite(kind, suites_dir) for kind in dict.fromkeys(s.kind for s in specs)}
    docs_dir = Path(results_dir) / DATA_DOCS_DIR if results_dir is not None else None
    context = _ephemeral_context(docs_dir)
    datasource = context.data_sources.add_pandas("views")
    suites = {kind: _add_suite(context, kind, suite, suites_dir) for kind, suite in suite_dicts.items()}
    results = []
    for spec in specs:
        for split in PROCESSED_SPLITS:
            path = Path(processed_dir) / spec.name / f"{split}.parquet"
            results.append(_validate_split(context, datasource, suites[spec.kind], spec, split, path))
    report = ValidationReport(success=all(r.success for r in results), splits=tuple(results),
                              data_docs=str(docs_dir / "index.html") if docs_dir is not None else None)
    if results_dir is not None and docs_dir is not None:
        _write_results(context, Path(results_dir), docs_dir, report)
    return report


def require_valid(processed_dir: Path, corpora: Sequence[str], results_dir: Path | None = None, *,
                  suites_dir: Path = SUITES_DIR) -> ValidationReport:
    """``validate``, then raise ``DataValidationError`` (message: the failures) unless every check passed."""
    report = validate(processed_dir, corpora, results_dir, suites_dir=suites_dir)
    if not report.success:
        where = f"; full report: {Path(results_dir) / REPORT_FILE}" if results_dir is not None else ""
        raise DataValidationError(report, hint=(
            f"Fix the preprocessing or the raw data of these splits under {processed_dir}, then re-run "
            f"(what each check means: the notes in {suites_dir}/<kind>.json){where}"))
    return report


def _add_suite(context: Any, kind: TaskKind, suite: dict[str, Any], suites_dir: Path) -> Any:
    """Build a suite file's GX suite and add it to ``context``; an expectation GX cannot build is an error."""
    import great_expectations as gx

    try:
        built = gx.ExpectationSuite(**suite)
    except Exception as e:  # a bad kwarg: name the file
        raise ValueError(f"{suite_path(kind, suites_dir)}: not a valid GX suite: {e}") from e
    # GX only logs an expectation it cannot build (an unknown type) and drops it: a check would vanish
    dropped = [str(e.get("type")) for e in suite["expectations"]]
    for expectation in built.expectations:
        dropped.remove(expectation.expectation_type)
    if dropped:
        raise ValueError(f"{suite_path(kind, suites_dir)}: GX could not build {', '.join(dropped)} "
                         "(unknown expectation type or bad kwargs; see the log above)")
    return context.suites.add(built)


def _ephemeral_context(docs_dir: Path | None) -> Any:
    """An in-memory GX context: no analytics, no progress bars, no temp docs site; a filesystem Data Docs site
    at ``docs_dir`` when given."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _read_split(spec: TaskSpec, split: str, path: Path) -> tuple[pl.DataFrame | None, list[CheckResult]]:
    """The split table with the columns its view needs, or None and the gate check that failed. Exception
    messages are not kept: a reader's message could quote the file's bytes."""
    if not path.is_file():
        return None, [CheckResult("split_file_exists", None, False, source="gate")]
    try:
        columns = list(pl.read_parquet_schema(path))
    except Exception:
        return None, [CheckResult("split_file_readable", None, False, source="gate")]
    missing = missing_source_columns(spec.kind, columns)
    if missing:  # names from our own schema, not from the file
        return None, [CheckResult("split_columns_present", ",".join(missing), False, source="gate")]
    try:
        table = pl.read_parquet(path, columns=list(SOURCE_COLUMNS[spec.kind]))  # the text columns stay in here
    except Exception:
        return None, [CheckResult("split_file_readable", None, False, source="gate")]
    return table, []


def _validate_split(context: Any, datasource: Any, suite: Any, spec: TaskSpec, split: str, path: Path
                    ) -> SplitResult:
    table, failed = _read_split(spec, split, path)
    if table is None:
        return SplitResult(spec.name, split, spec.kind, None, None, tuple(failed), str(path))
    import great_expectations as gx

    view = validation_view(table, spec).to_pandas()  # GX 1.x validates pandas, not polars
    name = f"{spec.name}.{split}"
    batch = datasource.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    run = definition.run(batch_parameters={"dataframe": view}, result_format=_RESULT_FORMAT)
    order = {e.id: i for i, e in enumerate(suite.expectations)}
    outcomes = sorted(run.results, key=lambda r: order.get(r.expectation_config.id, len(order)))
    checks = tuple(_check(r) for r in outcomes)
    return SplitResult(spec.name, split, spec.kind, suite.name, table.height, checks, str(path))


def _check(outcome: Any) -> CheckResult:
    """Names and numbers from one GX expectation result; values, lists and exception text are dropped."""
    config, result = outcome.expectation_config, outcome.result or {}
    kwargs = config.kwargs
    column = kwargs.get("column") or (
        f"{kwargs['column_A']},{kwargs['column_B']}" if "column_A" in kwargs else None)

    def number(key: str) -> int | float | None:
        value = result.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    raised = bool((outcome.exception_info or {}).get("raised_exception"))
    element_count, unexpected_count = number("element_count"), number("unexpected_count")
    return CheckResult(
        expectation_type=config.type,
        column=column,
        success=bool(outcome.success) and not raised,
        element_count=None if element_count is None else int(element_count),
        unexpected_count=None if unexpected_count is None else int(unexpected_count),
        observed_value=number("observed_value"),
    )


def _write_results(context: Any, results_dir: Path, docs_dir: Path, report: ValidationReport) -> None:
    """The JSON report and the Data Docs site, rebuilt from scratch so that it shows this run's results only."""
    results_dir.mkdir(parents=True, exist_ok=True)
    if docs_dir.is_dir():
        shutil.rmtree(docs_dir)
    context.build_data_docs()
    (results_dir / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
