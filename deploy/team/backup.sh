#!/usr/bin/env bash
# Back up the team stack while it runs: a pg_dump (custom format) of each database and a copy of every object of
# both buckets, into one folder. The secrets file is not copied: keep .mtclin/team.env apart (it opens all of it).
#
#   deploy/team/backup.sh /backups/mtclin-$(date +%F)
#
# Restore on a fresh stack (make serve-team with the same team.env, then stop everything but postgres and s3):
#   pg_restore -h 127.0.0.1 -p $PORT -U mtclin --clean -d DB DIR/DB.dump     (PGPASSWORD from team.env)
#   and upload DIR/s3/<bucket>/ back with any S3 client (the admin identity's keys in team.env).
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/team/env.sh
[ -f "$TEAM_ENV" ] || { echo "no $TEAM_ENV: is the team stack set up here?" >&2; exit 1; }
load_secrets
out=${1:?usage: deploy/team/backup.sh FOLDER}
mkdir -p "$out"
chmod 700 "$out"
pg_bin=${MTCLIN_TEAM_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
for db in $DATABASES; do
  PGPASSWORD=$MTCLIN_TEAM_PG_PASSWORD "${pg_bin:+$pg_bin/}pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -Fc \
    -f "$out/$db.dump" "$db"
done
S3_KEY=$MTCLIN_TEAM_S3_ADMIN_KEY S3_SECRET=$MTCLIN_TEAM_S3_ADMIN_SECRET "$BIN/python" - "$S3_URL" "$out/s3" \
  "$MLFLOW_BUCKET" "$DVC_BUCKET" <<'PY'
import os, sys
from pathlib import Path

import boto3

url, out, *buckets = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=os.environ["S3_KEY"],
                  aws_secret_access_key=os.environ["S3_SECRET"])
for bucket in buckets:
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            target = Path(out, bucket, item["Key"])
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target))
            count += 1
    print(f"{bucket}: {count} objects")
PY
echo "backup in $out: $(cd "$out" && ls *.dump | tr '\n' ' ')and s3/"
