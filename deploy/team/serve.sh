#!/usr/bin/env bash
# The team stack (`make serve-team`): PostgreSQL holding MLflow's tracking and auth databases and Prefect's; a
# SeaweedFS S3 object store holding MLflow's artifacts and the DVC remote; the MLflow server (basic auth, proxied
# artifacts: clients need no S3 keys); the Prefect server (API auth string); the `mtclin-team` process pool, the
# */team deployments and a worker. Secrets: .mtclin/team.env (mode 600, generated on first start) or the
# environment. Data, logs and pids: .mtclin/team/. Stop: deploy/team/stop.sh (or `make stop`).
#
#   deploy/team/serve.sh                  start whatever is not running, then configure
#   deploy/team/serve.sh mlflow-server    (re)start one server only
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/team/env.sh
. deploy/team/procs.sh
. deploy/team/client.sh
umask 077  # logs, configs and data: the owner's only
mkdir -p "$TEAM_DIR"
# others may pass through, not list: PostgreSQL runs as `postgres` when we are root and keeps its cluster in here
chmod 711 "$TEAM_DIR"
case $PGDATA_DIR in "$TEAM_DIR"/*) chmod o+x "$(dirname "$TEAM_DIR")" ;; esac
load_secrets
SERVICES=${*:-postgres s3 mlflow-server prefect-server prefect-worker}

if [ "$(id -u)" = 0 ]; then
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups)  # PostgreSQL refuses to run as root
else
  AS_PG=()
fi

pg_bin() {  # where Debian's (or any) PostgreSQL server binaries are
  if [ -n "${MTCLIN_TEAM_PG_BIN:-}" ]; then echo "$MTCLIN_TEAM_PG_BIN"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$found" ]; then echo "$found"; return; fi
  if command -v postgres >/dev/null; then dirname "$(command -v postgres)"; return; fi
  echo "no PostgreSQL server found: apt-get install -y postgresql (or set MTCLIN_TEAM_PG_BIN)" >&2
  return 1
}

psql_team() {  # psql as the databases' owner, over TCP (the server has no Unix socket)
  PGPASSWORD=$MTCLIN_TEAM_PG_PASSWORD "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
    -U "$PG_USER" "$@"
}

start_postgres() {
  PG_BIN=$(pg_bin)
  if [ ! -s "$PGDATA_DIR/PG_VERSION" ]; then
    mkdir -p "$PGDATA_DIR"
    chmod 700 "$PGDATA_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGDATA_DIR"; fi
    if ! "${AS_PG[@]}" test -w "$PGDATA_DIR"; then
      echo "the postgres user cannot write $PGDATA_DIR (is a parent folder closed to it?): set MTCLIN_TEAM_PGDATA" \
        "to a folder it can reach" >&2
      return 1
    fi
    local pwfile
    pwfile=$(mktemp)
    printf '%s\n' "$MTCLIN_TEAM_PG_PASSWORD" >"$pwfile"
    if [ "$(id -u)" = 0 ]; then chown postgres "$pwfile"; fi
    if ! "${AS_PG[@]}" "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$PG_USER" --pwfile="$pwfile" --auth=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$TEAM_DIR/initdb.log" 2>&1; then
      rm -f "$pwfile"
      echo "initdb failed: see $TEAM_DIR/initdb.log" >&2
      return 1
    fi
    rm -f "$pwfile"
  fi
  # loopback TCP only, no Unix socket (nothing to collide with a distribution's cluster)
  start_service "$TEAM_DIR" postgres "${AS_PG[@]}" "$PG_BIN/postgres" -D "$PGDATA_DIR" -p "$PG_PORT" \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200
  for _ in $(seq 1 120); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    service_running "$TEAM_DIR" postgres || break
    sleep 0.5
  done
  if ! psql_team -d postgres -c "select 1" >/dev/null; then
    echo "PostgreSQL did not start or refused the password in $TEAM_ENV: see $TEAM_DIR/postgres.log" >&2
    return 1
  fi
  local db
  for db in $DATABASES; do
    if [ -z "$(psql_team -d postgres -Atc "select 1 from pg_database where datname = '$db'")" ]; then
      psql_team -d postgres -c "create database $db"
    fi
  done
}

s3_ports() {  # the object store's internal ports: chosen once, kept in the state folder
  if [ ! -s "$TEAM_DIR/s3-ports" ]; then
    "$BIN/python" -c '
import socket
socks = [socket.socket() for _ in range(9)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' >"$TEAM_DIR/s3-ports"
  fi
  cat "$TEAM_DIR/s3-ports"
}

start_s3() {
  mkdir -p "$S3_DATA_DIR"
  # three identities: admin (backups), mlflow (its bucket only: the MLflow server), dvc (its bucket only)
  (
    umask 077
    export S3_ADMIN_KEY=$MTCLIN_TEAM_S3_ADMIN_KEY S3_ADMIN_SECRET=$MTCLIN_TEAM_S3_ADMIN_SECRET \
      S3_MLFLOW_KEY=$MTCLIN_TEAM_S3_MLFLOW_KEY S3_MLFLOW_SECRET=$MTCLIN_TEAM_S3_MLFLOW_SECRET \
      S3_DVC_KEY=$MTCLIN_TEAM_S3_DVC_KEY S3_DVC_SECRET=$MTCLIN_TEAM_S3_DVC_SECRET
    "$BIN/python" - "$TEAM_DIR/s3.json" "$MLFLOW_BUCKET" "$DVC_BUCKET" <<'PY'
import json, os, sys

path, mlflow_bucket, dvc_bucket = sys.argv[1:]
def identity(name, prefix, actions):
    return {"name": name, "actions": actions,
            "credentials": [{"accessKey": os.environ[f"{prefix}_KEY"], "secretKey": os.environ[f"{prefix}_SECRET"]}]}
def bucket_only(bucket):
    return [f"{a}:{bucket}" for a in ("Read", "Write", "List", "Tagging")]
config = {"identities": [identity("admin", "S3_ADMIN", ["Admin", "Read", "Write", "List", "Tagging"]),
                         identity("mlflow", "S3_MLFLOW", bucket_only(mlflow_bucket)),
                         identity("dvc", "S3_DVC", bucket_only(dvc_bucket))]}
with open(path, "w") as f:
    json.dump(config, f)
PY
  )
  local master master_grpc volume volume_grpc filer filer_grpc s3_grpc admin admin_grpc
  read -r master master_grpc volume volume_grpc filer filer_grpc s3_grpc admin admin_grpc <<<"$(s3_ports)"
  start_service "$TEAM_DIR" s3 "$BIN/weed" mini -dir="$S3_DATA_DIR" -ip=127.0.0.1 -ip.bind="$HOST" \
    -master.port="$master" -master.port.grpc="$master_grpc" -master.telemetry=false \
    -volume.port="$volume" -volume.port.grpc="$volume_grpc" -filer.port="$filer" -filer.port.grpc="$filer_grpc" \
    -s3.port="$S3_PORT" -s3.port.grpc="$s3_grpc" -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$TEAM_DIR/s3.json" \
    -admin.ui=false -admin.port="$admin" -admin.port.grpc="$admin_grpc" -webdav=false \
    -bucket="$MLFLOW_BUCKET,$DVC_BUCKET"
  wait_for_url "$S3_URL" s3 "$TEAM_DIR"
}

start_mlflow() {
  # no secret in the config file or on the command line: the database password and the keys are in the env
  cat >"$TEAM_DIR/mlflow-auth.ini" <<INI
[mlflow]
default_permission = NO_PERMISSIONS
database_uri = postgresql://$PG_USER@127.0.0.1:$PG_PORT/mlflow_auth
admin_username = $MLFLOW_ADMIN
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
grant_default_workspace_access = false
# credential checks (PBKDF2, ~0.5 s each on a small machine) cached per worker for a minute: a password change
# reaches every worker within that time
auth_cache_ttl_seconds = 60
INI
  local allowed=()
  if [ -n "${MTCLIN_TEAM_ALLOWED_HOSTS:-}" ]; then allowed=(--allowed-hosts "$MTCLIN_TEAM_ALLOWED_HOSTS"); fi
  (
    export PGPASSWORD=$MTCLIN_TEAM_PG_PASSWORD AWS_ACCESS_KEY_ID=$MTCLIN_TEAM_S3_MLFLOW_KEY \
      AWS_SECRET_ACCESS_KEY=$MTCLIN_TEAM_S3_MLFLOW_SECRET MLFLOW_S3_ENDPOINT_URL=$S3_URL AWS_DEFAULT_REGION=us-east-1 \
      MLFLOW_AUTH_CONFIG_PATH=$TEAM_DIR/mlflow-auth.ini MLFLOW_AUTH_ADMIN_PASSWORD=$MTCLIN_TEAM_MLFLOW_ADMIN_PASSWORD \
      MLFLOW_FLASK_SERVER_SECRET_KEY=$MTCLIN_TEAM_MLFLOW_FLASK_SECRET
    start_service "$TEAM_DIR" mlflow-server "$BIN/mlflow" server --app-name basic-auth --host "$HOST" \
      --port "$MLFLOW_PORT" --workers "$MLFLOW_WORKERS" "${allowed[@]}" \
      --backend-store-uri "postgresql://$PG_USER@127.0.0.1:$PG_PORT/mlflow" \
      --artifacts-destination "s3://$MLFLOW_BUCKET/"
  )
}

start_prefect() {
  (
    export PREFECT_SERVER_API_AUTH_STRING=$MTCLIN_TEAM_PREFECT_AUTH_STRING \
      PREFECT_SERVER_DATABASE_DRIVER=postgresql+asyncpg PREFECT_SERVER_DATABASE_HOST=127.0.0.1 \
      PREFECT_SERVER_DATABASE_PORT=$PG_PORT PREFECT_SERVER_DATABASE_USER=$PG_USER \
      PREFECT_SERVER_DATABASE_NAME=prefect PREFECT_SERVER_DATABASE_PASSWORD=$MTCLIN_TEAM_PG_PASSWORD
    start_service "$TEAM_DIR" prefect-server "$BIN/prefect" server start --host "$HOST" --port "$PREFECT_PORT"
  )
}

configure() {  # MLflow users and permissions, the work pool and the deployments, the client environment
  MLFLOW_TRACKING_USERNAME=$MLFLOW_ADMIN MLFLOW_TRACKING_PASSWORD=$MTCLIN_TEAM_MLFLOW_ADMIN_PASSWORD \
    MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD=$MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD \
    MTCLIN_TEAM_MLFLOW_READER_PASSWORD=$MTCLIN_TEAM_MLFLOW_READER_PASSWORD \
    "$BIN/python" deploy/team/access.py "$MLFLOW_URL" >"$TEAM_DIR/access.log" 2>&1 \
    || { cat "$TEAM_DIR/access.log" >&2; return 1; }
  (
    export PREFECT_API_URL=$PREFECT_URL PREFECT_API_AUTH_STRING=$MTCLIN_TEAM_PREFECT_AUTH_STRING
    "$BIN/prefect" work-pool inspect mtclin-team >/dev/null 2>&1 \
      || "$BIN/prefect" work-pool create mtclin-team --type process >/dev/null
    "$BIN/prefect" --no-prompt deploy --name train-multitask/team --name train-baselines/team \
      --name promote-model/team >"$TEAM_DIR/deploy.log" 2>&1 || { cat "$TEAM_DIR/deploy.log" >&2; return 1; }
  )
  write_client_env "$TEAM_DIR/client.env"
  configure_dvc_remote "$TEAM_DIR/client.env" 127.0.0.1
}

needs_configure=false
for service in $SERVICES; do
  if service_running "$TEAM_DIR" "$service"; then
    [ "$*" = "" ] && continue  # a plain start keeps what runs; naming a service restarts it
    bash deploy/team/stop.sh "$service"
  fi
  case $service in
    postgres) start_postgres ;;
    s3) start_s3 ;;
    mlflow-server) start_mlflow ;;
    prefect-server) start_prefect ;;
    prefect-worker) needs_configure=true ;;
    *) echo "unknown service $service (postgres, s3, mlflow-server, prefect-server, prefect-worker)" >&2; exit 2 ;;
  esac
done
case " $SERVICES " in *" mlflow-server "*) wait_for_url "$MLFLOW_URL/health" mlflow-server "$TEAM_DIR" ;; esac
case " $SERVICES " in *" prefect-server "*) wait_for_url "$PREFECT_URL/health" prefect-server "$TEAM_DIR" ;; esac
if $needs_configure; then
  configure
  start_worker "$TEAM_DIR/client.env" 127.0.0.1
fi

cat <<MSG
mtclin team stack is up (servers bind $HOST):
  MLflow       $MLFLOW_URL   users $MLFLOW_ADMIN, $MLFLOW_WORKER, $MLFLOW_READER
  Prefect      http://127.0.0.1:$PREFECT_PORT   pool mtclin-team, deployments */team
  S3           $S3_URL   buckets $MLFLOW_BUCKET (MLflow artifacts), $DVC_BUCKET (DVC remote "team")
  PostgreSQL   127.0.0.1:$PG_PORT   databases $DATABASES
  secrets      $TEAM_ENV;  a worker's environment: $TEAM_DIR/client.env
  run:         set -a; . $TEAM_DIR/client.env; set +a; $BIN/prefect deployment run train-multitask/team
  stop:        deploy/team/stop.sh
MSG
