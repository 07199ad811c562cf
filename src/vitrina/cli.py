"""The ``vitrina`` command. Domains add their own commands through ``vitrina.<domain>.cli.register(app)``."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vitrina.config import Settings
from vitrina.core.modules import import_present


class _Cli(typer.Typer):
    """The command, with the failures an operator causes (an unreachable or unmigrated database) shown as one
    line and exit code 1 instead of a traceback. Bugs still show their traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import DBAPIError

        try:
            return super().__call__(*args, **kwargs)
        except DBAPIError as exc:
            console.print(f"[red]error:[/red] {escape(database_problem(exc))}", soft_wrap=True)
            raise SystemExit(1) from None


def database_problem(exc: Exception) -> str:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    missing_table = "no such table" in detail or ('relation "' in detail and "does not exist" in detail)
    if isinstance(exc, ProgrammingError | OperationalError) and missing_table:
        return f"the database has no Vitrina schema (or an old one): run `vitrina db upgrade` ({detail})"
    return f"cannot use the database at VITRINA_DATABASE_URL ({_redacted(Settings().database_url)}): {detail}"


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as the scheme only
        return url.split(":", 1)[0]


app = _Cli(help="Vitrina: inventory, catalog and provenance engine for jewelers.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
keys_app = typer.Typer(help="API credentials.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(keys_app, name="keys")

console = Console(stderr=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]

DOMAIN_CLIS = ("vitrina.inventory.cli", "vitrina.catalog.cli", "vitrina.sales.cli", "vitrina.orders.cli",
               "vitrina.provenance.cli", "vitrina.events.cli", "vitrina.jobs.cli", "vitrina.web.cli")


def fail(message: str, code: int = 1) -> typer.Exit:
    """One clear line on stderr and a non-zero exit code."""
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)  # one line, however narrow the terminal
    return typer.Exit(code)


def emit_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=str) + "\n")


def database() -> Any:
    from vitrina.db.session import Database

    return Database(Settings().database_url)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    access_log: Annotated[bool, typer.Option(help="uvicorn's own access log (Vitrina logs requests anyway).")] = False,
) -> None:
    """Serve the HTTP API and pages."""
    import uvicorn

    uvicorn.run("vitrina.app:create_app", factory=True, host=host, port=port, workers=workers, reload=reload,
                access_log=access_log, proxy_headers=True, log_level="warning")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from vitrina.db.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    console.print("database is up to date")


