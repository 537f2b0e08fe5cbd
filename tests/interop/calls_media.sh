# shellcheck shell=bash disable=SC2016,SC2034
# (check conditions go through eval, so single quotes and variables used
# only there are meant)
# Media against real peers, checked by content: what the library plays is
# recorded by baresip (its sndfile module) and measured; what SIPp and
# baresip send is recorded or collected by the library and compared with
# what was sent.
#
# Sourced by tests/interop/run.sh after calls_baresip.sh, whose helpers
# (bs_start, bs_event, bs_do, lua_ready, lua_step ...) these groups use.
#
# tests/peers/wavtool.py writes the test audio (tones, keypad tones, an RTP
# capture of them for SIPp) and measures recordings: length, rms level, the
# stretches of steady tone with their frequency and level, and the SNR of a
# recording against what was sent.
#
# Levels: the library's tones are -13 dBm0, a sine of peak 5102, which is
# -19.2 dBFS of rms in 16-bit linear terms; the WAVs written here are
# -16 dBFS.

WAVTOOL=$PEERS_DIR/wavtool.py
TONE_DBFS=-19.2

# wav_check NAME-OF-LOG ARGS...: wavtool.py ARGS; its line is the reason on
# failure and is kept in $WORK/NAME-OF-LOG for the group's logs either way.
wav_check() {
    local log=$WORK/$1 out
    shift
    out=$("$PYTHON" "$WAVTOOL" "$@" 2>&1)
    local rc=$?
    printf '%s\n' "$out" >>"$log"
    group_logs "$log"
    [ $rc = 0 ] && return 0
    WHY=$out
    return 1
}

# bs_recording DIR dec|enc: baresip's recording of the one call in DIR.
bs_recording() {
    local f found=""
    # the names are timestamps: the last in glob order is the newest
    for f in "$1"/dump-*-"$2".wav; do [ -f "$f" ] && found=$f; done
    printf '%s\n' "${found:-$1/no-recording-$2.wav}"
}

# wav_exists FILE: a recording was written.
wav_exists() {
    [ -s "$1" ] && return 0
    WHY="no recording $1"
    return 1
}

# bs_before NAME EVENT1 EVENT2: baresip reported EVENT1 before EVENT2.
bs_before() {
    local a b
    a=$(grep -nE "^event $2( |$)" "$WORK/bs-$1.ev" | head -n 1 | cut -d: -f1)
    b=$(grep -nE "^event $3( |$)" "$WORK/bs-$1.ev" | head -n 1 | cut -d: -f1)
    if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then return 0; fi
    WHY="$2 at line ${a:-none}, $3 at line ${b:-none} of bs-$1.ev"
    return 1
}

# bs_digits NAME DIGITS SECONDS: baresip NAME reports exactly DIGITS
# (CALL_DTMF_START, in order) within SECONDS.
bs_digits() {
    local got
    bs_event "$1" CALL_DTMF_START "${#2}" "$3"
    got=$(grep -E '^event CALL_DTMF_START ' "$WORK/bs-$1.ev" | sed 's/.*param=//' | tr -d '\n')
    [ "$got" = "$2" ] && return 0
    WHY="baresip heard \"$got\", not \"$2\""
    return 1
}

# bs_dtmf_ends NAME N: baresip NAME reported CALL_DTMF_END N times.
bs_dtmf_ends() {
    local n
    n=$(bs_count "$1" '^event CALL_DTMF_END( |$)')
    [ "$n" -ge "$2" ] && return 0
    WHY="CALL_DTMF_END $n times (CALL_DTMF_START: $(grep -E '^event CALL_DTMF_START ' \
        "$WORK/bs-$1.ev" | sed 's/.*param=//' | tr '\n' ' '))"
    return 1
}

# bs_183_with_sdp NAME: baresip's SIP trace has a 183 whose body is SDP.
bs_183_with_sdp() {
    if tr -d '\r' <"$WORK/bs-$1.log" | awk '
        /^SIP\/2\.0 183 / { in183 = 1; next }
        in183 && /^(SIP\/2\.0 |[A-Z]+ sip:)/ { in183 = 0 }
        in183 && tolower($0) ~ /^content-type: *application\/sdp/ { ct = 1 }
        in183 && /^m=audio / { m = 1 }
        END { exit !(ct && m) }'; then
        return 0
    fi
    WHY="no 183 with Content-Type application/sdp and an m=audio line in baresip's trace"
    return 1
}

# ------------------------------------------------------------ groups

