"""Pushing every stored round of a stream's tests to its receiver (docs/streams.md, "How delivery works").

The worker calls push_due(). A stream is claimed by one worker at a time (SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL, then a lease in the row, so the export itself runs outside any transaction and never holds up result
ingestion). Per test, rounds go out in round order, a batch at a time, each one a round the test's interval and
SPYGLASS_STREAM_DELAY old (its agents' rows have arrived); the test's cursor moves past a batch only once the
receiver accepted it. A failure stops the stream's pass and retries later with backoff, from the same cursor:
nothing is skipped and, short of a crash between "accepted" and "recorded", nothing sent twice. After 3 days failing
the creator is e-mailed; after 7 the stream is disabled (and the creator told)."""

import logging
import secrets as token_source
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from spyglass.mail.outbox import enqueue
from spyglass.monitoring import catalogue
from spyglass.monitoring.models import Agent, ResultHour, Test

from . import endpoint, otlp, send
from .models import Stream, StreamCursor
from .secrets import UnreadableHeaders, unseal

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 15
BACKOFF_MAX_SECONDS = 900
WARN_AFTER = timedelta(days=3)
DISABLE_AFTER = timedelta(days=7)
# Rows of each kind in a batch, at most (unless one round has more); whole rounds. A request stays well under the 4 MiB
# a gRPC receiver takes by default (v1 repeats more attributes in every data point).
ROWS_PER_BATCH = {"v1": 3000, "v2": 6000}
# Rows recorded less than this before a look may still be committing: they are left to the next look.
LATE_MARGIN = timedelta(seconds=10)
BATCHES_PER_CLAIM = 40
IDLE_POLL = timedelta(
    seconds=10
)  # then the stream goes back to the queue, so one long backlog does not starve the others


def backoff(failures: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS))


def matched_tests(stream: Stream):
    """The live tests of the stream's account group its testMatch and filters.testTypes select, in id order."""
    qs = Test.objects.filter(account_group_id=stream.account_group_id, saved_event=False, deleted_date__isnull=True)
    if not any(item.get("id") is None for item in stream.test_match):
        qs = qs.filter(id__in=[int(item["id"]) for item in stream.test_match])
    if stream.test_types:
        qs = qs.filter(type__in=stream.test_types)
    return qs.order_by("id")


def _kinds(test: Test) -> tuple[str, ...]:
    return catalogue.kinds_of(test.type)


def _next_batch(test: Test, after: int, upto: int, recorded: tuple, version: str) -> tuple[dict, int | None]:
    """The rows (kind → otlp.read_rows' tuples) of the next rounds after `after` (up to `upto`) with rows recorded
    in (recorded[0], recorded[1]]: whole rounds, about ROWS_PER_BATCH rows of each kind; and the last round they
    cover (None: nothing is due). One statement per kind: a read that stops inside a round gives up that round."""
    rows: dict[str, list[tuple]] = {}
    limit = ROWS_PER_BATCH[version]
    last = upto
    cut = False
    for key in _kinds(test):
        read = otlp.read_rows(test, key, after, last, recorded, version, limit=limit + 1)
        if len(read) > limit:
            cut = True
            first_left = read[limit][0]
            if first_left == read[0][0]:  # one round larger than a batch: that round, whole
                last = first_left
                read = otlp.read_rows(test, key, after, last, recorded, version)
            else:
                last = first_left - 1
        rows[key] = read
    rows = {key: [r for r in value if r[0] <= last] if cut else value for key, value in rows.items()}
    rows = {key: value for key, value in rows.items() if value}
    if not rows:
        return {}, None
    return rows, last if cut else max(value[-1][0] for value in rows.values())


def backlog(stream: Stream) -> int:
    """Rounds stored and not yet delivered, over the stream's tests (counted in each test's own kind of result)."""
    cursors = dict(stream.cursors.values_list("test_id", "last_round"))
    total = 0
    for test in matched_tests(stream):
        model: Any = catalogue.kind(catalogue.PRIMARY[test.type]).model
        after = cursors.get(test.id, 0)
        total += model.objects.filter(test=test, round_id__gt=after).values("round_id").distinct().count()
    return total


