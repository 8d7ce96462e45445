"""Live shares: create, accept, decline, revoke, and the queries deciding who receives what. One place for the API,
the web pages and the hooks that make shared tests visible (hooks.py)."""

import math

from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied, ValidationError

from spyglass.accounts.models import AccountGroup, User
from spyglass.accounts.roles import ACCEPT_LIVE_SHARES, LIVE_SHARE_INSIDE, LIVE_SHARE_OUTSIDE
from spyglass.monitoring.models import Test
from spyglass.monitoring.tests_service import check_owner, visible_tests

from . import notify
from .models import LiveShare

ACTIVE = (LiveShare.PENDING, LiveShare.ACCEPTED)
MAX_GROUPS = 1000  # more than any organization has; keeps one query's parameter list bounded


def _start_round(moment) -> int:
    """The first roundId a recipient may read: rounds that began before the share was created stay hidden."""
    return math.ceil(moment.timestamp())


def _need(access, permission: str) -> None:
    if not access.can(permission):
        raise PermissionDenied(f"This needs the permission '{permission}'")


# --- who sent and who received what -------------------------------------------------------------------------------


def _outside_to(organization_id: int) -> Q:
    """Outside shares addressed to an organization: fixed to it on decision, or while pending through the user
    whose login is the invited e-mail (the invitation waits until that user exists)."""
    members = User.objects.filter(memberships__account_group__organization_id=organization_id).values("email")
    addressed = Q(recipient_organization_id=organization_id) | Q(
        recipient_organization__isnull=True, recipient_group__isnull=True, recipient_email__in=members
    )
    return addressed & ~Q(sharer__organization_id=organization_id)


def incoming(access):
    """Shares the caller's account group received: inside ones to the group, outside ones to its organization."""
    return LiveShare.objects.filter(Q(recipient_group=access.account_group) | _outside_to(access.organization_id))


def outgoing(access):
    return LiveShare.objects.filter(sharer=access.account_group)


def listing(access):
    """What the caller's account group sent and received, each with its direction, oldest first."""
    related = ("test", "sharer__organization", "recipient_group", "recipient_organization", "created_by")
    sent = [(s, "outgoing") for s in outgoing(access).select_related(*related)]
    received = [(s, "incoming") for s in incoming(access).select_related(*related)]
    return sorted(sent + received, key=lambda pair: (pair[0].created_date, pair[0].id))


def _granting(access):
    """Accepted shares that let the caller's account group read another group's test."""
    return LiveShare.objects.filter(status=LiveShare.ACCEPTED).filter(
        Q(recipient_group=access.account_group)
        | Q(recipient_group__isnull=True, recipient_organization_id=access.organization_id)
    )


def shared_test_ids(access):
    return _granting(access).values("test_id")


def first_round(access, test) -> int | None:
    """The earliest roundId the caller may read of a test shared with it; None when nothing grants access."""
    return _granting(access).filter(test=test).aggregate(first=Min("start_round"))["first"]


def granting_share(access, test, lock: bool = False) -> LiveShare | None:
    """The accepted share through which the caller reads another group's test — the one reaching back furthest, as
    first_round — or None. `lock` holds its row until the transaction ends, so that it cannot end meanwhile."""
    shares = _granting(access).filter(test=test).order_by("start_round", "id")
    if lock:
        shares = shares.select_for_update()
    return shares.first()


def first_rounds(access, test_ids) -> dict[int, int]:
    """first_round for many shared tests in one query: {test id: earliest readable roundId}."""
    rows = _granting(access).filter(test_id__in=test_ids).values("test_id").annotate(first=Min("start_round"))
    return {row["test_id"]: row["first"] for row in rows}


# --- creating and revoking ----------------------------------------------------------------------------------------


def _own_test(access, test_id: int) -> Test:
    test = visible_tests(access).filter(id=test_id).first()
    if test is None:
        raise Http404
    check_owner(access, test)
    if test.saved_event:
        raise ValidationError({"testId": "snapshots and saved events cannot be live-shared"})
    return test


def _recipient_groups(access, test, aids: list[int], field: str) -> dict[int, AccountGroup]:
    """The account groups with these ids, each another group of the caller's organization; one query."""
    if len(aids) > MAX_GROUPS:
        raise ValidationError({field: f"at most {MAX_GROUPS} account groups"})
    groups = AccountGroup.objects.filter(id__in=aids, organization_id=access.organization_id).exclude(
        id=test.account_group_id
    )
    found = {g.id: g for g in groups}
    for aid in aids:
        if aid not in found:
            # The same words whether the group exists elsewhere or not: never reveal other tenants.
            raise ValidationError({field: f"{aid} is not another account group of your organization"})
    return found


