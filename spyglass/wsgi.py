import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spyglass.settings")
application = get_wsgi_application()

from spyglass.api import stored_lists  # noqa: E402  (needs the app registry ready)
from spyglass.lib import release  # noqa: E402

# Computed once, before the first request: what a stored share page and a stored test list must have been made by.
release.current()
stored_lists.list_release()
