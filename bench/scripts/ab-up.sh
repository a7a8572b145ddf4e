#!/usr/bin/env bash
# One whole `ferry up --until-caught-up` of a copy of FILE into a new database, with the ferry build in DIR
# (a copy of cli/target/ferry.jar and cli/target/lib), and the CPU of each of its threads.
#   bench/scripts/ab-up.sh DIR FILE [JVM options...]
# Prints: DIR, exit status, wall/user/system seconds, minor page faults, ms until caught up, rows of the first table,
# then the per-thread CPU (thread-cpu.py). Runs without a class archive, so that two builds compare alike; to compare
# builds or options, run them in turns (A B A B ...): this kind of machine drifts by 10-25 % within minutes.
set -euo pipefail
dir=$1; file=$2; shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
db=ferry_ab_$$
work=$(mktemp -d)
trap 'rm -rf "$work"; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" postgres' EXIT
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" postgres
cp "$file" "$work/src.db"
python3 "$here/thread-cpu.py" "$dir/ferry.jar" > "$work/threads" &
sampler=$!
set +e
/usr/bin/time -f "%e %U %S %R" -o "$work/time" java -XX:+UseParallelGC "$@" -jar "$dir/ferry.jar" up --sqlite "$work/src.db" \
  --postgres "jdbc:postgresql://127.0.0.1:5432/$db?user=postgres" --data-dir "$work/data" --metrics-port 0 --until-caught-up \
  > "$work/log" 2>&1
rc=$?
set -e
wait $sampler || true
caught=$(grep -o "caught up [0-9]* ms" "$work/log" | grep -o "[0-9]*" || true)
table=$(sqlite3 "$work/src.db" "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE '\\_ferry%' ESCAPE '\\' ORDER BY name LIMIT 1")
rows=$(psql -At -h 127.0.0.1 -U postgres -c "SELECT count(*) FROM \"$table\"" "$db" 2>/dev/null || echo "?")
echo "$dir rc=$rc wall/user/sys/faults $(tail -1 "$work/time") caught_ms=$caught rows($table)=$rows"
cat "$work/threads"
