"""Snapshots: created, updated, revoked, visited and commented here — one function per act, used by the v6 API and
the web app alike (they differ only in how they parse requests and present answers).

Freezing costs the same for 1 h and 48 h: nothing is copied at creation. The snapshot gets its own Test row (a copy
of the source's configuration, saved_event=True) and a freezing RetentionPin on the source's window; retention keeps
the window, and results.upsert copies a row before replacing it (copy-on-write). See scope_provider.py for reads."""

import functools
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from spyglass.accounts import ratelimit
from spyglass.accounts.roles import CREATE_SNAPSHOTS, EDIT_ALL_SNAPSHOTS, VIEW_ALL_SNAPSHOTS
from spyglass.lib.text import find_control_character
from spyglass.lib.timefmt import format_v6_date
from spyglass.liveshares import services as liveshares
from spyglass.monitoring.models import Agent, RetentionPin, Test
from spyglass.monitoring.results import lock_test_for_freeze
from spyglass.monitoring.scope import read_scope
from spyglass.monitoring.tests_service import purge_deleted_test, visible_tests

from . import emails, limits, links
from .audience import may_open
from .errors import Forbidden, NotFound, RateLimited, SharingError
from .models import Comment, DashboardSnapshot, Snapshot, SnapshotVisit
from .windows import POSITIONS, WindowError, up_to_now, window_at

API_EXPIRY_DAYS = 30
WEB_EXPIRY_CHOICES = (None, 1, 7, 30)  # None = never
MAX_RECIPIENTS = 20
_NOT_COPIED = {"id", "saved_event", "source_test", "deleted_date", "enabled", "created_by", "created_date"}
_NOT_COPIED |= {"modified_by", "modified_date"}


