"""A live share: one test of an account group, shared read-only with another account group of the same organization
or, by a login e-mail, with another organization. It waits as pending until a recipient accepts it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from spyglass.accounts.models import AccountGroup, Organization
from spyglass.monitoring.models import Test


class LiveShare(models.Model):
    PENDING, ACCEPTED, DECLINED, DROPPED = "pending", "accepted", "declined", "dropped"
    # dropped: the recipient accepted it and later let it go (the sharer sees that; nothing is readable any more)
    STATUSES = [(PENDING, PENDING), (ACCEPTED, ACCEPTED), (DECLINED, DECLINED), (DROPPED, DROPPED)]

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="live_shares")
    sharer = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="outgoing_live_shares")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Inside the organization: the recipient account group.
    recipient_group = models.ForeignKey(
        AccountGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="incoming_live_shares"
    )
    # Outside: the invited login e-mail (lower case). Its organization is found through the user with that e-mail
    # while pending (the user may not exist yet) and fixed here when someone of it accepts or declines.
    recipient_email = models.EmailField(blank=True, default="")
    recipient_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="incoming_live_shares"
    )
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    created_date = models.DateTimeField(default=timezone.now)
    accepted_date = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    dropped_date = models.DateTimeField(null=True, blank=True)
    # The recipient reads rounds with roundId >= start_round only: the share's creation, in epoch seconds.
    start_round = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_group__isnull=False, recipient_email="")
                | (Q(recipient_group__isnull=True) & ~Q(recipient_email="")),
                name="live_share_one_recipient",
            ),
            models.UniqueConstraint(fields=["test", "recipient_group"], name="uniq_live_share_group"),
            models.UniqueConstraint(
                fields=["test", "recipient_email"], condition=~Q(recipient_email=""), name="uniq_live_share_email"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient_group", "status"]),
            models.Index(fields=["recipient_organization", "status"]),
            models.Index(fields=["recipient_email"]),
        ]

    @property
    def inside(self) -> bool:
        return self.recipient_group_id is not None

    def __str__(self):
        return f"{self.test_id} → {self.recipient_group_id or self.recipient_email} ({self.status})"