def _normalized_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationError({"email": "must be the recipient's login e-mail address"})
    return email


def create(access, test_id: int, aid: int | None = None, email: str | None = None) -> LiveShare:
    """Share a test of the caller's account group: with another account group of the organization (`aid`) or with
    another organization through one of its users' login e-mail (`email`). The share waits as pending. The answer
    is the same whether the e-mail has an account or not; the invitation waits for that user."""
    if (aid is None) == (email is None):
        raise ValidationError(
            {"aid": "give either aid (an account group of your organization) or email (a user of another organization)"}
        )
    test = _own_test(access, test_id)
    if aid is not None:
        _need(access, LIVE_SHARE_INSIDE)
        field, lookup = "aid", {"recipient_group": _recipient_groups(access, test, [aid], "aid")[aid]}
        taken = "this test is already shared with that account group"
    else:
        _need(access, LIVE_SHARE_OUTSIDE)
        email = _normalized_email(email)
        if User.objects.filter(
            email=email, memberships__account_group__organization_id=access.organization_id
        ).exists():
            raise ValidationError(
                {"email": "belongs to a user of your own organization; share with their account group (aid) instead"}
            )
        field, lookup = "email", {"recipient_email": email}
        taken = "this test is already shared with that address"
    try:
        with transaction.atomic():
            share = _open(access, test, lookup)
    except IntegrityError:  # a concurrent request created the same share first
        share = None
    if share is None:
        raise ValidationError({field: taken})
    if not share.inside:
        transaction.on_commit(lambda: notify.invitation(share), robust=True)
    return share


def _open(access, test, lookup: dict) -> LiveShare | None:
    """Create the share, or reopen a declined or dropped one as a new pending invitation starting now; None when a
    pending or accepted share to that recipient exists already."""
    now = timezone.now()
    fresh = {
        "sharer": test.account_group,
        "created_by": access.user,
        "status": LiveShare.PENDING,
        "created_date": now,
        "accepted_date": None,
        "decided_by": None,
        "dropped_date": None,
        "recipient_organization": None,
        "start_round": _start_round(now),
    }
    share = LiveShare.objects.select_for_update().filter(test=test, **lookup).first()
    if share is None:
        return LiveShare.objects.create(test=test, **lookup, **fresh)
    if share.status not in (LiveShare.DECLINED, LiveShare.DROPPED):
        return None
    for key, value in fresh.items():
        setattr(share, key, value)
    share.save()
    return share


# What a recipient derived from a share ends with it: functions (share ids) registered by the apps that keep such
# things (spyglass.sharing: snapshots of the shared test), called in the transaction that ends the shares.
_ENDINGS = []


def register_ending(ending):
    _ENDINGS.append(ending)
    return ending


@transaction.atomic
def end(shares) -> None:
    """End shares for good, with everything derived from them, in one transaction: once it commits, nothing the
    recipients made of the test is served any more, by any process. The one way a share ends."""
    ids = list(LiveShare.objects.select_for_update().filter(id__in=[s.id for s in shares]).values_list("id", flat=True))
    if not ids:
        return
    for ending in _ENDINGS:
        ending(ids)
    LiveShare.objects.filter(id__in=ids).delete()


def end_shares_of(test) -> None:
    """The test is being deleted: every share of it ends."""
    end(list(test.live_shares.all()))


def sent_share(access, share_id: int) -> LiveShare:
    """A share the caller's account group sent, if the caller may revoke it (the permission of its kind)."""
    share = outgoing(access).filter(id=share_id).first()
    if share is None:
        raise Http404
    _need(access, LIVE_SHARE_INSIDE if share.inside else LIVE_SHARE_OUTSIDE)
    return share


def revoke(access, share_id: int) -> None:
    """The sharer ends a share (unchecking a group, deleting a customer recipient): access ends at once, and so does
    every snapshot the recipient made of the test."""
    end([sent_share(access, share_id)])


def _received(access, share_id: int) -> LiveShare:
    """A share the caller's account group received, if the caller may decide on it."""
    share = incoming(access).filter(id=share_id).first()
    if share is None:
        raise Http404
    _need(access, ACCEPT_LIVE_SHARES)
    return share


