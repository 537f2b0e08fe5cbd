# Call API checks against SIPp: what the library answers by itself in a call.
# Sourced by run.sh; uses its helpers and run_call_in, INCOMING_FLOW of
# calls_sipp.sh (the groups run once every calls_*.sh is sourced).
#
#   SIPp calls luasip (tests/sipp/call_uac_unhandled.xml against
#     tests/interop/call_api.lua): a MESSAGE and a SUBSCRIBE in the call, for
#     which the script has no handler, get 405 with an Allow header (RFC 3261
#     §21.4.6) that lists what the call takes and the handler it has (REFER);
#     an INFO without a handler gets 200.
# shellcheck shell=bash
# shellcheck disable=SC2034

group_call_api_unhandled() {
    local transport=$1
    CALL_SCENARIO=(-sf "$SIPP_DIR/call_uac_unhandled.xml")
    CALL_ENV=()
    CALL_CHECKS=(
        "call:answer() returns true once the ACK came"
        "SIPp's BYE ends the call: call:wait() returns \"hangup\""
        "the MESSAGE in the call gets 405 with an Allow of what the call takes"
        "the SUBSCRIBE in the call gets 405 with an Allow of what the call takes"
        "the INFO without a handler gets 200"
        "every message of the call over $transport"
    )
    CALL_FLOW=("${INCOMING_FLOW[@]}" "200 (INVITE) ->" "<- ACK" "<- MESSAGE" "405 (MESSAGE) ->"
        "<- SUBSCRIBE" "405 (SUBSCRIBE) ->" "<- INFO" "200 (INFO) ->" "<- BYE" "200 (BYE) ->")
    run_call_in "requests without a handler: 405 with Allow" "$transport" \
        "call-api-unhandled-$transport" call_api
}

CALL_GROUPS+=(
    "group_call_api_unhandled udp"
    "group_call_api_unhandled tcp"
)
