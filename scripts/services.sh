#!/usr/bin/env bash
# Throwaway PostgreSQL 15 + Redis + RabbitMQ for tests and benchmarks.
#
# Two ways to use it:
#
#   1. As a command (servers outlive the command; stop them yourself):
#        eval "$(scripts/services.sh start)"   # prints `export ...` lines on stdout
#        ...                                    # YUNSHANG_TEST_PG_URL / _REDIS_URL / _AMQP_URL are set
#        scripts/services.sh stop               # [DIR]; default: $YUNSHANG_SERVICES_DIR, else the last start
#      `scripts/services.sh env [DIR]` re-prints the export lines of a running set.
#
#   2. Sourced from another bash script (what scripts/test-all does):
#        source scripts/services.sh
#        trap services_stop EXIT
#        services_start          # exports the variables into the calling shell
#
# Everything lives in one `mktemp -d` directory (data, sockets, logs, pid files) that `stop`
# removes. Ports: Redis 16379, PostgreSQL 15432, RabbitMQ 15672 (AMQP), or the next free one (up to
# 20 tries). Knobs (environment): PG_BINDIR (default /usr/lib/postgresql/15/bin),
# YUNSHANG_REDIS_PORT_BASE, YUNSHANG_PG_PORT_BASE, YUNSHANG_AMQP_PORT_BASE, YUNSHANG_RABBITMQ=0 (no
# RabbitMQ: YUNSHANG_TEST_AMQP_URL is not exported). Progress goes to stderr; only the export lines
# go to stdout.
#
# RabbitMQ is a node of its own (name yunshang-test-<dir suffix>@localhost) with its database, logs,
# config, plug-in list (none) and Erlang cookie (HOME) in the services dir, and ports of its own:
# AMQP 15672+K, distribution 25772+K and an epmd of its own on 14369+K, for the first slot K that
# is free (claimed through /tmp/yunshang-rabbitmq-slot-K, see _svc_claim_rabbitmq_slot): a RabbitMQ
# the machine runs (5672, epmd 4369) is not touched. It boots while Redis and PostgreSQL start (it
# takes the longest: ~7 s here); SIGTERM stops it gracefully in about a second.
#
# PostgreSQL refuses to run as root: when run as root, the cluster is owned by and run as the
# `postgres` system user (via runuser, falling back to su / setpriv).

_SVC_PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
_SVC_REDIS_PORT_BASE="${YUNSHANG_REDIS_PORT_BASE:-16379}"
_SVC_PG_PORT_BASE="${YUNSHANG_PG_PORT_BASE:-15432}"
_SVC_AMQP_PORT_BASE="${YUNSHANG_AMQP_PORT_BASE:-15672}"
_SVC_RABBIT_DIST_PORT_BASE=25772
_SVC_EPMD_PORT_BASE=14369
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

# apt-get install PACKAGE (Debian; as root or through sudo).
_svc_apt_install() {
    local pkg="$1"
    _svc_log "$pkg not found; installing it with apt-get"
    command -v apt-get >/dev/null 2>&1 || { _svc_die "$pkg missing and no apt-get"; return 1; }
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || { _svc_die "$pkg missing; need root to install"; return 1; }
        sudo=(sudo -n)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 || {
        _svc_die "apt-get update failed"
        return 1
    }
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "$pkg" </dev/null >&2 || {
        _svc_die "apt-get install $pkg failed"
        return 1
    }
}

# Install redis-server when missing.
services_ensure_redis() {
    command -v redis-server >/dev/null 2>&1 && return 0
    _svc_apt_install redis-server || return 1
    command -v redis-server >/dev/null 2>&1 || { _svc_die "redis-server still missing after install"; return 1; }
}

# The dashboard's browser tests: Debian's Chromium (never a downloaded browser) and CJK fonts.
services_ensure_browser() {
    [[ -x /usr/bin/chromium ]] || _svc_apt_install chromium || return 1
    dpkg -s fonts-noto-cjk >/dev/null 2>&1 || _svc_apt_install fonts-noto-cjk || return 1
    [[ -x /usr/bin/chromium ]] || { _svc_die "chromium still missing after install"; return 1; }
}

