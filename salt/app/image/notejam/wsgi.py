"""The WSGI entry point for gunicorn: `gunicorn --bind 0.0.0.0:8000 notejam.wsgi:app`."""

from notejam import create_app

app = create_app()
