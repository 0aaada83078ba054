"""`make demo`: the whole pipeline on the embedded default (sample corpora + packaged MiniLM), then promotion.

Runs the flows in-process (Prefect's local ephemeral server, state in PREFECT_HOME) and prints how to open the
MLflow and Prefect UIs on what it produced.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from flows.promote import promote_model
from flows.train_multitask import train_multitask

# Chosen to finish in minutes on a 2-core CPU while every head learns something (see docs/benchmarks.md).
DEMO_PARAMETERS = {"epochs": 4, "learning_rate": 1e-4, "encoder": "minilm", "max_length": 128}


def main() -> int:
    started = time.monotonic()
    project = Path.cwd()
    result = train_multitask(project_dir=str(project), **DEMO_PARAMETERS)
    trained = time.monotonic()
    state = promote_model(project_dir=str(project), return_state=True)
    promoted = state.is_completed()
    summary = {
        "score": round(result["score"], 4),
        "registered_version": result["version"],
        "promoted_to_production": promoted,
        "primary_metrics": {t: {k: round(v, 4) for k, v in m.items() if k in ("f1", "accuracy", "pearson")}
                            for t, m in result["metrics"].items()},
        "train_multitask_seconds": round(trained - started, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary, indent=2))
    if not promoted:
        print(f"promotion refused: {state.message}", file=sys.stderr)
    print(f"""
Done. Look at the results:
  MLflow UI:   .venv/bin/mlflow ui --backend-store-uri sqlite:///{project / 'mlflow.db'} --port 5000
               then http://127.0.0.1:5000 (experiment mt-clinical-bert, model mt-clinical-bert@production)
  Prefect UI:  PREFECT_HOME={project / '.prefect'} .venv/bin/prefect server start
               then http://127.0.0.1:4200 (flow runs train-multitask, promote-model)
  Serve:       MLFLOW_TRACKING_URI=sqlite:///{project / 'mlflow.db'} .venv/bin/mlflow models serve \\
                 -m models:/mt-clinical-bert@production --env-manager local --port 5001
  Predict:     echo '{{"text": "Patient given aspirin 81 mg for chest pain."}}' | \\
                 .venv/bin/mtclin predict --model {result['run_dir']}/model""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