def _text(value, field: str, max_length: int, required=True, multiline=False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise SharingError("must be a string", field)
    value = value.strip()
    if required and not value:
        raise SharingError("is required", field)
    if len(value) > max_length:
        raise SharingError(f"must be at most {max_length} characters", field)
    bad = find_control_character(value, allow_newlines=multiline)
    if bad is not None:
        raise SharingError(f"contains a control character (U+{ord(bad):04X})", field)
    return value


def recipients_of(values) -> list[str]:
    if not isinstance(values, list | tuple):
        raise SharingError("must be a list of e-mail addresses", "recipients")
    if len(values) > MAX_RECIPIENTS:
        raise SharingError(f"at most {MAX_RECIPIENTS} addresses", "recipients")
    out = []
    for value in values:
        address = value.strip().lower() if isinstance(value, str) else ""
        try:
            validate_email(address)
        except DjangoValidationError:
            raise SharingError(f"'{str(value)[:80]}' is not an e-mail address", "recipients") from None
        if address not in out:
            out.append(address)
    return out


def expiry_date(days: int | None, now):
    """The expiry for `days` (None = never), within the organization-wide maximum when one is set."""
    ceiling = settings.SNAPSHOT_MAX_EXPIRY_DAYS
    if ceiling and (days is None or days > ceiling):
        raise SharingError(f"snapshots may live at most {ceiling} days here", "expiry")
    return None if days is None else now + timedelta(days=days)


def _included_agents(access, test: Test, agent_ids) -> list[int] | None:
    if agent_ids is None:
        return None
    if not isinstance(agent_ids, list | tuple) or not agent_ids:
        raise SharingError("must list at least one agentId (leave it out for every agent)", "agents")
    ids = set()
    for value in agent_ids:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**62:
            raise SharingError("must be agent ids", "agents")
        ids.add(value)
    found = set(Agent.objects.filter(organization_id=access.organization_id, id__in=ids).values_list("id", flat=True))
    if found != ids:
        raise SharingError(f"unknown agentId {', '.join(map(str, sorted(ids - found)))}", "agents")
    return sorted(ids)


def _within_what_the_caller_sees(access, source: Test, window, included, origin: str):
    """A snapshot never shows more than its creator may read (monitoring.scope.read_scope): a live-share recipient's
    window may not reach back before the share began. Returns the included agents, narrowed to the readable ones."""
    allowed = read_scope(access, source)
    field = "from" if origin == "api" else "window"
    if allowed.start_round is not None and window.start_round < allowed.start_round:
        if allowed.end_round is not None and allowed.start_round > allowed.end_round:
            raise NotFound()
        first = format_v6_date(allowed.start_round)
        raise SharingError(
            f"the window starts at {format_v6_date(window.start_round)}, before {first} when this test was shared "
            "with your account group; choose a later round or a shorter window",
            field,
        )
    if allowed.end_round is not None and window.end_round > allowed.end_round:
        raise SharingError(
            f"the window ends after {format_v6_date(allowed.end_round)}, the last round you may see", field
        )
    if allowed.agent_ids is not None:
        if included is None:
            return sorted(allowed.agent_ids)
        if not set(included) <= allowed.agent_ids:
            raise SharingError("includes agents whose results you may not see", "agents")
    return included


def _is_endpoint_test(test: Test) -> bool:
    agents = test.agents.all()
    return agents.exists() and not agents.exclude(agent_type=Agent.ENDPOINT).exists()


def _copy_test(source: Test, access, now, hidden: bool = False) -> Test:
    copy = Test()
    for field in Test._meta.concrete_fields:
        if field.name not in _NOT_COPIED:
            setattr(copy, field.attname, getattr(source, field.attname))
    # The snapshot's own row belongs to the snapshot's account group: a live-share recipient's snapshot is theirs,
    # never listed among the sharer's tests.
    copy.account_group = access.account_group
    copy.saved_event = True
    copy.source_test = source
    copy.enabled = False  # never scheduled: it only shows the past
    copy.created_by = copy.modified_by = access.user
    copy.created_date = copy.modified_date = now
    copy.deleted_date = now if hidden else None
    copy.save()
    return copy


def copy_store(source: Test, access, now) -> Test:
    """A hidden Test row (never listed, never scheduled: deleted_date set) to which results.upsert copies the rows of
    a freezing pin's window before replacing them — a dashboard snapshot's widgets keep their frozen rows as test
    snapshots do, in their own test row. Deleted with what it serves."""
    return _copy_test(source, access, now, hidden=True)


def create_snapshot(
    access,
    test_id: int,
    *,
    display_name: str,
    hours: int,
    anchor: int,
    position: str = "starting",
    is_public: bool = True,
    agent_ids=None,
    expires_in_days: int | None = None,
    recipients=(),
    note: str = "",
    view: str = "",
    comments_signed_in_only: bool = True,
    show_note: bool = False,
    anonymized: bool = False,
    origin: str = "web",
    idempotency_key: str = "",
) -> Snapshot:
    """Create a snapshot of a test the caller's account group sees; raises a SharingError subclass when refused.

    `idempotency_key` (the share panel's per-render key, the API's Idempotency-Key header): when this creator already
    made a snapshot with it, that snapshot is returned (`replayed` True) — nothing created, nothing e-mailed, no limit
    spent. Checked under the organization's lock in the creating transaction, so a double click or a retried request
    that arrives while the first is still creating waits for it and then finds it."""
    key = idempotency_key_of(idempotency_key)
    check_may_create(access)
    if key:
        earlier = _made_with(access, key, test_id)
        if earlier is not None:
            return earlier
    source = visible_tests(access).filter(id=test_id).first()
    if source is None:
        raise NotFound()
    if source.saved_event:
        raise SharingError("a snapshot cannot be taken of a snapshot or saved event", "testId")
    if _is_endpoint_test(source):
        raise SharingError("Endpoint Agent snapshots cannot be created")
    display_name = _text(display_name, "displayName", 255)
    note = _text(note, "note", 2000, required=False, multiline=True)
    view = _text(view, "view", 40, required=False)
    if position not in POSITIONS:
        raise SharingError(f"must be one of {', '.join(POSITIONS)}", "position")
    try:
        window = window_at(anchor, hours, position, source.interval)
    except WindowError as exc:
        raise SharingError(str(exc), "to" if origin == "api" else "window") from None
    try:
        window = up_to_now(window, timezone.now().timestamp(), source.interval)
    except WindowError as exc:
        raise SharingError(str(exc), "from" if origin == "api" else "window") from None
    included = _within_what_the_caller_sees(access, source, window, _included_agents(access, source, agent_ids), origin)
    addresses = recipients_of(list(recipients))
    expiry_date(expires_in_days, timezone.now())  # refuse before taking the limit
    fields = {
        "display_name": display_name,
        "is_public": is_public,
        "position": position,
        "view": view,
        "comments_signed_in_only": comments_signed_in_only,
        "note": note,
        "show_note": bool(show_note and note),
        "anonymized": bool(anonymized),
        "origin": origin,
    }
    try:
        with transaction.atomic():
            return _create(access, source, window, included, addresses, expires_in_days, key, fields)
    except IntegrityError:
        # The same key committed by another request between our check and our INSERT (SQLite takes no row lock):
        # the unique constraint refused the second snapshot, and the first is the answer.
        earlier = _made_with(access, key, test_id) if key else None
        if earlier is None:
            raise
        return earlier


def check_may_create(access) -> None:
    """Who may create snapshots (of a test or a dashboard): not Regular Users, and only with the permission."""
    if access.read_only:
        raise Forbidden("Regular Users cannot create snapshots")
    if not access.can(CREATE_SNAPSHOTS):
        raise Forbidden(f"This needs the permission '{CREATE_SNAPSHOTS}'")


def idempotency_key_of(raw) -> str:
    """A well-formed idempotency key (8 to 64 letters, digits, '-' and '_'), '' for none; anything else is refused."""
    if raw is None or raw == "":
        return ""
    if (
        not isinstance(raw, str)
        or not 8 <= len(raw) <= 64
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in raw)
    ):
        raise SharingError("must be 8 to 64 letters, digits, '-' or '_'", "idempotencyKey")
    return raw


