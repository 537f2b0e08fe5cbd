# shellcheck shell=bash disable=SC2016,SC2034
# (check conditions go through eval, so single quotes and variables used
# only there are meant)
# Blind transfer (RFC 3515, RFC 5589) between the library and baresip 1.0.0,
# both ways, audio checked by content.  Sourced by run.sh; at run time the
# groups use the baresip helpers of calls_baresip.sh and the recording checks
# of calls_media.sh.  Every role is a process of its own:
# tests/interop/transfer.lua in MODE transferor, transferee or target.

XFER_TALK=3     # seconds the target talks before it hangs up
XFER_TONE=600   # Hz the target plays (group 1)
XFER_SENT=900   # Hz the transferee plays to the target (group 2)

# xfer_target TAG PORT RTP FROM_USER VAR=VALUE...: transfer.lua as the
# target, in the background (pid in XFER_TARGET_PID); true once it listens.
xfer_target() {
    local tag=$1 port=$2 rtp=$3 from=$4
    shift 4
    lua_start transfer "$tag" 30 MODE=target UA_PORT="$port" RTP_PORTS="$rtp-$((rtp + 19))" \
        FROM_USER="$from" TALK="$XFER_TALK" "$@"
    XFER_TARGET_PID=$LUA_PID
    lua_ready "$tag" 5
}

# The script (alice) calls baresip (bob, auto answer) and transfers it to
# the target (carol, another script), who plays XFER_TONE and hangs up after
# XFER_TALK seconds.  baresip 1.0.0 answers the REFER 202 and NOTIFYs
# "100 Trying", then "200 OK" at once, before its INVITE to carol has gone
# out (so call:transfer returns true whatever carol does), and calls carol
# without Referred-By; our call ends with our BYE.  baresip's recording of
# its second call (sndfile, what it receives) must hold carol's tone.
group_transfer_luasip_transfers_baresip() {
    local tag=xfer-out rec=$WORK/bs-xfer-out-rec ua_port carol_port rtp carol_rtp dec
    local out_pid="" target_pid="" out_rc="" target_rc=""
    local names=("ua:call reaches baresip" "call:transfer(target) returns true"
        "the REFER carries Refer-To (the target) and Referred-By (us)"
        "baresip accepts the REFER (202) and its final NOTIFY says 200"
        "our call with baresip ends (BYE answered 200)")
    local carol=("the transferred call reaches the target" "the call to the target comes from the transferee"
        "the target answers and hangs up after talking")
    local mine=("baresip: CALL_ESTABLISHED with the script, TRANSFER to the target, CALL_ESTABLISHED with it"
        "baresip: both calls CALL_CLOSED (the script's BYE, then the target's)"
        "baresip records the target's $XFER_TONE Hz on the new call")
    group_begin "transfer: luasip transfers baresip to a luasip target"
    XFER_TARGET_PID=""
    pick_ports ua_port
    pick_ports carol_port
    pick_ports rtp 20
    pick_ports carol_rtp 20
    if BS_REC_DIR=$rec bs_start xbob "<sip:bob@127.0.0.1>;regint=0;answermode=auto" &&
        xfer_target "$tag-carol" "$carol_port" "$carol_rtp" bob TONE="$XFER_TONE"; then
        target_pid=$XFER_TARGET_PID
        lua_start transfer "$tag" 30 MODE=transferor UA_PORT="$ua_port" \
            RTP_PORTS="$rtp-$((rtp + 19))" TARGET="sip:bob@127.0.0.1:${BS_PORT[xbob]}" \
            TRANSFER_TO="sip:carol@127.0.0.1:$carol_port"
        out_pid=$LUA_PID
        check "${mine[0]}" eval 'bs_event xbob CALL_ESTABLISHED 1 8 &&
            bs_event xbob TRANSFER 1 8 "<sip:carol@127.0.0.1:$carol_port>" &&
            bs_event xbob CALL_ESTABLISHED 1 8 "sip:carol@127.0.0.1:$carol_port"'
        check "${mine[1]}" bs_event xbob CALL_CLOSED 2 $((XFER_TALK + 8))
        LUA_PID=$out_pid
        lua_wait "$tag" 15
        out_rc=$LUA_RC
        LUA_PID=$target_pid
        lua_wait "$tag-carol" 10
        target_rc=$LUA_RC
    else
        bs_fail_all "$WHY" "${mine[0]}" "${mine[1]}"
        [ -n "${XFER_TARGET_PID:-}" ] && stop_pid "$XFER_TARGET_PID" 2
    fi
    # quit closes what sndfile still holds open
    bs_stop xbob
    if [ -n "$out_rc" ]; then
        dec=$(bs_recording "$rec" dec)
        check "${mine[2]}" eval 'wav_exists "$dec" && wav_check $tag.measures expect "$dec" \
            --tone "$XFER_TONE:$((XFER_TALK - 1)).5:$XFER_TALK.5"'
        script_results "$WORK/$tag.out" "$out_rc" "${names[@]}"
        script_results "$WORK/$tag-carol.out" "$target_rc" "${carol[@]}"
    else
        bs_fail_all "script not run: $WHY" "${mine[2]}" "${names[@]}" "${carol[@]}"
    fi
    group_end
}

