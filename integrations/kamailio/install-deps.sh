#!/bin/sh
# Installs what the Kamailio integration and its test need, from Debian's own packages
# (Debian 12: Kamailio 5.6.3, SIPp 3.6.1), when any of it is missing:
#   kamailio                  core: tm, dialog, dispatcher, acc, xhttp, jsonrpcs, mqueue,
#                             sqlops, usrloc, registrar (inbound.cfg)
#   kamailio-sqlite-modules   db_sqlite (accounting to an SQLite file)
#   kamailio-extra-modules    acc_json (accounting events as JSON into an mqueue)
#   kamailio-postgres-modules db_postgres (accounting to PostgreSQL)
#   sip-tester                SIPp: the test's carriers and caller
#   sqlite3                   creates the accounting database from schema/sqlite.sql
#   postgresql                the test's own PostgreSQL server (started and stopped by it)
# Runs as root (CI does); prints what it does. Exit status 0 when everything is there.
# It installs packages only: it does not enable or start the kamailio service.
set -eu

PACKAGES="kamailio kamailio-sqlite-modules kamailio-extra-modules kamailio-postgres-modules sip-tester sqlite3 postgresql"

missing() {
    command -v kamailio >/dev/null 2>&1 || return 0
    command -v sipp >/dev/null 2>&1 || return 0
    command -v sqlite3 >/dev/null 2>&1 || return 0
    for m in db_sqlite acc_json db_postgres; do
        ls /usr/lib/*/kamailio/modules/$m.so >/dev/null 2>&1 || return 0
    done
    ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || return 0
    return 1
}

if ! missing; then
    echo "install-deps: kamailio, its modules, sipp, sqlite3 and postgresql are installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages; run as root: apt-get install $PACKAGES" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get here; install $PACKAGES with this system's tools" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Installing kamailio and postgresql must not start system-wide services (Kamailio on
# port 5060, a PostgreSQL cluster) where they can start: policy-rc.d denies it for the
# duration of the install.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"
    ADDED_POLICY=1
fi
cleanup() { if [ -n "$ADDED_POLICY" ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT
echo "install-deps: apt-get install $PACKAGES"
apt-get update -qq
apt-get install -y -q --no-install-recommends $PACKAGES
if missing; then
    echo "install-deps: still missing something after the install (see above)" >&2
    exit 1
fi
echo "install-deps: done ($(kamailio -v | head -n 1 | tr -s ' '), $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -n 1))"
