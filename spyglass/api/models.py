"""What the API keeps rendered: the v6 test list of an account group (stored_lists.py), under the content version of
what that list shows, which database triggers bump on every write (migration 0001)."""

from django.db import models

from spyglass.accounts.models import AccountGroup


class TestListVersion(models.Model):
    """The content version of an account group's test list: bumped in SQL, in the writing statement's transaction,
    by every write that can change what the group's list shows (its tests and the live-shared ones it sees, their
    creators' and last editors' names and e-mails, live shares, share links, the group's organization). Made when a
    list is first stored; a group without one has nothing stored."""

    __test__ = False  # not a pytest test class, whatever its name

    account_group = models.OneToOneField(AccountGroup, on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.BigIntegerField(default=1)


class StoredTestList(models.Model):
    """A rendered `GET /v6/tests` answer (JSON or XML, all tests or one type) of an account group, read only while
    `version` is the group's TestListVersion.version."""

    __test__ = False

    account_group = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)  # stored_lists.list_key: release, base URL, format, type
    version = models.BigIntegerField()
    content_type = models.CharField(max_length=60)
    body = models.TextField()  # text: PostgreSQL sends bytea as hex, twice the bytes and slower to read

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account_group", "key"], name="uniq_stored_test_list")]
