"""Question answering over Chinese documents that always shows its evidence.

Data flows one way: ``Document`` (documents) → ``Chunk`` (chunking) → ``Hit``
(retrieval) → ``Answer`` (answer). ``Rag`` (api) ties them together; the CLI
and the web app are thin layers over it.
"""

from .api import IngestReport, QuestionError, Rag
from .settings import Settings, load_settings

__all__ = ["Rag", "IngestReport", "QuestionError", "Settings", "load_settings"]
