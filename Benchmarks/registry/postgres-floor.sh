#!/usr/bin/env bash
# The floor of a PostgreSQL first import on this machine: PostgreSQL's own share of it, measured
# alone. The rows of a database that `opencps registry import` loaded (already parsed, folded
# and encoded) are exported, then loaded again by the server alone into the same tables
# (server-side COPY FROM files, one transaction, no client in the way), and the import's end is
# done as OpenCPS does it: the five search indexes and two foreign keys on two connections,
# each ending with VACUUM (ANALYZE) of its tables. Run as root on the server's machine:
#   bash Benchmarks/registry/postgres-floor.sh opencps_imp 1000000
set -euo pipefail
SOURCE_DB=${1:?usage: postgres-floor.sh DATABASE [FILE_ROWS]  (a database loaded by opencps registry import)}
FILE_ROWS=${2:-1000000}
DIR=$(mktemp -d /tmp/opencps-pg-floor.XXXXXX); chmod 777 "$DIR"
trap 'rm -rf "$DIR"' EXIT
PEER=opencps_floor
psql_pg() { su postgres -c "psql -X -q -v ON_ERROR_STOP=1 $*"; }
for t in professionals exercises activities structures; do
    psql_pg "-d $SOURCE_DB -c \"COPY $t TO '$DIR/$t.copy'\""
done
psql_pg "-c 'SET client_min_messages = warning' -c 'DROP DATABASE IF EXISTS $PEER' -c 'CREATE DATABASE $PEER'"
cat > "$DIR/schema.sql" <<'SQL'
CREATE TABLE professionals (id_nat TEXT PRIMARY KEY, id_type TEXT NOT NULL, civilite TEXT, last_name TEXT NOT NULL,
    first_name TEXT NOT NULL, name_key TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
ALTER TABLE professionals ALTER COLUMN name_key SET STATISTICS 300;
CREATE TABLE exercises (id_nat TEXT NOT NULL, profession_code TEXT NOT NULL, category_code TEXT NOT NULL,
    civilite_exercice TEXT, savoir_faire_type TEXT, savoir_faire_code TEXT, savoir_faire_label TEXT, ordre TEXT,
    registered_on TEXT, registration_number TEXT, PRIMARY KEY (id_nat, profession_code));
CREATE TABLE activities (id TEXT PRIMARY KEY, id_nat TEXT NOT NULL, profession_code TEXT NOT NULL, mode_code TEXT NOT NULL,
    structure_id TEXT, structure_name TEXT, sector_code TEXT, department TEXT, address_line TEXT, postal_code TEXT, city TEXT);
CREATE TABLE structures (id TEXT PRIMARY KEY, kind TEXT NOT NULL, number TEXT NOT NULL, name TEXT NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL, sector_code TEXT, department TEXT, address_line TEXT, postal_code TEXT, city TEXT,
    legal_entity_finess TEXT, updated_at TEXT NOT NULL);
ALTER TABLE structures ALTER COLUMN name_key SET STATISTICS 300;
SQL
psql_pg "-d $PEER -f $DIR/schema.sql"
# Busy CPU seconds of the whole machine (all cores) from /proc/stat: what the load cost in CPU,
# whichever process spent it.
busy_cpu() { awk -v hz="$(getconf CLK_TCK)" '/^cpu /{ printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat; }
start=$(date +%s.%N); cpu_start=$(busy_cpu)
psql_pg "-d $PEER -c 'BEGIN' -c \"COPY professionals FROM '$DIR/professionals.copy'\" -c \"COPY exercises FROM '$DIR/exercises.copy'\" -c \"COPY activities FROM '$DIR/activities.copy'\" -c \"COPY structures FROM '$DIR/structures.copy'\" -c 'COMMIT'"
loaded=$(date +%s.%N)
lane() { psql_pg "-d $PEER -c \"SET maintenance_work_mem = '256MB'\" -c \"SET work_mem = '256MB'\" $1"; }
lane "-c 'CREATE INDEX professionals_name_key ON professionals (name_key, id_nat)' -c 'CREATE INDEX activities_department ON activities (department, profession_code)' -c 'ALTER TABLE exercises ADD CONSTRAINT exercises_id_nat_fkey FOREIGN KEY (id_nat) REFERENCES professionals (id_nat) ON DELETE CASCADE' -c 'VACUUM (ANALYZE) professionals, exercises'" &
first=$!
lane "-c 'CREATE INDEX activities_id_nat ON activities (id_nat)' -c 'CREATE INDEX activities_structure ON activities (structure_id)' -c 'CREATE INDEX structures_name_key ON structures (name_key, id)' -c 'ALTER TABLE activities ADD CONSTRAINT activities_id_nat_fkey FOREIGN KEY (id_nat) REFERENCES professionals (id_nat) ON DELETE CASCADE' -c 'VACUUM (ANALYZE) activities, structures'" &
second=$!
wait "$first"
wait "$second"
finished=$(date +%s.%N); cpu_finished=$(busy_cpu)
python3 -c "import sys; s,l,f,n,c0,c1=map(float,sys.argv[1:7]); print(f'PostgreSQL alone: COPY of the prepared rows {l-s:.1f} s; indexes, foreign keys and VACUUM (ANALYZE) {f-l:.1f} s; total {f-s:.1f} s ({n/(f-s):,.0f} file rows/s for {int(n):,} file rows); {c1-c0:.1f} s of CPU on the machine, i.e. at least {(c1-c0)/int(sys.argv[7]):.1f} s on its {sys.argv[7]} cores however the work were spread')" "$start" "$loaded" "$finished" "$FILE_ROWS" "$cpu_start" "$cpu_finished" "$(nproc)"
psql_pg "-c 'DROP DATABASE $PEER'"
