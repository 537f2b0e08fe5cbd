#!/usr/bin/env bash
# luasip interop suite: the library against real peers on loopback.
#
#   bash tests/interop/run.sh           every test (needs `make build` first)
#   bash tests/interop/run.sh --peers   only the peers against each other: checks
#                                       the harness, configs and scenarios without
#                                       the library
#
# Peers: Kamailio as a digest-auth registrar (tests/peers/kamailio.cfg) and
# SIPp with the scenarios in tests/sipp/.  Test scripts: tests/interop/*.lua.
#
# Prints one "ok - NAME" or "not ok - NAME: why" line per check, the tail of
# the logs of every group that failed (lines starting with "#"), and ends
# with "interop: N passed, N failed".  Exit status 0 iff nothing failed.
#
# The suite re-executes itself in a private network namespace (unshare -n,
# or unshare -rn without root) so that no port can collide and no packet can
# leave the machine; where that is impossible it runs on the host loopback.
# Either way every port is chosen at run time.  Every process it starts is
# stopped by its pid and reaped, also on failure or interrupt.
#
# Environment:
#   LUA=lua5.4          the interpreter
#   INTEROP_TAIL=40     lines of each log shown for a failed group
#   INTEROP_KEEP=1      keep the work directory (it is kept anyway on failure)
#   INTEROP_ONLY=REGEX  only the call groups (calls_*.sh) whose name matches

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SIPP_DIR=$ROOT/tests/sipp
PEERS_DIR=$ROOT/tests/peers
LUA=${LUA:-lua5.4}
TAIL=${INTEROP_TAIL:-40}

MODE=all
case "${1:-}" in
    "") ;;
    --peers) MODE=peers ;;
    *) echo "usage: $0 [--peers]" >&2; exit 2 ;;
esac

# ------------------------------------------------------------ namespace
if [ -z "${LUASIP_INTEROP_NS:-}" ]; then
    for flags in -n -rn; do
        if unshare $flags sh -c 'ip link set lo up' >/dev/null 2>&1; then
            export LUASIP_INTEROP_NS="unshare $flags"
            exec unshare $flags bash "${BASH_SOURCE[0]}" "$@"
        fi
    done
    export LUASIP_INTEROP_NS=none
fi
if [ "$LUASIP_INTEROP_NS" != none ]; then
    if ! ip link set lo up; then
        echo "interop: cannot bring up lo in the private network namespace" >&2
        echo "interop: 0 passed, 1 failed"
        exit 1
    fi
    echo "# private network namespace ($LUASIP_INTEROP_NS)"
else
    echo "# no private network namespace: using the host loopback with free ports"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/luasip-interop.XXXXXX") || exit 1
echo "# work directory $WORK"

# ------------------------------------------------------------ processes
PIDS=()

# True while PID runs (a zombie does not count).
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

# stop_pid PID [GRACE]: SIGTERM, SIGKILL after GRACE seconds (its own children
# too, found by parent pid), then reap it.  Returns its exit status.
stop_pid() {
    local pid=$1 grace=${2:-5} i kids=() rc
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < grace * 10; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            mapfile -t kids < <(pgrep -P "$pid" 2>/dev/null)
            kill -KILL "$pid" "${kids[@]}" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    forget_pid "$pid"
    return $rc
}

# wait_pid PID SECONDS: waits for PID to end, at most SECONDS, then stops it.
# Sets WAIT_RC to its exit status (124 when it had to be stopped).
wait_pid() {
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
        WAIT_RC=$?
        forget_pid "$pid"
    fi
}

# start_bg LOG CMD...: runs CMD in the background; its pid is in BG_PID.
start_bg() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 </dev/null &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

FAILED=0
PASSED=0
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid" 3; done
    if [ "$FAILED" = 0 ] && [ -z "${INTEROP_KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        echo "# logs kept in $WORK"
    fi
}
trap cleanup EXIT
trap 'echo "# interrupted"; exit 130' INT TERM HUP

# ------------------------------------------------------------ ports
RESERVED=" "

# port_in_use PORT: any TCP or UDP socket (v4 or v6, any state) on PORT.
port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    grep -qs ":$hex " /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6
}

