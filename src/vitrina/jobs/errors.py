"""Errors of the jobs domain."""

from __future__ import annotations

from vitrina.core.errors import NotFoundError


class JobNotFound(NotFoundError):
    code = "JOB_NOT_FOUND"
    default_message = "No such job."


class UploadNotFound(NotFoundError):
    code = "UPLOAD_NOT_FOUND"
    default_message = "No such upload."


class JobFailed(Exception):
    """Raised inside a job: it ends ``failed`` with this message (batches committed before stay applied)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LeaseLost(Exception):
    """Another runner took the job over (this one was presumed dead): stop without writing anything more."""
