#!/usr/bin/env python3
"""Test audio for the media interop tests: writes tones, keypad (DTMF) tones
and RTP captures, and measures WAV files.  Standard library only.

    wavtool.py tone OUT FREQ SECONDS [--rate R] [--channels N] [--dbfs L]
        a sine (16-bit PCM); several frequencies as F1+F2
    wavtool.py keypad OUT DIGITS [--on S] [--off S] [--lead S] [--tail S]
                      [--dbfs L] [--rate R]
        DIGITS as dual tones (ITU-T Q.23): each ON seconds, OFF seconds apart,
        after LEAD and before TAIL seconds of silence
    wavtool.py pcap OUT WAV [--pt 0|8]
        the WAV (8 kHz mono 16-bit) as RTP in a pcap file, 20 ms packets of
        PCMU (pt 0) or PCMA (pt 8), for SIPp's play_pcap_audio
    wavtool.py rtpaudio PCAP OUT
        the G.711 audio (RTP pt 0 or 8) of a pcap file (Ethernet, IPv4, UDP),
        decoded into OUT as 8 kHz mono: what a receiver should record
    wavtool.py compare REF WAV [--snr-min DB] [--max-shift S]
                      [--duration MIN:MAX] [--max-missing S]
        WAV against REF, aligned (WAV may start up to S seconds, default
        0.2, later or earlier): the signal-to-noise ratio over the whole of
        REF, where a part of REF that WAV does not hold counts as error, and
        their lengths.  Exit 1 when the SNR is below DB (default 30), when
        WAV does not hold REF whole (more than --max-missing seconds of it,
        default 0.02, lie before WAV's start or after its end) or, with
        --duration, when WAV does not last MIN..MAX seconds.
    wavtool.py cut WAV OUT START END
        the part of WAV from START to END seconds, into OUT (to try compare
        on a truncated recording)
    wavtool.py info WAV
        one line: rate, seconds, rms (dBFS)
    wavtool.py segments WAV [--floor L] [--min S]
        one line per stretch of steady tone: start, end, seconds, frequency
        (Hz, refined), level (dBFS); frames quieter than L dBFS (default -45)
        end a stretch, stretches shorter than S seconds (default 0.05) are
        left out.  The frequency is the strongest one; a dual tone shows as
        F1+F2.
    wavtool.py expect WAV [--duration MIN:MAX] [--rms-min L]
                      [--tone FREQ:MIN:MAX[:LEVEL]] ... [--tol-hz H]
                      [--tol-db D] [--order]
        checks: the file lasts MIN..MAX seconds; its rms is at least L dBFS;
        for each --tone, one stretch at FREQ (within H Hz, default 4) that
        lasts MIN..MAX seconds and whose level is LEVEL dBFS (within D dB,
        default 1.5); with --order the tones come in the order given (a
        tone listed twice: two stretches of it).  Prints
        "ok" and the measures, or "FAIL: why" and the measures; exit 0 or 1.

A WAV is read whatever its rate; stereo is mixed down.  Levels are dBFS of
the rms: a full-scale sine is -3.01 dBFS.
"""
import argparse
import cmath
import math
import struct
import sys
import wave

FULL = 32768.0

# ITU-T Q.23 keypad frequencies.
KEYPAD = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}


def dbfs(rms):
    return 20 * math.log10(rms / FULL) if rms > 0 else -200.0