def _made_with(access, key: str, test_id) -> Snapshot | None:
    """The snapshot this creator made with the key, or None; a key already used for a snapshot of another test or
    account group is refused rather than answered with that snapshot."""
    earlier = Snapshot.objects.filter(created_by=access.user, idempotency_key=key).select_related("test").first()
    if earlier is None:
        return None
    if earlier.source_test_id != test_id or earlier.account_group_id != access.account_group.id:
        raise SharingError("was already used for another snapshot; send a new key", "idempotencyKey")
    earlier.replayed = True  # type: ignore[attr-defined]  # for the callers' answers
    return earlier


def _create(access, source, window, included, addresses, expires_in_days, key: str, fields: dict) -> Snapshot:
    """The creating transaction's work (the caller holds it open): the key, limit, freeze, rows, pins, recipients,
    e-mail. Locks in the order every creation takes them: the live share's row, the organization's, the test's."""
    # Read through a live share, the snapshot is tied to it and ends with it; the share's row stays locked until
    # the snapshot is committed, so a revocation either comes first (refused here) or also ends this snapshot.
    live_share = liveshares.granting_share(access, source, lock=True) if source.live_share else None
    if source.live_share and live_share is None:
        raise NotFound()
    if key:
        limits.lock(access.organization_id)  # creations of the organization take turns from here on
        earlier = _made_with(access, key, source.id)
        if earlier is not None:
            return earlier
    limits.take(access.organization_id)
    lock_test_for_freeze(source.id)
    frozen_at = timezone.now()
    expires = expiry_date(expires_in_days, frozen_at)
    own_test = _copy_test(source, access, frozen_at)
    own_test.agents.set(included if included is not None else source.agents.all())
    snapshot = Snapshot.objects.create(
        test=own_test,
        source_test=source,
        live_share=live_share,
        account_group=access.account_group,
        link_id=links.new_link_id(),
        start_round=window.start_round,
        end_round=window.end_round,
        round_id=window.round_id,
        agent_ids=included,
        frozen_at=frozen_at,
        created_by=access.user,
        created_date=frozen_at,
        expires_date=expires,
        idempotency_key=key,
        **fields,
    )
    pin = {"start_round": window.start_round, "end_round": window.end_round, "reason": f"snapshot {snapshot.id}"}
    RetentionPin.objects.create(test=source, frozen_at=frozen_at, copy_to=own_test, **pin)
    RetentionPin.objects.create(test=own_test, **pin)  # keeps the copied rows through retention
    add_recipients(snapshot, addresses)
    snapshot.replayed = False  # type: ignore[attr-defined]
    return snapshot


def visible_snapshots(access):
    """Snapshots of the caller's account group: all of them with 'View snapshots shared by all users…', else own."""
    qs = Snapshot.objects.filter(account_group=access.account_group)
    if not access.can(VIEW_ALL_SNAPSHOTS):
        qs = qs.filter(created_by=access.user)
    return qs


def shared_with(user):
    """Snapshots whose e-mail recipients include the user's login e-mail ("Shared with me"): share links, and saved
    events only of account groups the user is a member of (being e-mailed one opens nothing else)."""
    mailed = Snapshot.objects.filter(recipients__email=user.email.lower())
    return mailed.alias(may_open=may_open(user.id)).filter(may_open=True).distinct()


