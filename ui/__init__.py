"""The front ends: the command line (``ui.cli``), the web app (``ui.app``) and the local model launcher.

Each imports only the top-level ``rag`` package (tests/test_architecture.py
checks it); nothing here is imported eagerly, so ``rag --help`` never loads Gradio.
"""
