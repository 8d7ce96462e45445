"""The one gunicorn configuration: what every app process (and the benchmark's) runs with."""

import gc

from gunicorn.config import Config

from spyglass.appserver import gunicorn_options


def test_gunicorn_accepts_every_option_and_workers_freeze_what_they_loaded():
    options = gunicorn_options("::1", 8000, workers=0)
    config = Config()
    for key, value in options.items():
        config.set(key, value)  # gunicorn validates each; a wrong value raises here, not in production
    assert config.bind == ["[::1]:8000"] and config.workers == 1 and config.worker_class_str == "gthread"
    before = gc.get_freeze_count()
    try:
        config.post_worker_init(None)  # what a worker runs once the app is loaded
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
