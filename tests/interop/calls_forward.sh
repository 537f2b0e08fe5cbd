# Forwarding by redirection against SIPp: the library follows 3xx
# (ua:call{follow = true}, tests/interop/call_forward.lua) through
# tests/sipp/call_uas_redirect_*.xml.  Sourced by run.sh; its groups use
# run_call_out and the flow checks of calls_sipp.sh.
# shellcheck shell=bash
# shellcheck disable=SC2034  # CALL_* are read by run_call_out

# SIPp redirects twice (the second 302 with two Contacts of different q),
# then answers; the script hangs up.
group_call_forward_twice() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_redirect_twice.xml")
    CALL_ENV=(MODE=twice)
    CALL_CHECKS=(
        "ua:call{follow = true} returns a confirmed call"
        "call.history: sipp@ 302, second@ 302, fourth@ 200 (q 0.9 before third@'s 0.5)"
        "3 INVITEs, CSeq 1 to 3, each with the first one's Call-ID, From tag and To"
        "call:wait() returns \"local\""
    )
    CALL_FLOW=("INVITE ->" "<- 302 (INVITE)" "ACK ->" "INVITE ->" "<- 302 (INVITE)" "ACK ->"
        "INVITE ->" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->" "BYE ->" "<- 200 (BYE)")
    run_call_out "redirected twice, follow = true" "$transport" "call-forward-twice-$transport" \
        call_forward
}

# SIPp redirects to a target that redirects back: the loop ends with the 302.
group_call_forward_loop() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_redirect_loop.xml")
    CALL_ENV=(MODE=loop)
    CALL_CHECKS=(
        "the loop ends with the last failure: nil, 302, \"Moved Temporarily\""
        "the last 302 comes fourth with its contacts"
        "the targets tried come fifth: sipp@ 302, loop@ 302"
        "2 INVITEs, CSeq 1 to 2, each with the first one's Call-ID, From tag and To"
    )
    CALL_FLOW=("INVITE ->" "<- 302 (INVITE)" "ACK ->" "INVITE ->" "<- 302 (INVITE)" "ACK ->")
    run_call_out "redirect loop, follow = true" "$transport" "call-forward-loop-$transport" \
        call_forward
}

CALL_GROUPS+=(
    "group_call_forward_twice udp"
    "group_call_forward_loop udp"
)