def check_may_edit(access, snapshot: Snapshot | DashboardSnapshot) -> None:
    """Authorized by account group and role, never by possession of the link (Grafana CVE-2024-1313)."""
    if snapshot.account_group_id != access.account_group.id:
        raise NotFound()
    if access.read_only:
        raise Forbidden("Regular Users cannot change snapshots")
    if snapshot.created_by_id != access.user.id and not access.can(EDIT_ALL_SNAPSHOTS):
        raise Forbidden(f"Only its creator or a role with '{EDIT_ALL_SNAPSHOTS}' may change this snapshot")


def update_snapshot(access, snapshot: Snapshot, changes: dict) -> Snapshot:
    """changes: display_name, comments_signed_in_only, expires_date (a datetime or None = never)."""
    check_may_edit(access, snapshot)
    if "display_name" in changes:
        snapshot.display_name = _text(changes["display_name"], "displayName", 255)
    if "comments_signed_in_only" in changes:
        snapshot.comments_signed_in_only = bool(changes["comments_signed_in_only"])
    if "expires_date" in changes:
        expires = changes["expires_date"]
        now = timezone.now()
        ceiling = settings.SNAPSHOT_MAX_EXPIRY_DAYS
        if expires is not None and expires <= now:
            raise SharingError("must be in the future", "expiresDate")
        if ceiling and (expires is None or expires > now + timedelta(days=ceiling)):
            raise SharingError(f"snapshots may live at most {ceiling} days here", "expiresDate")
        snapshot.expires_date = expires
    # What its page shows changes with it: a database trigger bumps its content version (sharing/stored.py).
    snapshot.save(update_fields=["display_name", "comments_signed_in_only", "expires_date"])
    return snapshot


def email_snapshot(access, snapshot: Snapshot | DashboardSnapshot, recipients) -> list[str]:
    """E-mail a test or dashboard snapshot already made (the share panel's and the dashboard's "E-mail it"): the same
    link, never a second snapshot. Who may change the snapshot may send it; each address becomes a recipient ("Shared
    with me" lists test snapshots). Returns the addresses it was queued for."""
    check_may_edit(access, snapshot)
    addresses = recipients_of(list(recipients))
    if not addresses:
        raise SharingError("add at least one e-mail address to send the link to", "recipients")
    with transaction.atomic():
        add_recipients(snapshot, addresses)
    return addresses


def add_recipients(snapshot: Snapshot | DashboardSnapshot, addresses: list[str]) -> None:
    """Record the addresses (checked by `recipients_of`) as recipients of a test or dashboard snapshot and queue the
    share e-mail with its note to each, inside the caller's transaction."""
    known = set(snapshot.recipients.filter(email__in=addresses).values_list("email", flat=True))
    model = snapshot.recipients.model
    model.objects.bulk_create([model(snapshot=snapshot, email=a) for a in addresses if a not in known])  # type: ignore[misc]  # the model of this snapshot's kind
    if addresses:
        emails.queue_share(snapshot, addresses)


def revoke_snapshot(access, snapshot: Snapshot) -> None:
    """Delete the snapshot, its test row, copies and pins: the link answers 404 on every process at once."""
    check_may_edit(access, snapshot)
    _delete(snapshot)


EXPIRED_KEPT_DAYS = 30


def purge_expired(now=None) -> int:
    """Delete snapshots expired more than EXPIRED_KEPT_DAYS ago (their link said 410 meanwhile), releasing their
    pinned windows to retention. Run by the worker."""
    cutoff = (now or timezone.now()) - timedelta(days=EXPIRED_KEPT_DAYS)
    expired = list(Snapshot.objects.filter(expires_date__lt=cutoff).select_related("test"))
    for snapshot in expired:
        _delete(snapshot)
    return len(expired)


def derived_from(share_ids) -> dict[int, list[Snapshot]]:
    """What recipients made of live-shared tests: {share id: its snapshots, newest first}, each with `visit_count`
    and `created_by`; one query."""
    found: dict[int, list[Snapshot]] = {share_id: [] for share_id in share_ids}
    snapshots = (
        Snapshot.objects.filter(live_share_id__in=found)
        .select_related("created_by")
        .annotate(visit_count=Count("visits"))
        .order_by("-created_date", "-id")
    )
    for snapshot in snapshots:
        found[snapshot.live_share_id].append(snapshot)  # type: ignore[index]  # filtered to share ids above
    return found


