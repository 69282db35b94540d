#!/usr/bin/env bash
# Throwaway PostgreSQL 15 + Redis for tests and benchmarks.
#
# Two ways to use it:
#
#   1. As a command (servers outlive the command; stop them yourself):
#        eval "$(scripts/services.sh start)"   # prints `export ...` lines on stdout
#        ...                                    # YUNSHANG_TEST_PG_URL / YUNSHANG_TEST_REDIS_URL are set
#        scripts/services.sh stop               # [DIR]; default: $YUNSHANG_SERVICES_DIR, else the last start
#      `scripts/services.sh env [DIR]` re-prints the export lines of a running set.
#
#   2. Sourced from another bash script (what scripts/test-all does):
#        source scripts/services.sh
#        trap services_stop EXIT
#        services_start          # exports the variables into the calling shell
#
# Everything lives in one `mktemp -d` directory (data, sockets, logs, pid files) that `stop`
# removes. Ports: Redis 16379, PostgreSQL 15432, or the next free one (up to 20 tries).
# Knobs (environment): PG_BINDIR (default /usr/lib/postgresql/15/bin), YUNSHANG_REDIS_PORT_BASE,
# YUNSHANG_PG_PORT_BASE. Progress goes to stderr; only the export lines go to stdout.
#
# PostgreSQL refuses to run as root: when run as root, the cluster is owned by and run as the
# `postgres` system user (via runuser, falling back to su / setpriv).

_SVC_PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
_SVC_REDIS_PORT_BASE="${YUNSHANG_REDIS_PORT_BASE:-16379}"
_SVC_PG_PORT_BASE="${YUNSHANG_PG_PORT_BASE:-15432}"
_SVC_PORT_TRIES=20
_SVC_PG_USER=postgres
_SVC_DB=yunshang_test

_svc_log() { printf '[services] %s\n' "$*" >&2; }
_svc_die() { printf '[services] ERROR: %s\n' "$*" >&2; return 1; }

_svc_repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }

# Run a command as the PostgreSQL owner (root -> postgres user; anyone else -> themselves).
# The working directory is switched to the services dir: the postgres user usually cannot
# read the caller's cwd (e.g. a clone under /root), and initdb/pg_ctl complain about that.
_svc_as_pg() {
    local dir="$1"
    shift
    if [[ $(id -u) -ne 0 ]]; then
        (cd "$dir" && "$@")
        return
    fi
    if command -v runuser >/dev/null 2>&1; then
        (cd "$dir" && runuser -u "$_SVC_PG_USER" -- "$@")
    elif command -v setpriv >/dev/null 2>&1; then
        (cd "$dir" && setpriv --reuid="$_SVC_PG_USER" --regid="$_SVC_PG_USER" --init-groups -- "$@")
    else
        local quoted
        printf -v quoted '%q ' "$@"
        (cd "$dir" && su -s /bin/sh "$_SVC_PG_USER" -c "$quoted")
    fi
}