# The rabbitmq-server start script to run. Debian's /usr/sbin/rabbitmq-server is a wrapper that
# switches to the `rabbitmq` user and the system node's directories: use the real one behind it.
_svc_rabbitmq_server() {
    if [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
        echo /usr/lib/rabbitmq/bin/rabbitmq-server
    else
        command -v rabbitmq-server || true
    fi
}

# Install rabbitmq-server (and Erlang) when missing; nothing to do with YUNSHANG_RABBITMQ=0.
services_ensure_rabbitmq() {
    [[ "${YUNSHANG_RABBITMQ:-1}" == 0 || -n "$(_svc_rabbitmq_server)" ]] && return 0
    _svc_apt_install rabbitmq-server || return 1
    [[ -n "$(_svc_rabbitmq_server)" ]] || { _svc_die "rabbitmq-server still missing after install"; return 1; }
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

# A RabbitMQ node binds its AMQP port only at the end of its boot (seconds after the start), so
# two starts at once would both see the same ports free: each node claims a slot k instead
# (mkdir is atomic), AMQP 15672+k, distribution 25772+k, epmd 14369+k, released by its stop. A slot
# whose services dir is gone is stale and taken over. Prints k, or fails when none is free.
_svc_claim_rabbitmq_slot() {
    local dir="$1" from="$2" k slot owner
    for ((k = from; k < _SVC_PORT_TRIES; k++)); do
        slot="/tmp/yunshang-rabbitmq-slot-$k"
        if ! mkdir "$slot" 2>/dev/null; then
            owner=$(cat "$slot/owner" 2>/dev/null || true)
            [[ -n "$owner" && ! -d "$owner" ]] || continue
            rm -rf "$slot" && mkdir "$slot" 2>/dev/null || continue # stale: its services dir is gone
        fi
        echo "$dir" >"$slot/owner"
        if _svc_port_free "$((_SVC_AMQP_PORT_BASE + k))" &&
            _svc_port_free "$((_SVC_RABBIT_DIST_PORT_BASE + k))" &&
            _svc_port_free "$((_SVC_EPMD_PORT_BASE + k))"; then
            echo "$k"
            return 0
        fi
        rm -rf "$slot" # taken by something else
    done
    return 1
}

_svc_release_rabbitmq_slot() {
    local dir="$1" slot
    for slot in /tmp/yunshang-rabbitmq-slot-*; do
        [[ -d "$slot" && "$(cat "$slot/owner" 2>/dev/null)" == "$dir" ]] && rm -rf "$slot"
    done
    return 0
}

# Boot a RabbitMQ node in the background (in slot $2 or a later one); _svc_wait_rabbitmq waits for it.
_svc_launch_rabbitmq() {
    local dir="$1" base="$1/rabbitmq" k amqp dist epmd node server
    server=$(_svc_rabbitmq_server)
    [[ -n "$server" ]] || { _svc_die "rabbitmq-server not found"; return 1; }
    k=$(_svc_claim_rabbitmq_slot "$dir" "$2") || {
        _svc_die "no free ports for rabbitmq ($_SVC_AMQP_PORT_BASE..$((_SVC_AMQP_PORT_BASE + _SVC_PORT_TRIES - 1)))"
        return 1
    }
    amqp=$((_SVC_AMQP_PORT_BASE + k)) dist=$((_SVC_RABBIT_DIST_PORT_BASE + k)) epmd=$((_SVC_EPMD_PORT_BASE + k))
    node="yunshang-test-${dir##*.}@localhost"
    rm -rf "$base"
    mkdir -p "$base/home" "$base/mnesia" "$base/log" || { _svc_die "cannot prepare $base"; return 1; }
    echo "[]." >"$base/enabled_plugins"
    : >"$base/rabbitmq-env.conf" # not /etc/rabbitmq/rabbitmq-env.conf (the system node's name)
    cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$amqp
cluster_name = $node
log.console = false
log.file.level = warning
EOF
    echo "$amqp $dist $epmd $node $k" >"$base/launch"
    rm -f "$base/launcher.pid" "$base/rabbitmq.pid"
    # A session of its own (setsid), like a daemon: a Ctrl-C in the caller's terminal must not reach
    # it. setsid may fork, so the launcher (the start script, which forwards SIGTERM to the node)
    # writes its own pid.
    (
        cd "$base" || exit 1
        exec setsid sh -c 'echo $$ >"$0"; exec "$@"' "$base/launcher.pid" \
            env HOME="$base/home" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
            RABBITMQ_NODE_PORT="$amqp" RABBITMQ_DIST_PORT="$dist" ERL_EPMD_PORT="$epmd" \
            ERL_EPMD_ADDRESS=127.0.0.1 \
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
            RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
            RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config" \
            RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" RABBITMQ_MNESIA_BASE="$base/mnesia" \
            RABBITMQ_LOG_BASE="$base/log" RABBITMQ_PID_FILE="$base/rabbitmq.pid" "$server"
    ) </dev/null >"$base/server.out" 2>&1 &
    _svc_log "rabbitmq booting as $node (AMQP 127.0.0.1:$amqp)"
}

# 0 once the AMQP listener of *our* node answers: its Connection.Start names our cluster_name.
_svc_amqp_ready() {
    python3 - "$1" "$2" <<'PY' 2>/dev/null
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
        s.sendall(b"AMQP\x00\x00\x09\x01")
        frame = s.recv(65536)
except OSError:
    sys.exit(1)
sys.exit(0 if frame[:1] == b"\x01" and sys.argv[2].encode() in frame else 1)
PY
}

# Wait for the node _svc_launch_rabbitmq booted; if it died (e.g. lost a race for a port), boot it
# again on the next ports (3 attempts).
_svc_wait_rabbitmq() {
    local dir="$1" base="$1/rabbitmq" attempt amqp dist epmd node k i launcher
    for ((attempt = 1; attempt <= 3; attempt++)); do
        read -r amqp dist epmd node k <"$base/launch"
        for ((i = 0; i < 900; i++)); do # 90 s: a first boot on a busy machine is slow
            if _svc_amqp_ready "$amqp" "$node"; then
                echo "$amqp" >"$dir/rabbitmq.port"
                _svc_log "rabbitmq up on 127.0.0.1:$amqp ($node)"
                return 0
            fi
            launcher=$(cat "$base/launcher.pid" 2>/dev/null || true)
            if [[ -n "$launcher" ]]; then
                _svc_pid_alive "$launcher" || break
            elif ((i > 50)); then
                break
            fi
            sleep 0.1
        done
        _svc_log "rabbitmq did not come up on port $amqp; log tail:"
        tail -n 5 "$base/server.out" "$base/log/"*.log >&2 2>/dev/null || true
        _svc_stop_rabbitmq "$dir"
        ((attempt < 3)) && { _svc_launch_rabbitmq "$dir" "$((k + 1))" || return 1; }
    done
    _svc_die "could not start rabbitmq"
}

# Stop the node of a services dir: SIGTERM (a graceful stop), SIGKILL if stuck; then its epmd.
_svc_stop_rabbitmq() {
    local dir="$1" base="$1/rabbitmq" pid i amqp dist epmd node k
    [[ -s "$base/launch" ]] || return 0
    read -r amqp dist epmd node k <"$base/launch"
    for ((i = 0; i < 20; i++)); do [[ -s "$base/launcher.pid" ]] && break; sleep 0.05; done # just launched
    for pid in "$(cat "$base/rabbitmq.pid" 2>/dev/null)" "$(cat "$base/launcher.pid" 2>/dev/null)"; do
        _svc_pid_alive "$pid" || continue
        # only a process of this services dir (the pid may have been reused)
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -e "$base" -e rabbitmq-server || continue
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do _svc_pid_alive "$pid" || break; sleep 0.1; done
        _svc_pid_alive "$pid" && kill -9 "$pid" 2>/dev/null
    done
    # the epmd our node started on its own port (refuses while a node is still registered)
    local epmd_bin
    epmd_bin=$(command -v epmd || ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n 1 || true)
    [[ -n "$epmd_bin" ]] && "$epmd_bin" -port "$epmd" -kill >/dev/null 2>&1 || true
    rm -f "$base/launch"
    _svc_release_rabbitmq_slot "$dir"
    _svc_log "rabbitmq stopped"
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
    if [[ -s "$dir/rabbitmq.port" ]]; then
        printf 'export YUNSHANG_TEST_AMQP_URL=%q\n' "amqp://guest:guest@127.0.0.1:$(<"$dir/rabbitmq.port")/%2F"
    fi
}

# Start the servers in a fresh temp dir, export the URLs into the current shell and print them.
# RabbitMQ boots in the background while Redis and PostgreSQL start.
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
    local rabbit=1
    [[ "${YUNSHANG_RABBITMQ:-1}" == 0 ]] && rabbit=0
    if ! services_ensure_redis || { ((rabbit)) && ! services_ensure_rabbitmq; } ||
        { ((rabbit)) && ! _svc_launch_rabbitmq "$dir" 0; } ||
        ! _svc_start_redis "$dir" || ! _svc_start_pg "$dir" ||
        { ((rabbit)) && ! _svc_wait_rabbitmq "$dir"; }; then
        services_stop "$dir"
        return 1
    fi
    local pgport redisport
    pgport=$(<"$dir/pg.port")
    redisport=$(<"$dir/redis.port")
    export YUNSHANG_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$pgport/$_SVC_DB"
    export YUNSHANG_TEST_REDIS_URL="redis://127.0.0.1:$redisport/0"
    if ((rabbit)); then
        export YUNSHANG_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$(<"$dir/rabbitmq.port")/%2F"
    fi
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

    _svc_stop_rabbitmq "$dir"

    rm -rf "$dir" || true
    if [[ "${YUNSHANG_SERVICES_DIR:-}" == "$dir" ]]; then
        unset YUNSHANG_SERVICES_DIR YUNSHANG_TEST_PG_URL YUNSHANG_TEST_REDIS_URL YUNSHANG_TEST_AMQP_URL
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