def _decide(access, share_id: int, status: str) -> LiveShare:
    share = _received(access, share_id)
    changes = {"status": status, "decided_by": access.user}
    if status == LiveShare.ACCEPTED:
        changes["accepted_date"] = timezone.now()
    if not share.inside:
        changes["recipient_organization_id"] = access.organization_id
    # Conditional update: of two concurrent decisions, exactly one wins, in whichever process.
    if not LiveShare.objects.filter(id=share.id, status=LiveShare.PENDING).update(**changes):
        now = LiveShare.objects.filter(id=share.id).values_list("status", flat=True).first()
        if now is None:  # revoked meanwhile
            raise Http404
        raise ValidationError(f"this live share was already {now}")
    return LiveShare.objects.get(id=share.id)


def accept(access, share_id: int) -> LiveShare:
    """Accept a pending share: the test appears among the group's tests (an outside share: every group of the
    organization's)."""
    return _decide(access, share_id, LiveShare.ACCEPTED)


def decline(access, share_id: int) -> LiveShare:
    return _decide(access, share_id, LiveShare.DECLINED)


@transaction.atomic
def drop(access, share_id: int) -> LiveShare:
    """The recipient lets an accepted share go: the test leaves its tests and dashboards at once, what it derived
    from the share (snapshots) ends as when the sharer revokes, and the sharer sees the share as dropped (and may
    invite again). An outside share is dropped for the whole accepting organization, as it was accepted for it."""
    share = _received(access, share_id)
    status = LiveShare.objects.select_for_update().filter(id=share.id).values_list("status", flat=True).first()
    if status is None:  # revoked meanwhile
        raise Http404
    if status != LiveShare.ACCEPTED:
        raise ValidationError(f"only an accepted live share can be dropped; this one is {status}")
    for ending in _ENDINGS:
        ending([share.id])
    LiveShare.objects.filter(id=share.id).update(status=LiveShare.DROPPED, dropped_date=timezone.now())
    return LiveShare.objects.get(id=share.id)


# --- the inside shares of a test, as `sharedWithAccounts` and the checkbox list ------------------------------------


def shared_with(test) -> list[dict]:
    """Account groups of the organization the test is shared with, pending or accepted: [{aid, name}]."""
    shares = test.live_shares.filter(recipient_group__isnull=False, status__in=ACTIVE).select_related("recipient_group")
    return [{"aid": s.recipient_group_id, "name": s.recipient_group.name} for s in shares.order_by("recipient_group")]


@transaction.atomic  # _open locks the share row; callers outside a transaction (the web page) need one too
def set_shared_with(access, test, aids: list[int]) -> None:
    """Make the test's inside shares match the list: new groups get a pending share, a declined group checked again
    is invited again, groups left out are revoked. Needs the inside permission only when something changes."""
    groups = _recipient_groups(access, test, list(dict.fromkeys(aids)), "sharedWithAccounts")
    current = {s.recipient_group_id: s for s in test.live_shares.filter(recipient_group__isnull=False)}
    active = {aid for aid, s in current.items() if s.status in ACTIVE}
    to_open = [aid for aid in groups if aid not in active]
    to_revoke = [current[aid] for aid in active if aid not in groups]
    if not to_open and not to_revoke:
        return
    _need(access, LIVE_SHARE_INSIDE)
    end(to_revoke)
    for aid in to_open:
        _open(access, test, {"recipient_group": groups[aid]})


def settings_panel(access, test) -> dict:
    """What the test settings page shows: the checkbox list ("X of Y account groups", hidden when the organization
    has one group) and the outside recipients ("X other customers" = organizations that accepted)."""
    groups = AccountGroup.objects.filter(organization_id=access.organization_id).order_by("name")
    status = {
        s.recipient_group_id: s.status
        for s in test.live_shares.filter(recipient_group__isnull=False, status__in=ACTIVE)
    }
    others = [g for g in groups if g.id != test.account_group_id]
    outside = list(test.live_shares.filter(recipient_group__isnull=True).select_related("recipient_organization"))
    return {
        "show_groups": len(groups) > 1,
        "groups": [{"group": g, "status": status.get(g.id)} for g in others],
        "groups_shared": len(status),
        "groups_total": len(groups),
        "outside": outside,
        "customers": len(
            {
                s.recipient_organization_id
                for s in outside
                if s.status == LiveShare.ACCEPTED and s.recipient_organization_id
            }
        ),
    }