def push_due(now: datetime | None = None, limit: int = 50) -> dict:
    """One pass over the streams that are due; returns counts of batches, rounds and failures."""
    counts = {"streams": 0, "batches": 0, "rounds": 0, "failed": 0}
    now = now or timezone.now()
    seen: set = set()
    for _ in range(limit):
        claimed = _claim(now, seen)
        if claimed is None:
            break
        stream, token = claimed
        seen.add(stream.id)
        counts["streams"] += 1
        try:
            _push(stream, token, now, counts)
        except Exception:  # a stream's bug must not stop the others; its lease runs out and it is retried
            log.exception("stream %s: push failed", stream.id)
            _failed(stream, token, now, "internal error (see the server's log)")
            counts["failed"] += 1
    return counts


def _claim(now: datetime, seen: set) -> tuple[Stream, str] | None:
    with transaction.atomic():
        stream = (
            Stream.objects.select_for_update(skip_locked=True)
            .filter(enabled=True, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .exclude(id__in=seen)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if stream is None:
            return None
        token = token_source.token_hex(16)
        Stream.objects.filter(id=stream.id).update(claim_token=token, lease_until=now + LEASE)
    return stream, token


def _push(stream: Stream, token: str, now: datetime, counts: dict) -> None:
    try:
        target = endpoint.check(stream.url, stream.endpoint_type)
        headers = unseal(stream.custom_headers)
    except (endpoint.Refused, UnreadableHeaders) as exc:
        _failed(stream, token, now, f"streamEndpointUrl {exc}" if isinstance(exc, endpoint.Refused) else str(exc))
        counts["failed"] += 1
        return
    exporter = send.Exporter(stream.endpoint_type, target, headers, float(settings.STREAM_TIMEOUT_SECONDS))
    encoder = otlp.Encoder(stream)
    version = stream.data_model_version
    budget = [BATCHES_PER_CLAIM]

    def deliver(test: Test, after: int, upto: int, recorded: tuple) -> int | None:
        """One batch: the next rounds' rows recorded in (recorded[0], recorded[1]], exported; the last round it
        covered (None: nothing was due). send.Failed when the receiver did not accept it."""
        rows, last = _next_batch(test, after, upto, recorded, version)
        if last is None:
            return None
        exporter.export(encoder.encode(test, rows, _agents(encoder, test, rows)))
        _succeeded(stream, now)
        budget[0] -= 1
        counts["batches"] += 1
        counts["rounds"] += len({row[0] for value in rows.values() for row in value})
        return last

    try:
        for test in matched_tests(stream):
            cursor = _cursor(stream, test)
            # Rows are read once they are settled: recorded LATE_MARGIN before this look (on the wall clock rows are
            # recorded by, not `now`, which tests move), so that a write still committing is not passed over.
            settled = timezone.now() - LATE_MARGIN
            # First the rows recorded since the last look for rounds already delivered (late uploads, rows written
            # again): the hours written since (ResultHour.written_at) say where to look.
            since = cursor.late_checked_at
            window = (since, settled)
            hours = ResultHour.objects.filter(test=test, hour__lte=cursor.late_round, written_at__gt=since)
            first_hour = hours.order_by("hour").values_list("hour", flat=True).first()
            after = first_hour - 1 if first_hour is not None else cursor.late_round
            while budget[0] > 0:
                last = deliver(test, after, cursor.late_round, window)
                if last is None:
                    break
                after = last
            if budget[0] <= 0:
                break
            # Then the rounds after the cursor, in round order: all their rows settled by now.
            after = cursor.last_round
            upto = int(now.timestamp()) - test.interval - settings.STREAM_DELAY_SECONDS
            while budget[0] > 0:
                last = deliver(test, after, upto, (None, settled))
                if last is None:
                    break
                after = last
                StreamCursor.objects.filter(id=cursor.id, last_round__lt=after).update(last_round=after)
            # Every row up to the cursor recorded by `settled` went out; the next look starts there.
            StreamCursor.objects.filter(id=cursor.id).update(late_round=after, late_checked_at=settled)
    except send.Failed as exc:
        _failed(stream, token, now, str(exc))
        counts["failed"] += 1
        return
    finally:
        exporter.close()
    # Its share of this pass taken: due again at once when it sent something (more may be waiting); when nothing was
    # due, looked at again after IDLE_POLL (a round comes at most once a minute per test).
    sent = budget[0] < BATCHES_PER_CLAIM
    Stream.objects.filter(id=stream.id, claim_token=token).update(
        lease_until=None, claim_token="", next_attempt_at=now if sent else now + IDLE_POLL
    )


def _agents(encoder: otlp.Encoder, test: Test, rows: dict[str, list[tuple]]) -> dict:
    """The rows' agents the encoder has not described yet (a Resource per agent is made once per pass)."""
    wanted = {row[1] for value in rows.values() for row in value} - encoder.known_agents(test)
    return Agent.objects.in_bulk(wanted) if wanted else {}


def _cursor(stream: Stream, test: Test) -> StreamCursor:
    try:
        cursor, _ = StreamCursor.objects.get_or_create(stream=stream, test=test)
    except IntegrityError:  # made by another worker between the two statements
        cursor = StreamCursor.objects.get(stream=stream, test=test)
    return cursor


def _succeeded(stream: Stream, now: datetime) -> None:
    Stream.objects.filter(id=stream.id).update(
        status=Stream.CONNECTED, last_success=now, last_error="", failing_since=None, failures=0, warned_date=None
    )


def _failed(stream: Stream, token: str, now: datetime, reason: str) -> None:
    current = Stream.objects.filter(id=stream.id).select_related("created_by").first()
    if current is None:  # deleted meanwhile
        return
    stream = current
    failures = stream.failures + 1
    since = stream.failing_since or now
    updates = dict(
        status=Stream.FAILING,
        last_failure=now,
        last_error=reason[:200],
        failures=failures,
        failing_since=since,
        next_attempt_at=now + backoff(failures),
        lease_until=None,
        claim_token="",
    )
    with transaction.atomic():
        if now - since >= DISABLE_AFTER:
            updates["enabled"] = False
            _tell_creator(stream, reason, disabled=True)
        elif now - since >= WARN_AFTER and stream.warned_date is None:
            updates["warned_date"] = now
            _tell_creator(stream, reason, disabled=False)
        Stream.objects.filter(id=stream.id, claim_token=token).update(**updates)
    log.warning("stream %s: export failed (%s in a row): %s", stream.id, failures, reason)


def _tell_creator(stream: Stream, reason: str, disabled: bool) -> None:
    creator = stream.created_by
    if creator is None or not creator.email:
        return
    if disabled:
        subject = f'spyglass stream "{stream.name}" was disabled after 7 days of failed exports'
        what = "has failed for 7 days in a row and is now disabled. Enable it again once the receiver works"
    else:
        subject = f'spyglass stream "{stream.name}" has been failing for 3 days'
        what = "has failed for 3 days in a row; it keeps retrying and will be disabled after 7"
    body = (
        f'The stream "{stream.name}" to {stream.url} {what} (Integrations › Streams, or PUT /v7/streams/{stream.id} '
        f'with "enabled": true).\n\nLast answer: {reason}\n\nNo round is lost while it fails: once the receiver '
        "accepts again, every round since the last one delivered is sent.\n"
    )
    enqueue([creator.email], subject, body, kind="stream-failing")


def send_test_round(stream: Stream) -> tuple[bool, str]:
    """ "Send a test round": the latest stored round of the stream's first test that has one (an empty request when
    none has), exported at once, the address rules applied; no cursor or status changes. (accepted, what the
    receiver answered: "accepted", or a status and a short reason)."""
    try:
        target = endpoint.check(stream.url, stream.endpoint_type)
        headers = unseal(stream.custom_headers)
    except endpoint.Refused as exc:
        return False, f"streamEndpointUrl {exc}"
    except UnreadableHeaders as exc:
        return False, str(exc)
    request = b""  # an empty ExportMetricsServiceRequest
    encoder = otlp.Encoder(stream)
    for test in matched_tests(stream):
        model: Any = catalogue.kind(catalogue.PRIMARY[test.type]).model
        latest = model.objects.filter(test=test).order_by("-round_id").values_list("round_id", flat=True).first()
        if latest is not None:
            version = stream.data_model_version
            rows = {key: otlp.read_rows(test, key, latest - 1, latest, version=version) for key in _kinds(test)}
            request = encoder.encode(test, rows, _agents(encoder, test, rows))
            break
    exporter = send.Exporter(stream.endpoint_type, target, headers, float(settings.STREAM_TIMEOUT_SECONDS))
    try:
        exporter.export(request)
    except send.Failed as exc:
        return False, str(exc)
    finally:
        exporter.close()
    return True, "accepted"
