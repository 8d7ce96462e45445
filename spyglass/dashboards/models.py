"""Dashboards of an account group: widgets, each one test's metric over a period, own or live-shared tests alike."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from spyglass.accounts.models import AccountGroup
from spyglass.monitoring.models import Test


class Dashboard(models.Model):
    account_group = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="dashboards")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_date = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class Widget(models.Model):
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="widgets")
    # A deleted test leaves the widget in place, saying so, rather than silently changing the dashboard.
    test = models.ForeignKey(Test, null=True, on_delete=models.SET_NULL, related_name="+")
    test_name = models.CharField(max_length=255)  # as it was when added, to name a widget whose test is gone
    # Another group's test, live-shared: when it disappears the widget says "no longer shared", not "test deleted".
    live_share = models.BooleanField(default=False)
    metric = models.CharField(max_length=30)
    period = models.PositiveIntegerField()  # seconds
    position = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["dashboard", "position"])]
