"""Run the app under gunicorn (the production server) from Python, without a config file."""

import gc

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def run_gunicorn(app, host: str, port: int, workers: int = 2) -> None:
    """Serve app on host:port with gunicorn workers (the database was created at app start)."""
    # The workers are forked from this process and share its memory (the place index, the
    # catalogues) until they write to it; moving what exists now out of the garbage
    # collector's sight stops its passes from writing to, and so copying, every page of it.
    gc.collect()
    gc.freeze()
    _Server(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": "-",
            # The path only: search text and coordinates in query strings stay out of logs.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        },
    ).run()
