"""Issue 9, headers: CSP with nonces and no inline code, HSTS, frame denial, referrer."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.strip().split()
        out[name] = values
    return out


@pytest.mark.django_db
def test_every_page_carries_a_strict_content_security_policy(principal, login):
    response = login(principal).get("/")
    policy = directives(response["Content-Security-Policy"])
    nonce = re.search(r'<script src="[^"]+" nonce="([^"]+)"', response.content.decode())[1]
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    joined = " ".join(v for values in policy.values() for v in values)
    assert "unsafe" not in joined and "http" not in joined and "*" not in joined


@pytest.mark.django_db
def test_the_nonce_changes_with_every_response(principal, login):
    client = login(principal)
    first = client.get("/")["Content-Security-Policy"]
    assert first != client.get("/")["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_sign_in_page_and_errors_carry_the_policy_too(client):
    assert "frame-ancestors 'none'" in client.get("/accounts/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in client.get("/no-such-page/")["Content-Security-Policy"]


@pytest.mark.django_db
def test_hsts_frame_denial_referrer_policy_and_nosniff(client):
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    # HSTS is only sent over HTTPS, as the standard says.
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")


def test_production_settings_secure_the_cookies():
    # The test settings turn these off for the plain-HTTP test server; production keeps
    # the settings module's defaults (on whenever DEBUG is off).
    source = (ROOT / "config" / "settings.py").read_text()
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT"):
        assert f'{name} = env.bool("{name}", default=not DEBUG)' in source
    assert settings.SESSION_COOKIE_HTTPONLY is True


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE = {
    "style attribute": re.compile(r"\sstyle\s*="),
    "style element": re.compile(r"<style[\s>]"),
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")"),
    "event handler": re.compile(r"\son[a-z]+\s*=\s*[\"']"),
    "javascript: link": re.compile(r"javascript:", re.IGNORECASE),
    "htmx inline handler": re.compile(r"\shx-on"),
}


def test_no_template_holds_inline_script_style_or_handlers():
    found = []
    for directory in TEMPLATE_DIRS:
        if ".venv" in directory.parts:
            continue
        for path in directory.rglob("*.html"):
            # An e-mail's HTML is read by a mail client, never served under the site's CSP;
            # mail clients drop <style> and stylesheets, so its styles are inline.
            if "email" in path.relative_to(directory).parts:
                continue
            text = path.read_text()
            for what, pattern in INLINE.items():
                if pattern.search(text):
                    found.append(f"{path.relative_to(ROOT)}: {what}")
    assert not found, found
