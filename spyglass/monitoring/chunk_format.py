"""How an export chunk's rows are stored: one hour's JSON, cut into lz4-compressed segments of whole rounds.

The raw text is the rows' JSON objects, comma-separated, without the enclosing brackets; `rounds` locate each round's
objects in it and `segments` locate each compressed segment (of whole rounds) in the stored body, so a page reads and
decompresses only the segments holding its rounds. Compressed, an hour is about a seventh of its JSON: less to store,
and on PostgreSQL less to send, which cost more than decompressing (docs/benchmarks.md, row 6)."""

from dataclasses import dataclass

import lz4.block

SEGMENT_BYTES = 64 * 1024  # raw bytes a segment reaches before the next round starts a new one


@dataclass
class Encoded:
    rounds: list  # [[roundId, rows, first, end], ...]: the round's objects are raw[first:end]
    segments: list  # [[first, end, from, to], ...]: raw[first:end] is decompress(body[from:to])
    body: bytes
    raw: bytes


def encode(rounds: list[tuple[int, int, bytes]]) -> Encoded:
    """[(roundId, rows, the round's objects as JSON)], in roundId order."""
    index, segments, raw_parts, body_parts = [], [], [], []
    raw_at = body_at = 0
    pending: list[bytes] = []
    pending_first = 0
    for number, (round_id, rows, data) in enumerate(rounds):
        if number:
            raw_at += 1  # the comma between rounds
        if not pending:
            pending_first = raw_at
        index.append([round_id, rows, raw_at, raw_at + len(data)])
        pending.append(data)
        raw_parts.append(data)
        raw_at += len(data)
        if raw_at - pending_first >= SEGMENT_BYTES or number == len(rounds) - 1:
            packed = lz4.block.compress(b",".join(pending))
            segments.append([pending_first, raw_at, body_at, body_at + len(packed)])
            body_parts.append(packed)
            body_at += len(packed)
            pending = []
    return Encoded(index, segments, b"".join(body_parts), b",".join(raw_parts))


def segments_for(segments: list, first: int, end: int) -> list:
    """The segments holding raw[first:end] (a run of whole rounds), in order."""
    return [s for s in segments if s[1] > first and s[0] < end]


def decode(segments: list, first: int, end: int, stored: bytes) -> list:
    """raw[first:end] as pieces to join, from `stored`: the body from the first of `segments` to the last's end."""
    base = segments[0][2]
    pieces: list[bytes | memoryview] = []
    for number, (seg_first, seg_end, start, stop) in enumerate(segments):
        raw = memoryview(lz4.block.decompress(stored[start - base : stop - base]))
        if number:
            pieces.append(b",")
        pieces.append(raw[max(first - seg_first, 0) : min(end, seg_end) - seg_first])
    return pieces
