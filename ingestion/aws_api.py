"""Calling AWS APIs through boto3: exponential backoff on throttling, and page walking.

The client is always passed in (a factory from `ingestion.aws_api.client_factory` by default), so tests
hand in a moto-backed or stubbed client, and the sleep between retries is injectable so a test of the
backoff does not really wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ingestion.errors import LoadError

# Error codes AWS APIs use when a caller exceeds its request rate; they succeed when retried later.
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "LimitExceededException"}
)

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class Backoff:
    """Retry a throttled call after base, 2 x base, 4 x base ... seconds (capped), up to `attempts` calls.

    No jitter: one loader makes one call at a time, so there is no herd of clients to spread out, and a test
    can assert the exact waits.
    """

    attempts: int = 6
    base_seconds: float = 1.0
    cap_seconds: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failed call (0-based)."""
        return min(self.cap_seconds, self.base_seconds * 2**attempt)


def client_factory(region: str | None = None) -> ClientFactory:
    """boto3 clients from the default credential chain (env, profile, instance role) in `region`."""
    import boto3

    session = boto3.session.Session(region_name=region)
    return lambda service: session.client(service)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def call(operation: Callable[..., dict], backoff: Backoff, what: str, **kwargs: Any) -> dict:
    """One API call, retried with backoff while it is throttled; other errors become a LoadError naming `what`."""
    attempt = 0
    while True:
        try:
            return operation(**kwargs)
        except ClientError as exc:
            if error_code(exc) not in THROTTLING_CODES:
                message = exc.response.get("Error", {}).get("Message", exc)
                raise LoadError(f"{what}: {error_code(exc)}: {message}") from exc
            if attempt + 1 >= backoff.attempts:
                raise LoadError(f"{what}: still throttled after {backoff.attempts} attempts") from exc
            backoff.sleep(backoff.delay(attempt))
            attempt += 1
        except BotoCoreError as exc:
            raise LoadError(f"{what}: {exc}") from exc


def pages(
    operation: Callable[..., dict], backoff: Backoff, what: str, token_field: str, request: dict[str, Any]
) -> Iterator[dict]:
    """Every page of a paginated call, following `token_field` (NextPageToken, NextToken) until it is absent."""
    token: str | None = None
    while True:
        kwargs = {**request, token_field: token} if token else request
        page = call(operation, backoff, what, **kwargs)
        yield page
        token = page.get(token_field)
        if not token:
            return
