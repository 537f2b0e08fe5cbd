# shellcheck shell=bash disable=SC2016,SC2034
# (check conditions go through eval, so single quotes and variables used
# only there are meant)
# The forwarding examples as B2BUAs between real peers, audio checked by its
# content.  Sourced by run.sh; at run time the groups use the baresip helpers
# of calls_baresip.sh and the recording checks of calls_media.sh.
#
# examples/forward_on_busy.lua and forward_no_answer.lua run in --forward
# mode, one after the other on the call's way:
#
#   SIPp caller (PCMA only, plays 1000 Hz)
#     -> forward_on_busy:   SIPp (call_uas_busy.xml): 486, then
#     -> forward_no_answer: SIPp (call_uas_noanswer.xml): 180, CANCEL, 487,
#                           then baresip (PCMU, plays 440 Hz), which answers
#
# The first forwarder transcodes: the caller's leg is PCMA, its other leg
# PCMU.  What the caller was sent is captured on loopback
# (../peers/udpcapture.py) and decoded (wavtool.py rtpaudio).

FWD_CAPTURE=$PEERS_DIR/udpcapture.py

# fwd_start TAG EXAMPLE PORT TARGET...: examples/EXAMPLE.lua --forward on
# 127.0.0.1:PORT, in the background (pid in BG_PID); true once it listens.
fwd_start() {
    local tag=$1 example=$2 port=$3
    shift 3
    group_logs "$WORK/$tag.out"
    start_bg "$WORK/$tag.out" timeout -k 2 40 "$LUA" "$ROOT/examples/$example.lua" \
        --forward "udp:127.0.0.1:$port" "$@"
    wait_line "$WORK/$tag.out" "^forwarder: forwarding calls at " 5 "$BG_PID" && return 0
    WHY="$example.lua did not say it forwards within 5 s: $(tail -n 1 "$WORK/$tag.out")"
    return 1
}

# fwd_said TAG REGEX: the forwarder's output has a line matching REGEX.
fwd_said() {
    grep -qE "$2" "$WORK/$1.out" && return 0
    WHY="no line matching \"$2\" in $1.out"
    return 1
}