# The script calls baresip (auto answer) and plays a tone, then a 44.1 kHz
# stereo WAV, while it records baresip's microphone (ausine, 440 Hz).
group_media_play_to_baresip() {
    local tag=media-call ua_port rtp rec=$WORK/bs-mbob-rec dec enc level
    local names=("ua:call returns a confirmed call, PCMU with telephone-event negotiated"
        "call:play(sip.tone{1000 Hz, on=2, off=0.2}) returns true after 2.2 s"
        "call:play(file) returns true once the file has played"
        "call:record(path, {max=3}) returns 3 (seconds) while baresip talks"
        "after a pause, call:play(sip.tone{600 Hz, on=0.5}) returns true after 0.5 s"
        "call:stats() counts the packets sent and received"
        "call:hangup() ends the call, end_reason \"local\"" "SIP flow")
    local mine=("baresip: CALL_ESTABLISHED, CALL_RTPESTAB"
        "baresip: CALL_CLOSED when the script hangs up"
        "baresip records 1000 Hz for 2 s at $TONE_DBFS dBFS, then 440 Hz for 1.5 s at -16 dBFS"
        "after a pause baresip records the 600 Hz tone whole: 0.5 s at $TONE_DBFS dBFS"
        "the script's recording: 3 s of 440 Hz at the level baresip sent")
    group_begin "media: luasip plays a tone and a file to baresip"
    "$PYTHON" "$WAVTOOL" tone "$WORK/$tag-440.wav" 440 1.5 --rate 44100 --channels 2 --dbfs -16
    pick_ports ua_port
    pick_ports rtp 20
    if BS_REC_DIR=$rec bs_start mbob "<sip:bob@127.0.0.1>;regint=0;answermode=auto"; then
        lua_start media_call "$tag" 30 UA_PORT="$ua_port" RTP_PORTS="$rtp-$((rtp + 19))" \
            TARGET="sip:bob@127.0.0.1:${BS_PORT[mbob]}" PLAY_FILE="$WORK/$tag-440.wav" \
            FILE_SECONDS=1.5 REC_FILE="$WORK/$tag.wav"
        BS_SCRIPT_PID=$LUA_PID
        check "${mine[0]}" eval 'bs_event mbob CALL_ESTABLISHED 1 8 &&
            bs_event mbob CALL_RTPESTAB 1 3'
        check "${mine[1]}" eval 'bs_event mbob CALL_CLOSED 1 15 &&
            bs_closed_with mbob 1 "Connection reset by peer"'
        lua_wait "$tag" 20
        BS_SCRIPT_PID=""
    else
        bs_fail_all "$WHY" "${mine[@]:0:2}"
        LUA_RC=""
    fi
    # quit closes what sndfile still holds open
    bs_stop mbob
    dec=$(bs_recording "$rec" dec)
    enc=$(bs_recording "$rec" enc)
    check "${mine[2]}" eval 'wav_exists "$dec" && wav_check media-call.measures expect "$dec" \
        --tone 1000:1.95:2.05:$TONE_DBFS --tone 440:1.45:1.55:-16 --order --tol-db 1'
    # The silence after a sound is what makes baresip's jitter buffer give
    # out the sound's last packets; after a pause of more than a second the
    # library sends none.
    check "${mine[3]}" eval 'wav_exists "$dec" && wav_check media-call.measures expect "$dec" \
        --tone 600:0.45:0.55:$TONE_DBFS --tol-db 1'
    # What baresip sent, by its own recording (-enc.wav), is the reference.
    level=$("$PYTHON" "$WAVTOOL" info "$enc" 2>/dev/null | sed -n 's/.*rms \(-*[0-9.]*\) dBFS.*/\1/p')
    check "${mine[4]}" eval 'wav_exists "$WORK/$tag.wav" && [ -n "$level" ] &&
        wav_check media-call.measures expect "$WORK/$tag.wav" --duration 2.99:3.01 \
            --tone 440:2.9:3.01:$level --tol-db 1'
    if [ -n "$LUA_RC" ]; then
        script_results "$WORK/$tag.out" "$LUA_RC" "${names[@]}"
    else
        bs_fail_all "script not run: $WHY" "${names[@]}"
    fi
    group_end
}

