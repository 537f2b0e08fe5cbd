# Session conformance (issue 16) against SIPp scenarios that play the peers
# the rules are about and check them on their side: the m-lines of a whole
# session (RFC 3264 §6, §8), an offer in a PRACK (RFC 3262 §5), 422 Session
# Interval Too Small (RFC 4028 §6), UPDATE in an early dialog (RFC 3311
# §5.1), a 2xx without a To tag (RFC 3261 §12.1.2) and strict routers
# (§12.2.1.1).  Sourced by run.sh; uses the helpers of run.sh and
# run_call_out, run_call_in, INCOMING, ANSWERED and INCOMING_FLOW of
# calls_sipp.sh (all read when a group runs, after every file is sourced).
# shellcheck shell=bash
# shellcheck disable=SC2034  # CALL_* are read by run_call_out/run_call_in

# ---- the m-lines of the session

# The m-lines of the session (RFC 3264 §6, §8): SIPp offers audio and
# video; the library answers the audio and declines the video, then holds
# by re-INVITE and resumes by UPDATE, each offer with both lines and the
# video at port 0.
group_conformance_mlines_in() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_video_modify.xml")
    CALL_ENV=(MODE=video_offer)
    CALL_CHECKS=(
        "call:answer() takes the audio and declines the video: m=audio, then m=video 0"
        "call:modify{direction=\"sendonly\"} re-INVITEs with both m-lines, video at port 0"
        "call:modify{direction=\"sendrecv\", method=\"UPDATE\"} offers both m-lines again"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("<- INVITE" "100 (INVITE) ->" "180 (INVITE) ->" "200 (INVITE) ->" "<- ACK"
        "INVITE ->" "<- 200 (INVITE)" "ACK ->" "UPDATE ->" "<- 200 (UPDATE)"
        "BYE ->" "<- 200 (BYE)")
    run_call_in "video declined, kept at port 0 by re-INVITE and UPDATE" "$transport" \
        "conformance-mlines-in-$transport" sdp_mlines
}

# SIPp adds video to a call of audio alone by re-INVITE: the answer
# declines it, and the library's own re-INVITE keeps it at port 0.
group_conformance_mlines_out() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uas_video_added.xml")
    CALL_ENV=(MODE=video_added)
    CALL_CHECKS=(
        "ua:call offers audio alone and returns a confirmed call"
        "SIPp's re-INVITE adding video is answered 200: m=audio, then m=video 0 RTP/AVP 100"
        "call:modify{direction=\"sendonly\"} re-INVITEs with both m-lines, video at port 0"
        "call:hangup() ends the call: end_reason \"local\""
        "call:wait() returns \"local\""
        "every message of the call over $transport"
    )
    CALL_FLOW=("INVITE ->" "<- 100 (INVITE)" "<- 180 (INVITE)" "<- 200 (INVITE)" "ACK ->"
        "<- INVITE" "100 (INVITE) ->?" "200 (INVITE) ->" "<- ACK"
        "INVITE ->" "<- 200 (INVITE)" "ACK ->" "BYE ->" "<- 200 (BYE)")
    run_call_out "video added by the callee stays declined in our re-INVITE" "$transport" \
        "conformance-mlines-out-$transport" sdp_mlines
}

CALL_GROUPS+=(
    "group_conformance_mlines_in udp"
    "group_conformance_mlines_in tcp"
    "group_conformance_mlines_out udp"
)

# ---- offers in PRACK, 422, early UPDATE

# SIPp's PRACK carries a new offer: its 200 must carry the answer.
group_conformance_in_prack_offer() {
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
group_conformance_in_prack_bad_offer() {
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
group_conformance_out_422() {
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
group_conformance_out_early_update() {
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
group_conformance_in_early_update() {
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
    "group_conformance_in_prack_offer udp"
    "group_conformance_in_prack_bad_offer udp"
    "group_conformance_out_422 udp"
    "group_conformance_out_early_update udp"
    "group_conformance_in_early_update udp"
)

# ---- tagless 2xx, strict routers

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
