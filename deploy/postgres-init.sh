#!/bin/sh
# First start of the local PostgreSQL (deploy/compose.yaml) only: for each
# service, a database owned by zhiyuan_<s>_owner (the migrate login), the
# NOLOGIN role zhiyuan_<s>_app that row-level security binds
# (<SERVICE>_DATABASE_APP_ROLE), and the runtime login zhiyuan_<s>, a member
# of it. Development passwords only; production databases are provisioned
# by their operators with the same names (see charts/zhiyuan/values.yaml).
set -eu
for s in $ZHIYUAN_SERVICES; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_pw="$ZHIYUAN_DATABASE_OWNER_PASSWORD" -v app_pw="$ZHIYUAN_DATABASE_PASSWORD" <<SQL
CREATE ROLE zhiyuan_${s}_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE zhiyuan_${s}_app NOLOGIN;
CREATE ROLE zhiyuan_${s} LOGIN PASSWORD :'app_pw' IN ROLE zhiyuan_${s}_app;
CREATE DATABASE zhiyuan_${s} OWNER zhiyuan_${s}_owner;
REVOKE ALL ON DATABASE zhiyuan_${s} FROM PUBLIC;
GRANT CONNECT ON DATABASE zhiyuan_${s} TO zhiyuan_${s};
SQL
done
