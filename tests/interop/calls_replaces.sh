# The transfer target's side of RFC 3891 against SIPp scenarios that make
# both calls themselves: an INVITE with Replaces that names a call SIPp
# made first takes its place; one that names no dialog, or an early dialog
# the library did not start, gets 481; `Require: replaces` is never
# answered 420.  The second INVITE of each scenario has call 1's Call-ID
# behind "r2///", which SIPp files under call 1, and CSeq numbers from 101
# so that the flow tells the two calls apart.  Sourced by run.sh; uses
# run_call_in, INCOMING, ANSWERED and INCOMING_FLOW of calls_sipp.sh.
# shellcheck shell=bash
# shellcheck disable=SC2034  # CALL_* are read by run_call_in

# SIPp calls and is answered; its second INVITE replaces that call: the
# script answers it, the library sends the BYE of call 1, SIPp hangs up
# the new call.
group_replaces_match() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_replaces.xml")
    CALL_ENV=(MODE=replaced)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "the INVITE with Replaces and Require: replaces reaches the handler, call.replaces the first call"
        "call:answer() of the new call returns true"
        "the first call ends: call:wait() returns \"replaced\" and the new call, call.replaced_by is it"
        "the first call's BYE goes to SIPp's Contact with both tags of that call"
        "no 420 Bad Extension for Require: replaces"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    # the BYE of call 1 goes once the new call is confirmed (its ACK)
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK"
        "<- INVITE" "100 (INVITE) ->" "200 (INVITE) ->" "<- ACK" "BYE ->" "<- 200 (BYE)"
        "<- BYE" "200 (BYE) ->")
    run_call_in "INVITE with Replaces takes the place of an answered call" "$transport" \
        "replaces-match-$transport"
}

# The Replaces names call 1's Call-ID and SIPp's tag with a to-tag the
# library never gave: 481, and call 1 goes on until SIPp's BYE.
group_replaces_none() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_replaces_none.xml")
    CALL_ENV=(MODE=basic)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "the 200 answers PCMU in SDP, with a Contact and the 180's To tag"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK"
        "<- INVITE" "100 (INVITE) ->" "481 (INVITE) ->" "<- ACK" "<- BYE" "200 (BYE) ->")
    run_call_in "INVITE whose Replaces names no dialog gets 481" "$transport" \
        "replaces-none-$transport"
}

# The Replaces names call 1 while it rings: an early dialog the library
# did not start is not its to give away (481); SIPp then cancels call 1.
group_replaces_early() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_replaces_early.xml")
    CALL_ENV=(MODE=cancel)
    CALL_CHECKS=(
        "$INCOMING"
        "SIPp's CANCEL ends the call: call:wait() returns \"cancelled\""
        "200 answers the CANCEL and 487 the INVITE, with the 180's To tag"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "<- INVITE" "100 (INVITE) ->" "481 (INVITE) ->" "<- ACK"
        "<- CANCEL" "200 (CANCEL) ->" "487 (INVITE) ->" "<- ACK")
    run_call_in "INVITE whose Replaces names an early dialog it did not start gets 481" \
        "$transport" "replaces-early-$transport"
}

CALL_GROUPS+=(
    "group_replaces_match udp"
    "group_replaces_match tcp"
    "group_replaces_none udp"
    "group_replaces_early udp"
)
