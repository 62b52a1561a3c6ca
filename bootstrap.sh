#!/usr/bin/env bash
# Set up desk on a Debian/Ubuntu machine, then open the demo clinic or run the tests.
#
#   bash bootstrap.sh demo    install, create the demo clinic, open it
#   bash bootstrap.sh test    install, start a throwaway PostgreSQL, run the whole suite
#   bash bootstrap.sh setup   install only
#
# Installs Debian packages with apt-get when run as root (or with sudo), Python
# packages into ./.venv (override with DESK_VENV).
set -euo pipefail
cd "$(dirname "$0")"
MODE="${1:-demo}"
VENV="${DESK_VENV:-.venv}"

QT_DEBS="libgl1 libegl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3 fonts-dejavu-core
 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-xfixes0 libxcb-sync1 libxcb-shm0
 libxcb-render0 libxcb-util1 libx11-xcb1 libcups2 fonts-wqy-microhei"
BASE_DEBS="python3 python3-venv python3-pip ca-certificates postgresql-client"
TEST_DEBS="postgresql xvfb xauth poppler-utils cups cups-client cups-bsd printer-driver-cups-pdf"

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "Missing Debian packages (install them as root): ${missing[*]}" >&2
            return 0
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "Not a Debian/Ubuntu system; make sure these are installed: ${missing[*]}" >&2
        return 0
    fi
    say "apt-get install ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

pick_python() {
    # $DESK_PYTHON if set; else the newest supported Python, 3.12 first (PySide6 6.12
    # and its PDF viewer need it), pyenv's versions included; 3.11 as a last resort.
    local candidates=()
    if [ -n "${DESK_PYTHON:-}" ]; then
        candidates=("$DESK_PYTHON")
    else
        candidates=(python3.12 python3.13)
        if command -v pyenv >/dev/null 2>&1; then
            local root; root="$(pyenv root)"
            candidates+=("$root"/versions/3.12*/bin/python3 "$root"/versions/3.13*/bin/python3)
        fi
        candidates+=(python3.11 python3)
    fi
    for py in "${candidates[@]}"; do
        if "$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            echo "$py"; return 0
        fi
    done
    echo "desk needs Python 3.11 or newer" >&2
    return 1
}

setup() {
    # shellcheck disable=SC2086
    apt_install $BASE_DEBS $QT_DEBS
    if [ ! -x "$VENV/bin/python" ]; then
        local py; py="$(pick_python)"
        say "creating $VENV with $($py --version)"
        "$py" -m venv "$VENV"
    fi
    say "installing desk and its Python packages into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e ".[test]"
}

start_postgres() {
    # A throwaway server on 127.0.0.1 for the tests, stopped on exit.
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bindir" ]; then
        echo "PostgreSQL server binaries not found (Debian package: postgresql)" >&2
        return 1
    fi
    PGTMP="$(mktemp -d /tmp/desk-pg.XXXXXX)"
    local port=$(( 20000 + RANDOM % 20000 ))
    local run=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$PGTMP"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$bindir/initdb" -D "$PGTMP/data" -A trust -U postgres >"$PGTMP/initdb.log"
    "${run[@]}" "$bindir/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $PGTMP -c fsync=off -c max_connections=200" \
        >/dev/null
    trap 'stop_postgres' EXIT
    export DESK_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    PG_STOP=("${run[@]}" "$bindir/pg_ctl" -D "$PGTMP/data" -m fast stop)
    say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
}

case "$MODE" in
    setup)
        setup ;;
    demo)
        setup
        DEMO_DB="${DESK_DEMO_DB:-$("$VENV/bin/python" -c 'import platformdirs; print(platformdirs.user_data_dir("desk", appauthor=False))')/demo.sqlite3}"
        # The demo's visits sit around the day it was made: remake a stale one.
        if [ -f "$DEMO_DB" ] && [ -n "$(find "$DEMO_DB" -mtime +6 2>/dev/null)" ]; then
            say "the demo clinic is over a week old: making a fresh one"
            rm -f "$DEMO_DB" "$DEMO_DB-wal" "$DEMO_DB-shm"
        fi
        if [ ! -f "$DEMO_DB" ]; then
            say "creating the demo clinic in $DEMO_DB"
            "$VENV/bin/desk" --db "sqlite:///$DEMO_DB" demo
        fi
        say "the demo clinic: $DEMO_DB"
        "$VENV/bin/desk" --db "sqlite:///$DEMO_DB" db verify
        echo "Also try (export DESK_DATABASE=sqlite:///$DEMO_DB to drop --db):"
        echo "  $VENV/bin/desk --db sqlite:///$DEMO_DB day"
        echo "  $VENV/bin/desk --db sqlite:///$DEMO_DB balance --patient 1"
        echo "  $VENV/bin/desk --help"
        if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
            say "opening the schedule window"
            exec "$VENV/bin/desk" --db "sqlite:///$DEMO_DB" gui
        fi
        say "no display here (DISPLAY is not set): saving a picture of the window instead"
        "$VENV/bin/desk" --db "sqlite:///$DEMO_DB" gui --screenshot demo-schedule.png
        echo "Open demo-schedule.png, or run this again from a desktop session." ;;
    test)
        # shellcheck disable=SC2086
        apt_install $TEST_DEBS
        setup
        if [ -z "${DESK_TEST_PG_URL:-}" ]; then start_postgres; fi
        export DESK_REQUIRE_PG=1
        say "running the test suite"
        set +e
        "$VENV/bin/python" -m pytest -n 2 -q -p no:cacheprovider "${@:2}"
        status=$?
        set -e
        exit $status ;;
    *)
        echo "usage: bash bootstrap.sh [demo|test|setup]" >&2
        exit 2 ;;
esac
