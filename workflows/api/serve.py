"""Serving the HTTP API under uvicorn."""

from __future__ import annotations

import gc
import json
import secrets

import uvicorn

from workflows.api.app import create_app
from workflows.intake import tokens
from workflows.runtime import Runtime


def serve_api(runtime: Runtime, *, development: bool) -> None:
    """Run the HTTP API under uvicorn until Ctrl-C. Configured tokens are made valid first; the
    embedded stack also mints a development token (admin scope), prints it and writes it to a file
    the CLI reads (``YUNSHANG_DEV_TOKEN_FILE``)."""

    settings = runtime.settings
    configured = [tokens.TokenConfig.model_validate(t) for t in json.loads(settings.api_tokens)]
    if development:
        dev = "ys_dev_" + secrets.token_urlsafe(18)
        configured.append(tokens.TokenConfig(name="dev", token=dev, kind="admin", event_types=["*"]))
        settings.dev_token_file.parent.mkdir(parents=True, exist_ok=True)
        settings.dev_token_file.write_text(dev + "\n", encoding="utf-8")
        print(f"development token (admin): {dev}\n  also in {settings.dev_token_file}", flush=True)
    tokens.ensure(runtime.db, runtime.clock, configured)
    print(f"HTTP API on http://{settings.api_host}:{settings.api_port} (docs at /docs)", flush=True)
    app = create_app(runtime)
    # what start-up built (modules, rules, the app, SQLAlchemy's tables) lives as long as the process:
    # out of the collector's way, each full collection walks only what requests allocate (about a
    # tenth of the API's CPU per event otherwise, measured on batches of licenses)
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # the server itself reads headers up to 4x the limit, so that the app answers 431 naming it
        h11_max_incomplete_event_size=4 * settings.max_header_bytes,
    )
