# Anonymized snapshots (issue 23): a flag on the snapshot that makes every read of its window name agents and the
# owner's internal hops by pseudonyms (lib/anonymize.py, docs/sharing.md "Anonymized snapshots").
#
# As in 0008: on SQLite, adding a column of sharing_snapshot rebuilds the table, which drops its content-version
# trigger, and the rebuild's final rename is refused while other tables' triggers name the table; they are dropped
# first and made again after. sharing_snapshot_changed is then made over today's columns, `anonymized` among them:
# it changes everything the page shows.

import importlib

from django.db import migrations, models

_0008 = importlib.import_module("spyglass.sharing.migrations.0008_snapshot_share_flow")


def recreate_trigger(apps, schema_editor):
    _0008._make_trigger(schema_editor, _0008._snapshot_columns(apps, _0008.BOOKKEEPING))


def recreate_old_trigger(apps, schema_editor):
    _0008._make_trigger(schema_editor, _0008._snapshot_columns(apps, _0008.BOOKKEEPING | {"anonymized"}))


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0008_snapshot_share_flow"),
    ]

    operations = [
        migrations.RunPython(_0008.drop_sqlite_triggers, _0008.make_sqlite_triggers),
        migrations.AddField(
            model_name="snapshot",
            name="anonymized",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(_0008.make_sqlite_triggers, _0008.drop_sqlite_triggers),
        migrations.RunPython(recreate_trigger, recreate_old_trigger),
    ]
