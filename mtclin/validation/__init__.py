"""The data-validation gate: GX suites (``expectations/<kind>.json``) run on text-free views of the processed
splits, before training. ``require_valid`` stops the pipeline with a report of names and numbers only.

Importing this package does not import great_expectations (it is imported on the first ``validate``).
"""

from mtclin.validation.gate import SUITES_DIR, load_suite, require_valid, validate
from mtclin.validation.report import CheckResult, DataValidationError, SplitResult, ValidationReport
from mtclin.validation.views import VIEW_COLUMNS, validation_view

__all__ = [
    "SUITES_DIR",
    "CheckResult",
    "DataValidationError",
    "SplitResult",
    "ValidationReport",
    "VIEW_COLUMNS",
    "load_suite",
    "require_valid",
    "validate",
    "validation_view",
]
