"""The one gunicorn configuration: the app served by `spyglass serve` (spyglass/cli/serve.py) and by the benchmark
(spyglass/bench/server.py), with gunicorn's own log lines redacted."""

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from spyglass.lib.redact import RedactSecrets


class SpyglassServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from spyglass.wsgi import application

        return application


class RedactingLogger(Logger):
    """gunicorn's logger with the redaction filter on its handlers: gunicorn.error and gunicorn.access do not
    propagate to the root logger that settings.LOGGING filters, and their lines quote request lines and paths."""

    def setup(self, cfg):
        super().setup(cfg)  # (re)creates the handlers, on start and on every configuration reload
        for handler in self.error_log.handlers + self.access_log.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(RedactSecrets())


def gunicorn_options(host: str, port: int, workers: int) -> dict:
    """The one gunicorn configuration (the benchmark serves with it too). gunicorn logs at SPYGLASS_LOG_LEVEL, and
    at INFO or DEBUG writes an access line per request to stdout."""
    from django.conf import settings

    verbose = settings.LOG_LEVEL in ("DEBUG", "INFO")
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-" if verbose else None,
        "loglevel": settings.LOG_LEVEL.lower(),
        "logger_class": RedactingLogger,
        "post_worker_init": _freeze_loaded_objects,
    }


def _freeze_loaded_objects(worker):
    """Once the app is loaded in a worker, leave what it loaded (modules, classes, templates, compiled queries) out
    of the garbage collector's scans: requests make many short-lived objects, and every full collection walked all of
    them (one took about 100 ms under the agents' uploads, docs/benchmarks.md row 5)."""
    import gc

    gc.collect()
    gc.freeze()
