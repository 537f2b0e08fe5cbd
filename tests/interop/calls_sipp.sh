# Call flows between the library and SIPp, both ways.  Sourced by run.sh,
# whose helpers (group_begin, pick_ports, sipp_bg, sipp_run, lua_start,
# lua_wait, script_results, check, group_end ...) it uses.
#
#   luasip calls SIPp: tests/interop/call_out.lua against SIPp's built-in
#     uas scenario or tests/sipp/call_uas_*.xml
#   SIPp calls luasip: SIPp's built-in uac scenario or tests/sipp/call_uac_*.xml
#     against tests/interop/call_in.lua
#
# Each group checks what the script reports, the exact message flow the
# script recorded (its $SIP_FLOW_FILE), and that SIPp exits 0 (every call of
# the scenario went as the scenario says).
# shellcheck shell=bash
# WHY, SIPP_RC and SIPP_NAME are read by the helpers of run.sh.
# shellcheck disable=SC2034

# flow_steps FILE: the messages of a .flow file (see support.lua), one per
# line, from the library's side: "INVITE ->" (a request it sent), "<- 180
# (INVITE)" (a response it received, with the CSeq method), "<- BYE",
# "200 (BYE) ->".  A message seen before (same direction, start line and
# CSeq: a retransmission) is left out, so that a slow run on UDP does not
# change the flow.
flow_steps() {
    awk '
    {
        dir = $2
        key = $0
        sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", key)
        if ((dir SUBSEP key) in seen) next
        seen[dir SUBSEP key] = 1
        method = ""
        if (match($0, /\[[0-9]+ [A-Za-z]+\]$/))
            method = substr($0, RSTART + 1, RLENGTH - 2)
        sub(/^[0-9]+ /, "", method)
        if ($5 == "SIP/2.0") {
            step = $6 " (" method ")"
            print (dir == "out" ? step " ->" : "<- " step)
        } else {
            print (dir == "out" ? $5 " ->" : "<- " $5)
        }
    }' "$1" 2>/dev/null
}

# flow_is TAG STEP...: the flow of $WORK/TAG.flow is exactly STEP...; a STEP
# ending in "?" may be missing (a 100 Trying where RFC 3261 leaves it open).
flow_is() {
    local tag=$1 step i=0 ok=1 got=() seen
    shift
    mapfile -t got < <(flow_steps "$WORK/$tag.flow")
    for step in "$@"; do
        if [[ $step == *"?" ]]; then
            if [ "$i" -lt "${#got[@]}" ] && [ "${got[$i]}" = "${step%\?}" ]; then
                i=$((i + 1))
            fi
        elif [ "$i" -lt "${#got[@]}" ] && [ "${got[$i]}" = "$step" ]; then
            i=$((i + 1))
        else
            ok=0
            break
        fi
    done
    [ "$ok" = 1 ] && [ "$i" -eq "${#got[@]}" ] && return 0
    seen=$(printf '%s / ' "${got[@]}")
    WHY="the script saw: ${seen% / }"
    [ "${#got[@]}" -gt 0 ] || WHY="the script saw no message"
    return 1
}

# flow_name STEP...: the check's name, the expected flow; a step that may be
# missing shows in brackets.
flow_name() {
    local out="" step
    for step in "$@"; do
        [[ $step == *"?" ]] && step="[${step%\?}]"
        out+="${out:+ / }$step"
    done
    printf 'message flow: %s' "$out"
}

# The scenario of a call group, and what it expects; set by each group
# before it calls run_call_out or run_call_in.
CALL_SCENARIO=()   # SIPp's arguments that name the scenario (-sn uas, -sf FILE ...)
CALL_ENV=()        # VAR=VALUE settings of the script
CALL_CHECKS=()     # the names of the script's checks
CALL_FLOW=()       # the expected flow (see flow_is)

