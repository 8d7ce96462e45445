"""`python -m spyglass.bench.server PORT`: the product's gunicorn configuration serving the bench settings."""

import os
import sys

os.environ["DJANGO_SETTINGS_MODULE"] = "spyglass.bench.settings"


def main():
    import django

    django.setup()
    from spyglass.appserver import SpyglassServer, gunicorn_options

    SpyglassServer(gunicorn_options("127.0.0.1", int(sys.argv[1]), workers=2)).run()


if __name__ == "__main__":
    main()
