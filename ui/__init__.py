"""The web interface (Gradio): ``serve(rag, host, port)`` is what ``rag serve`` runs."""

from .app import build_app, serve

__all__ = ["build_app", "serve"]
