# Call flows between the library and baresip 1.0.0 (a softphone), directly
# and through Kamailio (tests/peers/kamailio.cfg) as a record-routing proxy
# that asks local users for credentials (407).
#
# Sourced by tests/interop/run.sh, which then runs every group listed in
# CALL_GROUPS with its helpers at hand (start_bg, pick_ports, check, ...).
#
# baresip runs headless (tests/peers/baresip/profile.sh writes its
# configuration) and is driven through ctrl_tcp by tests/peers/baresip/ctrl.py,
# which stays connected for the whole group: it sends the lines appended to
# $WORK/bs-NAME.cmd and logs every response and event to $WORK/bs-NAME.ev,
# one line each ("event CALL_ESTABLISHED direction=... param=..."), where the
# groups wait for them.  baresip's own log ($WORK/bs-NAME.log, started with -s)
# has its SIP trace.
#
# The scripts (tests/interop/bs_*.lua) check the exact message sequence the
# library saw; the groups here check what baresip reports.

BS_PEER_DIR=$PEERS_DIR/baresip
PYTHON=${PYTHON:-python3}
declare -A BS_PID=() BS_RELAY_PID=() BS_PORT=() BS_RTP=() BS_TOKEN=()

# Every baresip and relay is bounded by this, whatever happens to the group.
BS_LIMIT=60

# bs_start NAME ACCOUNT: a baresip with one account (ACCOUNT is the accounts
# line), listening on a port of its own (BS_PORT[NAME]), and its relay.
bs_start() {
    local name=$1 account=$2 sip ctrl rtp dir=$WORK/bs-$1
    # baresip takes SIP_PORT+1 for TLS as well.
    pick_ports sip 2
    pick_ports ctrl
    pick_ports rtp 20
    BS_PORT[$name]=$sip
    BS_RTP[$name]=$rtp-$((rtp + 19))
    BS_TOKEN[$name]=0
    : >"$dir.cmd"
    : >"$dir.ev"
    group_logs "$dir.ev" "$dir.log"
    if ! bash "$BS_PEER_DIR/profile.sh" "$dir" "$sip" "$ctrl" "$rtp" $((rtp + 19)) \
        "$account" >"$dir.profile.out" 2>&1; then
        WHY="profile.sh failed: $(head -n 1 "$dir.profile.out")"
        return 1
    fi
    start_bg "$dir.log" timeout -k 2 "$BS_LIMIT" baresip -f "$dir" -s
    BS_PID[$name]=$BG_PID
    if ! wait_bound "$sip" udp 5 "$BG_PID" || ! wait_bound "$ctrl" tcp 5 "$BG_PID"; then
        WHY="baresip did not bind udp $sip and ctrl_tcp $ctrl within 5 s"
        alive "$BG_PID" || WHY="baresip exited: $(tail -n 1 "$dir.log")"
        return 1
    fi
    start_bg "$dir.relay.out" "$PYTHON" "$BS_PEER_DIR/ctrl.py" "$ctrl" "$dir.cmd" \
        "$dir.ev" "$BS_LIMIT"
    BS_RELAY_PID[$name]=$BG_PID
    group_logs "$dir.relay.out"
    if ! wait_line "$dir.ev" '^connected' 5 "$BG_PID"; then
        WHY="ctrl.py did not connect: $(tail -n 1 "$dir.ev")"
        return 1
    fi
}

bs_running() {
    [ -n "${BS_PID[$1]:-}" ] && alive "${BS_PID[$1]}" && return 0
    WHY="baresip $1 is not running"
    return 1
}

# bs_cmd NAME COMMAND [PARAMS]: hands one ctrl_tcp command to the relay.
bs_cmd() {
    local name=$1
    shift
    BS_TOKEN[$name]=$((BS_TOKEN[$name] + 1))
    printf '%s\n' "$*" >>"$WORK/bs-$name.cmd"
}

