"""Addresses a district types that the server will then call: only public ones.

A district admin gives Pillarwise URLs it fetches on its own (a SAML IdP's metadata, an
OpenID Connect issuer's discovery document, a roster server's API and token endpoints).
Without a check, such a field is a way to make the server read its own network: the cloud
metadata service at 169.254.169.254, Redis or PostgreSQL on 127.0.0.1, a private admin
page on 10.0.0.0/8. So every such URL must use http(s) and its host must resolve only to
public (globally routable) addresses, checked when the URL is saved and again just before
a fetch (the name may resolve differently by then).

``OUTBOUND_PRIVATE_ADDRESSES`` (settings, default: DEBUG) lets a development machine or the
test suite point a district at servers on loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    found = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        found.append(address)
    return found


def check_public_url(url: str) -> None:
    """Raise ValidationError unless ``url`` is http(s) on a host with only public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Give a full http:// or https:// address.", code="scheme")
    if getattr(settings, "OUTBOUND_PRIVATE_ADDRESSES", False):
        return
    try:
        addresses = _addresses(parts.hostname)
    except (OSError, UnicodeError):
        raise ValidationError(
            "%(host)s could not be found. Check the address.",
            code="unresolved",
            params={"host": parts.hostname},
        ) from None
    if not addresses or not all(a.is_global for a in addresses):
        raise ValidationError(
            "%(host)s is a private or local address; Pillarwise only calls servers on the "
            "internet.",
            code="private",
            params={"host": parts.hostname},
        )


def fetch_public(url: str, *, timeout: float = 10, max_bytes: int = 2_000_000) -> bytes:
    """GET ``url`` after checking it, following at most three redirects, each checked too
    (a public page may send the server on to a private one); at most ``max_bytes`` read."""
    import requests

    for _hop in range(4):
        check_public_url(url)
        response = requests.get(url, timeout=timeout, allow_redirects=False, stream=True)
        if response.is_redirect:
            url = requests.compat.urljoin(url, response.headers["location"])
            response.close()
            continue
        response.raise_for_status()
        body = b""
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                response.close()
                raise ValidationError("The answer is too large.", code="too_large")
        return body
    raise ValidationError("The address redirects too many times.", code="redirects")


def public_session(timeout: float | None = None):
    """A ``requests.Session`` that checks the address of every request it sends and of
    every redirect before following it: an answer from a public server (a discovery
    document, a next-page link) may name a private one. A refused address raises
    ``requests.exceptions.InvalidURL`` (a RequestException). ``timeout`` applies to each
    request that names none."""
    import requests

    def _checked(url: str) -> None:
        try:
            check_public_url(url)
        except ValidationError as refused:
            raise requests.exceptions.InvalidURL(refused.messages[0]) from None

    class PublicSession(requests.Session):
        def request(self, method, url, *args, **kwargs):
            _checked(str(url))
            if timeout is not None:
                kwargs.setdefault("timeout", timeout)
            return super().request(method, url, *args, **kwargs)

        def get_redirect_target(self, resp):
            target = super().get_redirect_target(resp)
            if target:
                _checked(requests.compat.urljoin(resp.url, target))
            return target

    return PublicSession()


def public_url(value: str) -> None:
    """A field validator: empty passes (the field's own ``blank`` decides)."""
    if value:
        check_public_url(value)
