# Call transfer (RFC 3515 REFER, RFC 5589, RFC 4488, RFC 3891) against SIPp
# scenarios of our own and between script endpoints in separate processes.
# Sourced by run.sh; uses run_call_out of calls_sipp.sh.
#
#   the script transfers SIPp (refer_out.lua against call_uas_refer*.xml):
#     NOTIFYs 100, 180, 200 or 486; REFER refused with 403; Refer-Sub:
#     false; NOTIFYs after SIPp's BYE
#   SIPp transfers the script (call_uac_refer.xml against refer_in.lua) to
#     a second SIPp (call_uas_refer_target.xml)
#   attended transfer: examples/attended_transfer.lua against two
#     examples/transferee.lua --answer, three processes
# shellcheck shell=bash
# shellcheck disable=SC2034  # CALL_* are read by run_call_out

REFER_CALL=("ua:call returns a confirmed outgoing call")
REFER_ASKED="the REFER names the target in Refer-To and the caller in Referred-By"
REFER_ANSWERED=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->")

# SIPp accepts the REFER and NOTIFYs 100, 180, then STATUS REASON: a 2xx
# is the success (our BYE follows), another status fails the transfer and
# the call stays up until the script hangs up.
group_refer_notify() {
    # CALL_GROUPS entries split on spaces: the reason comes with "_" for " ".
    local transport=$1 status=$2 reason=${3//_/ }
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_refer.xml" -key final "$status $reason")
    CALL_ENV=(MODE=notify STATUS="$status" REASON="$reason")
    CALL_CHECKS=("${REFER_CALL[@]}" "$REFER_ASKED" "on_progress hears 100, 180, $status")
    if [ "$status" -lt 300 ]; then
        CALL_CHECKS+=("call:transfer returns true"
            "the call ends with our BYE: call:wait() returns \"local\"")
    else
        CALL_CHECKS+=("call:transfer returns nil, $status, \"$reason\""
            "the call stays up"
            "call:hangup() ends the call: end_reason \"local\""
            "call:wait() returns \"local\"")
    fi
    CALL_CHECKS+=("every message of the call over $transport")
    CALL_FLOW=("${REFER_ANSWERED[@]}" "REFER ->" "<- 202 (REFER)"
        "<- NOTIFY" "200 (NOTIFY) ->" "<- NOTIFY" "200 (NOTIFY) ->" "<- NOTIFY" "200 (NOTIFY) ->"
        "BYE ->" "<- 200 (BYE)")
    run_call_out "REFER answered by NOTIFYs 100, 180, $status" "$transport" \
        "refer-notify-$status-$transport" refer_out
}

# SIPp refuses the REFER with 403: no subscription, the call stays up.
group_refer_refused() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_refer_403.xml")
    CALL_ENV=(MODE=refused)
    CALL_CHECKS=("${REFER_CALL[@]}" "$REFER_ASKED"
        "call:transfer returns nil, 403, \"Forbidden\""
        "on_progress hears nothing"
        "the call stays up"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport")
    CALL_FLOW=("${REFER_ANSWERED[@]}" "REFER ->" "<- 403 (REFER)" "BYE ->" "<- 200 (BYE)")
    run_call_out "REFER refused with 403" "$transport" "refer-403-$transport" refer_out
}

# RFC 4488: the REFER asks for no subscription, SIPp's 200 says Refer-Sub:
# false and no NOTIFY comes: that 200 is the success.
group_refer_nosub() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_refer_nosub.xml")
    CALL_ENV=(MODE=nosub)
    CALL_CHECKS=("${REFER_CALL[@]}" "$REFER_ASKED"
        "call:transfer returns true on the 200 with Refer-Sub: false"
        "on_progress hears nothing"
        "the call ends with our BYE: call:wait() returns \"local\""
        "every message of the call over $transport")
    CALL_FLOW=("${REFER_ANSWERED[@]}" "REFER ->" "<- 200 (REFER)" "BYE ->" "<- 200 (BYE)")
    run_call_out "REFER with Refer-Sub: false" "$transport" "refer-nosub-$transport" refer_out
}

# SIPp hangs up right after its 202, then NOTIFYs: the subscription
# outlives the call in the dialog (RFC 5057), each NOTIFY gets 200.
group_refer_bye_first() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_refer_bye.xml")
    CALL_ENV=(MODE=bye_first)
    CALL_CHECKS=("${REFER_CALL[@]}" "$REFER_ASKED"
        "SIPp's BYE ends the call: call.end_reason \"hangup\""
        "on_progress hears 100, 200 after the BYE"
        "call:transfer returns true: the final NOTIFY said 200"
        "each NOTIFY after the BYE gets 200, none 481"
        "every message of the call over $transport")
    CALL_FLOW=("${REFER_ANSWERED[@]}" "REFER ->" "<- 202 (REFER)" "<- BYE" "200 (BYE) ->"
        "<- NOTIFY" "200 (NOTIFY) ->" "<- NOTIFY" "200 (NOTIFY) ->")
    run_call_out "NOTIFYs after the transferee's BYE" "$transport" "refer-bye-$transport" \
        refer_out
}

