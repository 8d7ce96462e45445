import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spyglass.settings")
application = get_wsgi_application()

from spyglass.sharing import release  # noqa: E402  (needs the app registry ready)

release.current()  # computed once, before the first request: what a stored share page must have been rendered by
