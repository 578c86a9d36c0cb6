"""`creditgov serve`: the web application and the API in one process."""

from __future__ import annotations

import typer

from creditgov.api import proxies
from creditgov.cli.common import STATE, console

app = typer.Typer()


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          workers: int = typer.Option(1, "--workers", help="Processes; rate limits are per process."),
          insecure_cookies: bool = typer.Option(False, "--insecure-cookies",
                                                help="Drop the Secure flag (only behind plain HTTP on a LAN)."),
          trusted_proxies: str = typer.Option(
              None, "--trusted-proxies",
              help="Reverse proxies whose X-Forwarded-For/-Proto are believed: addresses or networks, "
                   f"comma-separated (default: ${proxies.ENV}, else none).")) -> None:
    """Serve the web pages and /api/v1 (OpenAPI at /api/v1/openapi.json)."""
    import os

    import uvicorn

    from creditgov.api.app import create_app

    trusted = proxies.parse(trusted_proxies, what="--trusted-proxies") if trusted_proxies is not None \
        else proxies.from_env()
    STATE.require_init()
    create_app(STATE.url, STATE.settings.key_file, secure_cookies=not insecure_cookies)  # fail early, clearly
    os.environ["CREDITGOV_DB"] = STATE.url
    os.environ["CREDITGOV_KEY_FILE"] = str(STATE.settings.key_file)
    os.environ["CREDITGOV_SECURE_COOKIES"] = "0" if insecure_cookies else "1"
    console.print(f"CreditGov at http://{host}:{port}/  (API docs http://{host}:{port}/api/v1/docs)")
    console.print(f"client addresses: from X-Forwarded-For of {', '.join(trusted)}" if trusted else
                  "client addresses: the connection's own (no trusted proxies)")
    uvicorn.run("creditgov.api.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False, **proxies.server_options(trusted))