# bs_do NAME SECONDS COMMAND [PARAMS]: the same, and waits for baresip to
# say ok.
bs_do() {
    local name=$1 limit=$2 token line
    shift 2
    bs_cmd "$name" "$@"
    token=${BS_TOKEN[$name]}
    if ! wait_line "$WORK/bs-$name.ev" "^response $token " "$limit" "${BS_PID[$name]}"; then
        WHY="no response to \"$*\" within $limit s"
        return 1
    fi
    line=$(grep -m1 "^response $token " "$WORK/bs-$name.ev")
    case $line in
    "response $token ok"*) return 0 ;;
    esac
    WHY="baresip answered \"$*\" with: ${line#response "$token" }"
    return 1
}

bs_count() { grep -cE "$2" "$WORK/bs-$1.ev" 2>/dev/null; }

# bs_event NAME TYPE N SECONDS [PARAM_REGEX]: until baresip NAME has reported
# event TYPE (with a param matching PARAM_REGEX) N times in all.  When the
# script that baresip talks to (BS_SCRIPT_PID) has ended, one more second is
# all it can take: nobody is left to send what would cause the event.
BS_SCRIPT_PID=""
bs_event() {
    local name=$1 type=$2 n=$3 limit=$4 regex i seen grace=10
    regex="^event $2( |$)"
    [ -n "${5:-}" ] && regex="^event $2 .*param=$5"
    for ((i = 0; i < limit * 10; i++)); do
        [ "$(bs_count "$name" "$regex")" -ge "$n" ] && return 0
        alive "${BS_PID[$name]}" || break
        if [ -n "$BS_SCRIPT_PID" ] && ! alive "$BS_SCRIPT_PID"; then
            grace=$((grace - 1))
            [ "$grace" -le 0 ] && break
        fi
        sleep 0.1
    done
    [ "$(bs_count "$name" "$regex")" -ge "$n" ] && return 0
    seen=$(grep -oE '^event [A-Z_]+' "$WORK/bs-$name.ev" | sed 's/^event //' | tail -n 12 |
        tr '\n' ' ')
    WHY="$type${5:+ ($5)} seen $(bs_count "$name" "$regex") times, $n expected within $limit s;"
    WHY+=" last events: ${seen:-none}"
    return 1
}

# bs_closed_with NAME N REGEX: the Nth CALL_CLOSED carries a reason
# matching REGEX.
bs_closed_with() {
    local line
    line=$(grep -E '^event CALL_CLOSED( |$)' "$WORK/bs-$1.ev" | sed -n "$2p")
    [[ $line =~ param=$3 ]] && return 0
    WHY="CALL_CLOSED #$2: ${line:-none}"
    return 1
}

# bs_saw_sip NAME REGEX: baresip's SIP trace has a line matching REGEX.
bs_saw_sip() {
    grep -qE "$2" "$WORK/bs-$1.log" && return 0
    WHY="no line matching \"$2\" in baresip's SIP trace"
    return 1
}

# bs_stop NAME: quit (an account unregisters), then make sure it ended.
bs_stop() {
    local name=$1
    if [ -n "${BS_PID[$name]:-}" ]; then
        if alive "${BS_PID[$name]}"; then
            bs_cmd "$name" quit
            wait_pid "${BS_PID[$name]}" 5
        else
            wait_pid "${BS_PID[$name]}" 0
        fi
    fi
    [ -n "${BS_RELAY_PID[$name]:-}" ] && stop_pid "${BS_RELAY_PID[$name]}" 2
    BS_PID[$name]=""
    BS_RELAY_PID[$name]=""
}

# kam_bound USER SECONDS: Kamailio logged a binding for USER since KAM_MARK.
kam_bound() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        tail -n "+$((KAM_MARK + 1))" "$KAM_LOG" |
            grep -qE "BINDING aor=$1 proto=udp .*contacts=[1-9]" && return 0
        sleep 0.1
    done
    WHY="no binding of $1 logged by kamailio within $2 s"
    return 1
}

# bs_fail_all WHY NAME...: the checks a group could not run.
bs_fail_all() {
    local why=$1 name
    shift
    for name in "$@"; do fail "$name" "$why"; done
}