# run_call_out TITLE TRANSPORT TAG [SCRIPT]: SIPp waits for a call with
# CALL_SCENARIO, SCRIPT.lua (call_out.lua by default) calls it.
run_call_out() {
    local title=$1 transport=$2 tag=$3 script=${4:-call_out} port sipp_pid name
    group_begin "luasip calls sipp: $title ($transport)"
    pick_ports port
    sipp_bg "$tag-sipp" "${CALL_SCENARIO[@]}" -p "$port" -t "$(sipp_flag "$transport")" \
        -m 1 -timeout 15s -timeout_error
    sipp_pid=$BG_PID
    if ! wait_bound "$port" "$transport" 5 "$sipp_pid"; then
        fail "SIPp starts" "port $port not bound"
    fi
    lua_start "$script" "$tag" 20 SIPP_PORT="$port" TRANSPORT="$transport" "${CALL_ENV[@]}"
    lua_wait "$tag" 20
    script_results "$WORK/$tag.out" "$LUA_RC" "${CALL_CHECKS[@]}"
    name=$(flow_name "${CALL_FLOW[@]}")
    check "$name" flow_is "$tag" "${CALL_FLOW[@]}"
    # SIPp's built-in uas keeps a call 4 s after the BYE (timewait).
    wait_pid "$sipp_pid" 8
    SIPP_RC=$WAIT_RC SIPP_NAME=$tag-sipp
    check "SIPp exits 0: the call went as its scenario says" sipp_ok
    group_end
}

# run_call_in TITLE TRANSPORT TAG [SCRIPT]: SCRIPT.lua (call_in.lua by
# default) listens, SIPp calls it with CALL_SCENARIO.
run_call_in() {
    local title=$1 transport=$2 tag=$3 script=${4:-call_in} ua_port sipp_port name
    group_begin "sipp calls luasip: $title ($transport)"
    pick_ports ua_port
    pick_ports sipp_port
    lua_start "$script" "$tag" 20 UA_PORT="$ua_port" TRANSPORT="$transport" WAIT=10 \
        "${CALL_ENV[@]}"
    if wait_line "$WORK/$tag.out" '^ready$' 5 "$LUA_PID"; then
        sipp_run "$tag-sipp" "127.0.0.1:$ua_port" "${CALL_SCENARIO[@]}" -s bob \
            -p "$sipp_port" -t "$(sipp_flag "$transport")" -m 1 -timeout 12s -timeout_error
        check "SIPp exits 0: the call went as its scenario says" sipp_ok
    else
        fail "SIPp exits 0: the call went as its scenario says" \
            "the script never printed \"ready\""
    fi
    lua_wait "$tag" 15
    script_results "$WORK/$tag.out" "$LUA_RC" "${CALL_CHECKS[@]}"
    name=$(flow_name "${CALL_FLOW[@]}")
    check "$name" flow_is "$tag" "${CALL_FLOW[@]}"
    group_end
}

# ------------------------------------------------------------ luasip calls SIPp

# Basic call: SIPp's built-in uas (180, 200 with SDP, then waits for the
# BYE); the script hangs up.
group_call_out_basic() {
    local transport=$1
    CALL_SCENARIO=(-sn uas)
    CALL_ENV=(MODE=basic)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "the INVITE offers SDP and SIPp's answer is call.remote_sdp"
        "the ACK of the 200 goes to SIPp's Contact with a new branch and CSeq n ACK"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "BYE is in the dialog: to the Contact, with both tags and a higher CSeq"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "BYE ->" "<- 200 (BYE)")
    run_call_out "basic call, caller hangs up" "$transport" "call-out-basic-$transport"
}

# SIPp ends the call attempt with STATUS REASON, after a 180 when RINGS=1.
group_call_out_fail() {
    # CALL_GROUPS entries split on spaces: the reason comes with "_" for " ".
    local transport=$1 status=$2 reason=${3//_/ } rings=$4 scenario=$5 ringing
    CALL_SCENARIO=(-sf "$SIPP_DIR/$scenario")
    CALL_ENV=(MODE=fail STATUS="$status" REASON="$reason" RINGS="$rings")
    if [ "$rings" = 1 ]; then ringing="on_progress sees 180 Ringing"
    else ringing="on_progress sees no ringing"; fi
    CALL_CHECKS=(
        "ua:call returns nil, $status, \"$reason\""
        "the response object comes fourth (status $status)"
        "$ringing"
        "the ACK of the $status is in the INVITE transaction"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)")
    [ "$rings" = 1 ] && CALL_FLOW+=("<- 180 (INVITE)")
    CALL_FLOW+=("<- $status (INVITE)" "ACK ->")
    run_call_out "callee answers $status $reason" "$transport" "call-out-$status-$transport"
}

# SIPp rings and never answers; the timeout of ua:call cancels.
group_call_out_noanswer() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_noanswer.xml")
    CALL_ENV=(MODE=noanswer TIMEOUT=1)
    CALL_CHECKS=(
        "ua:call returns nil, 487, \"Request Terminated\" after its 1 s timeout"
        "on_progress sees 180 Ringing"
        "the CANCEL matches the INVITE (Request-URI, Via, Call-ID, From, To, CSeq number)"
        "the ACK of the 487 is in the INVITE transaction"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "CANCEL ->"
        "<- 200 (CANCEL)" "<- 487 (INVITE)" "ACK ->")
    run_call_out "no answer, caller cancels at its timeout" "$transport" \
        "call-out-noanswer-$transport"
}

