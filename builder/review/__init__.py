"""Reviewing a page's drafts against the raw page: the correction model and its session.

`draft` holds where every raw line goes and the corrections as pure functions; `session`
keeps the undo history and the files on disk and saves with extract's writer; `server` (needs
the `review` extra: Flask) serves the review page on 127.0.0.1 and maps requests to the
session.
"""

from builder.review.draft import CorrectionError, Draft, Page, Place
from builder.review.session import SaveConflict, SaveRefused, SaveResult, Session, open_session

__all__ = [
    "CorrectionError",
    "Draft",
    "Page",
    "Place",
    "SaveConflict",
    "SaveRefused",
    "SaveResult",
    "Session",
    "open_session",
]
