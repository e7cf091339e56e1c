#!/bin/sh
# PostgreSQL's first start in compose.yaml (/docker-entrypoint-initdb.d, on an empty data
# volume only): the two roles of README "Production runbook", "Two database roles". The
# tables belong to slaportal_owner, which the release service runs the migrations as; the
# web, worker and beat services connect as slaportal_app, which owns nothing and is no
# superuser (row access only, granted by `manage.py db_grant_app_role`, the db-grants
# service). Neither is the cluster's superuser (postgres), whose password stays here.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$SLAPORTAL_OWNER_PASSWORD" \
  -v app_password="$SLAPORTAL_APP_PASSWORD" <<'SQL'
CREATE ROLE slaportal_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE slaportal_app LOGIN PASSWORD :'app_password';
CREATE DATABASE slaportal OWNER slaportal_owner;
REVOKE ALL ON DATABASE slaportal FROM PUBLIC;
SQL