# lua_ready TAG SECONDS: the script of lua_start printed "ready".
lua_ready() {
    wait_line "$WORK/$1.out" '^ready$' "$2" "$LUA_PID" && return 0
    WHY="the script never printed \"ready\""
    local first
    first=$(grep -m1 '^not ok - ' "$WORK/$1.out")
    [ -n "$first" ] && WHY+=" (${first#not ok - })"
    return 1
}

# A script waits for the harness at "# step: NAME" lines.
lua_step() { wait_line "$WORK/$1.out" "^# step: $2\$" "$3" "$LUA_PID"; }

# ------------------------------------------------------------ peers

# baresip against baresip through Kamailio: accounts, 407, record-routing,
# hold and the relay work.  A failure here is not the library's.
group_baresip_peers() {
    group_begin "peers: baresip -> kamailio -> baresip"
    group_logs "$KAM_LOG"
    local checks=("alice and bob register" "alice dials bob"
        "bob answers (auto) once alice answered kamailio's 407" "hold answered recvonly"
        "alice hangs up, bob sees it")
    if ! kamailio_running; then
        bs_fail_all "kamailio is not running" "${checks[@]}"
        group_end
        return
    fi
    KAM_MARK=$(wc -l <"$KAM_LOG")
    if bs_start palice "<sip:alice@127.0.0.1:$KAM_PORT>;auth_pass=alicepw;regint=60;answermode=manual" &&
        bs_start pbob "<sip:bob@127.0.0.1:$KAM_PORT>;auth_pass=bobpw;regint=60;answermode=auto" &&
        kam_bound alice 5 && kam_bound bob 5; then
        pass "${checks[0]}"
        check "${checks[1]}" bs_do palice 5 dial "sip:bob@127.0.0.1:$KAM_PORT"
        check "${checks[2]}" eval 'bs_event palice CALL_ESTABLISHED 1 5 &&
            bs_event pbob CALL_ESTABLISHED 1 2 && bs_saw_sip palice "^SIP/2.0 407 "'
        bs_do palice 5 hold
        check "${checks[3]}" eval 'bs_event palice CALL_REMOTE_SDP 2 5 answer &&
            bs_saw_sip palice "^a=recvonly"'
        bs_do palice 5 hangup
        check "${checks[4]}" bs_event pbob CALL_CLOSED 1 5
    else
        bs_fail_all "$WHY" "${checks[@]}"
    fi
    bs_stop palice
    bs_stop pbob
    group_end
}

# ------------------------------------------------------------ direct calls

# baresip calls bs_answer.lua twice: baresip hangs up the first call, the
# script the second.
group_call_baresip_to_luasip() {
    local tag=bs-answer ua_port rtp
    group_begin "baresip -> luasip"
    pick_ports ua_port
    pick_ports rtp 20
    lua_start bs_answer "$tag" 40 MODE=direct UA_PORT="$ua_port" RTP_PORTS="$rtp-$((rtp + 19))" \
        CALLS=2 STOP_FILE="$WORK/$tag.stop"
    if bs_start alice "<sip:alice@127.0.0.1>;regint=0;answermode=manual" &&
        lua_ready "$tag" 5; then
        check "baresip dials the script" bs_do alice 5 dial "sip:bob@127.0.0.1:$ua_port"
        check "call 1 - baresip CALL_ESTABLISHED" bs_event alice CALL_ESTABLISHED 1 5
        sleep 0.5
        bs_do alice 5 hangup
        check "call 1 - baresip CALL_CLOSED after its hangup" bs_event alice CALL_CLOSED 1 5
        lua_step "$tag" "call 1 over" 5
        check "baresip dials the script again" bs_do alice 5 dial "sip:bob@127.0.0.1:$ua_port"
        check "call 2 - baresip CALL_ESTABLISHED" bs_event alice CALL_ESTABLISHED 2 5
        check "call 2 - baresip CALL_CLOSED when the script hangs up" \
            eval 'bs_event alice CALL_CLOSED 2 8 && bs_closed_with alice 2 "Connection reset by peer"'
    else
        bs_fail_all "$WHY" "baresip dials the script" "call 1 - baresip CALL_ESTABLISHED" \
            "call 1 - baresip CALL_CLOSED after its hangup" "baresip dials the script again" \
            "call 2 - baresip CALL_ESTABLISHED" "call 2 - baresip CALL_CLOSED when the script hangs up"
    fi
    bs_stop alice
    # A call that was to come now never will: the script may report.
    : >"$WORK/$tag.stop"
    lua_wait "$tag" 30
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "call 1 - INVITE reaches the handler as an incoming call" \
        "call 1 - call:ring() sends 180, call:answer() returns true once the ACK came" \
        "call 1 - state confirmed, media negotiated with baresip" \
        "call 1 - call:wait() returns \"hangup\" after baresip's BYE" \
        "call 1 - SIP flow" \
        "call 2 - call:hangup() ends the call, end_reason \"local\"" \
        "call 2 - SIP flow"
    group_end
}