# baresip (alice) calls the script (bob, the transferee), which answers;
# baresip's `transfer` command REFERs bob to carol (another script), with
# no Referred-By in 1.0.0.  bob follows it by itself: calls carol, NOTIFYs
# baresip (which then hangs up, "Call transfered"), and
# call:wait() gives "transferred" and the new call, on which bob plays
# XFER_SENT.  carol records what comes and hangs up after XFER_TALK
# seconds: only bob's tone, for the whole call (baresip's 440 Hz is not in
# it), shows that the new call runs between bob and carol alone.
group_transfer_baresip_transfers_luasip() {
    local tag=xfer-in ua_port carol_port rtp carol_rtp wav=$WORK/xfer-in-carol.wav
    local in_pid="" target_pid="" in_rc="" target_rc=""
    local names=("baresip's call reaches the script"
        "baresip's REFER reaches call:on(\"refer\") with its Refer-To"
        "call:wait() returns \"transferred\" and the new call" "the new call is up to the target"
        "the INVITE to the target carries the REFER's Referred-By (or none, as it had none)"
        "the NOTIFYs to baresip say 100, then the target's 200"
        "the old call ends with one BYE, answered 200" "the target hangs up the new call")
    local carol=("the transferred call reaches the target" "the call to the target comes from the transferee"
        "the target answers and hangs up after talking" "the target records the call")
    local mine=("baresip dials the script and is answered (CALL_ESTABLISHED)"
        "baresip's transfer command is taken (ok)"
        "baresip's call closes once the transfer succeeded (CALL_CLOSED \"Call transfered\")"
        "the target records the script's $XFER_SENT Hz for the whole call, nothing of baresip")
    group_begin "transfer: baresip transfers luasip to a luasip target"
    XFER_TARGET_PID=""
    pick_ports ua_port
    pick_ports carol_port
    pick_ports rtp 20
    pick_ports carol_rtp 20
    if bs_start xalice "<sip:alice@127.0.0.1>;regint=0;answermode=manual" &&
        xfer_target "$tag-carol" "$carol_port" "$carol_rtp" bob REC_FILE="$wav"; then
        target_pid=$XFER_TARGET_PID
        lua_start transfer "$tag" 30 MODE=transferee UA_PORT="$ua_port" \
            RTP_PORTS="$rtp-$((rtp + 19))" TRANSFER_TO="sip:carol@127.0.0.1:$carol_port" \
            TONE="$XFER_SENT"
        in_pid=$LUA_PID
        lua_ready "$tag" 5
        check "${mine[0]}" eval 'bs_do xalice 5 dial "sip:bob@127.0.0.1:$ua_port" &&
            bs_event xalice CALL_ESTABLISHED 1 5'
        sleep 1
        check "${mine[1]}" bs_do xalice 5 transfer "sip:carol@127.0.0.1:$carol_port"
        check "${mine[2]}" eval 'bs_event xalice CALL_CLOSED 1 8 &&
            bs_closed_with xalice 1 "Call transfered"'
        LUA_PID=$in_pid
        lua_wait "$tag" $((XFER_TALK + 15))
        in_rc=$LUA_RC
        LUA_PID=$target_pid
        lua_wait "$tag-carol" 10
        target_rc=$LUA_RC
    else
        bs_fail_all "$WHY" "${mine[0]}" "${mine[1]}" "${mine[2]}"
        [ -n "${XFER_TARGET_PID:-}" ] && stop_pid "$XFER_TARGET_PID" 2
    fi
    bs_stop xalice
    if [ -n "$in_rc" ]; then
        check "${mine[3]}" eval 'wav_exists "$wav" && wav_check $tag.measures expect "$wav" \
            --duration "$((XFER_TALK - 1)).5:$XFER_TALK.5" \
            --tone "$XFER_SENT:$((XFER_TALK - 1)).5:$XFER_TALK.5"'
        script_results "$WORK/$tag.out" "$in_rc" "${names[@]}"
        script_results "$WORK/$tag-carol.out" "$target_rc" "${carol[@]}"
    else
        bs_fail_all "script not run: $WHY" "${mine[3]}" "${names[@]}" "${carol[@]}"
    fi
    group_end
}

CALL_GROUPS+=(
    "group_transfer_luasip_transfers_baresip"
    "group_transfer_baresip_transfers_luasip"
)