# 0 when no socket listens on / is bound to 127.0.0.1:PORT (IPv4 is enough: both servers only
# bind 127.0.0.1, and PostgreSQL's unix socket lives in our own dir).
_svc_port_free() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# Like the servers themselves: TIME_WAIT leftovers of earlier runs must not count as "taken".
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# A pid counts as alive unless it is gone or a zombie: the daemons are re-parented to PID 1, and
# an init that reaps lazily leaves them as zombies, which `kill -0` still reports as alive.
_svc_pid_alive() {
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0 # no /proc: trust kill -0
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# Install redis-server when missing (Debian: apt-get; as root or through sudo).
services_ensure_redis() {
    command -v redis-server >/dev/null 2>&1 && return 0
    _svc_log "redis-server not found; installing it with apt-get"
    command -v apt-get >/dev/null 2>&1 || { _svc_die "redis-server missing and no apt-get"; return 1; }
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || { _svc_die "redis-server missing; need root to install"; return 1; }
        sudo=(sudo -n)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 || {
        _svc_die "apt-get update failed"
        return 1
    }
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        redis-server </dev/null >&2 || {
        _svc_die "apt-get install redis-server failed"
        return 1
    }
    command -v redis-server >/dev/null 2>&1 || { _svc_die "redis-server still missing after install"; return 1; }
}

_svc_start_redis() {
    local dir="$1" port tries=0
    mkdir -p "$dir/redis"
    port="$_SVC_REDIS_PORT_BASE"
    while ((tries < _SVC_PORT_TRIES)); do
        if _svc_port_free "$port"; then
            rm -f "$dir/redis.pid"
            redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
                --daemonize yes --dir "$dir/redis" --pidfile "$dir/redis.pid" \
                --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 || true
            # --daemonize forks before binding: poll until *our* pid answers on the port (not some
            # other server that won a race for it), or until our pid is gone.
            local i pid=""
            for ((i = 0; i < 100; i++)); do
                [[ -s "$dir/redis.pid" ]] && pid=$(<"$dir/redis.pid")
                if [[ -n "$pid" ]] && redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
                    tr -d '\r' | grep -qx "process_id:$pid"; then
                    echo "$port" >"$dir/redis.port"
                    _svc_log "redis up on 127.0.0.1:$port"
                    return 0
                fi
                [[ -s "$dir/redis.pid" ]] && pid=$(<"$dir/redis.pid")
                if ((i > 10)) && ! _svc_pid_alive "$pid"; then break; fi
                sleep 0.1
            done
            # Not ours after all (lost a race for the port?) -> make sure it is dead, try the next.
            [[ -s "$dir/redis.pid" ]] && pid=$(<"$dir/redis.pid")
            _svc_pid_alive "$pid" && kill -9 "$pid" 2>/dev/null
            _svc_log "redis did not come up on port $port; log tail:"
            tail -n 5 "$dir/redis.log" >&2 2>/dev/null || true
        fi
        port=$((port + 1))
        tries=$((tries + 1))
    done
    _svc_die "could not start redis on ports $_SVC_REDIS_PORT_BASE..$((port - 1))"
}

_svc_start_pg() {
    local dir="$1" port tries=0
    local bin="$_SVC_PG_BINDIR"
    [[ -x "$bin/initdb" && -x "$bin/pg_ctl" ]] || { _svc_die "PostgreSQL binaries not found in $bin (set PG_BINDIR)"; return 1; }
    if [[ $(id -u) -eq 0 ]] && ! id "$_SVC_PG_USER" >/dev/null 2>&1; then
        _svc_die "running as root but there is no '$_SVC_PG_USER' user to run PostgreSQL as"
        return 1
    fi

    if ! { mkdir -p "$dir/pgdata" "$dir/pgsock" && chmod 700 "$dir/pgdata" && touch "$dir/postgres.log"; }; then
        _svc_die "cannot prepare $dir"
        return 1
    fi
    if [[ $(id -u) -eq 0 ]]; then
        chown "$_SVC_PG_USER:" "$dir/pgdata" "$dir/pgsock" "$dir/postgres.log" || {
            _svc_die "chown to $_SVC_PG_USER failed"
            return 1
        }
    fi

    # --no-locale: do not depend on which locales the machine has generated.
    if ! _svc_as_pg "$dir" "$bin/initdb" -D "$dir/pgdata" -U postgres --auth=trust -E UTF8 --no-locale \
        --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        _svc_die "initdb failed"
        return 1
    fi
    cat >>"$dir/pgdata/postgresql.conf" <<EOF || { _svc_die "cannot write postgresql.conf"; return 1; }

# --- throwaway test cluster (scripts/services.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/pgsock'
max_connections = 200
fsync = off
full_page_writes = off
EOF

    port="$_SVC_PG_PORT_BASE"
    while ((tries < _SVC_PORT_TRIES)); do
        if _svc_port_free "$port"; then
            if _svc_as_pg "$dir" "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 \
                -o "-p $port" start </dev/null >/dev/null 2>>"$dir/pg_ctl.log"; then
                local i
                for ((i = 0; i < 300; i++)); do
                    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 && break
                    sleep 0.1
                done
                if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
                    tail -n 20 "$dir/postgres.log" >&2
                    _svc_die "postgres started but pg_isready never answered on port $port"
                    return 1
                fi
                echo "$port" >"$dir/pg.port"
                _svc_log "postgres up on 127.0.0.1:$port (data $dir/pgdata)"
                if ! "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$_SVC_DB" </dev/null >&2; then
                    _svc_die "createdb $_SVC_DB failed"
                    return 1
                fi
                return 0
            fi
            _svc_log "postgres did not start on port $port; log tail:"
            tail -n 5 "$dir/pg_ctl.log" "$dir/postgres.log" >&2 2>/dev/null || true
            # Stop a half-started postmaster before retrying on the next port.
            _svc_as_pg "$dir" "$bin/pg_ctl" -D "$dir/pgdata" -m immediate stop >/dev/null 2>&1 || true
        fi
        port=$((port + 1))
        tries=$((tries + 1))
    done
    _svc_die "could not start postgres on ports $_SVC_PG_PORT_BASE..$((port - 1))"
}

# Print the export lines for a running services dir.
services_env() {
    local dir="${1:-${YUNSHANG_SERVICES_DIR:-}}"
    [[ -n "$dir" && -s "$dir/pg.port" && -s "$dir/redis.port" ]] || {
        _svc_die "no running services dir (${dir:-unset})"
        return 1
    }
    local pgport redisport
    pgport=$(<"$dir/pg.port")
    redisport=$(<"$dir/redis.port")
    printf 'export YUNSHANG_SERVICES_DIR=%q\n' "$dir"
    printf 'export YUNSHANG_TEST_PG_URL=%q\n' "postgresql+psycopg://postgres@127.0.0.1:$pgport/$_SVC_DB"
    printf 'export YUNSHANG_TEST_REDIS_URL=%q\n' "redis://127.0.0.1:$redisport/0"
}

# Start both servers in a fresh temp dir, export the URLs into the current shell and print them.
# On failure, whatever was started is stopped again and the dir removed.
services_start() {
    local dir
    # As root the dir must be reachable by the postgres user, so use /tmp rather than $TMPDIR;
    # /tmp also keeps the unix socket path well under its 107-byte limit.
    local base="${TMPDIR:-/tmp}"
    [[ $(id -u) -eq 0 ]] && base=/tmp
    dir=$(mktemp -d "$base/yunshang-svc.XXXXXX") || { _svc_die "mktemp failed"; return 1; }
    chmod 755 "$dir" # the postgres user must be able to traverse it
    export YUNSHANG_SERVICES_DIR="$dir"
    _svc_log "services dir: $dir"
    if ! services_ensure_redis || ! _svc_start_redis "$dir" || ! _svc_start_pg "$dir"; then
        services_stop "$dir"
        return 1
    fi
    local pgport redisport
    pgport=$(<"$dir/pg.port")
    redisport=$(<"$dir/redis.port")
    export YUNSHANG_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$pgport/$_SVC_DB"
    export YUNSHANG_TEST_REDIS_URL="redis://127.0.0.1:$redisport/0"
    services_env "$dir"
}

# Stop the servers of a services dir and remove it. Never fails (safe in EXIT traps).
services_stop() {
    local dir="${1:-${YUNSHANG_SERVICES_DIR:-}}"
    [[ -n "$dir" && -d "$dir" ]] || return 0
    case "$dir" in
    */yunshang-svc.*) ;;
    *)
        _svc_log "refusing to remove '$dir' (not a services dir)"
        return 0
        ;;
    esac
    local pid i

    # PostgreSQL: pg_ctl fast stop, then the hard way via postmaster.pid.
    if [[ -s "$dir/pgdata/postmaster.pid" ]]; then
        pid=$(head -n 1 "$dir/pgdata/postmaster.pid" 2>/dev/null || true)
        _svc_as_pg "$dir" "$_SVC_PG_BINDIR/pg_ctl" -D "$dir/pgdata" -m fast -w -t 20 stop \
            >/dev/null 2>&1 || true
        if _svc_pid_alive "$pid"; then
            kill -QUIT "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do _svc_pid_alive "$pid" || break; sleep 0.1; done
            _svc_pid_alive "$pid" && kill -9 "$pid" 2>/dev/null
        fi
        _svc_log "postgres stopped"
    fi

    # Redis: SHUTDOWN NOSAVE (instant; an idle redis takes ~1.5 s to act on SIGTERM), but only
    # when the server on our port really is our pid; then SIGTERM, then SIGKILL if stuck.
    if [[ -s "$dir/redis.pid" ]]; then
        pid=$(<"$dir/redis.pid")
        if _svc_pid_alive "$pid" && [[ -s "$dir/redis.port" ]] && command -v redis-cli >/dev/null 2>&1 &&
            redis-cli -h 127.0.0.1 -p "$(<"$dir/redis.port")" info server 2>/dev/null |
            tr -d '\r' | grep -qx "process_id:$pid"; then
            redis-cli -h 127.0.0.1 -p "$(<"$dir/redis.port")" shutdown nosave >/dev/null 2>&1 || true
            for ((i = 0; i < 30; i++)); do _svc_pid_alive "$pid" || break; sleep 0.05; done
        fi
        if _svc_pid_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do _svc_pid_alive "$pid" || break; sleep 0.1; done
            _svc_pid_alive "$pid" && kill -9 "$pid" 2>/dev/null
        fi
        _svc_log "redis stopped"
    fi

    rm -rf "$dir" || true
    if [[ "${YUNSHANG_SERVICES_DIR:-}" == "$dir" ]]; then
        unset YUNSHANG_SERVICES_DIR YUNSHANG_TEST_PG_URL YUNSHANG_TEST_REDIS_URL
    fi
    return 0
}

