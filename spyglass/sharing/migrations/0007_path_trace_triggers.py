# Path traces on share pages (issue 19): what a page shows of a path besides its frozen PathRound rows are the hop
# names of its Path rows (a name first reported later fills an empty one: path_store.path_ids) and the prefixes and
# networks of the AS table the operator loads (`spyglass asn import`). Either change bumps, in the writing
# statement's transaction, the content version of the snapshots that show it, as migration 0006 does for agents:
# stored renders (sharing/stored.py) are read only under the version they were made at.

from django.db import migrations

BUMP = "UPDATE sharing_snapshot SET content_version = content_version + 1"
TRIGGERS = {"path_changed": "monitoring_path", "asn_table_changed": "monitoring_asntable"}


def _postgresql():
    return [
        f"""CREATE FUNCTION sharing_path_changed() RETURNS trigger AS $$
        BEGIN {BUMP} WHERE source_test_id = NEW.test_id; RETURN NULL; END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER sharing_path_changed AFTER UPDATE ON monitoring_path FOR EACH ROW
        WHEN (OLD.hops IS DISTINCT FROM NEW.hops) EXECUTE FUNCTION sharing_path_changed()""",
        # The table is one row, updated once per import: every snapshot may show a hop of the new table.
        f"""CREATE FUNCTION sharing_asn_table_changed() RETURNS trigger AS $$
        BEGIN {BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER sharing_asn_table_changed AFTER UPDATE ON monitoring_asntable FOR EACH ROW
        WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION sharing_asn_table_changed()""",
    ]


def _sqlite():
    return [
        f"""CREATE TRIGGER sharing_path_changed AFTER UPDATE ON monitoring_path
        WHEN OLD.hops IS NOT NEW.hops BEGIN {BUMP} WHERE source_test_id = NEW.test_id; END""",
        f"""CREATE TRIGGER sharing_asn_table_changed AFTER UPDATE ON monitoring_asntable
        WHEN OLD.version IS NOT NEW.version BEGIN {BUMP}; END""",
    ]


def create_triggers(apps, schema_editor):
    make = _postgresql if schema_editor.connection.vendor == "postgresql" else _sqlite
    for sql in make():
        schema_editor.execute(sql, None)


def drop_triggers(apps, schema_editor):
    for name, table in TRIGGERS.items():
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER sharing_{name} ON {table}", None)
            schema_editor.execute(f"DROP FUNCTION sharing_{name}()", None)
        else:
            schema_editor.execute(f"DROP TRIGGER sharing_{name}", None)


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0006_snapshot_content_version"),
        ("monitoring", "0004_path_traces"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
