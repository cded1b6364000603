"""Oráculo's web app: ``python app.py`` (also the Hugging Face Spaces entry point).

Builds the UI with :func:`oracle.ui.create_app` and launches it. Host and port come from
``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (default 127.0.0.1:7860; Spaces sets
0.0.0.0:7860); the workspace from ``ORACLE_HOME``; see :mod:`oracle.ui` for the other
settings. Importing this module is cheap: no model and no torch are loaded until a person
asks for them.
"""

import logging
import os

from oracle.ui import create_app, launch_kwargs


def main() -> None:
    """Build and serve the app (blocks until the server stops)."""
    logging.basicConfig(
        level=os.environ.get("ORACLE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    create_app().queue(default_concurrency_limit=2).launch(**launch_kwargs())


if __name__ == "__main__":
    main()
