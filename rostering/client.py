"""The REST sources' HTTP client: OAuth 2.0 client credentials, paging, retry with backoff.

``requests`` (installed) is the client. A token is asked for with the client-credentials
grant (HTTP Basic with the client id and secret, as OneRoster 1.2 and the Ed-Fi ODS/API
accept), kept until it expires and asked again once on a 401. A 429 waits for its
Retry-After (capped), a 5xx, a dropped connection or a page whose JSON is cut short is
retried with a doubling backoff; after ``ATTEMPTS`` the source cannot be read and the run
stops (``RosterProblem``), applying nothing. Pages are read with ``limit``/``offset`` until
a short page; a server that announced a total (X-Total-Count, Ed-Fi's Total-Count) and sent
fewer records is a page cut short too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import requests
from django.core.exceptions import ValidationError

from core.outbound import check_public_url, public_session

from .records import RosterProblem

ATTEMPTS = 5
BACKOFF = 0.5  # seconds, doubled per attempt
MAX_WAIT = 30.0  # the longest Retry-After obeyed
TIMEOUT = 60.0


class RestClient:
    def __init__(
        self,
        *,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        sleep: Callable[[float], None] = time.sleep,
        backoff: float = BACKOFF,
    ):
        for url in (base_url, token_url):  # saved as public; checked again before calling
            try:
                check_public_url(url)
            except ValidationError as refused:
                raise RosterProblem(f"{url}: {refused.messages[0]}") from None
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.client_id, self.client_secret = client_id, client_secret
        self.session = public_session()
        self.token = ""
        self.token_expires = 0.0
        self.sleep, self.backoff = sleep, backoff

    # --- the token ---------------------------------------------------------------------

    def _fetch_token(self) -> None:
        try:
            reply = self.session.post(
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.client_secret),
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise RosterProblem(f"token: {self.token_url} could not be reached ({exc})") from exc
        if reply.status_code != 200:
            raise RosterProblem(
                f"token: {self.token_url} refused the client id and secret "
                f"(HTTP {reply.status_code})"
            )
        try:
            body = reply.json()
            self.token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise RosterProblem(f"token: {self.token_url} sent no access_token") from None
        self.token_expires = time.monotonic() + float(body.get("expires_in") or 3600) - 30

    def _auth_header(self) -> dict:
        if not self.token or time.monotonic() >= self.token_expires:
            self._fetch_token()
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    # --- one page ----------------------------------------------------------------------

    def get(
        self, path: str, params: dict, *, missing_ok: bool = False
    ) -> tuple[object, requests.structures.CaseInsensitiveDict]:
        """One GET answered with JSON: (body, headers), after retries. ``path`` is under
        the base URL, or a whole URL. ``missing_ok``: a 404 answers (None, headers)."""
        url = path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"
        refreshed = False
        last = ""
        for attempt in range(ATTEMPTS):
            try:
                reply = self.session.get(
                    url, params=params, headers=self._auth_header(), timeout=TIMEOUT
                )
            except requests.RequestException as exc:
                last = f"could not be read ({exc.__class__.__name__})"
                self.sleep(self.backoff * 2**attempt)
                continue
            if reply.status_code == 401 and not refreshed:
                refreshed = True
                self.token = ""  # expired or revoked: ask once more
                continue
            if reply.status_code == 429:
                last = "answered 429 Too Many Requests"
                self.sleep(self._retry_after(reply, attempt))
                continue
            if reply.status_code >= 500:
                last = f"answered HTTP {reply.status_code}"
                self.sleep(self.backoff * 2**attempt)
                continue
            if reply.status_code == 404 and missing_ok:
                return None, reply.headers
            if reply.status_code != 200:
                raise RosterProblem(f"{path}: the server answered HTTP {reply.status_code}")
            try:
                return reply.json(), reply.headers
            except ValueError:
                last = "sent a page cut short (its JSON ends early)"
                self.sleep(self.backoff * 2**attempt)
                continue
        raise RosterProblem(f"{path} (offset {params.get('offset', 0)}): {last} {ATTEMPTS} times")

    def _retry_after(self, reply, attempt: int) -> float:
        raw = reply.headers.get("Retry-After", "")
        try:
            return min(MAX_WAIT, max(0.0, float(raw)))
        except ValueError:
            return self.backoff * 2**attempt

    # --- every page --------------------------------------------------------------------

    def pages(
        self,
        path: str,
        *,
        key: str | None,
        limit: int,
        params: dict | None = None,
        total_header: str = "X-Total-Count",
    ) -> Iterator[dict]:
        """Every record of a collection, page by page (``key``: the list's name in the
        body, OneRoster's ``{"users": [...]}``; None: the body is the list, as Ed-Fi's)."""
        offset = 0
        seen = 0
        total = None
        while True:
            body, headers = self.get(path, {**(params or {}), "limit": limit, "offset": offset})
            records = (
                body if key is None else (body or {}).get(key) if isinstance(body, dict) else None
            )
            if not isinstance(records, list):
                raise RosterProblem(f"{path} (offset {offset}): the page holds no {key or 'list'}")
            if total is None and headers.get(total_header, "").isdigit():
                total = int(headers[total_header])
            yield from records
            seen += len(records)
            offset += len(records)
            if len(records) < limit or (total is not None and seen >= total):
                break
        if total is not None and seen < total:
            raise RosterProblem(
                f"{path}: the server announced {total} records and sent {seen} (a page cut short)"
            )