# The script calls baresip (auto answer) and hangs up; MODE=modify also
# changes the call to sendonly by re-INVITE first.
group_call_luasip_to_baresip() {
    local mode=$1 tag=bs-call-$1 ua_port rtp names
    if [ "$mode" = modify ]; then
        group_begin "luasip -> baresip: call:modify"
        names=("ua:call returns a confirmed outgoing call"
            "call:modify{direction=\"sendonly\"} returns true"
            "re-INVITE offers sendonly, baresip answers recvonly"
            "call:hangup() ends the call, end_reason \"local\"" "SIP flow")
    else
        group_begin "luasip -> baresip"
        names=("ua:call returns a confirmed outgoing call" "on_progress sees 180 Ringing"
            "call:hangup() ends the call, end_reason \"local\"" "SIP flow")
    fi
    pick_ports ua_port
    pick_ports rtp 20
    # The plain call rings for a while (manual answer, then accept), so that
    # ua:call really waits through the 180; the others are answered at once.
    local answermode=auto
    [ "$mode" = call ] && answermode=manual
    if bs_start bob "<sip:bob@127.0.0.1>;regint=0;answermode=$answermode"; then
        lua_start bs_call "$tag" 30 MODE="$mode" UA_PORT="$ua_port" \
            RTP_PORTS="$rtp-$((rtp + 19))" TARGET="sip:bob@127.0.0.1:${BS_PORT[bob]}"
        BS_SCRIPT_PID=$LUA_PID
        if [ "$mode" = call ]; then
            check "baresip: CALL_INCOMING, accepted after 0.5 s" \
                eval 'bs_event bob CALL_INCOMING 1 8 && sleep 0.5 && bs_do bob 5 accept'
        fi
        check "baresip: CALL_ESTABLISHED (incoming)" bs_event bob CALL_ESTABLISHED 1 8 \
            'sip:alice@127.0.0.1'
        if [ "$mode" = modify ]; then
            check "baresip gets the re-INVITE's offer" bs_event bob CALL_REMOTE_SDP 2 8 offer
        fi
        check "baresip: CALL_CLOSED when the script hangs up" \
            eval 'bs_event bob CALL_CLOSED 1 10 && bs_closed_with bob 1 "Connection reset by peer"'
        lua_wait "$tag" 20
        BS_SCRIPT_PID=""
    else
        [ "$mode" = call ] && fail "baresip: CALL_INCOMING, accepted after 0.5 s" "$WHY"
        fail "baresip: CALL_ESTABLISHED (incoming)" "$WHY"
        [ "$mode" = modify ] && fail "baresip gets the re-INVITE's offer" "$WHY"
        fail "baresip: CALL_CLOSED when the script hangs up" "$WHY"
        bs_fail_all "script not run: $WHY" "${names[@]}"
        LUA_RC=""
    fi
    bs_stop bob
    [ -n "$LUA_RC" ] && script_results "$WORK/$tag.out" "$LUA_RC" "${names[@]}"
    group_end
}

