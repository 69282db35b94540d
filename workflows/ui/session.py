"""The dashboard's session: the operator token in an HttpOnly, SameSite=Strict cookie, and CSRF.

The cookie holds the operator token itself (the browser never exposes it to scripts), so any API
process can check it with no session store; logging out clears it, revoking the token ends every
session of it. Each form carries ``csrf``, an HMAC of the token's digest: a page of another origin can
neither read it nor, with SameSite=Strict, send the cookie along.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from workflows.intake.tokens import Principal, TokenCache, verify
from workflows.runtime import Runtime

COOKIE = "yunshang_session"
#: the header htmx requests carry the CSRF token in (``hx-headers`` on ``<body>``)
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def csrf_token(token: str) -> str:
    """The CSRF token of a session (stable for the token's life; not the token)."""
    key = hashlib.sha256(token.encode()).digest()
    return hmac.new(key, b"yunshang-csrf", hashlib.sha256).hexdigest()


async def lookup(request: Request, token: str) -> Principal | None:
    runtime: Runtime = request.app.state.runtime
    cache: TokenCache = request.app.state.tokens
    known, found = cache.get(token)
    if not known:
        found = await run_in_threadpool(verify, runtime.db, token)
        cache.put(token, found)
    return found


async def ui_operator(request: Request) -> Principal:
    """The logged-in operator; a missing, unknown or revoked session redirects to the login."""
    token = request.cookies.get(COOKIE)
    found = await lookup(request, token) if token else None
    if found is None or not found.operator:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    request.state.who = found
    request.state.csrf = csrf_token(token or "")
    return found


async def csrf_checked(request: Request, who: Annotated[Principal, Depends(ui_operator)]) -> Principal:
    """A state-changing request: its ``csrf`` form field or ``X-CSRF-Token`` header must match."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not hmac.compare_digest(sent, request.state.csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page and try again")
    return who


def district_only(who: Principal) -> None:
    """Refuse a department-scoped operator on a page about the whole district."""
    if who.department is not None:
        raise HTTPException(
            403, f"{who.name} is scoped to department {who.department}; this page needs a district token"
        )


def login_url(next_path: str) -> str:
    return "/ui/login?next=" + quote(next_path, safe="/")


def safe_next(value: str | None) -> str:
    """Only a path of the dashboard itself: no open redirect to another site."""
    if value and value.startswith("/ui") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


UiOperator = Annotated[Principal, Depends(ui_operator)]
UiAction = Annotated[Principal, Depends(csrf_checked)]
