# What a machine running flows needs of the team stack (sourced by deploy/team/serve.sh and join.sh): the client
# environment file, the DVC remote, a worker. The file holds the worker's credentials only: Prefect's auth
# string, the MLflow user mtclin-worker, the DVC identity of the object store; never the database password, the
# MLflow admin's or the MLflow server's own S3 keys.

# write_client_env FILE: the environment a worker machine needs (mode 600), naming this machine $PUBLIC_HOST.
write_client_env() {
  (
    umask 077
    cat >"$1" <<ENV
MTCLIN_TEAM_SERVER=$PUBLIC_HOST
MLFLOW_TRACKING_URI=http://$PUBLIC_HOST:$MLFLOW_PORT
MLFLOW_TRACKING_USERNAME=$MLFLOW_WORKER
MLFLOW_TRACKING_PASSWORD=$MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD
PREFECT_API_URL=http://$PUBLIC_HOST:$PREFECT_PORT/api
PREFECT_API_AUTH_STRING=$MTCLIN_TEAM_PREFECT_AUTH_STRING
MTCLIN_TEAM_DVC_REMOTE=s3://$DVC_BUCKET/
MTCLIN_TEAM_S3_URL=http://$PUBLIC_HOST:$S3_PORT
MTCLIN_TEAM_S3_DVC_KEY=$MTCLIN_TEAM_S3_DVC_KEY
MTCLIN_TEAM_S3_DVC_SECRET=$MTCLIN_TEAM_S3_DVC_SECRET
ENV
  )
}

# _client_env FILE [HOST]: export the file's variables in this (sub)shell; HOST replaces the server's name in the
# URLs (the machine running the servers reaches them on 127.0.0.1).
_client_env() {
  local mode
  mode=$(stat -c %a "$1")
  if [ "${mode: -2}" != 00 ]; then
    echo "$1 is readable by others (mode $mode): chmod 600 $1" >&2
    return 1
  fi
  set -a
  . "$1"
  set +a
  if [ -n "${2:-}" ]; then
    MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI/\/\/$MTCLIN_TEAM_SERVER:/\/\/$2:}
    PREFECT_API_URL=${PREFECT_API_URL/\/\/$MTCLIN_TEAM_SERVER:/\/\/$2:}
    MTCLIN_TEAM_S3_URL=${MTCLIN_TEAM_S3_URL/\/\/$MTCLIN_TEAM_SERVER:/\/\/$2:}
  fi
}

# configure_dvc_remote FILE [HOST]: the default DVC remote `team` on the object store, in .dvc/config.local (which
# DVC keeps out of git), written through DVC's config API so no key appears on a command line.
configure_dvc_remote() {
  (
    _client_env "$@"
    "$BIN/python" - <<'PY'
import os

from dvc.repo import Repo

repo = Repo(".")
with repo.config.edit("local") as conf:
    conf["remote"]["team"] = {"url": os.environ["MTCLIN_TEAM_DVC_REMOTE"],
                              "endpointurl": os.environ["MTCLIN_TEAM_S3_URL"], "region": "us-east-1",
                              "access_key_id": os.environ["MTCLIN_TEAM_S3_DVC_KEY"],
                              "secret_access_key": os.environ["MTCLIN_TEAM_S3_DVC_SECRET"]}
    conf["core"]["remote"] = "team"
PY
  )
}

# start_worker FILE [HOST]: a process worker on the pool mtclin-team with the file's credentials; its flow runs
# authenticate to MLflow as mtclin-worker and to Prefect with the auth string, both from the environment.
start_worker() {
  (
    _client_env "$@"
    unset MTCLIN_TEAM_S3_DVC_KEY MTCLIN_TEAM_S3_DVC_SECRET  # DVC reads them from .dvc/config.local
    start_service "$TEAM_DIR" prefect-worker "$BIN/prefect" worker start --pool mtclin-team \
      --name "mtclin-$(hostname -s)"
  )
}