# SIPp calls the script, is answered and transfers it to a second SIPp:
# the library follows the REFER by itself (202, NOTIFYs 100, 180, 200),
# its new call is with the target, SIPp's BYE ends the old one.
group_refer_transferee() {
    local tag=refer-transferee ua_port sipp_port target_port target_pid target
    local checks=(
        "call:wait() returns \"transferred\" and the new call, call.replaced_by is it"
        "the new call is up, to the Refer-To target"
        "the INVITE to the target carries the REFER's Referred-By"
        "the NOTIFYs say 100 Trying, 180 Ringing (active), then 200 OK (terminated)"
        "the transferor's BYE ends the old call: we send none"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over udp"
    )
    group_begin "sipp transfers luasip to a second sipp (udp)"
    pick_ports ua_port
    pick_ports sipp_port
    pick_ports target_port
    target=sip:carol@127.0.0.1:$target_port
    sipp_bg "$tag-target" -sf "$SIPP_DIR/call_uas_refer_target.xml" -p "$target_port" -t u1 \
        -m 1 -timeout 15s -timeout_error
    target_pid=$BG_PID
    if ! wait_bound "$target_port" udp 5 "$target_pid"; then
        fail "the target SIPp starts" "port $target_port not bound"
    fi
    lua_start refer_in "$tag" 20 UA_PORT="$ua_port" TARGET="$target" WAIT=10
    if wait_line "$WORK/$tag.out" '^ready$' 5 "$LUA_PID"; then
        sipp_run "$tag-sipp" "127.0.0.1:$ua_port" -sf "$SIPP_DIR/call_uac_refer.xml" \
            -key target "$target" -s bob -p "$sipp_port" -t u1 -m 1 -timeout 12s -timeout_error
        check "the transferor SIPp exits 0: 202, NOTIFYs 100, 180, 200 as its scenario says" \
            sipp_ok
    else
        fail "the transferor SIPp exits 0: 202, NOTIFYs 100, 180, 200 as its scenario says" \
            "the script never printed \"ready\""
    fi
    lua_wait "$tag" 15
    script_results "$WORK/$tag.out" "$LUA_RC" "${checks[@]}"
    wait_pid "$target_pid" 5
    SIPP_RC=$WAIT_RC SIPP_NAME=$tag-target
    check "the target SIPp exits 0: an INVITE to carol with Referred-By, our BYE" sipp_ok
    group_end
}

# printed_like FILE ERE...: FILE holds one line for each ERE, which the
# whole line matches, in that order (an error or a traceback would add
# lines).
printed_like() {
    local file=$1 lines=() i=0
    shift
    local res=("$@")
    mapfile -t lines <"$file" 2>/dev/null
    if [ "${#lines[@]}" -eq "${#res[@]}" ]; then
        while [ "$i" -lt "${#res[@]}" ] && [[ ${lines[i]} =~ ^${res[i]}$ ]]; do
            i=$((i + 1))
        done
        [ "$i" -eq "${#res[@]}" ] && return 0
    fi
    WHY="it printed: $(paste -sd '|' "$file" 2>/dev/null | sed 's/|/ \/ /g')"
    return 1
}

# alice_transferred FILE STATUS BOB_PORT CAROL_PORT: attended_transfer.lua
# exited 0 and printed each step of its consultation and transfer.
alice_transferred() {
    [ "$2" = 0 ] || { WHY="exit status $2"; return 1; }
    printed_like "$1" "alice: calling bob at sip:bob@127\.0\.0\.1:$3" "alice: holding bob" \
        "alice: calling carol at sip:carol@127\.0\.0\.1:$4" "alice: transferring bob to carol" \
        "alice: done; our calls ended \(ended, ended\)" "attended transfer: ok"
}

both_alive() {
    alive "$1" && alive "$2" && return 0
    WHY="one of them exited"
    return 1
}