@org_app.command("create")
def org_create(
    name: str,
    plan: Annotated[str, typer.Option(help="essential, professional or enterprise.")] = "essential",
    rate_limit: Annotated[str | None, typer.Option("--rate-limit", help="Enterprise limit, e.g. 20000/min.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an organization and print its first admin API key (shown once)."""
    from vitrina.accounts import service
    from vitrina.core.errors import VitrinaError

    per_minute = _parse_rate(rate_limit) if rate_limit else None
    try:
        with database().unit_of_work() as session:
            organization, issued = service.create_organization(
                session, name=name, plan=plan, rate_limit_per_minute=per_minute)
            result = {"organization_id": organization.id, "api_key": issued.key.api_key,
                      "api_secret": issued.api_secret}
    except VitrinaError as exc:
        raise fail(exc.message) from None
    if as_json:
        emit_json(result)
    else:
        console.print(f"organization [bold]{result['organization_id']}[/bold] ({plan})")
        console.print(f"api_key     {result['api_key']}\napi_secret  {result['api_secret']}  (shown once)")


def _parse_rate(value: str) -> int:
    number, _, unit = value.partition("/")
    if not number.isdigit() or unit not in ("", "min", "minute"):
        raise fail("--rate-limit must look like 20000/min")
    return int(number)


@keys_app.command("create")
def keys_create(
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    name: Annotated[str, typer.Option(help="A name for the key.")] = "CLI key",
    scopes: Annotated[str, typer.Option(help="Comma-separated: read,write,admin.")] = "read,write",
    mode: Annotated[str, typer.Option(help="live or test.")] = "live",
    as_json: JsonFlag = False,
) -> None:
    """Create an API key (the secret is printed once)."""
    from vitrina.accounts import service
    from vitrina.core.errors import VitrinaError

    try:
        with database().unit_of_work() as session:
            issued = service.create_api_key(session, organization_id=organization_id, name=name,
                                            scopes=[s.strip() for s in scopes.split(",") if s.strip()], mode=mode)
            result = {"id": issued.key.id, "api_key": issued.key.api_key, "api_secret": issued.api_secret,
                      "scopes": issued.key.scopes}
    except VitrinaError as exc:
        raise fail(exc.message) from None
    except Exception as exc:  # e.g. an unknown organization violates the foreign key
        raise fail(f"could not create the key: {type(exc).__name__}") from None
    if as_json:
        emit_json(result)
    else:
        console.print(f"{result['id']}  api_key {result['api_key']}  api_secret {result['api_secret']} (shown once)")


@keys_app.command("list")
def keys_list(organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
              as_json: JsonFlag = False) -> None:
    """List an organization's API keys."""
    from vitrina.accounts import service

    with database().unit_of_work(write=False) as session:
        rows: list[dict[str, Any]] = [
            {"id": k.id, "name": k.name, "api_key": k.api_key, "scopes": k.scopes, "mode": k.mode,
             "revoked": k.revoked_at is not None}
            for k in service.list_api_keys(session, organization_id=organization_id)
        ]
    if as_json:
        emit_json({"keys": rows})
        return
    table = Table("id", "name", "api_key", "scopes", "mode", "revoked")
    for row in rows:
        table.add_row(row["id"], row["name"], row["api_key"], ",".join(row["scopes"]), row["mode"],
                      "yes" if row["revoked"] else "")
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
                as_json: JsonFlag = False) -> None:
    """Revoke an API key at once (its tokens stop working too)."""
    from vitrina.accounts import service
    from vitrina.core.errors import VitrinaError

    try:
        with database().unit_of_work() as session:
            key = service.revoke_api_key(session, organization_id=organization_id, key_id=key_id)
            result = {"id": key.id, "revoked_at": key.revoked_at}
    except VitrinaError as exc:
        raise fail(exc.message) from None
    if as_json:
        emit_json(result)
    else:
        console.print(f"revoked {key_id}")


# Invariant checks: each module offers ``run_checks(session) -> list[str]`` (one line per violation).
CHECK_MODULES = ("vitrina.inventory.checks", "vitrina.catalog.checks", "vitrina.sales.checks",
                 "vitrina.provenance.checks", "vitrina.events.checks")
# Demo data, in dependency order: each offers ``seed(session, *, organization_id, console) -> dict``.
DEMO_MODULES = ("vitrina.inventory.demo", "vitrina.catalog.demo", "vitrina.sales.demo", "vitrina.orders.demo",
                "vitrina.provenance.demo", "vitrina.web.demo")
# Background loops run by ``vitrina worker``: each offers ``main(settings, stop: threading.Event)``.
WORKER_MODULES = ("vitrina.events.worker", "vitrina.jobs.runner")


@app.command()
def check(as_json: JsonFlag = False) -> None:
    """Verify the invariants on a live database (ledger sums, reservations, Merkle tree, outbox)."""
    violations: list[str] = []
    with database().unit_of_work(write=False) as session:
        for module in import_present(CHECK_MODULES):
            violations.extend(module.run_checks(session))
    if as_json:
        emit_json({"ok": not violations, "violations": violations})
    else:
        for line in violations:
            console.print(f"[red]violation[/red] {line}")
        console.print("all invariants hold" if not violations else f"{len(violations)} violation(s)")
    if violations:
        raise typer.Exit(1)


@app.command()
def backup(
    target: Annotated[str, typer.Argument(help="File to write the copy to (SQLite).")],
    force: Annotated[bool, typer.Option("--force", help="Replace the target if it exists.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Back up the database while it serves: SQLite online backup; for PostgreSQL, explains pg_dump."""
    from pathlib import Path

    from vitrina.core import backup as backups

    url = Settings().database_url
    if not backups.is_sqlite(url):
        console.print(backups.pg_dump_instructions(url, Path(target)), markup=False, soft_wrap=True)
        raise typer.Exit(2)  # nothing was copied: a script must not mistake this for a backup
    try:
        result = backups.backup_sqlite(url, Path(target), overwrite=force)
    except backups.BackupError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json({"path": str(result.path), "size_bytes": result.size_bytes, "pages": result.pages})
    else:
        console.print(f"backed up {result.pages} pages ({result.size_bytes} bytes) to {result.path}")


def create_demo_store(name: str) -> dict[str, Any]:
    """A demo organization with an admin key, filled by every domain's ``demo.seed``."""
    from vitrina.accounts import service

    with database().unit_of_work() as session:
        organization, issued = service.create_organization(session, name=name, plan="professional")
        result: dict[str, Any] = {"organization_id": organization.id, "api_key": issued.key.api_key,
                                  "api_secret": issued.api_secret}
    for module in import_present(DEMO_MODULES):
        with database().unit_of_work(organization_id=organization.id) as session:
            result.update(module.seed(session, organization_id=organization.id, console=console) or {})
    return result


@app.command("seed-demo")
def seed_demo(
    name: Annotated[str, typer.Option(help="The demo organization's name.")] = "Maison Demo Jewelers",
    as_json: JsonFlag = False,
) -> None:
    """Create a demo jeweler (locations, stock, catalog, customers, sales, passports) and an admin key."""
    result = create_demo_store(name)
    if as_json:
        emit_json(result)
    else:
        for key, value in result.items():
            console.print(f"{key:18} {value}")


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """What `make run` does: migrate, create the demo store once, print fresh credentials, serve."""
    from vitrina.accounts import service
    from vitrina.db.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    marker = settings.data_dir / "demo-organization"
    if marker.exists():
        organization_id = marker.read_text().strip()
        with database().unit_of_work() as session:
            # The first run's secret was shown once and not kept; every run mints a fresh demo key instead.
            issued = service.create_api_key(session, organization_id=organization_id, name="make run",
                                            scopes=["read", "write", "admin"])
        details: dict[str, Any] = {"organization_id": organization_id, "api_key": issued.key.api_key,
                                   "api_secret": issued.api_secret}
    else:
        console.print("creating the demo store (first run only)...")
        details = create_demo_store("Maison Demo Jewelers")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(details["organization_id"])
    base = f"http://{host}:{port}"
    console.rule("Vitrina demo")
    for key, value in details.items():
        console.print(f"  {key:18} {value}")
    for label, path in (("API docs", "/docs"), ("staff sign-in", "/login"), ("API base", "/api/v1")):
        console.print(f"  {label:18} {base}{path}")
    console.print(f"  try: curl -H 'X-API-Key: {details['api_key']}:{details['api_secret']}' {base}/api/v1/me",
                  soft_wrap=True, markup=False)
    console.rule()
    serve(host=host, port=port, workers=1, reload=False, access_log=False)


@app.command()
def worker() -> None:
    """Run the background worker: webhook delivery and jobs. Run several for more throughput."""
    import signal
    import threading

    settings = Settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    loops = [threading.Thread(target=m.main, args=(settings, stop), name=m.__name__, daemon=True)
             for m in import_present(WORKER_MODULES)]
    if not loops:
        raise fail("no worker loops are installed")
    for thread in loops:
        thread.start()
    console.print(f"worker running: {', '.join(t.name for t in loops)}")
    while not stop.wait(0.5):
        if not any(t.is_alive() for t in loops):
            raise fail("every worker loop stopped")
    for thread in loops:
        thread.join(timeout=10)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the benchmark harness in bench/ (e.g. `vitrina bench --scale small`; `--help` for options)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "harness.py").exists():
        raise fail("the benchmark harness ships with the source tree (bench/); run it from a checkout")
    sys.path.insert(0, str(root))
    from bench.harness import main as run_bench

    raise typer.Exit(run_bench(list(ctx.args)))


def _register_domain_commands() -> None:
    for module in import_present(DOMAIN_CLIS):
        module.register(app)


_register_domain_commands()

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
