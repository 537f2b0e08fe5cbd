# Helpers shared by the benchmarks (sourced, not run).
#
# bench_namespace "$@"   re-executes the calling script in a private network
#                        namespace (unshare -n, else unshare -rn), so that
#                        ports cannot collide with other work on the machine and
#                        no packet can leave it; falls back to the host loopback
# start_bg LOG CMD...    CMD in the background, pid in BG_PID (stopped at exit)
# stop_pid PID [GRACE]   SIGTERM, SIGKILL after GRACE seconds, reap
# wait_exit PID SECONDS  until PID ends by itself (WAIT_RC), else stop_pid
# pick_port VAR [N]      VAR=p with p..p+N-1 free (UDP and TCP), chosen at run time
# wait_line FILE RE SECONDS PID   until FILE has a line matching RE
# wait_bound PORT SECONDS PID     until a UDP socket is bound on PORT
# cpu_ticks PID, cpu_ns PID   CPU time of PID (utime+stime)
# udp_drops              UDP datagrams dropped for buffer space so far
# sipp_col CSV NAME      the last value of column NAME in a SIPp -trace_stat CSV
# median N...            the median of the numbers among N...
# snapshot_module        a private copy of the built module for the run
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LUA=${LUA:-lua5.4}
HZ=$(getconf CLK_TCK)

bench_namespace() {
    if [ -z "${LUASIP_BENCH_NS:-}" ]; then
        local flags
        for flags in -n -rn; do
            if unshare $flags sh -c 'ip link set lo up' >/dev/null 2>&1; then
                export LUASIP_BENCH_NS="unshare $flags"
                exec unshare $flags bash "$0" "$@"
            fi
        done
        export LUASIP_BENCH_NS=none
    fi
    if [ "$LUASIP_BENCH_NS" != none ]; then
        ip link set lo up || { echo "bench: cannot bring up lo" >&2; exit 1; }
        echo "# private network namespace ($LUASIP_BENCH_NS)"
    else
        echo "# no private network namespace: host loopback, free ports"
    fi
}

PIDS=()

alive() {
    local state
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

stop_pid() {
    local pid=$1 grace=${2:-5} i
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < grace * 10; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    forget_pid "$pid"
}

# wait_exit PID SECONDS: waits for PID to end by itself, at most SECONDS, then
# stops it.  WAIT_RC is its exit status (124 when it had to be stopped).
wait_exit() {
    local pid=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        stop_pid "$pid" 3
        WAIT_RC=124
    else
        wait "$pid" 2>/dev/null
        # shellcheck disable=SC2034  # read by the scripts that source this
        WAIT_RC=$?
        forget_pid "$pid"
    fi
}

start_bg() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 </dev/null &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

bench_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid" 3; done
    if [ -n "${WORK:-}" ] && [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$WORK"; fi
    [ -n "${BENCH_KEEP:-}" ] && echo "# logs kept in $WORK"
}

RESERVED=" "
port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    grep -qs ":$hex " /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6
}

pick_port() {
    local var=$1 count=${2:-1} p i tries ok
    for ((tries = 0; tries < 500; tries++)); do
        # below the RTP range the benchmarks give the library (10000-60000)
        p=$((2000 + (RANDOM * 32768 + RANDOM) % 7000))
        ok=1
        for ((i = 0; i < count; i++)); do
            case $RESERVED in *" $((p + i)) "*) ok=0; break ;; esac
            if port_in_use $((p + i)); then ok=0; break; fi
        done
        if [ $ok = 1 ]; then
            for ((i = 0; i < count; i++)); do RESERVED+="$((p + i)) "; done
            printf -v "$var" '%s' "$p"
            return 0
        fi
    done
    echo "bench: no free port found" >&2
    exit 1
}

wait_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -Eqs "$2" "$1" && return 0
        alive "$4" || return 1
        sleep 0.1
    done
    return 1
}

wait_bound() {
    local hex i
    hex=$(printf '%04X' "$1")
    for ((i = 0; i < $2 * 10; i++)); do
        grep -Eqs "^ *[0-9]+: [0-9A-F]+:$hex " /proc/net/udp /proc/net/udp6 && return 0
        alive "$3" || return 1
        sleep 0.1
    done
    return 1
}

cpu_ticks() {
    # fields after the ") " of /proc/PID/stat: utime is the 12th, stime the 13th
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

sipp_col() {
    awk -F';' -v name="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) col = i; next }
        { last = $col }
        END { print (col ? last : "?") }' "$1" 2>/dev/null
}

# median of the numbers given (non-numbers are left out; "-" when none)
median() {
    printf '%s\n' "$@" | awk '/^-?[0-9.]+$/' | sort -g |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "-"; exit }
            if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cpu_ns PID: CPU time of every thread of PID in ns (/proc/PID/task/*/schedstat,
# the same time as utime+stime of /proc/PID/stat but in ns rather than in
# clock ticks of 10 ms, too coarse for a few thousand calls); from
# /proc/PID/stat when schedstat is missing
cpu_ns() {
    local f sum=0 t
    for f in /proc/"$1"/task/*/schedstat; do
        read -r t _ <"$f" 2>/dev/null || continue
        sum=$((sum + t))
    done
    if [ "$sum" = 0 ]; then
        sum=$(($(cpu_ticks "$1") * 1000000000 / HZ))
    fi
    echo "$sum"
}

# snapshot_module: copies the module that `make build` installed into
# .luarocks to $WORK/mod and points Lua there, so that a rebuild of the tree
# during a run (other work on the same checkout) cannot change or remove the
# module half-way.  Returns 1 when no loadable module was found.
snapshot_module() {
    local tree=$ROOT/.luarocks i
    for ((i = 0; i < 20; i++)); do
        rm -rf "$WORK/mod"
        mkdir -p "$WORK/mod/share" "$WORK/mod/lib"
        if cp -r "$tree/share/lua/5.4/sip" "$WORK/mod/share/" 2>/dev/null &&
            cp -r "$tree/lib/lua/5.4/sip" "$WORK/mod/lib/" 2>/dev/null; then
            export LUA_PATH="$WORK/mod/share/?.lua;$WORK/mod/share/?/init.lua;;"
            export LUA_CPATH="$WORK/mod/lib/?.so;;"
            if "$LUA" -e 'require "sip"' >/dev/null 2>&1; then
                echo "# module: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
                    "(core.so built $(date -r "$WORK/mod/lib/sip/core.so" '+%F %T'))"
                return 0
            fi
        fi
        sleep 0.5
    done
    echo "bench: module sip not found (run \`make build\` first)" >&2
    return 1
}

# udp_drops: datagrams the kernel dropped for want of socket buffer space
# (RcvbufErrors + SndbufErrors of /proc/net/snmp).  Only meaningful in the
# private namespace, where every UDP socket is the benchmark's own.
udp_drops() {
    awk '/^Udp:/ {
        if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1; next }
        print $col["RcvbufErrors"] + $col["SndbufErrors"]; exit }' /proc/net/snmp
}

# port_drops PORT: datagrams dropped on arrival at the UDP socket bound to
# PORT (the "drops" column of /proc/net/udp): which side lost them
port_drops() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v h=":$hex" '$2 ~ h "$" { d += $NF } END { print d + 0 }' /proc/net/udp /proc/net/udp6 2>/dev/null
}