# carol_took_over FILE URI_RE: what transferee.lua --answer printed as carol:
# alice's call, bob's, and alice's ended "replaced".  bob's INVITE and the
# end of alice's call come close together: either may be printed first.
carol_took_over() {
    local alice="sip:alice@127\.0\.0\.1"
    printed_like "$1" "phone: answering calls at $2" "phone: call from $alice" \
        "phone: call from sip:phone@127\.0\.0\.1" \
        "phone: the call with $alice ended: replaced" ||
        printed_like "$1" "phone: answering calls at $2" "phone: call from $alice" \
            "phone: the call with $alice ended: replaced" \
            "phone: call from sip:phone@127\.0\.0\.1"
}

# Attended transfer between three script endpoints, each a process of its
# own: examples/attended_transfer.lua (alice) calls bob, holds him, calls
# carol and transfers bob to carol; bob and carol are
# examples/transferee.lua --answer.  bob's phone follows the REFER with an
# INVITE whose Replaces names alice's call with carol, carol's takes it in
# that call's place.
group_attended_transfer() {
    local tag=refer-attended bob_port carol_port bob_pid carol_pid bob carol alice_rc
    local bob_re carol_re
    local names=(
        "bob and carol listen (transferee.lua --answer)"
        "alice transfers bob to carol, both her calls end, exit status 0"
        "bob follows the REFER: his call with alice ends \"transferred\", the new one is with carol"
        "carol takes bob's call in the place of alice's, which ends \"replaced\""
        "bob and carol still run with their new call (they answer until stopped)"
    )
    group_begin "attended transfer: three script endpoints, three processes (udp)"
    pick_ports bob_port
    pick_ports carol_port
    bob=sip:phone@127.0.0.1:$bob_port
    carol=sip:phone@127.0.0.1:$carol_port
    bob_re=${bob//./\\.} carol_re=${carol//./\\.}
    group_logs "$WORK/$tag-alice.out" "$WORK/$tag-bob.out" "$WORK/$tag-carol.out"
    start_bg "$WORK/$tag-bob.out" timeout -k 2 30 "$LUA" "$ROOT/examples/transferee.lua" \
        --answer "udp:127.0.0.1:$bob_port"
    bob_pid=$BG_PID
    start_bg "$WORK/$tag-carol.out" timeout -k 2 30 "$LUA" "$ROOT/examples/transferee.lua" \
        --answer "udp:127.0.0.1:$carol_port"
    carol_pid=$BG_PID
    if ! wait_line "$WORK/$tag-bob.out" "^phone: answering calls at " 5 "$bob_pid" ||
        ! wait_line "$WORK/$tag-carol.out" "^phone: answering calls at " 5 "$carol_pid"; then
        WHY="no \"phone: answering calls at\" within 5 s"
        for name in "${names[@]}"; do fail "$name" "$WHY"; done
        stop_pid "$bob_pid" 3
        stop_pid "$carol_pid" 3
        group_end
        return
    fi
    pass "${names[0]}"
    timeout -k 2 20 "$LUA" "$ROOT/examples/attended_transfer.lua" "sip:bob@127.0.0.1:$bob_port" \
        "sip:carol@127.0.0.1:$carol_port" >"$WORK/$tag-alice.out" 2>&1 </dev/null
    alice_rc=$?
    check "${names[1]}" alice_transferred "$WORK/$tag-alice.out" "$alice_rc" "$bob_port" \
        "$carol_port"
    # alice's BYE ends bob's old call; give the last lines a moment
    wait_line "$WORK/$tag-bob.out" "^phone: now talking to " 5 "$bob_pid"
    wait_line "$WORK/$tag-carol.out" " ended: replaced\$" 5 "$carol_pid"
    check "${names[2]}" printed_like "$WORK/$tag-bob.out" \
        "phone: answering calls at $bob_re" \
        "phone: call from sip:alice@127\.0\.0\.1" \
        "phone: <sip:alice@127\.0\.0\.1> transfers us to $carol_re\?Replaces=[^;?& ]+%3Bto-tag%3D[^;?& ]+%3Bfrom-tag%3D[^;?& ]+" \
        "phone: the call with sip:alice@127\.0\.0\.1 ended: transferred" \
        "phone: now talking to $carol_re"
    check "${names[3]}" carol_took_over "$WORK/$tag-carol.out" "$carol_re"
    check "${names[4]}" both_alive "$bob_pid" "$carol_pid"
    stop_pid "$bob_pid" 3
    stop_pid "$carol_pid" 3
    group_end
}

CALL_GROUPS+=(
    "group_refer_notify udp 200 OK"
    "group_refer_notify tcp 200 OK"
    "group_refer_notify udp 486 Busy_Here"
    "group_refer_refused udp"
    "group_refer_nosub udp"
    "group_refer_bye_first udp"
    "group_refer_transferee"
    "group_attended_transfer"
)
