#!/usr/bin/env bash
# Prepares a fresh Debian 12 box (as root) for ferry: PostgreSQL 15 running,
# pgvector installed, database "ferry" with the vector extension.
# Idempotent: a second run only checks and skips.
#
#   FERRY_SETUP_PACKAGES="sqlite3 pgloader"  extra Debian packages to install
set -euo pipefail

PG_VERSION=15
PG_PORT=5432
PG_CONFIG=/usr/lib/postgresql/$PG_VERSION/bin/pg_config
PG_WAIT_SECONDS=${FERRY_PG_WAIT_SECONDS:-30}
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources
SRC_FILE=/etc/apt/sources.list.d/ferry-trixie-src.sources
LOG="${TMPDIR:-/tmp}/ferry-setup.log"
export DEBIAN_FRONTEND=noninteractive

say() { echo "[setup] $*"; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }
run() { "$@" >>"$LOG" 2>&1; }   # noisy commands go to the log only
psql_pg() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

BUILD_DIR=""
SRC_ADDED=0
on_exit() {
  local rc=$?
  if [[ -n $BUILD_DIR ]]; then rm -rf "$BUILD_DIR"; fi
  if (( SRC_ADDED )); then
    rm -f "$SRC_FILE"
    apt-get update >>"$LOG" 2>&1 || true
  fi
  if (( rc != 0 )); then
    echo "[setup] FAILED (exit $rc). Last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2 || true
  fi
}
trap on_exit EXIT

: >"$LOG"
(( EUID == 0 )) || die "must run as root"
start=$SECONDS

# --- 1. PostgreSQL cluster -------------------------------------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

if pg_ready; then
  say "PostgreSQL $PG_VERSION is accepting connections"
else
  command -v pg_lsclusters >/dev/null || die "pg_lsclusters not found; is postgresql-$PG_VERSION installed?"
  status=$(pg_lsclusters -h "$PG_VERSION" main 2>/dev/null | awk '{print $4}')
  [[ -n $status ]] || die "cluster $PG_VERSION/main does not exist"
  # "online" but not ready means it is still starting or recovering: just wait.
  if [[ $status != online* ]]; then
    say "starting PostgreSQL $PG_VERSION/main"
    run pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start \
      || die "pg_ctlcluster start failed (see /var/log/postgresql/postgresql-$PG_VERSION-main.log)"
  fi
  for ((i = 0; i < PG_WAIT_SECONDS; i++)); do pg_ready && break; sleep 1; done
  pg_ready || die "PostgreSQL not accepting connections on 127.0.0.1:$PG_PORT after ${PG_WAIT_SECONDS}s"
  say "PostgreSQL is up"
fi

# --- 2. pgvector -------------------------------------------------------------
vector_works() {
  psql_pg -d postgres -c 'BEGIN; CREATE EXTENSION IF NOT EXISTS vector; ROLLBACK;' >/dev/null 2>&1
}

install_pgvector() {
  [[ -r $DEBIAN_SOURCES ]] || die "$DEBIAN_SOURCES not found; cannot derive the apt mirror"
  # First stanza of the deb822 file; its mirror also serves trixie sources.
  local uri signed_by
  uri=$(awk 'NF == 0 {exit} $1 == "URIs:" {print $2; exit}' "$DEBIAN_SOURCES")
  signed_by=$(awk 'NF == 0 {exit} $1 == "Signed-By:" {print $2; exit}' "$DEBIAN_SOURCES")
  [[ -n $uri && -n $signed_by ]] || die "could not read URIs/Signed-By from $DEBIAN_SOURCES"

  say "installing pgvector from Debian trixie sources (log: $LOG)"
  SRC_ADDED=1
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: %s\n' \
    "$uri" "$signed_by" >"$SRC_FILE"
  run apt-get update || die "apt-get update failed"
  local pkgs=(postgresql-server-dev-$PG_VERSION dpkg-dev)
  command -v make >/dev/null && command -v gcc >/dev/null || pkgs+=(build-essential)
  run apt-get install -y --no-install-recommends "${pkgs[@]}" || die "installing build dependencies failed"

  BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferry-pgvector.XXXXXX")
  # set -e is off inside "( ... ) || die", hence the && chain.
  (
    cd "$BUILD_DIR" &&
      run apt-get source --download-only pgvector &&
      mkdir src &&
      tar -xf pgvector_*.orig.tar.* -C src --strip-components=1 &&
      run make -C src PG_CONFIG="$PG_CONFIG" &&
      run make -C src install PG_CONFIG="$PG_CONFIG"
  ) || die "downloading/building pgvector failed"

  rm -f "$SRC_FILE"
  SRC_ADDED=0
  run apt-get update || die "apt-get update (after removing trixie source) failed"
}

if vector_works; then
  say "pgvector already available"
else
  install_pgvector
  vector_works || die "pgvector installed but CREATE EXTENSION vector still fails"
  say "pgvector installed: $(psql_pg -d postgres -Atc "select default_version from pg_available_extensions where name = 'vector'")"
fi

# --- 3. databases ------------------------------------------------------------
# template1 first, so databases created later (one per test class) inherit it.
psql_pg -d template1 -c 'CREATE EXTENSION IF NOT EXISTS vector' 2>>"$LOG" \
  || die "CREATE EXTENSION vector in template1 failed"
if [[ $(psql_pg -d postgres -Atc "select 1 from pg_database where datname = 'ferry'") != 1 ]]; then
  say "creating database ferry"
  psql_pg -d postgres -c 'CREATE DATABASE ferry' 2>>"$LOG" || die "CREATE DATABASE ferry failed"
fi
psql_pg -d ferry -c 'CREATE EXTENSION IF NOT EXISTS vector' 2>>"$LOG" \
  || die "CREATE EXTENSION vector in ferry failed"
say "database ferry ready (vector extension in ferry and template1)"

# --- 4. extra packages -------------------------------------------------------
missing=()
for pkg in ${FERRY_SETUP_PACKAGES:-}; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  say "installing extra packages: ${missing[*]}"
  run apt-get update || die "apt-get update failed"
  run apt-get install -y --no-install-recommends "${missing[@]}" || die "installing ${missing[*]} failed"
elif [[ -n ${FERRY_SETUP_PACKAGES:-} ]]; then
  say "extra packages already installed: ${FERRY_SETUP_PACKAGES}"
fi

say "done in $((SECONDS - start))s"