# baresip calls the script, puts it on hold, resumes, hangs up.
group_call_baresip_hold() {
    local tag=bs-hold ua_port rtp
    group_begin "baresip -> luasip: hold and resume"
    pick_ports ua_port
    pick_ports rtp 20
    lua_start bs_answer "$tag" 40 MODE=hold UA_PORT="$ua_port" RTP_PORTS="$rtp-$((rtp + 19))" \
        CALLS=1 STOP_FILE="$WORK/$tag.stop"
    if bs_start alice "<sip:alice@127.0.0.1>;regint=0;answermode=manual" &&
        lua_ready "$tag" 5; then
        bs_do alice 5 dial "sip:bob@127.0.0.1:$ua_port"
        check "baresip: CALL_ESTABLISHED" bs_event alice CALL_ESTABLISHED 1 5
        check "baresip: hold answered" eval 'bs_do alice 5 hold &&
            bs_event alice CALL_REMOTE_SDP 2 5 answer'
        # held for a second: the script must send nothing meanwhile
        sleep 1
        check "baresip: resume answered" eval 'bs_do alice 5 resume &&
            bs_event alice CALL_REMOTE_SDP 3 5 answer'
        # The script's unhold handler may still be running.
        lua_step "$tag" "unheld" 3
        bs_do alice 5 hangup
        check "baresip: CALL_CLOSED" bs_event alice CALL_CLOSED 1 5
    else
        bs_fail_all "$WHY" "baresip: CALL_ESTABLISHED" "baresip: hold answered" \
            "baresip: resume answered" "baresip: CALL_CLOSED"
    fi
    bs_stop alice
    # A call that was to come now never will: the script may report.
    : >"$WORK/$tag.stop"
    lua_wait "$tag" 20
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "call 1 - INVITE reaches the handler as an incoming call" \
        "call 1 - call:ring() sends 180, call:answer() returns true once the ACK came" \
        "hold - call:on(\"hold\") and call:on(\"modified\") run" \
        "hold - the answer to a sendonly offer is recvonly" \
        "hold - call.held is \"remote\" while held, nil after; nothing is sent while held" \
        "unhold - call:on(\"unhold\") and call:on(\"modified\") run" \
        "unhold - the answer to a sendrecv offer is sendrecv" \
        "call 1 - call:wait() returns \"hangup\" after baresip's BYE" \
        "call 1 - SIP flow"
    group_end
}

# ------------------------------------------------------------ through Kamailio

# The script registers as bob; baresip alice (registered) calls bob through
# Kamailio, which asks alice for credentials (407) and record-routes.
group_call_baresip_kamailio_luasip() {
    local tag=bs-answer-proxy ua_port rtp
    local bs_checks=("baresip alice registers" "kamailio challenges baresip's INVITE (407)"
        "baresip: CALL_ESTABLISHED" "baresip: CALL_CLOSED after its hangup")
    local names=("register as bob" "call 1 - INVITE reaches the handler as an incoming call"
        "call 1 - call:ring() sends 180, call:answer() returns true once the ACK came"
        "call 1 - call:wait() returns \"hangup\" after baresip's BYE"
        "call 1 - every message goes through kamailio" "call 1 - SIP flow"
        "call 1 - 180 and 200 copy the INVITE's Record-Route" "unregister")
    group_begin "baresip -> kamailio -> luasip"
    group_logs "$KAM_LOG"
    if ! kamailio_running; then
        bs_fail_all "kamailio is not running" "${bs_checks[@]}" "${names[@]}"
        group_end
        return
    fi
    KAM_MARK=$(wc -l <"$KAM_LOG")
    pick_ports ua_port
    pick_ports rtp 20
    lua_start bs_answer "$tag" 40 MODE=proxy UA_PORT="$ua_port" RTP_PORTS="$rtp-$((rtp + 19))" \
        CALLS=1 KAM_PORT="$KAM_PORT" STOP_FILE="$WORK/$tag.stop"
    if bs_start alice "<sip:alice@127.0.0.1:$KAM_PORT>;auth_pass=alicepw;regint=60;answermode=manual" &&
        kam_bound alice 5; then
        pass "${bs_checks[0]}"
        if lua_ready "$tag" 8; then
            bs_do alice 5 dial "sip:bob@127.0.0.1:$KAM_PORT"
            check "${bs_checks[2]}" bs_event alice CALL_ESTABLISHED 1 8
            check "${bs_checks[1]}" bs_saw_sip alice '^SIP/2.0 407 '
            sleep 0.5
            bs_do alice 5 hangup
            check "${bs_checks[3]}" bs_event alice CALL_CLOSED 1 5
        else
            bs_fail_all "$WHY" "${bs_checks[@]:1}"
        fi
    else
        bs_fail_all "$WHY" "${bs_checks[@]}"
    fi
    bs_stop alice
    # A call that was to come now never will: the script may report.
    : >"$WORK/$tag.stop"
    lua_wait "$tag" 20
    script_results "$WORK/$tag.out" "$LUA_RC" "${names[@]}"
    group_end
}