def recent_visits(snapshot_ids, per_snapshot: int = 5) -> dict[int, list[SnapshotVisit]]:
    """The latest few visits of each of these snapshots, with their users, newest first: {snapshot id: visits};
    one query (a row number per snapshot)."""
    ranked = (
        SnapshotVisit.objects.filter(snapshot_id__in=snapshot_ids)
        .annotate(n=Window(RowNumber(), partition_by=[F("snapshot_id")], order_by=F("date").desc()))
        .filter(n__lte=per_snapshot)
        .select_related("user")
        .order_by("snapshot_id", "-date")
    )
    out: dict[int, list[SnapshotVisit]] = {}
    for visit in ranked:
        out.setdefault(visit.snapshot_id, []).append(visit)
    return out


def revoke_derived(access, share_id: int, snapshot_id: int) -> Snapshot:
    """The sharer revokes one snapshot a recipient made of their test, leaving the share itself as it is. Who may
    revoke the share may revoke what was derived from it."""
    share = liveshares.sent_share(access, share_id)
    snapshot = Snapshot.objects.filter(live_share=share, id=snapshot_id).select_related("test").first()
    if snapshot is None:
        raise NotFound()
    _delete(snapshot)
    return snapshot


@liveshares.register_ending
def _end_derived(share_ids) -> None:
    """Live shares are ending: so does every snapshot made through them, in the same transaction."""
    for snapshot in Snapshot.objects.filter(live_share_id__in=share_ids).select_related("test"):
        _delete(snapshot)


def _delete(snapshot: Snapshot) -> None:
    with transaction.atomic():
        source_id = snapshot.source_test_id
        RetentionPin.objects.filter(test_id=source_id, copy_to_id=snapshot.test_id).delete()
        snapshot.test.delete()  # cascades: snapshot, visits, comments, recipients, copied rows, pins
        purge_deleted_test(source_id)


def record_visit(snapshot: Snapshot, ip: str, user=None) -> None:
    """One row per page view. A plain INSERT with its SQL built once per process: it runs on
    every view, and the ORM's model save cost more than the rest of a repeat view's reads (docs/benchmarks.md,
    row 4). The visit tally follows by trigger (SnapshotVisitTally)."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    date = SnapshotVisit._meta.get_field("date").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_visit_insert_sql(), [snapshot.id, date, ip[:64], user_id])


@functools.cache
def _visit_insert_sql() -> str:
    quote = connection.ops.quote_name
    fields = [SnapshotVisit._meta.get_field(name) for name in ("snapshot", "date", "ip", "user")]
    columns = ", ".join(quote(f.column) for f in fields)  # type: ignore[union-attr, arg-type]  # concrete fields
    return f"INSERT INTO {quote(SnapshotVisit._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)"


def post_comment(snapshot: Snapshot | DashboardSnapshot, *, body, name=None, user=None, ip: str = "") -> Comment:
    """Post a plain-text comment on a test or dashboard snapshot; signed-in users post as themselves, guests only
    where the creator allowed them (marked as guests). One limit per address for both kinds. E-mails the creator."""
    signed_in = user is not None and user.is_authenticated
    if snapshot.comments_signed_in_only and not signed_in:
        raise Forbidden("Only signed-in users may comment on this snapshot")
    body = _text(body, "comment", 2000, multiline=True)
    author = user.name or user.email if signed_in else _text(name, "name", 100)
    count, reset = ratelimit.hit(f"snapshot-comment:{ip}", 3600)
    if count > settings.COMMENT_LIMIT_PER_HOUR:
        raise RateLimited("Too many comments from this address; try again later", retry_after=reset - ratelimit.now())
    with transaction.atomic():
        comment = snapshot.comments.create(
            author_name=author[:100], user=user if signed_in else None, body=body, ip=ip[:64]
        )
        emails.queue_comment(snapshot, comment)
    return comment


__all__ = [
    "create_snapshot",
    "update_snapshot",
    "revoke_snapshot",
    "email_snapshot",
    "revoke_derived",
    "derived_from",
    "record_visit",
    "post_comment",
    "visible_snapshots",
    "shared_with",
    "links",
]


def share_link_test_ids():
    """The frozen tests behind share links (not saved events), as a subquery: the test lists of both API versions
    show saved events among the tests, as ThousandEyes does, and never share links."""
    return Snapshot.objects.filter(is_public=True).values("test_id")
