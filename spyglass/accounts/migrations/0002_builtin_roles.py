from django.db import migrations


def create_builtin_roles(apps, schema_editor):
    from spyglass.accounts import roles

    Permission = apps.get_model("accounts", "Permission")
    Role = apps.get_model("accounts", "Role")
    perms = {}
    for label, management in roles.PERMISSIONS:
        perms[label], _ = Permission.objects.get_or_create(label=label, defaults={"is_management": management})
    for name, labels in roles.BUILTIN_ROLES.items():
        role, _ = Role.objects.get_or_create(
            name=name, organization=None, builtin=True, defaults={"read_only": name == roles.REGULAR_USER}
        )
        role.permissions.set([perms[label] for label in labels])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_builtin_roles, migrations.RunPython.noop)]
