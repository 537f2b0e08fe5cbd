# shellcheck shell=bash disable=SC2016,SC2034
# (check conditions go through eval, so single quotes and variables used
# only there are meant)
# Call waiting with SIPp as both parties.  Sourced by run.sh, whose helpers
# (group_begin, pick_ports, start_bg, sipp_bg, sipp_run, check ...) it uses.
#
# examples/call_waiting.lua runs in --answer mode as bob:
#
#   SIPp alice (call_uac_waiting_first.xml) calls bob, is answered
#   SIPp carol (call_uac_waiting_second.xml) calls while alice talks: 180,
#     the beep to alice, alice held with music, 200 to carol
#   bob swaps twice (carol held, alice back; alice held, carol back), then
#     hangs up on alice and, a moment later, on carol
#
# Each SIPp checks the SDP direction of every re-INVITE with its regexps and
# answers recvonly or sendrecv; the group checks their exit statuses, the
# messages each one saw (with the direction of each SDP body) and what the
# example printed.  The beep and the music are checked by content in the
# example's own run (without arguments), not here.

# sipp_steps NAME: the messages of SIPp's message log $WORK/NAME.msg, one per
# line, from SIPp's side: "INVITE [sendrecv] ->" (a request it sent, with
# the direction its SDP body says, sendrecv when it says none), "<- 180
# (INVITE)" (a response it received, with the CSeq method), "<- BYE".  A 100
# Trying is left out (it is hop by hop and may come or not), and so is a
# message seen before (same direction, start line and CSeq: a
# retransmission), so that a slow run on UDP does not change the flow.
sipp_steps() {
    tr -d '\r' <"$WORK/$1.msg" 2>/dev/null | awk '
    function flush(    step) {
        if (start == "") return
        if (!((dir SUBSEP start SUBSEP cseq) in seen) && start !~ /^SIP\/2\.0 100 /) {
            seen[dir SUBSEP start SUBSEP cseq] = 1
            split(start, w, " ")
            step = w[1] == "SIP/2.0" ? w[2] " (" method ")" : w[1]
            if (sdp) step = step " [" (direction == "" ? "sendrecv" : direction) "]"
            print (dir == "out" ? step " ->" : "<- " step)
        }
        start = ""
    }
    / message (sent|received) / {
        flush()
        dir = $0 ~ / message sent / ? "out" : "in"
        want_start = 1
        cseq = method = direction = ""
        sdp = 0
        next
    }
    want_start && NF > 0 { start = $0; want_start = 0; next }
    tolower($1) == "cseq:" { cseq = $2; method = $3 }
    /^m=/ { sdp = 1 }
    /^a=(sendrecv|sendonly|recvonly|inactive)$/ { direction = substr($0, 3) }
    END { flush() }'
}

# sipp_saw NAME STEP...: SIPp NAME saw exactly the messages STEP... (see
# sipp_steps), in that order.
sipp_saw() {
    local name=$1 got want
    shift
    got=$(sipp_steps "$name" | paste -sd '|' | sed 's/|/ \/ /g')
    want=$(printf '%s\n' "$@" | paste -sd '|' | sed 's/|/ \/ /g')
    [ "$got" = "$want" ] && return 0
    WHY="SIPp saw: ${got:-no message}"
    group_logs "$WORK/$name.msg"
    return 1
}

# printed_exactly FILE LINE...: FILE holds LINE... and nothing else (an
# error or a traceback would add lines).
printed_exactly() {
    local file=$1 got want
    shift
    got=$(cat "$file" 2>/dev/null)
    want=$(printf '%s\n' "$@")
    [ "$got" = "$want" ] && return 0
    WHY="it printed: $(paste -sd '|' "$file" 2>/dev/null | sed 's/|/ \/ /g')"
    return 1
}