# pick_ports VAR [COUNT]: VAR=p such that p .. p+COUNT-1 are free for UDP and
# TCP and not handed out before in this run.
pick_ports() {
    local var=$1 count=${2:-1} p i tries ok
    for ((tries = 0; tries < 500; tries++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
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
    echo "# no free port found" >&2
    exit 1
}

# wait_bound PORT udp|tcp SECONDS [PID]: until a socket is bound (TCP:
# listening) on PORT; gives up early when PID has ended.
wait_bound() {
    local hex pattern i files=()
    hex=$(printf '%04X' "$1")
    # local address, remote address, state (0A: LISTEN)
    if [ "$2" = tcp ]; then
        files=(/proc/net/tcp /proc/net/tcp6)
        pattern="^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:[0-9A-F]+ 0A "
    else
        files=(/proc/net/udp /proc/net/udp6)
        pattern="^ *[0-9]+: [0-9A-F]+:$hex "
    fi
    for ((i = 0; i < $3 * 10; i++)); do
        grep -Eqs "$pattern" "${files[@]}" && return 0
        if [ -n "${4:-}" ] && ! alive "$4"; then return 1; fi
        sleep 0.1
    done
    return 1
}

# wait_line FILE REGEX SECONDS [PID]: until FILE has a line matching REGEX.
wait_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        if [ -n "${4:-}" ] && ! alive "$4"; then
            grep -qE "$2" "$1" 2>/dev/null
            return
        fi
        sleep 0.1
    done
    return 1
}

# ------------------------------------------------------------ reporting
GROUP=""
GROUP_LOGS=()
GROUP_FAILED=0

group_begin() {
    GROUP=$1
    GROUP_LOGS=()
    GROUP_FAILED=0
    echo "# --- $GROUP"
}

# group_logs FILE...: logs to show if the group fails, each once however
# many checks name it.
group_logs() {
    local f g
    for f in "$@"; do
        for g in "${GROUP_LOGS[@]}"; do [ "$g" = "$f" ] && continue 2; done
        GROUP_LOGS+=("$f")
    done
}

pass() {
    echo "ok - $GROUP: $1"
    PASSED=$((PASSED + 1))
}

fail() {
    echo "not ok - $GROUP: $1${2:+: $2}"
    FAILED=$((FAILED + 1))
    GROUP_FAILED=1
}

# check NAME COMMAND...: one check that passes when COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name" "${WHY:-}"; fi
    WHY=""
}

# On failure, shows the tail of each log of the group: whole message flows
# (*.flow, one line per SIP message) up to 3*TAIL lines, and of the Kamailio
# log only what the script logged and its errors and warnings.
group_end() {
    local f lines
    if [ "$GROUP_FAILED" = 1 ]; then
        for f in "${GROUP_LOGS[@]}"; do
            [ -s "$f" ] || continue
            case $f in
            *.flow)
                lines=$((TAIL * 3))
                echo "# ---- last $lines lines of ${f#"$WORK"/}"
                tail -n "$lines" "$f" ;;
            "$KAM_LOG")
                echo "# ---- last $TAIL lines of ${f#"$WORK"/} (script lines, errors, warnings)"
                grep -E "<script>|ERROR|WARNING|CRITICAL|ALERT|BUG" "$f" | tail -n "$TAIL" ;;
            *)
                echo "# ---- last $TAIL lines of ${f#"$WORK"/}"
                tail -n "$TAIL" "$f" ;;
            esac | tr -d '\r' | sed '1!s/^/#   /'
        done
    fi
    GROUP=""
}

