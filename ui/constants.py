"""The web app's fixed numbers and fonts, in one place.

The product's tunables (top-k, upload limit, the model server …) are
``rag.Settings`` fields; what lives here only shapes how the app streams and looks.
"""

from __future__ import annotations

#: Milliseconds between streamed pieces of an answer in the browser (ui/app.js reads it from the
#: page): the server sends the answer at once and the browser reveals it piece by piece.
REVEAL_STEP_MS = 25
#: Least seconds between two updates of a model's streaming draft (each update re-sends the chat).
DRAFT_INTERVAL = 0.15
#: Questions answered at the same time; more wait in the queue.
CONCURRENCY = 4
#: Seconds a caller of the HTTP API is told to wait (``Retry-After``) when its queue is full.
RETRY_AFTER_S = 1
#: Characters of an answer per streamed chunk of ``/v1/chat/completions``.
STREAM_CHUNK_CHARS = 16
#: How many related passages a refused answer shows.
RELATED_SHOWN = 3
#: The largest top-k the settings slider offers.
TOP_K_MAX = 10
#: The interface languages the switch offers: (shown, code).
LANGUAGE_CHOICES = [("中文", "zh"), ("English", "en")]
#: The interface language a new session starts in.
FIRST_LANGUAGE = "zh"

FONT_STACK = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Hiragino Sans GB", "sans-serif"]
MONO_FONT_STACK = ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"]
#: Hours a sign-in through the login page lasts.
SESSION_HOURS = 12
#: Failed sign-ins from one address within LOGIN_WINDOW_S seconds before the login page makes it wait.
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_S = 60
