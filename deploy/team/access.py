"""Who may do what on the team's MLflow server (run by deploy/team/serve.sh as the MLflow admin; idempotent).

The server runs with ``default_permission = NO_PERMISSIONS``: a user sees nothing unless granted here.

    user            experiment ``mt-clinical-bert``     registered model ``mt-clinical-bert``
    mtclin-worker   EDIT (runs, metrics, artifacts)     MANAGE (new versions, aliases, deleting a half-made one)
    mtclin-reader   READ                                READ (load and serve ``models:/...@production``)

Reads the admin credentials (MLFLOW_TRACKING_USERNAME/PASSWORD) and the users' passwords
(MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD, MTCLIN_TEAM_MLFLOW_READER_PASSWORD) from the environment, never from argv.

    python deploy/team/access.py http://127.0.0.1:5000
"""

from __future__ import annotations

import os
import sys

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

EXPERIMENT = "mt-clinical-bert"  # mtclin.tracking.store.DEFAULT_EXPERIMENT
MODEL = "mt-clinical-bert"  # mtclin.tracking.store.DEFAULT_MODEL_NAME
GRANTS = {  # user -> (its password's variable, experiment permission, registered model permission)
    "mtclin-worker": ("MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD", "EDIT", "MANAGE"),
    "mtclin-reader": ("MTCLIN_TEAM_MLFLOW_READER_PASSWORD", "READ", "READ"),
}


def _exists(err: MlflowException) -> bool:
    return err.error_code == "RESOURCE_ALREADY_EXISTS"


def main(uri: str) -> None:
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    found = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = found.experiment_id if found else client.create_experiment(EXPERIMENT)
    try:
        client.create_registered_model(MODEL)
    except MlflowException as err:
        if not _exists(err):
            raise
    auth = get_app_client("basic-auth", tracking_uri=uri)
    for user, (variable, on_experiment, on_model) in GRANTS.items():
        password = os.environ[variable]
        try:
            auth.create_user(user, password)
        except MlflowException as err:
            if not _exists(err):
                raise
            auth.update_user_password(user, password)  # the secrets file is the truth
        for resource_type, resource_id, permission in (("experiment", experiment_id, on_experiment),
                                                       ("registered_model", MODEL, on_model)):
            try:
                auth.grant_user_permission(user, resource_type, resource_id, permission)
            except MlflowException as err:
                if not _exists(err):
                    raise
                auth.revoke_user_permission(user, resource_type, resource_id)  # back to what this file says
                auth.grant_user_permission(user, resource_type, resource_id, permission)
    print(f"MLflow access: {', '.join(GRANTS)} on experiment {EXPERIMENT} ({experiment_id}) and model {MODEL}")


if __name__ == "__main__":
    main(sys.argv[1])
