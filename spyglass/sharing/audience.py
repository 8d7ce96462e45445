"""Who may open a snapshot's share page — the rule in one place: a share link opens for anyone holding it, a saved
event only for signed-in members of its account group (anyone else gets the 404 of an unknown link).

It is a SQL expression so that it is decided with the link lookup itself: every route under /s/<linkId>/ (the page,
its results fragment, downloads and comments) reads it as `page_allowed` (page_reads, page_visit on PostgreSQL),
and "Shared with me" lists by it (services.shared_with)."""

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from spyglass.accounts.models import Membership


def may_open(user_id) -> ExpressionWrapper:
    """True for a Snapshot row the user may open; `user_id` None is a signed-out visitor (a member of nothing)."""
    member = Membership.objects.filter(user_id=user_id, account_group_id=OuterRef("account_group_id"))
    return ExpressionWrapper(Q(is_public=True) | Exists(member), output_field=BooleanField())
