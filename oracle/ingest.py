"""CONTRACT STUB (to be replaced by the ingest helper)."""
from __future__ import annotations
from dataclasses import dataclass, field


@dataclass
class IngestResult:
    documents: list = field(default_factory=list)   # [Document]
    errors: list = field(default_factory=list)      # [(file name, OracleError)]


def ingest_file(path, workspace=None, cfg=None, name: str | None = None):
    """path -> Document (saved under workspace.documents when workspace is given). name: display name
    (defaults to the file name). Raises IngestError subclasses naming the file."""
    raise NotImplementedError


def ingest_files(paths, workspace=None, cfg=None, progress=None) -> IngestResult:
    """Each file alone: one failure is recorded in errors and the batch goes on."""
    raise NotImplementedError


def list_documents(workspace) -> list:
    """[Document] saved in the workspace, sorted by name."""
    raise NotImplementedError


def load_document(workspace, doc_id: str):
    """Document; raises DocumentNotFoundError."""
    raise NotImplementedError


def delete_document(workspace, doc_id: str) -> None:
    """Remove the parsed document and its stored original. (Index and QA files are handled by callers.)"""
    raise NotImplementedError


def detect_language(text: str) -> str:
    """ISO 639-1 code ('pt', 'en', ...) or 'und' when the text is too short."""
    raise NotImplementedError
