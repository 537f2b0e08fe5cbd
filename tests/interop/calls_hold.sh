# Hold with music (RFC 6337) against baresip.  Sourced by
# tests/interop/run.sh; the group uses the baresip helpers of
# calls_baresip.sh.
# shellcheck shell=bash

HOLD_SECONDS=2

# The script calls baresip (auto answer), holds it with a 700 Hz tone as
# music for HOLD_SECONDS, takes it off hold, holds it again and hangs up
# after HOLD_SECONDS.  The script checks the directions of each offer and
# answer and the packets of music sent.  baresip 1.0.0 stops recording what
# it receives (sndfile, on the rx path) when a sendonly offer puts it on
# hold, though it records on after a sendrecv re-INVITE, so its recording
# cannot show the music: the music's content is checked between two of our
# endpoints (tests/spec/hold_spec.lua).
group_hold_music_baresip() {
    local tag=hold-music ua_port rtp
    local names=("ua:call returns a confirmed call"
        "call:hold{music = tone} returns true, call.held is \"local\""
        "the hold re-INVITE offers sendonly, baresip answers recvonly"
        "the music goes out while baresip is held"
        "call:unhold() returns true after a sendrecv offer answered sendrecv, call.held nil"
        "after unhold the music stops" "held again with music, the script hangs up" "SIP flow")
    local mine=("baresip: CALL_ESTABLISHED, then CALL_CLOSED when the script hangs up"
        "what baresip is sent (captured) holds the music: 700 Hz while held, twice")
    local cap_pid=
    group_begin "hold: luasip holds baresip with music"
    pick_ports ua_port
    pick_ports rtp 20
    if bs_start hbob "<sip:bob@127.0.0.1>;regint=0;answermode=auto"; then
        start_bg "$WORK/$tag.capture" "$PYTHON" "$PEERS_DIR/udpcapture.py" "$WORK/$tag.pcap" \
            "${BS_RTP[hbob]}" 30 --ready "$WORK/$tag.capture-ready"
        cap_pid=$BG_PID
        group_logs "$WORK/$tag.capture" "$WORK/$tag.measures"
        wait_line "$WORK/$tag.capture-ready" '^ready$' 5 "$cap_pid" ||
            fail "udpcapture.py captures on lo" "$(tail -n 1 "$WORK/$tag.capture")"
        lua_start hold_call "$tag" 30 UA_PORT="$ua_port" RTP_PORTS="$rtp-$((rtp + 19))" \
            TARGET="sip:bob@127.0.0.1:${BS_PORT[hbob]}" HELD="$HOLD_SECONDS"
        check "${mine[0]}" eval 'bs_event hbob CALL_ESTABLISHED 1 8 &&
            bs_event hbob CALL_CLOSED 1 20'
        lua_wait "$tag" 20
        stop_pid "$cap_pid" 3
        # each hold: HOLD_SECONDS of the tone, within half a second
        local music="700:$((HOLD_SECONDS - 1)).5:$HOLD_SECONDS.5"
        check "${mine[1]}" eval '"$PYTHON" "$WAVTOOL" rtpaudio "$WORK/$tag.pcap" "$WORK/$tag-sent.wav" &&
            wav_check $tag.measures expect "$WORK/$tag-sent.wav" \
                --tone "$music" --tone "$music" --order'
    else
        fail "${mine[0]}" "$WHY"
        fail "${mine[1]}" "$WHY"
        LUA_RC=""
    fi
    bs_stop hbob
    if [ -n "$LUA_RC" ]; then
        script_results "$WORK/$tag.out" "$LUA_RC" "${names[@]}"
    else
        bs_fail_all "script not run: $WHY" "${names[@]}"
    fi
    group_end
}

CALL_GROUPS+=(
    "group_hold_music_baresip"
)
