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


class ReportSchedule(models.Model):
    """A dashboard's scheduled snapshot ("report"): when it runs (dashboards.schedules), what it freezes and who gets
    the link. Run by the worker (sharing.reports), as the person who saved it last (`created_by`)."""

    DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"
    FREQUENCIES = [(DAILY, "Daily"), (WEEKLY, "Weekly"), (MONTHLY, "Monthly")]
    LAST_DAY = 0  # day_of_month: the month's last day

    dashboard = models.OneToOneField(Dashboard, on_delete=models.CASCADE, related_name="schedule")
    frequency = models.CharField(max_length=10, choices=FREQUENCIES)
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)  # weekly: 0 = Monday … 6 = Sunday
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)  # monthly: 1–28, or LAST_DAY
    time_of_day = models.TimeField()  # in the organization's time zone
    recipients = models.JSONField(default=list)
    name = models.CharField(max_length=255, blank=True, default="")  # the snapshots' name; blank: the dashboard's
    window = models.PositiveIntegerField()  # seconds of data each snapshot holds, ending at the run
    expires_days = models.PositiveIntegerField(null=True, blank=True)  # each snapshot's expiry; None: never
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    modified_date = models.DateTimeField(default=timezone.now)
    next_run_at = models.DateTimeField(null=True, blank=True)  # UTC; None while disabled
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_run_at"])]


class ReportRun(models.Model):
    """One run of a dashboard's schedule: when, what it made (the snapshot's link id) or why it made nothing. Kept
    with the dashboard, so the page lists the last runs after the schedule changed or was removed."""

    OK, FAILED = "ok", "failed"

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="report_runs")
    ran_at = models.DateTimeField(default=timezone.now)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=10, choices=[(OK, "ok"), (FAILED, "failed")])
    error = models.CharField(max_length=500, blank=True, default="")
    # The dashboard snapshot's link id (sharing, a layer above, owns the snapshot): shown while it still opens.
    snapshot_link_id = models.CharField(max_length=32, blank=True, default="")
    recipients = models.PositiveIntegerField(default=0)  # how many addresses the link was queued for

    class Meta:
        indexes = [models.Index(fields=["dashboard", "-ran_at"])]
