#!/usr/bin/env bash
# Writes a baresip 1.0.0 configuration directory for the interop tests:
# no sound card, no terminal, loopback only, controlled over ctrl_tcp.
#
#   profile.sh DIR SIP_PORT CTRL_PORT RTP_FIRST RTP_LAST ACCOUNT
#
#   DIR        created if needed; start baresip with `baresip -f DIR`
#   SIP_PORT   UDP and TCP on 127.0.0.1.  baresip also takes SIP_PORT+1 for
#              TLS, so the caller must keep that port free as well.
#   CTRL_PORT  ctrl_tcp on 127.0.0.1 (tests/peers/baresip/ctrl.py talks to it)
#   RTP_FIRST, RTP_LAST   the RTP/RTCP port range on 127.0.0.1
#   ACCOUNT    the one line of the accounts file, for instance
#              '<sip:alice@127.0.0.1>;regint=0;answermode=manual'
#
# Optional, from the environment (the media tests use them):
#   BS_AUDIO_FILE  a WAV (8 kHz mono 16-bit) as the microphone (aufile),
#                  instead of the endless 440 Hz tone.  baresip hangs up
#                  when the file ends, so make it longer than the call.
#   BS_REC_DIR     record what baresip receives (and sends) there with the
#                  sndfile module: dump-<time>-dec.wav and -enc.wav
set -eu
if [ $# -ne 6 ]; then
    sed -n '2,21p' "$0" >&2
    exit 2
fi
dir=$1 sip_port=$2 ctrl_port=$3 rtp_first=$4 rtp_last=$5 account=$6
mkdir -p "$dir"

# The microphone is ausine: an endless tone, so a call never ends because a
# file ran out (aufile hangs up at its end).  ausine makes 48 kHz stereo only;
# baresip converts it for G.711.  What baresip receives goes to aubridge,
# which throws it away (after sndfile has recorded it, with BS_REC_DIR).
# Without net_interface baresip would put the host's external address in its
# SDP; dns_server keeps any stray lookup on loopback (tests use IP literals).
# No stdio module: stdin is /dev/null and epoll refuses it.
source="audio_source		ausine,440
ausrc_srate		48000
ausrc_channels		2"
modules="module			ausine.so"
if [ -n "${BS_AUDIO_FILE:-}" ]; then
    # aufile does not resample: G.711 wants the file at 8 kHz mono already.
    source="audio_source		aufile,$BS_AUDIO_FILE"
    modules="module			aufile.so"
fi
recording=""
if [ -n "${BS_REC_DIR:-}" ]; then
    mkdir -p "$BS_REC_DIR"
    modules="$modules
module			sndfile.so"
    recording="snd_path		$BS_REC_DIR"
fi

cat >"$dir/config" <<CONFIG
poll_method		epoll
sip_listen		127.0.0.1:$sip_port
net_interface		127.0.0.1
dns_server		127.0.0.1:53
call_max_calls		4

$source
audio_player		aubridge,nil
audio_alert		aubridge,nil
audio_level		no

rtp_ports		$rtp_first-$rtp_last
rtcp_mux		no
rtp_stats		no

module_path		/usr/lib/baresip/modules
module			g711.so
$modules
module			aubridge.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so

ctrl_tcp_listen		127.0.0.1:$ctrl_port
ringback_disabled	yes
statmode_default	off
$recording
CONFIG
printf '%s\n' "$account" >"$dir/accounts"
