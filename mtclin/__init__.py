"""mtclin: clinical information extraction with one multitask BERT (MT-Clinical BERT).

Importing the package has no side effects; heavy dependencies (torch, mlflow, prefect) are imported by the
submodules that need them.
"""

__version__ = "0.1.0"