# script_results OUT RC NAME...: the results a Lua script printed in OUT.
# Every "ok - NAME" line is a pass and every "not ok - NAME: why" line a
# failure, each time it appears, whether NAME is one of the expected NAMEs or
# not (a script error, a failed module load); an expected NAME the script
# never reported is a failure too.  The name of a "not ok" line is the
# longest expected NAME it starts with (names may hold ": "), else what
# comes before its first ": ".  Then SCRIPT_ENDS: sip.run returned after ua:close() ("done")
# and the script exited 0, its own verdict that all its checks passed.
SCRIPT_ENDS="script ends: sip.run returns after ua:close(), exit status 0"
script_results() {
    local out=$1 rc=$2 line rest name why i best passed failures=0
    shift 2
    local names=("$@") counts=()
    for i in "${!names[@]}"; do counts[i]=0; done
    while IFS= read -r line; do
        case $line in
        "ok - "*) passed=1 rest=${line#"ok - "} ;;
        "not ok - "*) passed=0 rest=${line#"not ok - "} ;;
        *) continue ;;
        esac
        # an "ok" line is the name alone; a "not ok" line adds ": why"
        best=-1
        for i in "${!names[@]}"; do
            name=${names[i]}
            if [ "$rest" = "$name" ] || { [ $passed = 0 ] && [[ $rest == "$name: "* ]]; }; then
                if [ "$best" -lt 0 ] || [ ${#name} -gt ${#names[best]} ]; then best=$i; fi
            fi
        done
        if [ "$best" -ge 0 ]; then
            name=${names[best]}
            counts[best]=$((counts[best] + 1))
        elif [ $passed = 1 ]; then
            name=$rest
        else
            name=${rest%%: *}
        fi
        if [ $passed = 1 ]; then
            pass "$name"
        else
            why=${rest#"$name"}
            why=${why#: }
            fail "$name" "${why:-reported without a reason}"
            failures=$((failures + 1))
        fi
    done < <(cat "$out" 2>/dev/null)
    for i in "${!names[@]}"; do
        [ "${counts[i]}" -gt 0 ] || fail "${names[i]}" "not reported (script exit status $rc)"
    done
    if grep -qsx "done" "$out" && [ "$rc" = 0 ]; then
        pass "$SCRIPT_ENDS"
    elif grep -qsx "done" "$out"; then
        why="exit status $rc after sip.run returned"
        if [ "$rc" = 1 ] && [ "$failures" -gt 0 ]; then
            why+=" (the script's verdict on its $failures failed checks above)"
        elif [ "$rc" = 1 ]; then
            why+=", though the script reported no failed check"
        fi
        fail "$SCRIPT_ENDS" "$why"
    elif grep -qsx "closing" "$out"; then
        why="sip.run did not return within ${CLOSE_GRACE}s of closing every endpoint"
        fail "$SCRIPT_ENDS" "$why (exit status $rc)"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        fail "$SCRIPT_ENDS" "still running after its time limit, stopped"
    else
        fail "$SCRIPT_ENDS" "exit status $rc, no \"done\" line"
    fi
}

# ------------------------------------------------------------ peers
KAM_PID=""
KAM_PORT=""
KAM_LOG=$WORK/kamailio.log

start_kamailio() {
    pick_ports KAM_PORT
    mkdir -p "$WORK/kamailio"
    kamailio -f "$PEERS_DIR/kamailio.cfg" -DD -E -m 32 -M 8 \
        -Y "$WORK/kamailio" -P "$WORK/kamailio/kamailio.pid" \
        --substdef "!PEER_PORT!$KAM_PORT!" -A TRACE_ALL >"$KAM_LOG" 2>&1 </dev/null &
    KAM_PID=$!
    PIDS+=("$KAM_PID")
    if wait_line "$KAM_LOG" "Listening on" 10 "$KAM_PID" &&
        wait_bound "$KAM_PORT" udp 5 "$KAM_PID" && wait_bound "$KAM_PORT" tcp 5 "$KAM_PID"; then
        return 0
    fi
    WHY="no \"Listening on\" with both sockets bound within 10 s"
    alive "$KAM_PID" || WHY="kamailio exited"
    return 1
}

# sipp_run NAME ARGS...: SIPp in the foreground with its own control and media
# ports and message/error logs $WORK/NAME.*; sets SIPP_RC.  A time limit
# must be among ARGS (-timeout); `timeout` bounds it anyway.  SIPp runs in
# the directory SIPP_CWD when that is set (a failed cd fails the run), and
# takes its media ports from SIPP_MEDIA_PORT (4 picked ones) when that is set.
sipp_run() {
    local name=$1 cp mp=${SIPP_MEDIA_PORT:-}
    shift
    pick_ports cp
    [ -n "$mp" ] || pick_ports mp 4
    SIPP_NAME=$name
    (cd "${SIPP_CWD:-.}" && exec timeout -k 2 30 sipp "$@" -i 127.0.0.1 -cp "$cp" -mp "$mp" \
        -nostdin -trace_msg -message_file "$WORK/$name.msg" \
        -trace_err -error_file "$WORK/$name.err") >"$WORK/$name.out" 2>&1 </dev/null
    SIPP_RC=$?
}

# sipp_bg NAME ARGS...: the same in the background; pid in BG_PID.
sipp_bg() {
    local name=$1 cp mp
    shift
    pick_ports cp
    pick_ports mp 4
    SIPP_NAME=$name
    start_bg "$WORK/$name.out" timeout -k 2 30 sipp "$@" -i 127.0.0.1 -cp "$cp" -mp "$mp" \
        -nostdin -trace_msg -message_file "$WORK/$name.msg" \
        -trace_err -error_file "$WORK/$name.err"
}

sipp_flag() { [ "$1" = tcp ] && echo t1 || echo u1; }

# sipp_register USER PASSWORD TRANSPORT NAME [EXPIRES]: SIPp REGISTER with
# digest auth (EXPIRES 30 by default; 0 removes the binding).  The local port
# stays the same for a transport, so that the Contact does too.
sipp_register() {
    local port_var=SIPP_REG_PORT_$3
    [ -n "${!port_var:-}" ] || pick_ports "$port_var"
    sipp_run "$4" "127.0.0.1:$KAM_PORT" -sf "$SIPP_DIR/register.xml" -p "${!port_var}" \
        -t "$(sipp_flag "$3")" -s "$1" -au "$1" -ap "$2" -set expires "${5:-30}" \
        -m 1 -timeout 10s -timeout_error
}

sipp_ok() {
    [ "$SIPP_RC" = 0 ] && return 0
    WHY="sipp exit status $SIPP_RC"
    group_logs "$WORK/$SIPP_NAME.err" "$WORK/$SIPP_NAME.msg"
    return 1
}

# sipp_refused: SIPp failed its REGISTER because the answer to the
# credentials was a second 401 (exit status 1 alone could be a timeout).
sipp_refused() {
    [ "$SIPP_RC" = 1 ] &&
        grep -qs "while expecting '200' (index [0-9]*), received 'SIP/2.0 401 " \
            "$WORK/$SIPP_NAME.err" && return 0
    WHY="sipp exit status $SIPP_RC, expected 1 on a second 401: $(grep -m1 -o \
        "while expecting .*" "$WORK/$SIPP_NAME.err" 2>/dev/null || echo "no such error logged")"
    group_logs "$WORK/$SIPP_NAME.err" "$WORK/$SIPP_NAME.msg"
    return 1
}

# sipp_granted SECONDS: the 200 SIPp got grants its Contact SECONDS (the
# expires parameter the registrar puts there).
sipp_granted() {
    tr -d '\r' <"$WORK/$SIPP_NAME.msg" 2>/dev/null |
        grep -qiE "^contact:.*;[[:space:]]*expires=$1([;, ]|\$)" && return 0
    WHY="no Contact with expires=$1 in the 200: $(tr -d '\r' <"$WORK/$SIPP_NAME.msg" 2>/dev/null |
        grep -iE '^contact:.*expires' | tail -n 1)"
    group_logs "$WORK/$SIPP_NAME.msg"
    return 1
}

kamailio_running() {
    [ -n "$KAM_PID" ] && alive "$KAM_PID" && return 0
    WHY="kamailio is not running"
    return 1
}

# Peer sanity: Kamailio starts, and SIPp can register with it over UDP and TCP,
# but not with a wrong password.  A failure here is not the library's.
group_registrar_peer() {
    group_begin "peers: kamailio registrar"
    group_logs "$KAM_LOG"
    check "kamailio starts" start_kamailio
    if [ -n "$KAM_PID" ] && alive "$KAM_PID"; then
        KAM_MARK=0
        sipp_register dave davepw udp peer-register-udp
        check "sipp registers dave over udp" sipp_ok
        sipp_register dave davepw udp peer-unregister-udp 0
        check "sipp unregisters dave over udp" sipp_ok
        check "kamailio logs the binding saved, then removed" kamailio_saw dave udp 1
        sipp_register dave davepw udp peer-register-short 1
        check "kamailio grants 4 s to a REGISTER that asks for 1 s" \
            eval 'sipp_ok && sipp_granted 4'
        sipp_register dave davepw tcp peer-register-tcp
        check "sipp registers dave over tcp" sipp_ok
        sipp_register dave wrongpw udp peer-register-wrong
        check "sipp with a wrong password is refused" sipp_refused
    else
        fail "sipp registers dave over udp" "kamailio is not running"
        fail "sipp unregisters dave over udp" "kamailio is not running"
        fail "kamailio logs the binding saved, then removed" "kamailio is not running"
        fail "kamailio grants 4 s to a REGISTER that asks for 1 s" "kamailio is not running"
        fail "sipp registers dave over tcp" "kamailio is not running"
        fail "sipp with a wrong password is refused" "kamailio is not running"
    fi
    group_end
}

# Plumbing: SIPp's request scenarios against SIPp's UAS scenario, and the UAS
# refusing a MESSAGE whose body is not the library's.
group_sipp_plumbing() {
    local transport uas_port uac_port uas_pid
    for transport in udp tcp; do
        group_begin "peers: sipp uac -> sipp uas.xml ($transport)"
        # uas.xml expects the library's text; the UAC sends SIPp's.
        sed 's/Hello from SIPp/Hello from luasip/' "$SIPP_DIR/message_uac.xml" \
            >"$WORK/message_uac_luasip.xml"
        pick_ports uas_port
        pick_ports uac_port
        sipp_bg "plumb-uas-$transport" -sf "$SIPP_DIR/uas.xml" -p "$uas_port" \
            -t "$(sipp_flag $transport)" -m 2 -timeout 15s -timeout_error
        uas_pid=$BG_PID
        if ! wait_bound "$uas_port" "$transport" 5 "$uas_pid"; then
            fail "sipp uas.xml starts" "port $uas_port not bound"
        fi
        sipp_run "plumb-options-$transport" "127.0.0.1:$uas_port" \
            -sf "$SIPP_DIR/options_uac.xml" -s alice -p "$uac_port" \
            -t "$(sipp_flag $transport)" -m 1 -timeout 10s -timeout_error
        check "options_uac.xml gets 200" sipp_ok
        sipp_run "plumb-message-$transport" "127.0.0.1:$uas_port" \
            -sf "$WORK/message_uac_luasip.xml" -s alice -p "$uac_port" \
            -t "$(sipp_flag $transport)" -m 1 -timeout 10s -timeout_error
        check "message_uac.xml gets 200" sipp_ok
        wait_pid "$uas_pid" 10
        SIPP_RC=$WAIT_RC SIPP_NAME=plumb-uas-$transport
        check "uas.xml accepts both requests" sipp_ok
        group_end
    done

    group_begin "peers: sipp uas.xml checks the MESSAGE body"
    pick_ports uas_port
    pick_ports uac_port
    sipp_bg plumb-uas-wrong -sf "$SIPP_DIR/uas.xml" -p "$uas_port" -t u1 -m 1 \
        -timeout 10s -timeout_error
    uas_pid=$BG_PID
    if ! wait_bound "$uas_port" udp 5 "$uas_pid"; then
        fail "sipp uas.xml starts" "port $uas_port not bound"
    fi
    sipp_run plumb-message-wrong "127.0.0.1:$uas_port" -sf "$SIPP_DIR/message_uac.xml" \
        -s alice -p "$uac_port" -t u1 -m 1 -timeout 5s -timeout_error
    wait_pid "$uas_pid" 10
    if [ "$WAIT_RC" != 0 ] && [ "$WAIT_RC" != 124 ] &&
        grep -qs "Failed regexp match" "$WORK/plumb-uas-wrong.err"; then
        pass "a MESSAGE with another body fails the call"
    else
        group_logs "$WORK/plumb-uas-wrong.err" "$WORK/plumb-uas-wrong.msg"
        fail "a MESSAGE with another body fails the call" "sipp exit status $WAIT_RC"
    fi
    group_end
}

# ------------------------------------------------------------ library tests
if [ -f "$ROOT/tests/env.sh" ]; then
    # shellcheck disable=SC1091
    . "$ROOT/tests/env.sh"
fi

group_module() {
    group_begin "luasip"
    group_logs "$WORK/module.out"
    if "$LUA" -e 'assert(type(require("sip").run) == "function", "sip.run missing")' \
        >"$WORK/module.out" 2>&1 </dev/null; then
        pass "module sip loads"
    else
        fail "module sip loads" "$(head -n 1 "$WORK/module.out") (run \`make build\` first)"
    fi
    group_end
}

# lua_start SCRIPT TAG LIMIT VAR=VALUE...: starts tests/interop/SCRIPT.lua in
# the background with the settings VAR=VALUE; its output goes to
# $WORK/TAG.out, its SIP messages to TAG.trace and TAG.flow.  `timeout` ends it
# after LIMIT seconds whatever happens.  Pid in LUA_PID.
lua_start() {
    local script=$1 tag=$2 limit=$3
    shift 3
    group_logs "$WORK/$tag.out" "$WORK/$tag.flow" "$WORK/$tag.trace"
    start_bg "$WORK/$tag.out" env "$@" \
        SIP_TRACE_FILE="$WORK/$tag.trace" SIP_FLOW_FILE="$WORK/$tag.flow" \
        timeout -k 2 "$limit" "$LUA" "$HERE/$script.lua"
    LUA_PID=$BG_PID
}

# lua_wait TAG SECONDS: waits for the script of lua_start to end, at most
# SECONDS, and at most CLOSE_GRACE seconds after it printed "closing" (its
# checks are done; only ua:close() and the return of sip.run are left), so
# that a library that never lets sip.run return costs seconds, not minutes.
# Sets LUA_RC (124 when it had to be stopped).
CLOSE_GRACE=5
lua_wait() {
    local out=$WORK/$1.out limit=$2 i closing=-1
    for ((i = 0; i < limit * 10; i++)); do
        alive "$LUA_PID" || break
        if [ "$closing" -lt 0 ] && grep -qx "closing" "$out"; then closing=$i; fi
        if [ "$closing" -ge 0 ] && [ $((i - closing)) -ge $((CLOSE_GRACE * 10)) ]; then
            break
        fi
        sleep 0.1
    done
    wait_pid "$LUA_PID" 0
    LUA_RC=$WAIT_RC
}

REGISTER_CHECKS=(
    "register with digest auth"
    "reg.expires is the expiry the registrar granted, not the one asked"
    "registration refreshed after the asked 1 s, before the granted expiry"
    "refresh keeps the Call-ID and raises the CSeq"
    "REGISTER sent over %s"
    "REGISTER binds the endpoint's URI (To and From)"
    "unregister sends Expires: 0 and returns true"
    "wrong password fails with nil, 401|403, reason"
    "no REGISTER after unregister"
)

# kamailio_saw USER TRANSPORT [N]: the registrar's own account of the binding
# (BINDING lines of kamailio.cfg): saved or refreshed (contacts >= 1) at least
# N times (default 2) over TRANSPORT, then removed (contacts=0) by the last
# update.  Only lines logged since line KAM_MARK count.
kamailio_saw() {
    local user=$1 transport=$2 min=${3:-2} lines bound last
    lines=$(tail -n "+$((KAM_MARK + 1))" "$KAM_LOG" |
        grep -o "BINDING aor=$user proto=$transport .*")
    bound=$(printf '%s\n' "$lines" | grep -c 'contacts=[1-9]')
    last=$(printf '%s\n' "$lines" | tail -n 1)
    if [ "$bound" -ge "$min" ] && [[ "$last" == *contacts=0* ]]; then
        return 0
    fi
    WHY="$bound updates with a binding, last update: ${last:-none}"
    return 1
}

group_register() {
    local transport=$1 user=$2 password=$3 name fmt
    local names=()
    for fmt in "${REGISTER_CHECKS[@]}"; do
        # shellcheck disable=SC2059
        names+=("$(printf "$fmt" "$transport")")
    done
    group_begin "register $transport"
    group_logs "$KAM_LOG"
    if ! kamailio_running; then
        for name in "${names[@]}" "$SCRIPT_ENDS" \
            "kamailio: binding refreshed, then removed"; do
            fail "$name" "kamailio is not running"
        done
        group_end
        return
    fi
    KAM_MARK=$(wc -l <"$KAM_LOG")
    lua_start register "register-$transport" 20 KAM_PORT="$KAM_PORT" TRANSPORT="$transport" \
        SIP_USER="$user" SIP_PASSWORD="$password" BAD_USER=bob EXPIRES=1
    lua_wait "register-$transport" 20
    script_results "$WORK/register-$transport.out" "$LUA_RC" "${names[@]}"
    check "kamailio: binding refreshed, then removed" kamailio_saw "$user" "$transport"
    group_end
}

# SIPp sends OPTIONS and MESSAGE to tests/interop/serve.lua.
group_sipp_to_luasip() {
    local transport=$1 ua_port uac_port tag
    tag=serve-$transport
    group_begin "sipp -> luasip $transport"
    pick_ports ua_port
    pick_ports uac_port
    lua_start serve "$tag" 20 UA_PORT="$ua_port" TRANSPORT="$transport" WAIT=10
    if wait_line "$WORK/$tag.out" '^ready$' 5 "$LUA_PID"; then
        sipp_run "$tag-options" "127.0.0.1:$ua_port" -sf "$SIPP_DIR/options_uac.xml" \
            -s alice -p "$uac_port" -t "$(sipp_flag "$transport")" -m 1 -timeout 4s -timeout_error
        check "SIPp OPTIONS answered 200" sipp_ok
        sipp_run "$tag-message" "127.0.0.1:$ua_port" -sf "$SIPP_DIR/message_uac.xml" \
            -s alice -p "$uac_port" -t "$(sipp_flag "$transport")" -m 1 -timeout 4s -timeout_error
        check "SIPp MESSAGE answered 200" sipp_ok
    else
        fail "SIPp OPTIONS answered 200" "the script never printed \"ready\""
        fail "SIPp MESSAGE answered 200" "the script never printed \"ready\""
    fi
    lua_wait "$tag" 15
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "ua:address reports the listening port" \
        "OPTIONS reaches the handler" \
        "MESSAGE reaches the handler with From, Content-Type and body" \
        "200 to OPTIONS lists OPTIONS and MESSAGE in Allow" \
        "200 to OPTIONS sent over $transport" \
        "200 to MESSAGE sent over $transport"
    group_end
}

# tests/interop/requests.lua sends OPTIONS and MESSAGE to SIPp (uas.xml).
group_luasip_to_sipp() {
    local transport=$1 uas_port uas_pid tag
    tag=requests-$transport
    group_begin "luasip -> sipp $transport"
    pick_ports uas_port
    sipp_bg "$tag-uas" -sf "$SIPP_DIR/uas.xml" -p "$uas_port" -t "$(sipp_flag "$transport")" \
        -m 2 -timeout 20s -timeout_error
    uas_pid=$BG_PID
    if ! wait_bound "$uas_port" "$transport" 5 "$uas_pid"; then
        fail "sipp uas.xml starts" "port $uas_port not bound"
    fi
    lua_start requests "$tag" 15 SIPP_PORT="$uas_port" TRANSPORT="$transport"
    lua_wait "$tag" 15
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "OPTIONS answered 200" \
        "response header readable (Allow)" \
        "MESSAGE answered 200" \
        "requests sent over $transport" \
        "MESSAGE carries the body with its Content-Length"
    wait_pid "$uas_pid" 5
    SIPP_RC=$WAIT_RC SIPP_NAME=$tag-uas
    check "SIPp uas.xml accepts the OPTIONS and the MESSAGE" sipp_ok
    group_end
}

# ------------------------------------------------------------ call flows
# Each tests/interop/calls_*.sh defines group functions for call flows and
# appends their names (with arguments, as one string) to CALL_GROUPS; they run
# after the groups above, with every helper of this file at hand.
CALL_GROUPS=()
for f in "$HERE"/calls_*.sh; do
    [ -f "$f" ] || continue
    # shellcheck disable=SC1090
    . "$f"
done

# ------------------------------------------------------------ main
WHY=""
STARTED=$SECONDS
group_registrar_peer
if [ "$MODE" = peers ]; then
    group_sipp_plumbing
elif [ -n "${INTEROP_ONLY:-}" ]; then
    # a developer's shortcut: only the call groups whose name matches
    group_module
    for g in "${CALL_GROUPS[@]}"; do
        [[ $g =~ $INTEROP_ONLY ]] && $g
    done
else
    group_module
    group_register udp alice alicepw
    group_register tcp carol carolpw
    group_sipp_to_luasip udp
    group_sipp_to_luasip tcp
    group_luasip_to_sipp udp
    group_luasip_to_sipp tcp
    for g in "${CALL_GROUPS[@]}"; do
        $g
    done
fi
if [ -n "$KAM_PID" ]; then
    stop_pid "$KAM_PID" 5
fi
echo "# $((SECONDS - STARTED)) s"
echo "interop: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
