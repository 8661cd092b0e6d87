"""jupyterlab-aisci: the prebuilt JupyterLab extension (labextension/) and its Jupyter Server
extension (REST under /aisci/api/, on aisci's Python API)."""

from __future__ import annotations

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-aisci"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyterlab_aisci"}]


def _load_jupyter_server_extension(server_app):
    from jupyterlab_aisci.handlers import setup_handlers

    setup_handlers(server_app.web_app)
    server_app.log.info("jupyterlab_aisci: /aisci/api/ registered")