group_b2bua_forward() {
    local tag=b2bua run=$WORK/b2bua-run rec=$WORK/bs-fwd-rec
    local busy_port noans_port fwd1_port fwd2_port uac_port media busy_pid noans_pid
    local fwd1_pid="" fwd2_pid="" cap_pid="" dec heard
    local names=(
        "forward_on_busy.lua and forward_no_answer.lua listen in --forward mode"
        "SIPp's PCMA caller is answered, plays its tone and its BYE gets 200"
        "the busy SIPp's scenario passes (486, ACK)"
        "the ringing SIPp's scenario passes (180, CANCEL from the forwarder's timeout, 487, ACK)"
        "forward_on_busy.lua saw 486 from the busy SIPp, then the second forwarder answer"
        "forward_no_answer.lua saw 487 from the ringing SIPp, then baresip answer"
        "baresip answers (CALL_ESTABLISHED) once the ringing SIPp was cancelled"
        "the caller's BYE ends baresip's call (CALL_CLOSED)"
        "baresip records the caller's 1000 Hz (PCMA -> PCMU)"
        "the caller's RTP (captured) holds baresip's 440 Hz"
    )
    group_begin "b2bua: sipp (PCMA) -> forward_on_busy -> forward_no_answer -> baresip (PCMU)"
    mkdir -p "$run"
    pick_ports busy_port
    pick_ports noans_port
    pick_ports fwd1_port
    pick_ports fwd2_port
    pick_ports uac_port
    pick_ports media 4
    group_logs "$WORK/$tag.audio" "$WORK/$tag.capture"
    # the caller's 3 s of 1000 Hz, as SIPp replays it
    if ! { "$PYTHON" "$WAVTOOL" tone "$run/tone.wav" 1000 3 --dbfs -16 &&
        "$PYTHON" "$WAVTOOL" pcap "$run/tone-pcma.pcap" "$run/tone.wav" --pt 8; } \
        >"$WORK/$tag.audio" 2>&1; then
        bs_fail_all "wavtool.py: $(tail -n 1 "$WORK/$tag.audio")" "${names[@]}"
        group_end
        return
    fi
    sipp_bg "$tag-busy" -sf "$SIPP_DIR/call_uas_busy.xml" -p "$busy_port" -t u1 -m 1 \
        -timeout 25s -timeout_error
    busy_pid=$BG_PID
    sipp_bg "$tag-noanswer" -sf "$SIPP_DIR/call_uas_noanswer.xml" -p "$noans_port" -t u1 -m 1 \
        -timeout 25s -timeout_error
    noans_pid=$BG_PID
    if wait_bound "$busy_port" udp 5 "$busy_pid" && wait_bound "$noans_port" udp 5 "$noans_pid" &&
        BS_REC_DIR=$rec bs_start fbob \
            "<sip:bob@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU/8000/1" &&
        fwd_start "$tag-noanswer-fwd" forward_no_answer "$fwd2_port" \
            "sip:sipp@127.0.0.1:$noans_port" "sip:bob@127.0.0.1:${BS_PORT[fbob]}" &&
        fwd2_pid=$BG_PID &&
        fwd_start "$tag-busy-fwd" forward_on_busy "$fwd1_port" \
            "sip:sipp@127.0.0.1:$busy_port" "sip:forward@127.0.0.1:$fwd2_port" &&
        fwd1_pid=$BG_PID; then
        pass "${names[0]}"
        start_bg "$WORK/$tag.capture" "$PYTHON" "$FWD_CAPTURE" "$WORK/$tag-caller.pcap" \
            "$media" 30 --ready "$WORK/$tag.capture-ready"
        cap_pid=$BG_PID
        if ! wait_line "$WORK/$tag.capture-ready" '^ready$' 5 "$cap_pid"; then
            fail "udpcapture.py captures on lo" "$(tail -n 1 "$WORK/$tag.capture")"
        fi
        SIPP_CWD=$run SIPP_MEDIA_PORT=$media sipp_run "$tag-caller" \
            "127.0.0.1:$fwd1_port" -sf "$SIPP_DIR/call_uac_pcma_tone.xml" -s forward \
            -p "$uac_port" -m 1 -timeout 25s -timeout_error
        check "${names[1]}" sipp_ok
        wait_pid "$busy_pid" 5
        SIPP_RC=$WAIT_RC SIPP_NAME=$tag-busy
        check "${names[2]}" sipp_ok
        wait_pid "$noans_pid" 5
        SIPP_RC=$WAIT_RC SIPP_NAME=$tag-noanswer
        check "${names[3]}" sipp_ok
        check "${names[4]}" eval 'fwd_said $tag-busy-fwd ": 486 Busy Here$" &&
            fwd_said $tag-busy-fwd "forward@127.0.0.1:$fwd2_port answered$"'
        check "${names[5]}" eval 'fwd_said $tag-noanswer-fwd ": 487 Request Terminated$" &&
            fwd_said $tag-noanswer-fwd "bob@127.0.0.1:${BS_PORT[fbob]} answered$"'
        check "${names[6]}" bs_event fbob CALL_ESTABLISHED 1 1
        check "${names[7]}" bs_event fbob CALL_CLOSED 1 5
        stop_pid "$cap_pid" 3
    else
        bs_fail_all "$WHY" "${names[@]}"
    fi
    [ -n "$fwd1_pid" ] && stop_pid "$fwd1_pid" 3
    [ -n "$fwd2_pid" ] && stop_pid "$fwd2_pid" 3
    stop_pid "$busy_pid" 2
    stop_pid "$noans_pid" 2
    # quit closes what sndfile still holds open
    bs_stop fbob
    if [ -n "$cap_pid" ]; then
        dec=$(bs_recording "$rec" dec)
        check "${names[8]}" eval 'wav_exists "$dec" &&
            wav_check b2bua.measures expect "$dec" --tone 1000:2.8:3.2'
        heard=$WORK/$tag-caller.wav
        check "${names[9]}" eval '"$PYTHON" "$WAVTOOL" rtpaudio "$WORK/$tag-caller.pcap" "$heard" &&
            wav_check b2bua.measures expect "$heard" --tone 440:3:5'
    fi
    group_end
}

CALL_GROUPS+=("group_b2bua_forward")
