"""The packed form of one agent's path traces in one round (PathRound.traces): what a round costs when its path
does not change is its numbers, nothing else (bench row 11: at most 200 bytes a round for 3 traces of 15 hops,
indexes and the row's own columns included).

Layout, every number an unsigned LEB128 varint (7 bits a byte):

    format (1) · date − roundId in tenths of a second (zigzag) · number of traces
    per trace: flags byte · [index · path id · hops · probes sent per hop, unless LIKE] · [error: length, UTF-8] ·
               one value per hop: its response time · [number of exceptions · [hop, sent, lost] per exception]

LIKE (a flag) says the trace follows the one before it in the round: the next index, the same path (so as many
hops) and the same probes per hop — the usual second and third trace, whose header is then one byte. EXCEPTIONS (a
flag) says probe exceptions follow the hops (a trace with none spends no byte saying so).

A response time is kept as a code q (see `code`): to 10 µs below 10 ms, to 0.1 ms up to 100 ms, to 1 ms beyond —
off by at most 5 µs, 0.05 ms or 0.5 ms, 0.5 % from 10 ms up (traces are held to max(1 ms, 3 %) of mtr). In the
packed round 0 is a hop that did not answer; otherwise the value is q + 1, or, when the trace before it in the round
took the same path and that hop answered there, zigzag(q − that hop's q) + 1 — the traces of a round differ by their
jitter, a byte a hop where the absolute time takes two. The probes of a hop are, unless listed as an exception,
`sent` sent and none lost when it answered, all lost when it did not. Dates are kept to a tenth of a second (v6
shows whole seconds)."""

from dataclasses import dataclass, field

FORMAT = 1
MAX_HOPS = 30
MAX_MS = 10_000_000.0  # the longest response time kept

_REACHED, _ICMP, _ERROR, _LIKE, _EXCEPTIONS = 1, 2, 4, 8, 16


@dataclass
class Trace:
    index: int
    path_id: int
    reached: bool = False
    icmp: bool = False
    error: str = ""
    times: list = field(default_factory=list)  # ms per hop, None where the hop did not answer
    sent: list = field(default_factory=list)  # probes sent per hop
    lost: list = field(default_factory=list)  # probes lost per hop


def code(ms: float) -> int:
    """A response time's code: 10 µs steps to 10 ms (codes 0–999), 0.1 ms steps to 100 ms (1000–1899), then 1 ms.
    Clamped to [0, MAX_MS]: an import may carry -1, or an absurd time, neither of which a trace can have taken."""
    ms = min(max(ms, 0.0), MAX_MS)
    if ms < 10:
        return min(round(ms * 100), 999) if ms < 9.995 else 1000
    if ms < 100:
        return 1000 + round((ms - 10) * 10)
    return 1900 + round(ms - 100)


def time_of(q: int) -> float:
    if q < 1000:
        return q / 100
    if q < 1900:
        return round(10 + (q - 1000) / 10, 1)
    return float(100 + q - 1900)


def _varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(value: int) -> int:
    return value >> 1 if not value & 1 else -(value >> 1) - 1


def _references(previous: Trace | None, trace: Trace, previous_q: list[int | None]) -> list[int | None]:
    """Per hop, the previous trace's time of that hop (in units) when it took the same path, else None."""
    if previous is None or previous.path_id != trace.path_id or len(previous_q) != len(trace.times):
        return [None] * len(trace.times)
    return previous_q


def _sent(trace: Trace) -> int:
    """The probes sent at most of the trace's hops (the others are exceptions)."""
    return max(trace.sent, key=trace.sent.count) if trace.sent else 0


def _like(previous: Trace | None, trace: Trace) -> bool:
    return (
        previous is not None
        and trace.index == previous.index + 1
        and trace.path_id == previous.path_id
        and len(trace.times) == len(previous.times)
        and _sent(trace) == _sent(previous)
    )