# SIPp answers, holds the call with a re-INVITE, then hangs up.
group_call_out_reinvite() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_reinvite.xml")
    CALL_ENV=(MODE=reinvite)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "SIPp's re-INVITE (a=sendonly) is answered 200 with a=recvonly"
        "call:on(\"hold\") fires and call.remote_sdp is the held offer"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "<- INVITE" "100 (INVITE) ->?" "200 (INVITE) ->" "<- ACK"
        "<- BYE" "200 (BYE) ->")
    run_call_out "callee holds by re-INVITE, then hangs up" "$transport" \
        "call-out-reinvite-$transport"
}

# SIPp answers, holds and resumes with UPDATEs, then hangs up.
group_call_out_update() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_update.xml")
    CALL_ENV=(MODE=update)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "SIPp's UPDATE with a=sendonly is answered 200 with a=recvonly"
        "SIPp's UPDATE with a=sendrecv is answered 200 with sendrecv"
        "call:on(\"hold\"), then call:on(\"unhold\") fire"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "<- UPDATE" "200 (UPDATE) ->" "<- UPDATE" "200 (UPDATE) ->"
        "<- BYE" "200 (BYE) ->")
    run_call_out "callee holds and resumes by UPDATE, then hangs up" "$transport" \
        "call-out-update-$transport"
}

# The script holds by re-INVITE, resumes by UPDATE and hangs up.
group_call_out_modify() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_modify.xml")
    CALL_ENV=(MODE=modify)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "call:modify{direction=\"sendonly\"} re-INVITEs with a=sendonly and returns true"
        "call:modify{direction=\"sendrecv\", method=\"UPDATE\"} sends UPDATE and returns true"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "re-INVITE, ACK, UPDATE and BYE are in the dialog, CSeq rising"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "INVITE ->" "<- 200 (INVITE)" "ACK ->" "UPDATE ->" "<- 200 (UPDATE)"
        "BYE ->" "<- 200 (BYE)")
    run_call_out "caller holds by re-INVITE, resumes by UPDATE" "$transport" \
        "call-out-modify-$transport"
}

# Nothing answers: Timer B (64*T1, with T1 = 50 ms) ends the attempt.  SIPp
# follows every copy of the INVITE (-nr: none is taken for a retransmission
# and dropped) and wants silence after Timer B.  UDP only: over TCP nothing
# is sent again.
group_call_out_silent() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_silent.xml" -nr)
    CALL_ENV=(MODE=silent T1=0.05)
    CALL_CHECKS=(
        "ua:call returns nil, 408, \"Request Timeout\" after 64*T1 (3.2 s)"
        "no response object and no progress when nothing answered"
        "the INVITE went out again on Timer A (6 or 7 times in 64*T1)"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->")
    run_call_out "nobody answers (Timer B)" "$transport" "call-out-silent-$transport"
}


# ------------------------------------------------------------ SIPp calls luasip

ANSWERED="call:answer() returns true once the ACK came"
INCOMING="the INVITE reaches the handler as an incoming call"
INCOMING_FLOW=("<- INVITE" "100 (INVITE) ->" "180 (INVITE) ->")

# Basic call: SIPp's built-in uac (INVITE, ACK, a pause, BYE); the script
# rings and answers.
group_call_in_basic() {
    local transport=$1
    CALL_SCENARIO=(-sn uac -d 300)
    CALL_ENV=(MODE=basic)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "the 200 answers PCMU in SDP, with a Contact and the 180's To tag"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK" "<- BYE" "200 (BYE) ->")
    run_call_in "basic call, caller hangs up" "$transport" "call-in-basic-$transport"
}

