# Session conformance (issue 16): what RFC 3264 asks of the SDP of a whole
# session, against SIPp scenarios that check it on their side.  Sourced by
# run.sh; uses the runners of calls_sipp.sh (run_call_in, run_call_out,
# flow_is) with the script sdp_mlines.lua.
# shellcheck shell=bash
# CALL_* are read by the runners of calls_sipp.sh.
# shellcheck disable=SC2034

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
