#!/usr/bin/env bash
# Start the local stack in the background: Prefect server (SQLite), the `mtclin-local` process work pool and a
# worker, the */local deployments, and the MLflow tracking server (SQLite + local artifacts).
# Logs and pids go to .mtclin/; `deploy/stop.sh` stops everything: each server runs in a session of its own and
# marks its descendants (deploy/team/procs.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/team/procs.sh
PROJECT_DIR=$(pwd)
BIN=${VENV:-.venv}/bin
export PREFECT_SERVER_ANALYTICS_ENABLED=false MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=1
STATE=.mtclin
mkdir -p "$STATE"
export PREFECT_HOME=${PREFECT_HOME:-$PROJECT_DIR/.prefect}
PREFECT_PORT=${PREFECT_PORT:-4200}
MLFLOW_PORT=${MLFLOW_PORT:-5000}
export PREFECT_API_URL=${PREFECT_API_URL:-http://127.0.0.1:$PREFECT_PORT/api}
export MTCLIN_PROJECT_DIR=$PROJECT_DIR

wait_for() {  # url, name
  wait_for_url "$1" "$2" "$STATE" 120 || exit 1
}

start_service "$STATE" prefect-server "$BIN/prefect" server start --host 127.0.0.1 --port "$PREFECT_PORT"
start_service "$STATE" mlflow-server "$BIN/mlflow" server --host 127.0.0.1 --port "$MLFLOW_PORT" \
  --backend-store-uri "sqlite:///$PROJECT_DIR/mlflow.db" --artifacts-destination "$PROJECT_DIR/mlartifacts"
wait_for "$PREFECT_API_URL/health" prefect-server
wait_for "http://127.0.0.1:$MLFLOW_PORT/health" mlflow-server

"$BIN/prefect" work-pool inspect mtclin-local >/dev/null 2>&1 || "$BIN/prefect" work-pool create mtclin-local --type process >/dev/null
"$BIN/prefect" --no-prompt deploy --name train-multitask/local --name train-baselines/local --name promote-model/local --name evaluate-model/local --name learning-curve/local >"$STATE/deploy.log" 2>&1 \
  || { cat "$STATE/deploy.log" >&2; exit 1; }
MLFLOW_TRACKING_URI=http://127.0.0.1:$MLFLOW_PORT start_service "$STATE" prefect-worker "$BIN/prefect" worker start \
  --pool mtclin-local

cat <<MSG
mtclin stack is up:
  Prefect UI   http://127.0.0.1:$PREFECT_PORT   (export PREFECT_API_URL=$PREFECT_API_URL)
  MLflow UI    http://127.0.0.1:$MLFLOW_PORT
  run:         PREFECT_API_URL=$PREFECT_API_URL $BIN/prefect deployment run train-multitask/local
  stop:        deploy/stop.sh
MSG