def encode(round_id: int, date: float, traces: list[Trace]) -> bytes:
    out = bytearray([FORMAT])
    _varint(out, _zigzag(round((date - round_id) * 10)))
    _varint(out, len(traces))
    previous: Trace | None = None
    previous_q: list[int | None] = []
    for trace in sorted(traces, key=lambda t: t.index):
        hops = len(trace.times)
        if hops > MAX_HOPS:
            raise ValueError(f"a trace holds at most {MAX_HOPS} hops")
        like = _like(previous, trace)
        sent = _sent(trace)
        q = [None if t is None else code(t) for t in trace.times]
        exceptions = [
            (hop, s, lost)
            for hop, (value, s, lost) in enumerate(zip(q, trace.sent, trace.lost, strict=True))
            if s != sent or lost != (s if value is None else 0)
        ]
        flags = (_REACHED if trace.reached else 0) | (_ICMP if trace.icmp else 0) | (_ERROR if trace.error else 0)
        out.append(flags | (_LIKE if like else 0) | (_EXCEPTIONS if exceptions else 0))
        if not like:
            for number in (trace.index, trace.path_id, hops, sent):
                _varint(out, number)
        if trace.error:
            text = trace.error.encode()
            _varint(out, len(text))
            out += text
        for value, ref in zip(q, _references(previous, trace, previous_q), strict=True):
            if value is None:
                out.append(0)
                continue
            number = value + 1 if ref is None else _zigzag(value - ref) + 1
            if number < 0x80:  # most hops: one byte, without a call (the seed packs millions of them)
                out.append(number)
            else:
                _varint(out, number)
        if exceptions:
            _varint(out, len(exceptions))
        for exception in exceptions:
            for number in exception:
                _varint(out, number)
        previous, previous_q = trace, q
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def varint(self) -> int:
        value = shift = 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def take(self, n: int) -> bytes:
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk


def decode(round_id: int, data: bytes | memoryview) -> tuple[float, list[Trace]]:
    """(date in epoch seconds, the traces in index order) of a packed round."""
    reader = _Reader(bytes(data))
    if reader.varint() != FORMAT:
        raise ValueError("unknown path trace format")
    date = round_id + _unzigzag(reader.varint()) / 10
    traces = []
    previous: Trace | None = None
    previous_q: list[int | None] = []
    for _ in range(reader.varint()):
        flags = reader.take(1)[0]
        if flags & _LIKE and previous is not None:
            trace = Trace(index=previous.index + 1, path_id=previous.path_id)
            hops, sent = len(previous.times), _sent(previous)
        else:
            trace = Trace(index=reader.varint(), path_id=reader.varint())
            hops, sent = reader.varint(), reader.varint()
        trace.reached, trace.icmp = bool(flags & _REACHED), bool(flags & _ICMP)
        if flags & _ERROR:
            trace.error = reader.take(reader.varint()).decode()
        trace.times = [None] * hops  # the hop count, which _references compares
        refs = _references(previous, trace, previous_q)
        q: list[int | None] = []
        for ref in refs:
            raw = reader.varint()
            if raw == 0:
                q.append(None)
            elif ref is None:
                q.append(raw - 1)
            else:
                q.append(ref + _unzigzag(raw - 1))
        trace.times = [None if v is None else time_of(v) for v in q]
        trace.sent = [sent] * hops
        trace.lost = [sent if v is None else 0 for v in q]
        for _ in range(reader.varint() if flags & _EXCEPTIONS else 0):
            hop, s, lost = reader.varint(), reader.varint(), reader.varint()
            trace.sent[hop], trace.lost[hop] = s, lost
        traces.append(trace)
        previous, previous_q = trace, q
    return date, traces


def path_ids(data: bytes | memoryview) -> set[int]:
    """The ids of the paths a packed round's traces took, its hops skipped, not decoded: the timeline's path-change
    markers read every round of a window for these alone."""
    reader = _Reader(bytes(data))
    if reader.varint() != FORMAT:
        raise ValueError("unknown path trace format")
    reader.varint()  # the date
    ids: set[int] = set()
    path_id: int | None = None
    hops = 0
    for _ in range(reader.varint()):
        flags = reader.take(1)[0]
        if not (flags & _LIKE and path_id is not None):
            reader.varint()  # index
            path_id, hops = reader.varint(), reader.varint()
            reader.varint()  # probes sent per hop
        ids.add(path_id)
        if flags & _ERROR:
            reader.take(reader.varint())
        for _ in range(hops):
            reader.varint()
        for _ in range(reader.varint() * 3 if flags & _EXCEPTIONS else 0):
            reader.varint()
    return ids