_svc_main() {
    set -euo pipefail
    export PATH="$_SVC_PG_BINDIR:$PATH"
    local pointer
    pointer="$(_svc_repo_root)/var/services.dir" # var/ is git-ignored
    local cmd="${1:-}"
    shift || true
    case "$cmd" in
    start)
        services_start
        mkdir -p "$(dirname "$pointer")" && echo "$YUNSHANG_SERVICES_DIR" >"$pointer"
        ;;
    stop)
        local dir="${1:-${YUNSHANG_SERVICES_DIR:-}}"
        if [[ -z "$dir" && -s "$pointer" ]]; then dir=$(<"$pointer"); fi
        [[ -n "$dir" ]] || { _svc_log "nothing to stop"; return 0; }
        services_stop "$dir"
        if [[ -s "$pointer" && "$(<"$pointer")" == "$dir" ]]; then rm -f "$pointer"; fi
        ;;
    env)
        local dir="${1:-${YUNSHANG_SERVICES_DIR:-}}"
        if [[ -z "$dir" && -s "$pointer" ]]; then dir=$(<"$pointer"); fi
        services_env "$dir"
        ;;
    *)
        echo "usage: $0 start | stop [DIR] | env [DIR]" >&2
        return 2
        ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    _svc_main "$@"
else
    # Sourced: make the PostgreSQL client tools (pg_isready, psql, createdb) reachable.
    case ":$PATH:" in *":$_SVC_PG_BINDIR:"*) ;; *) export PATH="$_SVC_PG_BINDIR:$PATH" ;; esac
fi
