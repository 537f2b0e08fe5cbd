# Session conformance against SIPp (issue 16): an offer in a PRACK (RFC 3262
# §5), 422 Session Interval Too Small (RFC 4028 §6) and UPDATE in an early
# dialog (RFC 3311 §5.1).  Sourced by run.sh after calls_sipp.sh, whose
# run_call_out and run_call_in (with call_out.lua and call_in.lua) it uses.
# shellcheck shell=bash
# CALL_* are read by run_call_out and run_call_in.
# shellcheck disable=SC2034

# SIPp's PRACK carries a new offer: its 200 must carry the answer.
group_conf_in_prack_offer() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_prack_offer.xml")
    CALL_ENV=(MODE=prack_offer)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "the 183 is reliable (Require: 100rel, RSeq) and has the answer (a=sendrecv)"
        "the 200 to SIPp's PRACK answers its offer: SDP with a=recvonly"
        "the call follows the PRACK's offer: call.remote_sdp, media recvonly, \"modified\" and \"hold\" while early"
        "the 200 to the INVITE repeats the last SDP sent (a=recvonly)"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("<- INVITE" "100 (INVITE) ->" "183 (INVITE) ->" "<- PRACK" "200 (PRACK) ->"
        "200 (INVITE) ->" "<- ACK" "<- BYE" "200 (BYE) ->")
    run_call_in "an offer in the PRACK is answered in its 200" "$transport" \
        "conf-in-prack-offer-$transport"
}

# SIPp's PRACK offers only a codec the library lacks: 488, the call goes on.
group_conf_in_prack_bad_offer() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_prack_bad_offer.xml")
    CALL_ENV=(MODE=prack_bad_offer)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "the 183 is reliable (Require: 100rel, RSeq) and has the answer (a=sendrecv)"
        "SIPp's PRACK offering only G.729 is answered 488"
        "the call stays as the INVITE made it: its offer is call.remote_sdp, PCMU sendrecv, the 200 repeats the 183's answer"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("<- INVITE" "100 (INVITE) ->" "183 (INVITE) ->" "<- PRACK" "488 (PRACK) ->"
        "200 (INVITE) ->" "<- ACK" "<- BYE" "200 (BYE) ->")
    run_call_in "an unacceptable offer in the PRACK gets 488" "$transport" \
        "conf-in-prack-bad-offer-$transport"
}

# SIPp refuses the INVITE's session interval (422, Min-SE: 1800); the
# library tries again with 1800 and the call is answered.
group_conf_out_422() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_422.xml")
    CALL_ENV=(MODE=retry_422)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "after the 422 the INVITE goes again: same Call-ID and From tag, CSeq + 1, a new branch, Session-Expires >= 1800, Min-SE: 1800"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 422 (INVITE)" "ACK ->"
        "INVITE ->" "<- 100 (INVITE)" "<- 200 (INVITE)" "ACK ->" "BYE ->" "<- 200 (BYE)")
    run_call_out "422 Session Interval Too Small, retried with its Min-SE" "$transport" \
        "conf-out-422-$transport"
}

# The script calls; SIPp answers in a reliable 183; UPDATE both ways before
# the 200.
group_conf_out_early_update() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_early_update.xml")
    CALL_ENV=(MODE=early_update)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "call:modify{method=\"UPDATE\"} from on_early sends UPDATE in the early dialog and returns true before the 200"
        "SIPp's UPDATE in the early dialog is answered 200 with SDP (sendonly: still holding), \"modified\" fires"
        "the 200 to the INVITE (SDP of the 183 again) does not undo the early UPDATE: media sendonly"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport"
    )
    # on_early runs as the 183 is taken, right after the PRACK goes: the
    # UPDATE does not wait for the 200 to the PRACK (RFC 3311 §5.1 asks
    # only for the answer in a reliable 1xx)
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 183 (INVITE)" "PRACK ->" "UPDATE ->"
        "<- 200 (PRACK)" "<- 200 (UPDATE)" "<- UPDATE" "200 (UPDATE) ->"
        "<- 200 (INVITE)" "ACK ->" "BYE ->" "<- 200 (BYE)")
    run_call_out "UPDATE both ways in the early dialog (caller)" "$transport" \
        "conf-out-early-update-$transport"
}

# SIPp calls with 100rel; the script's reliable 183 is PRACKed; UPDATE both
# ways before the script answers.
group_conf_in_early_update() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_early_update.xml")
    CALL_ENV=(MODE=early_update)
    CALL_CHECKS=(
        "$INCOMING"
        "call:modify{method=\"UPDATE\"} before the answer sends UPDATE in the early dialog and returns true"
        "SIPp's UPDATE in the early dialog is answered 200 with SDP (sendonly: still holding)"
        "$ANSWERED"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("<- INVITE" "100 (INVITE) ->" "183 (INVITE) ->" "<- PRACK" "200 (PRACK) ->"
        "UPDATE ->" "<- 200 (UPDATE)" "<- UPDATE" "200 (UPDATE) ->"
        "200 (INVITE) ->" "<- ACK" "<- BYE" "200 (BYE) ->")
    run_call_in "UPDATE both ways in the early dialog (callee)" "$transport" \
        "conf-in-early-update-$transport"
}

CALL_GROUPS+=(
    "group_conf_in_prack_offer udp"
    "group_conf_in_prack_bad_offer udp"
    "group_conf_out_422 udp"
    "group_conf_out_early_update udp"
    "group_conf_in_early_update udp"
)
