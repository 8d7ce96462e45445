import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F, Q


def tie_existing_snapshots(apps, schema_editor):
    """Snapshots made through a live share before they were tied to it: tie each to the share that still grants it,
    its own test row moved to the snapshot's account group; one whose share has ended is ended now (it was still
    serving the sharer's rows)."""
    Snapshot = apps.get_model("sharing", "Snapshot")
    LiveShare = apps.get_model("liveshares", "LiveShare")
    Test = apps.get_model("monitoring", "Test")
    RetentionPin = apps.get_model("monitoring", "RetentionPin")
    derived = Snapshot.objects.exclude(account_group_id=F("source_test__account_group_id")).select_related(
        "account_group"
    )
    for snapshot in derived:
        share = (
            LiveShare.objects.filter(test_id=snapshot.source_test_id, status="accepted")
            .filter(
                Q(recipient_group_id=snapshot.account_group_id)
                | Q(recipient_group__isnull=True, recipient_organization_id=snapshot.account_group.organization_id)
            )
            .order_by("start_round", "id")
            .first()
        )
        if share is None:
            RetentionPin.objects.filter(test_id=snapshot.source_test_id, copy_to_id=snapshot.test_id).delete()
            Test.objects.filter(id=snapshot.test_id).delete()  # cascades: the snapshot, its visits, copies, pins
            if not RetentionPin.objects.filter(test_id=snapshot.source_test_id).exists():
                Test.objects.filter(id=snapshot.source_test_id, deleted_date__isnull=False).delete()
            continue
        Snapshot.objects.filter(id=snapshot.id).update(live_share_id=share.id)
        Test.objects.filter(id=snapshot.test_id).update(account_group_id=snapshot.account_group_id)


class Migration(migrations.Migration):
    dependencies = [
        ("liveshares", "0001_live_shares"),
        ("monitoring", "0003_export_chunks"),
        ("sharing", "0004_snapshot_visit_tally"),
    ]

    operations = [
        migrations.AddField(
            model_name="snapshot",
            name="live_share",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="snapshots",
                to="liveshares.liveshare",
            ),
        ),
        migrations.RunPython(tie_existing_snapshots, migrations.RunPython.noop),
    ]
