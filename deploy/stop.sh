#!/usr/bin/env bash
# Stop what deploy/serve.sh started, and the team stack (deploy/team/serve.sh) if one runs here; return once every
# process of them has exited: each service's process group and every descendant (deploy/team/procs.sh), with
# SIGKILL after MTCLIN_STOP_TIMEOUT seconds (20).
cd "$(dirname "$0")/.." || exit 1
. deploy/team/procs.sh
status=0
stop_service .mtclin prefect-worker TERM "$WORKER_STOP_TIMEOUT" || status=1  # flow runs first
stop_service .mtclin mlflow-server || status=1
stop_service .mtclin prefect-server || status=1
if [ -d "${MTCLIN_TEAM_DIR:-.mtclin/team}" ]; then
  bash deploy/team/stop.sh || status=1
fi
exit $status