# baresip bob registers; the script as alice calls bob through Kamailio,
# answers the 407 with alice's credentials and hangs up (the BYE follows the
# Record-Route).
group_call_luasip_kamailio_baresip() {
    local tag=bs-call-proxy ua_port rtp
    local names=("ua:call returns a confirmed outgoing call"
        "ua:call with auth answers the 407 and returns a confirmed call"
        "the resent INVITE carries Proxy-Authorization, same Call-ID, CSeq + 1"
        "the 407 is acknowledged with the first INVITE's CSeq"
        "call:hangup() ends the call, end_reason \"local\""
        "ACK and BYE go to kamailio with the Record-Route as Route"
        "every message goes through kamailio" "SIP flow")
    group_begin "luasip -> kamailio -> baresip"
    group_logs "$KAM_LOG"
    if ! kamailio_running; then
        bs_fail_all "kamailio is not running" "baresip bob registers" \
            "baresip: CALL_ESTABLISHED" "baresip: CALL_CLOSED" "${names[@]}"
        group_end
        return
    fi
    KAM_MARK=$(wc -l <"$KAM_LOG")
    pick_ports ua_port
    pick_ports rtp 20
    if bs_start bob "<sip:bob@127.0.0.1:$KAM_PORT>;auth_pass=bobpw;regint=60;answermode=auto" &&
        kam_bound bob 5; then
        pass "baresip bob registers"
        lua_start bs_call "$tag" 30 MODE=proxy UA_PORT="$ua_port" RTP_PORTS="$rtp-$((rtp + 19))" \
            TARGET="sip:bob@127.0.0.1:$KAM_PORT" KAM_PORT="$KAM_PORT"
        BS_SCRIPT_PID=$LUA_PID
        check "baresip: CALL_ESTABLISHED" bs_event bob CALL_ESTABLISHED 1 8
        check "baresip: CALL_CLOSED" eval 'bs_event bob CALL_CLOSED 1 10 &&
            bs_closed_with bob 1 "Connection reset by peer"'
        lua_wait "$tag" 20
        BS_SCRIPT_PID=""
    else
        bs_fail_all "$WHY" "baresip bob registers" "baresip: CALL_ESTABLISHED" "baresip: CALL_CLOSED"
        bs_fail_all "script not run: $WHY" "${names[@]}"
        LUA_RC=""
    fi
    bs_stop bob
    [ -n "$LUA_RC" ] && script_results "$WORK/$tag.out" "$LUA_RC" "${names[@]}"
    group_end
}

CALL_GROUPS+=(
    "group_baresip_peers"
    "group_call_baresip_to_luasip"
    "group_call_luasip_to_baresip call"
    "group_call_baresip_hold"
    "group_call_luasip_to_baresip modify"
    "group_call_baresip_kamailio_luasip"
    "group_call_luasip_kamailio_baresip"
)
