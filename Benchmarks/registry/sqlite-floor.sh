#!/usr/bin/env bash
# The floor of an SQLite first import on this machine: SQLite's own share of it, measured alone.
# The rows of a database that `opencps registry import` loaded (already parsed, folded and
# encoded) are copied by SQLite alone (the sqlite3 shell, `INSERT ... SELECT` in the order the
# import inserted them) into a new file with the same tables, in one transaction, keeping the
# two indexes the import keeps and building the three it drops before the commit, with the
# import's 256 MB page cache:
#   bash Benchmarks/registry/sqlite-floor.sh data/opencps.sqlite 1000000
set -euo pipefail
SOURCE=${1:?usage: sqlite-floor.sh SQLITE_FILE [FILE_ROWS]  (a file loaded by opencps registry import)}
FILE_ROWS=${2:-1000000}
command -v sqlite3 > /dev/null || { echo "sqlite3 is needed (apt-get install -y sqlite3)" >&2; exit 1; }
DIR=$(mktemp -d /tmp/opencps-sqlite-floor.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
SOURCE=$(realpath "$SOURCE")
# Busy CPU seconds of the whole machine (all cores) from /proc/stat: what the load cost in CPU,
# whichever process spent it.
busy_cpu() { awk -v hz="$(getconf CLK_TCK)" '/^cpu /{ printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat; }
start=$(date +%s.%N); cpu_start=$(busy_cpu)
sqlite3 "$DIR/floor.sqlite" <<SQL
PRAGMA cache_size = -262144;
PRAGMA foreign_keys = OFF;
ATTACH '$SOURCE' AS source;
CREATE TABLE professionals (id_nat TEXT PRIMARY KEY, id_type TEXT NOT NULL, civilite TEXT, last_name TEXT NOT NULL,
    first_name TEXT NOT NULL, name_key TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE exercises (id_nat TEXT NOT NULL REFERENCES professionals (id_nat) ON DELETE CASCADE,
    profession_code TEXT NOT NULL, category_code TEXT NOT NULL, civilite_exercice TEXT, savoir_faire_type TEXT,
    savoir_faire_code TEXT, savoir_faire_label TEXT, ordre TEXT, registered_on TEXT, registration_number TEXT,
    PRIMARY KEY (id_nat, profession_code));
CREATE TABLE activities (id TEXT PRIMARY KEY, id_nat TEXT NOT NULL REFERENCES professionals (id_nat) ON DELETE CASCADE,
    profession_code TEXT NOT NULL, mode_code TEXT NOT NULL, structure_id TEXT, structure_name TEXT, sector_code TEXT,
    department TEXT, address_line TEXT, postal_code TEXT, city TEXT);
CREATE INDEX activities_id_nat ON activities (id_nat);
CREATE INDEX activities_department ON activities (department, profession_code);
CREATE TABLE structures (id TEXT PRIMARY KEY, kind TEXT NOT NULL, number TEXT NOT NULL, name TEXT NOT NULL,
    name_key TEXT NOT NULL, sector_code TEXT, department TEXT, address_line TEXT, postal_code TEXT, city TEXT,
    legal_entity_finess TEXT, updated_at TEXT NOT NULL);
BEGIN IMMEDIATE;
INSERT INTO professionals SELECT * FROM source.professionals ORDER BY rowid;
INSERT INTO exercises SELECT * FROM source.exercises ORDER BY rowid;
INSERT INTO activities SELECT * FROM source.activities ORDER BY rowid;
INSERT INTO structures SELECT * FROM source.structures ORDER BY rowid;
CREATE INDEX professionals_name_key ON professionals (name_key, id_nat);
CREATE INDEX activities_structure ON activities (structure_id);
CREATE INDEX structures_name_key ON structures (name_key, id);
COMMIT;
SQL
finished=$(date +%s.%N); cpu_finished=$(busy_cpu)
python3 -c "import sys; s,f,n,c0,c1=map(float,sys.argv[1:]); print(f'SQLite alone: the prepared rows copied, indexes built and committed in {f-s:.1f} s ({n/(f-s):,.0f} file rows/s for {int(n):,} file rows); {c1-c0:.1f} s of CPU on the machine')" "$start" "$finished" "$FILE_ROWS" "$cpu_start" "$cpu_finished"