group_call_waiting() {
    local tag=waiting bob_port alice_port carol_port bob_pid alice_pid alice carol name
    local names=(
        "call_waiting.lua listens in --answer mode"
        "bob answers alice (SIPp's first call)"
        "carol (SIPp's second call) rings (180, never 486), is answered, held, resumed and hung up on (SIPp exits 0)"
        "alice is held (sendonly, answered recvonly), resumed (sendrecv), held again and hung up on (SIPp exits 0)"
        "carol's messages: INVITE, 180, 200, ACK, hold re-INVITE, resume re-INVITE, BYE"
        "alice's messages: INVITE, 200, ACK, hold, resume, hold re-INVITEs, BYE"
        "the example says what it does: answer, waiting call, hold, two swaps, hang up on alice, then carol"
        "the example still runs when both calls are over (it answers until stopped)"
    )
    group_begin "waiting: sipp alice, then sipp carol -> call_waiting.lua --answer"
    pick_ports bob_port
    pick_ports alice_port
    pick_ports carol_port
    alice=sip:alice@127.0.0.1:$alice_port
    carol=sip:carol@127.0.0.1:$carol_port
    group_logs "$WORK/$tag-bob.out"
    start_bg "$WORK/$tag-bob.out" timeout -k 2 40 "$LUA" "$ROOT/examples/call_waiting.lua" \
        --answer "udp:127.0.0.1:$bob_port"
    bob_pid=$BG_PID
    if ! wait_line "$WORK/$tag-bob.out" "^bob: answering calls at " 5 "$bob_pid"; then
        WHY="no \"bob: answering calls at\" within 5 s: $(tail -n 1 "$WORK/$tag-bob.out")"
        for name in "${names[@]}"; do fail "$name" "$WHY"; done
        stop_pid "$bob_pid" 3
        group_end
        return
    fi
    pass "${names[0]}"
    sipp_bg "$tag-alice" "127.0.0.1:$bob_port" -sf "$SIPP_DIR/call_uac_waiting_first.xml" \
        -s bob -p "$alice_port" -t u1 -m 1 -timeout 20s -timeout_error
    alice_pid=$BG_PID
    # carol calls only once alice's call is confirmed (the ACK came): then
    # it is call waiting, not a second call to a free bob
    check "${names[1]}" wait_line "$WORK/$tag-bob.out" "^bob: talking with $alice\$" 5 "$alice_pid"
    sipp_run "$tag-carol" "127.0.0.1:$bob_port" -sf "$SIPP_DIR/call_uac_waiting_second.xml" \
        -s bob -p "$carol_port" -t u1 -m 1 -timeout 20s -timeout_error
    check "${names[2]}" sipp_ok
    wait_pid "$alice_pid" 5
    SIPP_RC=$WAIT_RC SIPP_NAME=$tag-alice
    check "${names[3]}" sipp_ok
    check "${names[4]}" sipp_saw "$tag-carol" "INVITE [sendrecv] ->" "<- 180 (INVITE)" \
        "<- 200 (INVITE) [sendrecv]" "ACK ->" \
        "<- INVITE [sendonly]" "200 (INVITE) [recvonly] ->" "<- ACK" \
        "<- INVITE [sendrecv]" "200 (INVITE) [sendrecv] ->" "<- ACK" \
        "<- BYE" "200 (BYE) ->"
    check "${names[5]}" sipp_saw "$tag-alice" "INVITE [sendrecv] ->" \
        "<- 200 (INVITE) [sendrecv]" "ACK ->" \
        "<- INVITE [sendonly]" "200 (INVITE) [recvonly] ->" "<- ACK" \
        "<- INVITE [sendrecv]" "200 (INVITE) [sendrecv] ->" "<- ACK" \
        "<- INVITE [sendonly]" "200 (INVITE) [recvonly] ->" "<- ACK" \
        "<- BYE" "200 (BYE) ->"
    check "${names[6]}" printed_exactly "$WORK/$tag-bob.out" \
        "bob: answering calls at sip:bob@127.0.0.1:$bob_port" \
        "bob: call from $alice" \
        "bob: talking with $alice" \
        "bob: $carol calls while we talk with $alice" \
        "bob: $alice is on hold; answering $carol" \
        "bob: now talking with $alice, $carol on hold" \
        "bob: now talking with $carol, $alice on hold" \
        "bob: hanging up on $alice" \
        "bob: hanging up on $carol"
    check "${names[7]}" eval 'alive "$bob_pid" || { WHY="it exited"; false; }'
    stop_pid "$bob_pid" 3
    group_end
}

CALL_GROUPS+=("group_call_waiting")
