"""JSON shapes of the jobs routes (the only place that knows their JSON names)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator

from vitrina.core.schemas import RequestModel

# Header names a feed may be sent (an RFC 9110 token); values without CR/LF. Hop-by-hop and framing headers are
# the client's business and refused.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "upgrade", "te",
                               "trailer", "keep-alive", "proxy-authorization", "proxy-connection"})
MAX_FEED_HEADERS = 20


class JobProgress(BaseModel):
    done: int = Field(description="Rows (or feed entries) processed so far.")
    total: int | None = Field(description="Rows expected (an estimate until the job ends); null if unknown.")


class JobRowError(BaseModel):
    line: int | None = Field(default=None, description="1-based line of the file (the CSV header is line 1).")
    field: str | None = Field(default=None, description="The item field at fault, when one is.")
    message: str
    external_id: str | None = None


class JobOut(BaseModel):
    id: str = Field(description="job_ id")
    kind: Literal["inventory.import", "inventory.sync"]
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: JobProgress
    errors: list[JobRowError] = Field(description="Row errors (the first 1,000; error_count counts all).")
    error_count: int
    result: dict[str, Any] | None = Field(description="Counts when finished; while running or after a failure, "
                                          "as far as the committed batches got (`applied_through_line`).")
    message: str | None = Field(description="Why a failed job failed.")
    attempts: int = Field(description="How many times a runner took the job (more than 1 after a crash).")
    created_at: str
    started_at: str | None
    finished_at: str | None
    updated_at: str


class CsvSource(RequestModel):
    kind: Literal["csv"]
    path: str | None = Field(default=None, min_length=1, max_length=500,
                             description="A file under the server's `<data_dir>/imports/` directory.")
    upload_id: str | None = Field(default=None, max_length=40, validation_alias=AliasChoices("upload_id", "uploadId"),
                                  description="A file sent earlier with `POST /jobs/uploads`.")
    map: str | None = Field(default=None, max_length=2000, description="Column mapping `HEADER=field,...`.")


HeaderName = Annotated[str, Field(min_length=1, max_length=100)]


class HttpSource(RequestModel):
    kind: Literal["http"]
    url: str = Field(min_length=1, max_length=2048, description="The feed: https (http only when the operator "
                     "allows it), never a private, loopback or metadata address.")
    headers: dict[HeaderName, Annotated[str, Field(max_length=4096)]] | None = Field(
        default=None, description="Sent with every request to the feed (the POS's auth); stored encrypted.")

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        if len(value) > MAX_FEED_HEADERS:
            raise ValueError(f"at most {MAX_FEED_HEADERS} headers")
        for name, text in value.items():
            if not _TOKEN.match(name) or name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"{name!r} is not a header the feed may be sent")
            if any(ch in text for ch in "\r\n\x00"):
                raise ValueError(f"the value of {name!r} contains a line break or NUL")
        return value


class SyncIn(RequestModel):
    location_id: str = Field(min_length=1, max_length=32, validation_alias=AliasChoices("location_id", "locationId"))
    sync_type: Literal["full", "incremental"] = Field(
        default="full", validation_alias=AliasChoices("sync_type", "syncType"),
        description="`full`: the location ends up matching the feed (items absent from it go to 0); "
                    "`incremental`: only the entries since the last sync's cursor are applied.")
    source: HttpSource | CsvSource = Field(discriminator="kind")


class UploadOut(BaseModel):
    id: str = Field(description="upl_ id")
    filename: str | None
    size: int
    created_at: str