# The script rings, then refuses with call:reject(486).
group_call_in_reject() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_busy.xml")
    CALL_ENV=(MODE=reject)
    CALL_CHECKS=(
        "$INCOMING"
        "call:reject(486) ends the call: end_reason \"rejected\", end_status 486"
        "the 486 says Busy Here with the 180's To tag"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "486 (INVITE) ->" "<- ACK")
    run_call_in "callee busy (call:reject)" "$transport" "call-in-reject-$transport"
}

# The handler rings, then returns 486.
group_call_in_refuse() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_busy.xml")
    CALL_ENV=(MODE=refuse)
    CALL_CHECKS=(
        "$INCOMING"
        "a handler that returns 486 rejects the call: end_reason \"rejected\", end_status 486"
        "the 486 says Busy Here with the 180's To tag"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "486 (INVITE) ->" "<- ACK")
    run_call_in "callee busy (handler returns 486)" "$transport" "call-in-refuse-$transport"
}

# The script rings; SIPp gives up and cancels.
group_call_in_cancel() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_cancel.xml")
    CALL_ENV=(MODE=cancel)
    CALL_CHECKS=(
        "$INCOMING"
        "SIPp's CANCEL ends the call: call:wait() returns \"cancelled\""
        "200 answers the CANCEL and 487 the INVITE, with the 180's To tag"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "<- CANCEL" "200 (CANCEL) ->" "487 (INVITE) ->" "<- ACK")
    run_call_in "no answer, caller cancels" "$transport" "call-in-cancel-$transport"
}

# The script answers, then hangs up.
group_call_in_bye() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_bye.xml")
    CALL_ENV=(MODE=bye)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "the BYE goes to SIPp's Contact with both tags"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK" "BYE ->" "<- 200 (BYE)")
    run_call_in "callee hangs up" "$transport" "call-in-bye-$transport"
}

# SIPp holds by re-INVITE, resumes by UPDATE, hangs up.
group_call_in_reinvite() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_reinvite.xml")
    CALL_ENV=(MODE=reinvite)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "SIPp's re-INVITE (a=sendonly) is answered 200 with a=recvonly"
        "SIPp's UPDATE with a=sendrecv is answered 200 with sendrecv"
        "call:on(\"hold\"), then call:on(\"unhold\") fire"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK"
        "<- INVITE" "100 (INVITE) ->?" "200 (INVITE) ->" "<- ACK"
        "<- UPDATE" "200 (UPDATE) ->" "<- BYE" "200 (BYE) ->")
    run_call_in "caller holds by re-INVITE, resumes by UPDATE" "$transport" \
        "call-in-reinvite-$transport"
}

# The script holds by re-INVITE, resumes by UPDATE and hangs up.
group_call_in_modify() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_modify.xml")
    CALL_ENV=(MODE=modify)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "call:modify{direction=\"sendonly\"} re-INVITEs with a=sendonly and returns true"
        "call:modify{direction=\"sendrecv\", method=\"UPDATE\"} sends UPDATE and returns true"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "re-INVITE, ACK, UPDATE and BYE go to SIPp's Contact, CSeq rising"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK"
        "INVITE ->" "<- 200 (INVITE)" "ACK ->" "UPDATE ->" "<- 200 (UPDATE)"
        "BYE ->" "<- 200 (BYE)")
    run_call_in "callee holds by re-INVITE, resumes by UPDATE" "$transport" \
        "call-in-modify-$transport"
}


# ------------------------------------------------------------ glare and 100rel

# The script's re-INVITE crosses SIPp's: 491 both ways, then both retry.
group_call_out_glare() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_glare.xml")
    CALL_ENV=(MODE=glare)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "call:modify{} returns true after a 491 and a retry 2.1-4 s later"
        "SIPp's re-INVITE while ours is pending is answered 491 Request Pending"
        "SIPp's retry during our back-off is answered 200"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "INVITE ->" "<- INVITE" "100 (INVITE) ->?" "491 (INVITE) ->" "<- ACK"
        "<- 491 (INVITE)" "ACK ->"
        "<- INVITE" "100 (INVITE) ->?" "200 (INVITE) ->" "<- ACK"
        "INVITE ->" "<- 200 (INVITE)" "ACK ->" "BYE ->" "<- 200 (BYE)")
    run_call_out "re-INVITE glare (491), caller owns the Call-ID" "$transport" \
        "call-out-glare-$transport"
}