# SIPp's uac_pcap calls the script: 7 s of PCMA (g711a.pcap), then digit 1
# as telephone-events (dtmf_2833_1.pcap), then BYE.  The recording must be
# that audio, sample for sample once decoded.
group_media_sipp_pcap() {
    local tag=media-pcap ua_port rtp uac_port run=$WORK/media-pcap-run
    group_begin "media: sipp uac_pcap -> luasip (record, RFC 2833 digit)"
    pick_ports ua_port
    pick_ports uac_port
    pick_ports rtp 20
    mkdir -p "$run"
    ln -sfn /usr/share/sip-tester "$run/pcap"
    "$PYTHON" "$WAVTOOL" rtpaudio /usr/share/sip-tester/g711a.pcap "$WORK/$tag-sent.wav"
    lua_start media_answer "$tag" 30 MODE=pcap UA_PORT="$ua_port" RTP_PORTS="$rtp-$((rtp + 19))" \
        REC_FILE="$WORK/$tag.wav" WAIT=10
    if lua_ready "$tag" 5; then
        # uac_pcap finds its captures under ./pcap
        SIPP_CWD=$run sipp_run "$tag-sipp" "127.0.0.1:$ua_port" -sn uac_pcap -s bob \
            -p "$uac_port" -m 1 -timeout 20s -timeout_error
        check "SIPp's uac_pcap call succeeds" sipp_ok
    else
        fail "SIPp's uac_pcap call succeeds" "$WHY"
    fi
    lua_wait "$tag" 15
    # as long as the call from SIPp's first packet to its BYE, with the 7 s
    # of the capture in it (the comparison below finds them)
    check "the recording lasts 8.5-9.3 s and is not silence" eval 'wav_exists "$WORK/$tag.wav" &&
        wav_check media-pcap.measures expect "$WORK/$tag.wav" --duration 8.5:9.3 --rms-min -40'
    check "the recording is g711a.pcap's audio (SNR 30 dB and more)" eval \
        'wav_exists "$WORK/$tag.wav" &&
        wav_check media-pcap.measures compare "$WORK/$tag-sent.wav" "$WORK/$tag.wav" --snr-min 30'
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "call:answer() returns true, PCMA negotiated with telephone-event 101" \
        "call:record(path, {max=12}) returns nil, \"hangup\", 8.5-9.3 (s) at SIPp's BYE" \
        "call:collect{max=1} returns \"1\" (RFC 2833) 7.5-9 s after the answer" \
        "call:on(\"dtmf\") hears \"1\" once, with the call" \
        "call:stats() counts SIPp's packets: at least 236 received, none lost" \
        "call:wait() returns \"hangup\" right after call:record returned" \
        "SIP flow"
    group_end
}

# baresip calls the script and sends "1234#" (sndcode: telephone-events);
# the script collects them and sends "9*" back.
group_media_sndcode() {
    local tag=media-sndcode ua_port rtp
    local mine=("baresip dials the script: CALL_ESTABLISHED"
        "baresip sends sndcode 1234# while the script collects"
        "baresip hears the script's digits 9, then * (CALL_DTMF_START)"
        "baresip: CALL_CLOSED when the script hangs up"
        "baresip hears the end of both digits (CALL_DTMF_END twice) before the BYE")
    group_begin "media: baresip sndcode -> luasip collect, luasip send_dtmf -> baresip"
    pick_ports ua_port
    pick_ports rtp 20
    lua_start media_answer "$tag" 30 MODE=sndcode UA_PORT="$ua_port" \
        RTP_PORTS="$rtp-$((rtp + 19))" WAIT=10
    if bs_start malice "<sip:alice@127.0.0.1>;regint=0;answermode=manual" &&
        lua_ready "$tag" 5; then
        BS_SCRIPT_PID=$LUA_PID
        check "${mine[0]}" eval 'bs_do malice 5 dial "sip:bob@127.0.0.1:$ua_port" &&
            bs_event malice CALL_ESTABLISHED 1 5'
        if lua_step "$tag" collecting 5; then
            check "${mine[1]}" bs_do malice 5 sndcode "1234#"
        else
            fail "${mine[1]}" "the script never said it collects"
        fi
        check "${mine[2]}" bs_digits malice "9*" 8
        check "${mine[3]}" eval 'bs_event malice CALL_CLOSED 1 10 &&
            bs_closed_with malice 1 "Connection reset by peer"'
        # Each digit ends with three end packets (RFC 4733 2.5.1.4); baresip
        # reports CALL_DTMF_END once it has taken one out of its jitter
        # buffer, which gives a packet out when the next one comes in.
        check "${mine[4]}" bs_dtmf_ends malice 2
        BS_SCRIPT_PID=""
    else
        bs_fail_all "$WHY" "${mine[@]}"
    fi
    bs_stop malice
    lua_wait "$tag" 15
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "call:answer() returns true, PCMU negotiated with telephone-event 101" \
        "call:collect{max=10, terminators=\"#\"} returns \"1234\"" \
        "call:on(\"dtmf\") hears 1, 2, 3, 4, # in order" \
        "call:send_dtmf(\"9*\") returns true at once" \
        "call:hangup() ends the call, end_reason \"local\"" \
        "SIP flow"
    group_end
}