def write_wav(path, samples, rate, channels=1):
    frames = bytearray()
    for s in samples:
        v = max(-32768, min(32767, int(round(s))))
        frames += struct.pack("<h", v) * channels
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def read_frames(path):
    """(rate, channels, raw 16-bit frames)."""
    with wave.open(path, "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise SystemExit("%s: only 16-bit PCM is read" % path)
    return rate, channels, raw


def read_wav(path):
    """(rate, mono samples as floats)."""
    rate, channels, raw = read_frames(path)
    values = struct.unpack("<%dh" % (len(raw) // 2), raw)
    if channels == 1:
        return rate, [float(v) for v in values]
    return rate, [sum(values[i:i + channels]) / channels
                  for i in range(0, len(values), channels)]


def amplitude(level_dbfs, n):
    # The rms of a sum of n sines of peak a is a*sqrt(n/2).
    return FULL * 10 ** (level_dbfs / 20) * math.sqrt(2.0 / n)


def sines(freqs, seconds, rate, level_dbfs):
    a = amplitude(level_dbfs, len(freqs))
    n = int(round(seconds * rate))
    return [a * sum(math.sin(2 * math.pi * f * i / rate) for f in freqs) for i in range(n)]


# ------------------------------------------------------------ G.711

def ulaw(sample):
    """ITU-T G.711 mu-law of a 16-bit linear sample."""
    s = int(sample) >> 2          # 14-bit
    sign = 0x00 if s >= 0 else 0x80   # inverted below: 0xFF is +0
    if s < 0:
        s = -s
    s = min(s + 33, 8191)
    exp = 0
    while exp < 7 and s >= (64 << exp):
        exp += 1
    mant = (s >> (exp + 1)) & 0x0F
    return (~(sign | (exp << 4) | mant)) & 0xFF


def alaw(sample):
    """ITU-T G.711 A-law of a 16-bit linear sample."""
    s = int(sample) >> 3          # 13-bit
    sign = 0x80 if s >= 0 else 0x00
    if s < 0:
        s = -s - 1
    if s < 32:
        code = s >> 1
    else:
        exp = 1
        while exp < 7 and s >= (32 << exp):
            exp += 1
        code = (exp << 4) | ((s >> exp) & 0x0F)
    return (sign | code) ^ 0x55


def write_pcap(path, samples, pt):
    """20 ms RTP packets in Ethernet/IPv4/UDP frames, 20 ms apart: SIPp
    replays them at the capture's pace, to the port the SDP answer gave."""
    encode = ulaw if pt == 0 else alaw
    out = open(path, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    ssrc, seq, ts = 0x4C53A7E1, 1000, 16000
    frame = 160
    t0 = 1700000000.0
    for k, start in enumerate(range(0, len(samples) - frame + 1, frame)):
        payload = bytes(encode(s) for s in samples[start:start + frame])
        rtp = struct.pack("!BBHII", 0x80, (0x80 if k == 0 else 0) | pt, seq, ts, ssrc) + payload
        udp = struct.pack("!HHHH", 40000, 40000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        csum = sum(struct.unpack("!10H", ip))
        while csum >> 16:
            csum = (csum & 0xFFFF) + (csum >> 16)
        ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
        eth = b"\x00" * 12 + b"\x08\x00" + ip + udp
        when = t0 + k * 0.02
        sec = int(when)
        out.write(struct.pack("<IIII", sec, int(round((when - sec) * 1e6)), len(eth), len(eth)))
        out.write(eth)
        seq = (seq + 1) & 0xFFFF
        ts = (ts + frame) & 0xFFFFFFFF
    out.close()


def ulaw_decode(u):
    u = ~u & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return (0x84 - t) if u & 0x80 else (t - 0x84)


def alaw_decode(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def read_rtp_audio(path):
    """Samples of the RTP G.711 packets of a pcap file, in capture order."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == 0xA1B2C3D4 else ">"
    link = struct.unpack(end + "I", data[20:24])[0]
    pos, out = 24, []
    while pos + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[pos:pos + 16])
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        off = 14 if link == 1 else 16 if link == 113 else None
        if off is None or len(frame) < off + 28 or frame[off] >> 4 != 4:
            continue
        ihl = (frame[off] & 0x0F) * 4
        if frame[off + 9] != 17:
            continue
        rtp = frame[off + ihl + 8:]
        if len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        pt = rtp[1] & 0x7F
        head = 12 + 4 * (rtp[0] & 0x0F)
        if pt == 0:
            out += [ulaw_decode(c) for c in rtp[head:]]
        elif pt == 8:
            out += [alaw_decode(c) for c in rtp[head:]]
    return out


def compare(ref, x, rate, max_shift):
    """(snr dB, shift in samples of x against ref) at the best alignment.
    The SNR is over all of ref: where x has no sample for ref[i] (it starts
    too late or ends too early), the whole of ref[i] is error, so that a
    recording that lost part of what was sent cannot score well."""
    def snr_at(k, a, b):
        # x[i + k] against ref[i], for every i in a..b-1
        sig = noise = 0.0
        for i in range(a, b):
            sig += ref[i] * ref[i]
            j = i + k
            d = (x[j] if 0 <= j < len(x) else 0.0) - ref[i]
            noise += d * d
        if sig == 0:
            return -200.0
        return 10 * math.log10(sig / noise) if noise else 200.0
    # the loudest quarter of a second of ref finds the shift; then the
    # whole is measured
    span = min(len(ref), rate // 4)
    best_start, best_e = 0, -1.0
    for start in range(0, max(1, len(ref) - span + 1), rate // 50):
        e = sum(v * v for v in ref[start:start + span:4])
        if e > best_e:
            best_start, best_e = start, e
    a, b = best_start, best_start + span
    shifts = range(-int(max_shift * rate), int(max_shift * rate) + 1)
    k = max(shifts, key=lambda k: snr_at(k, a, b))
    return snr_at(k, 0, len(ref)), k


def missing(ref_len, x_len, k):
    """Samples of ref (aligned at shift k) before the start of x, and after
    its end."""
    return max(0, -k), max(0, ref_len + k - x_len)


# ------------------------------------------------------------ analysis

def goertzel_power(x, freq, rate):
    """Power of x at freq, normalised so that a sine of rms r gives r**2."""
    w = 2 * math.pi * freq / rate
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    p = s1 * s1 + s2 * s2 - c * s1 * s2
    return 2 * p / (len(x) ** 2) if x else 0.0


def fft(a):
    n = len(a)
    if n == 1:
        return a
    even, odd = fft(a[0::2]), fft(a[1::2])
    out = [0j] * n
    for k in range(n // 2):
        t = cmath.exp(-2j * math.pi * k / n) * odd[k]
        out[k], out[k + n // 2] = even[k] + t, even[k] - t
    return out


def frame_size(rate):
    """About 32 ms (256 samples at 8 kHz: bins of 31 Hz, refined afterwards),
    a power of two for the FFT."""
    n = 1
    while n * 2 <= rate * 0.032 + 1:
        n *= 2
    return n


def frame_peaks(x, rate):
    """Per frame: (rms, [strongest bins]) where a bin is kept when it is
    within 10 dB of the strongest one and a local maximum."""
    FRAME = frame_size(rate)
    HANN = [0.5 - 0.5 * math.cos(2 * math.pi * i / FRAME) for i in range(FRAME)]
    out = []
    for start in range(0, len(x) - FRAME + 1, FRAME):
        chunk = x[start:start + FRAME]
        rms = math.sqrt(sum(v * v for v in chunk) / FRAME)
        spec = [abs(c) for c in fft([v * h for v, h in zip(chunk, HANN)])[:FRAME // 2]]
        top = max(spec[1:]) if len(spec) > 1 else 0
        peaks = []
        for k in range(2, FRAME // 2 - 1):
            if spec[k] >= top * 0.316 and spec[k] >= spec[k - 1] and spec[k] > spec[k + 1]:
                peaks.append(k)
        # neighbouring bins of one wide peak count once
        merged = []
        for k in peaks:
            if merged and k - merged[-1] <= 2:
                if spec[k] > spec[merged[-1]]:
                    merged[-1] = k
            else:
                merged.append(k)
        out.append((rms, merged[:2]))
    return out


def refine(x, rate, coarse, span):
    """The frequency within span of coarse where x has most power: a
    Goertzel scan in 2 Hz, then 0.25 Hz steps."""
    # one second in the middle is enough for 0.25 Hz and bounds the time
    if len(x) > rate:
        mid = len(x) // 2
        x = x[mid - rate // 2: mid + rate // 2]
    best = coarse
    for step in (2.0, 0.25):
        lo, hi = best - span, best + span
        best_p = -1.0
        f = lo
        while f <= hi:
            p = goertzel_power(x, f, rate)
            if p > best_p:
                best, best_p = f, p
            f += step
        span = 2.0
    return best


def segments(x, rate, floor=-45.0, min_s=0.05):
    """Stretches of the same one or two frequencies: dicts with start, end,
    seconds, freqs (refined) and level (dBFS)."""
    FRAME = frame_size(rate)
    bin_hz = rate / FRAME
    found = []
    cur = None
    for i, (rms, peaks) in enumerate(frame_peaks(x, rate)):
        key = tuple(peaks) if dbfs(rms) > floor and peaks else None
        same = (cur is not None and key is not None and len(key) == len(cur["key"]) and
                all(abs(a - b) <= 1 for a, b in zip(key, cur["key"])))
        if same:
            cur["end"] = i + 1
            continue
        if cur is not None:
            found.append(cur)
        cur = {"key": key, "start": i, "end": i + 1} if key is not None else None
    if cur is not None:
        found.append(cur)
    result = []
    for seg in found:
        # the first and last frame may hold the edge of the tone
        a, b = seg["start"] * FRAME, seg["end"] * FRAME
        inner = x[a + FRAME // 2: b - FRAME // 2] if b - a > 2 * FRAME else x[a:b]
        freqs = [refine(inner, rate, k * bin_hz, bin_hz) for k in seg["key"]]
        start, end = edge(x, rate, a, b, FRAME, freqs)
        body = x[int(start * rate): int(end * rate)] or inner
        level = dbfs(math.sqrt(sum(v * v for v in inner) / len(inner))) if inner else -200
        if end - start >= min_s:
            result.append({"start": start, "end": end, "seconds": end - start,
                           "freqs": sorted(freqs), "level": level, "samples": len(body)})
    return result


def edge(x, rate, a, b, frame, freqs):
    """Exact start and end (seconds) of the tone found between samples a and
    b (the frames round to 32 ms): 5 ms windows hold it while their power at
    its frequencies is at least a quarter of what it is inside; the search
    goes one frame beyond each side at most, so that a tone right before or
    after (another frequency) does not count."""
    win = max(8, rate // 200)

    def power(i):
        w = x[max(0, i): i + win]
        return sum(goertzel_power(w, f, rate) for f in freqs) if len(w) == win else 0.0

    inner = [power(i) for i in range(a + frame // 2, b - frame // 2 - win, win)] or [power(a)]
    inner.sort()
    ref = inner[len(inner) // 2]

    def on(i):
        return power(i) >= ref * 0.25

    s = a
    lo = max(0, a - frame)
    while s - win >= lo and on(s - win):
        s -= win
    while s < b and not on(s):
        s += win
    e = b
    hi = min(len(x), b + frame)
    while e + win <= hi and on(e):
        e += win
    while e > s and not on(e - win):
        e -= win
    return s / rate, e / rate


def describe(path):
    rate, x = read_wav(path)
    rms = math.sqrt(sum(v * v for v in x) / len(x)) if x else 0.0
    return rate, x, "rate %d Hz, %.3f s, rms %.1f dBFS" % (rate, len(x) / rate, dbfs(rms)), rms


def show_segment(s):
    return "%.3f-%.3f s (%.3f s) %s Hz %.1f dBFS" % (
        s["start"], s["end"], s["seconds"], "+".join("%.1f" % f for f in s["freqs"]),
        s["level"])


def span(text):
    lo, hi = text.split(":")
    return float(lo), float(hi)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tone")
    p.add_argument("out")
    p.add_argument("freq")
    p.add_argument("seconds", type=float)
    p.add_argument("--rate", type=int, default=8000)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--dbfs", type=float, default=-16.0)
    p = sub.add_parser("keypad")
    p.add_argument("out")
    p.add_argument("digits")
    p.add_argument("--on", type=float, default=0.1)
    p.add_argument("--off", type=float, default=0.1)
    p.add_argument("--lead", type=float, default=0.5)
    p.add_argument("--tail", type=float, default=0.5)
    p.add_argument("--dbfs", type=float, default=-16.0)
    p.add_argument("--rate", type=int, default=8000)
    p = sub.add_parser("pcap")
    p.add_argument("out")
    p.add_argument("wav")
    p.add_argument("--pt", type=int, choices=(0, 8), default=0)
    p = sub.add_parser("rtpaudio")
    p.add_argument("pcap")
    p.add_argument("out")
    p = sub.add_parser("compare")
    p.add_argument("ref")
    p.add_argument("wav")
    p.add_argument("--snr-min", type=float, default=30.0)
    p.add_argument("--max-shift", type=float, default=0.2)
    p.add_argument("--duration", type=span)
    p.add_argument("--max-missing", type=float, default=0.02)
    p = sub.add_parser("cut")
    p.add_argument("wav")
    p.add_argument("out")
    p.add_argument("start", type=float)
    p.add_argument("end", type=float)
    p = sub.add_parser("info")
    p.add_argument("wav")
    p = sub.add_parser("segments")
    p.add_argument("wav")
    p.add_argument("--floor", type=float, default=-45.0)
    p.add_argument("--min", type=float, default=0.05)
    p = sub.add_parser("expect")
    p.add_argument("wav")
    p.add_argument("--duration", type=span)
    p.add_argument("--rms-min", type=float)
    p.add_argument("--tone", action="append", default=[])
    p.add_argument("--tol-hz", type=float, default=4.0)
    p.add_argument("--tol-db", type=float, default=1.5)
    p.add_argument("--order", action="store_true")
    p.add_argument("--floor", type=float, default=-45.0)
    a = ap.parse_args()

    if a.cmd == "tone":
        freqs = [float(f) for f in a.freq.split("+")]
        write_wav(a.out, sines(freqs, a.seconds, a.rate, a.dbfs), a.rate, a.channels)
        return 0
    if a.cmd == "keypad":
        x = [0.0] * int(a.lead * a.rate)
        for i, d in enumerate(a.digits.upper()):
            if d not in KEYPAD:
                raise SystemExit("not a keypad digit: %r" % d)
            if i:
                x += [0.0] * int(a.off * a.rate)
            x += sines(KEYPAD[d], a.on, a.rate, a.dbfs)
        x += [0.0] * int(a.tail * a.rate)
        write_wav(a.out, x, a.rate)
        return 0
    if a.cmd == "pcap":
        rate, x = read_wav(a.wav)
        if rate != 8000:
            raise SystemExit("%s: the capture needs 8 kHz audio" % a.wav)
        write_pcap(a.out, x, a.pt)
        return 0

    if a.cmd == "rtpaudio":
        write_wav(a.out, read_rtp_audio(a.pcap), 8000)
        return 0
    if a.cmd == "compare":
        rrate, ref = read_wav(a.ref)
        rate, x = read_wav(a.wav)
        if rrate != rate:
            raise SystemExit("%s and %s differ in rate" % (a.ref, a.wav))
        snr, k = compare(ref, x, rate, a.max_shift)
        before, after = missing(len(ref), len(x), k)
        text = "SNR %.1f dB over all of %s, shifted %+d samples; %.3f s against %.3f s" % (
            snr, a.ref, k, len(x) / rate, len(ref) / rate)
        why = []
        if snr < a.snr_min:
            why.append("SNR below %g dB" % a.snr_min)
        if (before + after) / rate > a.max_missing:
            why.append("the recording misses %.3f s of the reference at its start and %.3f s "
                       "at its end" % (before / rate, after / rate))
        seconds = len(x) / rate
        if a.duration and not a.duration[0] <= seconds <= a.duration[1]:
            why.append("the recording lasts %.3f s, not %g-%g s" % (seconds, a.duration[0],
                                                                   a.duration[1]))
        if why:
            print("FAIL: %s [%s]" % ("; ".join(why), text))
            return 1
        print("ok [%s]" % text)
        return 0
    if a.cmd == "cut":
        rate, channels, frames = read_frames(a.wav)
        lo, hi = int(a.start * rate), int(a.end * rate)
        with wave.open(a.out, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(frames[lo * channels * 2: hi * channels * 2])
        return 0

    rate, x, summary, rms = describe(a.wav)
    if a.cmd == "info":
        print(summary)
        return 0
    floor = a.floor
    segs = segments(x, rate, floor, getattr(a, "min", 0.1))
    if a.cmd == "segments":
        print(summary)
        for s in segs:
            print(show_segment(s))
        return 0

    # expect
    why = []
    seconds = len(x) / rate
    if a.duration and not a.duration[0] <= seconds <= a.duration[1]:
        why.append("lasts %.3f s, not %g-%g s" % (seconds, a.duration[0], a.duration[1]))
    if a.rms_min is not None and dbfs(rms) < a.rms_min:
        why.append("rms %.1f dBFS, below %g" % (dbfs(rms), a.rms_min))
    after = -1
    for spec in a.tone:
        parts = spec.split(":")
        freqs = sorted(float(f) for f in parts[0].split("+"))
        lo, hi = float(parts[1]), float(parts[2])
        level = float(parts[3]) if len(parts) > 3 else None
        at = [i for i, s in enumerate(segs)
              if len(s["freqs"]) == len(freqs) and
              all(abs(f - g) <= a.tol_hz for f, g in zip(s["freqs"], freqs))]
        if a.order:
            # after the previous tone's stretch: a tone listed twice is two
            # stretches
            at = [i for i in at if i > after]
        if not at:
            why.append("no stretch of %s Hz%s" % (parts[0], " after the tone listed ahead of it"
                                                    if a.order else ""))
            continue
        # the longest such stretch is the tone; echoes of its edges are not.
        # In order, the first that lasts as long as it should, so that the
        # next tone listed can be a later one
        fits = [j for j in at if lo <= segs[j]["seconds"] <= hi]
        i = fits[0] if a.order and fits else max(at, key=lambda j: segs[j]["seconds"])
        s = segs[i]
        if not lo <= s["seconds"] <= hi:
            why.append("%s Hz lasts %.3f s, not %g-%g s" % (parts[0], s["seconds"], lo, hi))
        if level is not None and abs(s["level"] - level) > a.tol_db:
            why.append("%s Hz at %.1f dBFS, not %g (+-%g)" % (parts[0], s["level"], level,
                                                               a.tol_db))
        if a.order and i <= after:
            why.append("%s Hz comes before the tone listed ahead of it" % parts[0])
        after = i
    measures = summary + "; " + ("; ".join(show_segment(s) for s in segs) or "no tone")
    if why:
        print("FAIL: %s [%s]" % ("; ".join(why), measures))
        return 1
    print("ok [%s]" % measures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