# SIPp's 180 requires 100rel: the script's side sends PRACK.
group_call_out_prack() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_100rel.xml")
    CALL_ENV=(MODE=prack)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "on_progress sees 180 Ringing"
        "the PRACK acknowledges the 180 (RAck) in its early dialog, CSeq above the INVITE's"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "PRACK ->" "<- 200 (PRACK)"
        "<- 200 (INVITE)" "ACK ->" "BYE ->" "<- 200 (BYE)")
    run_call_out "reliable 180 (100rel, PRACK)" "$transport" "call-out-prack-$transport"
}

# SIPp supports 100rel: the script's 180 must be reliable.
group_call_in_prack() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_100rel.xml")
    CALL_ENV=(MODE=prack)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "the 180 is reliable: Require: 100rel and an RSeq"
        "SIPp's PRACK is answered 200, before the 200 to the INVITE"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "<- PRACK" "200 (PRACK) ->" "200 (INVITE) ->" "<- ACK"
        "<- BYE" "200 (BYE) ->")
    run_call_in "reliable 180 (100rel, PRACK)" "$transport" "call-in-prack-$transport"
}

# The script's re-INVITE crosses SIPp's; SIPp owns the Call-ID.
group_call_in_glare() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_glare.xml")
    CALL_ENV=(MODE=glare)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "call:modify{} returns true after a 491 and a retry within 2 s"
        "SIPp's re-INVITE while ours is pending is answered 491 Request Pending"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "SIPp's retry after ours is answered 200"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK"
        "INVITE ->" "<- INVITE" "100 (INVITE) ->?" "491 (INVITE) ->" "<- ACK"
        "<- 491 (INVITE)" "ACK ->" "INVITE ->" "<- 200 (INVITE)" "ACK ->"
        "<- INVITE" "100 (INVITE) ->?" "200 (INVITE) ->" "<- ACK" "<- BYE" "200 (BYE) ->")
    run_call_in "re-INVITE glare (491), caller owns the Call-ID" "$transport" \
        "call-in-glare-$transport"
}

# SIPp answers in a 183 with SDP first (early media).
group_call_out_early() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_early.xml")
    CALL_ENV=(MODE=early)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "on_progress sees 183 Session Progress"
        "on_early fires once, while the call is early, with the 183's SDP"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 183 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "BYE ->" "<- 200 (BYE)")
    run_call_out "early media (183 with SDP)" "$transport" "call-out-early-$transport"
}

# The script sends 183 with SDP (call:progress), then answers.
group_call_in_early() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_early.xml")
    CALL_ENV=(MODE=early)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "call:progress() sends 183 with an SDP answer and no Require: 100rel"
        "the 200 repeats the 183's SDP answer, with the same To tag"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("<- INVITE" "100 (INVITE) ->" "183 (INVITE) ->" "200 (INVITE) ->" "<- ACK"
        "<- BYE" "200 (BYE) ->")
    run_call_in "early media (call:progress)" "$transport" "call-in-early-$transport"
}

# ------------------------------------------------------------ the groups

# Over UDP every flow; over TCP the basic call both ways and a sample of the
# rest (rejection, CANCEL, changes in the dialog).
CALL_GROUPS+=(
    "group_call_out_basic udp"
    "group_call_out_basic tcp"
    "group_call_out_fail udp 486 Busy_Here 1 call_uas_busy.xml"
    "group_call_out_fail udp 480 Temporarily_Unavailable 1 call_uas_480.xml"
    "group_call_out_fail udp 408 Request_Timeout 0 call_uas_408.xml"
    "group_call_out_noanswer udp"
    "group_call_out_silent udp"
    "group_call_out_reinvite udp"
    "group_call_out_update udp"
    "group_call_out_modify udp"
    "group_call_out_early udp"
    "group_call_out_prack udp"
    "group_call_out_glare udp"
    "group_call_out_fail tcp 486 Busy_Here 1 call_uas_busy.xml"
    "group_call_out_noanswer tcp"
    "group_call_out_modify tcp"

    "group_call_in_basic udp"
    "group_call_in_basic tcp"
    "group_call_in_reject udp"
    "group_call_in_refuse udp"
    "group_call_in_cancel udp"
    "group_call_in_bye udp"
    "group_call_in_reinvite udp"
    "group_call_in_modify udp"
    "group_call_in_early udp"
    "group_call_in_prack udp"
    "group_call_in_glare udp"
    "group_call_in_reject tcp"
    "group_call_in_cancel tcp"
    "group_call_in_modify tcp"
)