# The SIPp caller of the in-band group: PCMU only, no telephone-event, so
# that the digits can only come as tones; it plays PCAP after the ACK.
media_inband_scenario() {
    cat <<XML
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="caller with in-band DTMF">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[local_ip_type] [local_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" crlf="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop>
    <action>
      <exec play_pcap_audio="$1"/>
    </action>
  </nop>
  <pause milliseconds="2500"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
XML
}

# SIPp (PCMU, no telephone-event) plays the keypad tones of "159#", 100 ms
# each, 100 ms apart; the script collects them in-band and records.  The
# recording runs from the answer to SIPp's BYE, 2.5 s after its ACK, and
# must hold all 1.7 s that SIPp sent.
INBAND_SECONDS=2.3:2.9
group_media_inband() {
    local tag=media-inband ua_port rtp uac_port
    group_begin "media: in-band DTMF (sipp plays keypad tones) -> luasip collect"
    pick_ports ua_port
    pick_ports uac_port
    pick_ports rtp 20
    group_logs "$WORK/$tag.audio"
    if ! { "$PYTHON" "$WAVTOOL" keypad "$WORK/$tag-keypad.wav" "159#" --on 0.1 --off 0.1 \
        --lead 0.5 --tail 0.5 --dbfs -16 &&
        "$PYTHON" "$WAVTOOL" pcap "$WORK/$tag-keypad.pcap" "$WORK/$tag-keypad.wav" --pt 0 &&
        "$PYTHON" "$WAVTOOL" rtpaudio "$WORK/$tag-keypad.pcap" "$WORK/$tag-sent.wav"; } \
        >"$WORK/$tag.audio" 2>&1; then
        fail "wavtool.py writes the keypad tones and their capture" "$(tail -n 1 "$WORK/$tag.audio")"
    fi
    media_inband_scenario "$WORK/$tag-keypad.pcap" >"$WORK/$tag.xml"
    lua_start media_answer "$tag" 30 MODE=inband UA_PORT="$ua_port" \
        RTP_PORTS="$rtp-$((rtp + 19))" REC_FILE="$WORK/$tag.wav" WAIT=10 \
        REC_SECONDS="$INBAND_SECONDS"
    if lua_ready "$tag" 5; then
        sipp_run "$tag-sipp" "127.0.0.1:$ua_port" -sf "$WORK/$tag.xml" -s bob -p "$uac_port" \
            -m 1 -timeout 15s -timeout_error
        check "SIPp's call with keypad tones succeeds" sipp_ok
    else
        fail "SIPp's call with keypad tones succeeds" "$WHY"
    fi
    lua_wait "$tag" 15
    check "the recording lasts ${INBAND_SECONDS/:/-} s and holds all 1.7 s of keypad tones SIPp sent (SNR 30 dB and more)" eval \
        'wav_exists "$WORK/$tag.wav" &&
        wav_check media-inband.measures compare "$WORK/$tag-sent.wav" "$WORK/$tag.wav" \
            --snr-min 30 --duration "$INBAND_SECONDS"'
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "call:answer() returns true, PCMU negotiated without telephone-event" \
        "call:collect{max=10, terminators=\"#\"} returns \"159\" from in-band tones" \
        "call:on(\"dtmf\") hears 1, 5, 9, # once each" \
        "call:wait() returns \"hangup\"" \
        "call:record returns nil, \"hangup\", ${INBAND_SECONDS/:/-} (s) at SIPp's BYE" \
        "SIP flow"
    group_end
}

# Coloured ringback: baresip calls, the script sends 183 with SDP, plays
# 800 Hz for 2 s, answers, plays 1200 Hz for 1 s and hangs up.  baresip must
# have had the 183 with SDP and RTP before the 200, and record both tones.
group_media_ringback() {
    local tag=media-ringback ua_port rtp rec=$WORK/bs-mring-rec dec
    local mine=("baresip dials the script: CALL_PROGRESS, then CALL_ESTABLISHED"
        "baresip gets a 183 with SDP"
        "baresip's RTP is up (CALL_RTPESTAB) before the 200 (CALL_ESTABLISHED)"
        "baresip: CALL_CLOSED when the script hangs up"
        "baresip records 800 Hz for 2 s (early media), then 1200 Hz for 1 s, at $TONE_DBFS dBFS")
    group_begin "media: coloured ringback (183, early media, then 200) to baresip"
    pick_ports ua_port
    pick_ports rtp 20
    lua_start media_answer "$tag" 30 MODE=ringback UA_PORT="$ua_port" \
        RTP_PORTS="$rtp-$((rtp + 19))" WAIT=10
    if BS_REC_DIR=$rec bs_start mring "<sip:alice@127.0.0.1>;regint=0;answermode=manual" &&
        lua_ready "$tag" 5; then
        BS_SCRIPT_PID=$LUA_PID
        check "${mine[0]}" eval 'bs_do mring 5 dial "sip:bob@127.0.0.1:$ua_port" &&
            bs_event mring CALL_PROGRESS 1 5 && bs_event mring CALL_ESTABLISHED 1 8 &&
            bs_before mring CALL_PROGRESS CALL_ESTABLISHED'
        check "${mine[1]}" bs_183_with_sdp mring
        check "${mine[2]}" bs_before mring CALL_RTPESTAB CALL_ESTABLISHED
        check "${mine[3]}" eval 'bs_event mring CALL_CLOSED 1 10 &&
            bs_closed_with mring 1 "Connection reset by peer"'
        BS_SCRIPT_PID=""
    else
        bs_fail_all "$WHY" "${mine[@]:0:4}"
    fi
    bs_stop mring
    dec=$(bs_recording "$rec" dec)
    check "${mine[4]}" eval 'wav_exists "$dec" && wav_check media-ringback.measures expect "$dec" \
        --tone 800:1.9:2.05:$TONE_DBFS --tone 1200:0.95:1.05:$TONE_DBFS --order --tol-db 1'
    lua_wait "$tag" 15
    script_results "$WORK/$tag.out" "$LUA_RC" \
        "call:progress(), then call:play(tone) returns true after 2 s, unanswered" \
        "RTP went out before the answer: 95 packets and more in 2 s" \
        "call:answer() returns true, PCMU negotiated with telephone-event 101" \
        "call:play(tone) after the answer returns true after 1 s" \
        "the 183 carries an SDP answer (PCMU, telephone-event), the 200 the same" \
        "SIP flow"
    group_end
}

# wav_refused LOG ARGS...: wavtool.py ARGS fails, and says why.
wav_refused() {
    local log=$WORK/$1 out rc
    shift
    out=$("$PYTHON" "$WAVTOOL" "$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" >>"$log"
    group_logs "$log"
    [ $rc = 1 ] && [[ $out == FAIL:* ]] && return 0
    WHY="exit status $rc: $out"
    return 1
}

# The comparison the recordings are held to, on recordings known to be
# good or broken: the keypad tones of the in-band group against the same
# tones with 0.15 s more silence on either side (as a recording would have
# them), that cut short, or missing the reference's last 0.4 s (silence),
# or of another length than asked.
group_media_wavtool() {
    local dir=$WORK/wavtool ref long log=wavtool.measures
    group_begin "peers: wavtool.py compare"
    mkdir -p "$dir"
    ref=$dir/keypad.wav
    long=$dir/keypad-padded.wav
    "$PYTHON" "$WAVTOOL" keypad "$ref" "159#" --on 0.1 --off 0.1 --lead 0.5 --tail 0.5 \
        --dbfs -16 >"$dir/out" 2>&1
    "$PYTHON" "$WAVTOOL" keypad "$long" "159#" --on 0.1 --off 0.1 --lead 0.65 --tail 0.65 \
        --dbfs -16 >>"$dir/out" 2>&1
    "$PYTHON" "$WAVTOOL" cut "$long" "$dir/first-0.75.wav" 0 0.75 >>"$dir/out" 2>&1
    "$PYTHON" "$WAVTOOL" cut "$long" "$dir/short-tail.wav" 0 1.45 >>"$dir/out" 2>&1
    group_logs "$dir/out"
    check "a recording that holds the reference whole passes (2 s against 1.7 s)" \
        wav_check "$log" compare "$ref" "$long" --snr-min 30 --duration 1.9:2.1
    check "a recording cut to its first 0.75 s fails" \
        wav_refused "$log" compare "$ref" "$dir/first-0.75.wav" --snr-min 30
    check "a recording without the reference's last 0.4 s (silence) fails" \
        wav_refused "$log" compare "$ref" "$dir/short-tail.wav" --snr-min 30
    check "a whole recording of another length than --duration fails" \
        wav_refused "$log" compare "$ref" "$long" --snr-min 30 --duration 2.3:2.9
    group_end
}

CALL_GROUPS+=(
    "group_media_wavtool"
    "group_media_play_to_baresip"
    "group_media_sipp_pcap"
    "group_media_sndcode"
    "group_media_inband"
    "group_media_ringback"
)
