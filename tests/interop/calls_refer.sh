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

CALL_GROUPS+=(
    "group_refer_notify udp 200 OK"
    "group_refer_notify tcp 200 OK"
    "group_refer_notify udp 486 Busy_Here"
    "group_refer_refused udp"
    "group_refer_nosub udp"
    "group_refer_bye_first udp"
    "group_refer_transferee"
)
