# Settings of the team stack (sourced by deploy/team/*.sh from the project root). Every one can be set in the
# environment; none of them is secret. Secrets: `load_secrets` below.

PROJECT_DIR=$(pwd)
BIN=$(cd "${VENV:-.venv}/bin" 2>/dev/null && pwd || echo "${VENV:-.venv}/bin")
TEAM_DIR=${MTCLIN_TEAM_DIR:-$PROJECT_DIR/.mtclin/team}          # logs, pids, server data
TEAM_ENV=${MTCLIN_TEAM_ENV:-$PROJECT_DIR/.mtclin/team.env}      # the secrets (mode 600, made on first start)
PGDATA_DIR=${MTCLIN_TEAM_PGDATA:-$TEAM_DIR/postgres}            # the PostgreSQL cluster
S3_DATA_DIR=${MTCLIN_TEAM_S3_DATA:-$TEAM_DIR/s3}                 # the SeaweedFS volumes and filer
# The address every server binds. Loopback only, unless the operator opens the stack to other machines with
# MTCLIN_TEAM_HOST=0.0.0.0 (or one interface's address); PostgreSQL always stays on loopback: only the MLflow and
# Prefect servers, on this machine, talk to it.
HOST=${MTCLIN_TEAM_HOST:-127.0.0.1}
# The name other machines reach this one by, written into the client environment (deploy/team/join.sh).
PUBLIC_HOST=${MTCLIN_TEAM_PUBLIC_HOST:-$([ "$HOST" = 0.0.0.0 ] && hostname -f 2>/dev/null || echo "$HOST")}
PG_PORT=${MTCLIN_TEAM_PG_PORT:-5433}      # not 5432: a distribution's own cluster may hold that
S3_PORT=${MTCLIN_TEAM_S3_PORT:-8333}
MLFLOW_PORT=${MTCLIN_TEAM_MLFLOW_PORT:-5000}
PREFECT_PORT=${MTCLIN_TEAM_PREFECT_PORT:-4200}
MLFLOW_WORKERS=${MTCLIN_TEAM_MLFLOW_WORKERS:-2}  # gunicorn/uvicorn workers of the MLflow server

PG_USER=mtclin                       # the PostgreSQL role owning the three databases
DATABASES="mlflow mlflow_auth prefect"
MLFLOW_BUCKET=mtclin-mlflow          # MLflow's proxied artifacts: only the MLflow server holds keys for it
DVC_BUCKET=mtclin-dvc                # the DVC remote: raw and processed data
MLFLOW_ADMIN=mtclin-admin            # MLflow users; permissions: deploy/team/access.py
MLFLOW_WORKER=mtclin-worker
MLFLOW_READER=mtclin-reader

S3_URL=http://127.0.0.1:$S3_PORT
MLFLOW_URL=http://127.0.0.1:$MLFLOW_PORT
PREFECT_URL=http://127.0.0.1:$PREFECT_PORT/api

export DO_NOT_TRACK=1 MLFLOW_DISABLE_TELEMETRY=true PREFECT_SERVER_ANALYTICS_ENABLED=false DVC_NO_ANALYTICS=1
export PREFECT_HOME=${PREFECT_HOME:-$TEAM_DIR/prefect-home}
export MTCLIN_PROJECT_DIR=$PROJECT_DIR

SECRETS="MTCLIN_TEAM_PG_PASSWORD MTCLIN_TEAM_S3_ADMIN_KEY MTCLIN_TEAM_S3_ADMIN_SECRET MTCLIN_TEAM_S3_MLFLOW_KEY
MTCLIN_TEAM_S3_MLFLOW_SECRET MTCLIN_TEAM_S3_DVC_KEY MTCLIN_TEAM_S3_DVC_SECRET MTCLIN_TEAM_MLFLOW_ADMIN_PASSWORD
MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD MTCLIN_TEAM_MLFLOW_READER_PASSWORD MTCLIN_TEAM_MLFLOW_FLASK_SECRET
MTCLIN_TEAM_PREFECT_AUTH_STRING"

_random() {  # hex characters from the kernel's CSPRNG: safe in URLs, INI files and `KEY=value` lines
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# load_secrets: each secret from the environment, else from $TEAM_ENV, else newly generated and appended to it.
# The file is refused unless only its owner can read it.
load_secrets() {
  local key value mode
  mkdir -p "$(dirname "$TEAM_ENV")"
  if [ -f "$TEAM_ENV" ]; then
    mode=$(stat -c %a "$TEAM_ENV")
    if [ "${mode: -2}" != 00 ]; then
      echo "$TEAM_ENV is readable by others (mode $mode): chmod 600 $TEAM_ENV" >&2
      return 1
    fi
    while IFS='=' read -r key value; do
      case $key in MTCLIN_TEAM_*) [ -n "${!key:-}" ] || printf -v "$key" '%s' "$value" ;; esac
    done <"$TEAM_ENV"
  fi
  (umask 077 && touch "$TEAM_ENV")
  for key in $SECRETS; do
    [ -n "${!key:-}" ] && continue
    case $key in
      *_KEY) value=MT$(_random 9 | tr a-f A-F) ;;  # S3 access key ids: 20 characters
      MTCLIN_TEAM_PREFECT_AUTH_STRING) value=mtclin:$(_random 24) ;;  # Prefect's basic auth: user:password
      *) value=$(_random 24) ;;
    esac
    printf -v "$key" '%s' "$value"
    echo "$key=$value" >>"$TEAM_ENV"
  done
  # in this shell only: each server gets the few it needs (serve.sh), the worker none but its client credentials
  for key in $SECRETS; do export -n "$key"; done
}
