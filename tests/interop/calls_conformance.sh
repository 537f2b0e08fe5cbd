# RFC 3261 conformance of calls, against SIPp scenarios that play the peers
# the rules are about.  Sourced by run.sh; uses the helpers of run.sh and
# run_call_out, run_call_in, INCOMING, ANSWERED and INCOMING_FLOW of
# calls_sipp.sh (all read when a group runs, after every file is sourced).
# shellcheck shell=bash
# shellcheck disable=SC2034  # CALL_* are read by run_call_out/run_call_in

# RFC 3261 12.1.2, 13.2.2.4: SIPp answers 200 without a To tag (an RFC 2543
# peer); the call is up, the 200 ACKed, SIPp's INFO without a From tag
# taken in the call, our BYE's To without a tag.
group_conformance_tagless_2xx() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_tagless.xml")
    CALL_ENV=(MODE=tagless)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "the 200 without a To tag is ACKed at SIPp's Contact, To without a tag"
        "SIPp's INFO without a From tag is in the call: call:on(\"info\") answers 200"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "the BYE goes to SIPp's Contact, To without a tag"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "<- INFO" "200 (INFO) ->" "BYE ->" "<- 200 (BYE)")
    run_call_out "200 without a To tag (RFC 2543 peer)" "$transport" \
        "call-out-tagless-$transport"
}

# RFC 3261 12.2.1.1: SIPp's Record-Route makes a strict router the first of
# the route set; our ACK and BYE have it as Request-URI, SIPp's Contact last
# in Route.
group_conformance_strict_router() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_strict.xml")
    CALL_ENV=(MODE=strict)
    CALL_CHECKS=(
        "ua:call returns a confirmed outgoing call"
        "the ACK goes to the strict router, Route the loose one and SIPp's Contact"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "the BYE goes to the strict router, Route the loose one and SIPp's Contact"
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "BYE ->" "<- 200 (BYE)")
    run_call_out "strict router in the route set" "$transport" \
        "call-out-strict-$transport"
}

# The same for the route set of the callee (from the INVITE's Record-Route):
# SIPp calls, the script answers and hangs up.
group_conformance_strict_router_in() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_strict.xml")
    CALL_ENV=(MODE=strict)
    CALL_CHECKS=(
        "$INCOMING"
        "$ANSWERED"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "the BYE goes to the strict router, Route the loose one and SIPp's Contact"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK" "BYE ->" "<- 200 (BYE)")
    run_call_in "strict router in the route set" "$transport" "call-in-strict-$transport"
}

CALL_GROUPS+=(
    "group_conformance_tagless_2xx udp"
    "group_conformance_tagless_2xx tcp"
    "group_conformance_strict_router udp"
    "group_conformance_strict_router tcp"
    "group_conformance_strict_router_in udp"
    "group_conformance_strict_router_in tcp"
)
