"""The ``rapport`` command: migrations, users, demo data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from backend.config import ConfigurationError, get_settings
from backend.db import get_database
from backend.migrate import upgrade_to_head
from backend.users.models import Role
from backend.users.schemas import UserCreate
from backend.users.service import create_user

app = typer.Typer(help="Rapport administration.", no_args_is_help=True, add_completion=False)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@app.command()
def migrate() -> None:
    """Bring the database to the latest schema (run before starting API workers)."""
    upgrade_to_head()
    typer.echo("Database is at the latest schema.")


@user_app.command("create")
def user_create(
    email: str,
    role: Annotated[Role, typer.Option(help="therapist, supervisor or admin")],
    name: Annotated[str, typer.Option(help="Display name")],
    team: Annotated[str, typer.Option(help="Team (created if new); a supervisor oversees it")],
) -> None:
    """Create a user; the password is read from standard input, never from arguments."""
    password = (
        typer.prompt("Password", hide_input=True)
        if sys.stdin.isatty()
        else sys.stdin.readline().rstrip("\n")
    )
    from backend.errors import RapportError

    try:
        new = UserCreate(email=email, display_name=name, role=role, team=team, password=password)
        with get_database().writing() as session:
            user = create_user(session=session, new=new)
    except RapportError as error:
        _fail(error.detail)
    except ValueError as error:
        _fail(str(error).splitlines()[0])
    typer.echo(f"Created {user.role} {user.email} (id {user.id}).")


@app.command()
def rescore(
    batch: Annotated[int, typer.Option(help="Clients scored per transaction")] = 2000,
) -> None:
    """Recompute every client's flags now, e.g. after a rules change (the API does it daily)."""
    from backend.flags.scoring_sync import rescore_everyone

    count = rescore_everyone(database=get_database(), batch=batch)
    typer.echo(f"Rescored {count} clients.")


@app.command()
def jobs() -> None:
    """List the scheduled jobs the API runs (once across instances), with last and next run."""
    from backend.jobs.schedule import job_statuses, scheduled_jobs

    def when(moment) -> str:
        return moment.strftime("%d %b %Y %H:%M:%S UTC") if moment else "-"

    for job in job_statuses(get_database(), scheduled_jobs(get_settings())):
        state = "running now" if job.running else (job.last_outcome or "never run")
        typer.echo(f"{job.name}  every {job.every}  ({job.description})")
        typer.echo(f"    last started {when(job.last_started_at)}, {state}")
        typer.echo(f"    next run     {when(job.next_run_at)}")


@app.command()
def notify(
    watch: Annotated[
        bool, typer.Option(help="Keep sending every RAPPORT_NOTIFY_INTERVAL_SECONDS until Ctrl-C")
    ] = False,
) -> None:
    """Send the notifications that are due, digests included (the API also sends them)."""
    import time

    from backend.notifications.outbox import pending_count
    from backend.notifications.sender import Sender

    settings = get_settings()
    if not settings.sends_mail:
        _fail("RAPPORT_SMTP_HOST is not set: there is no mail server to send notifications to.")
    database = get_database()
    sender = Sender(database, settings)
    while True:
        outcome = sender.run_pass()
        line = f"Sent {outcome.sent}"
        if outcome.failed:
            line += f"; {outcome.failed} not taken by the mail server ({outcome.failure})"
        typer.echo(f"{line}; {pending_count(database)} waiting.")
        if not watch:
            return
        time.sleep(settings.notify_interval_seconds)


@app.command()
def demo(
    scale: Annotated[
        str, typer.Option(help="small (about 60 clients) or large (20,000 clients)")
    ] = "small",
    remove: Annotated[
        bool, typer.Option("--remove", help="Delete the demo accounts and their clients instead")
    ] = False,
) -> None:
    """Load demo data into an empty database, then print the sign-ins and a fresh rating link."""
    from backend.demo import DEMO_PASSWORD, demo_rating_link, load_demo

    if remove:
        from backend.demo_accounts import remove_demo_accounts

        with get_database().writing() as session:
            accounts, clients = remove_demo_accounts(session=session)
        typer.echo(f"Removed {accounts} demo accounts and the {clients} clients they treated.")
        return
    if get_settings().mode == "production":
        _fail("Demo data is refused in production mode (set RAPPORT_MODE=demo).")
    database = get_database()
    summary = load_demo(database=database, scale=scale)
    typer.echo(summary)
    typer.echo(f"\n  Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for line in _demo_logins(database):
        typer.echo(f"    {line}")
    link = demo_rating_link(database=database)
    if link:
        typer.echo(
            f"\n  A client rating link (open it on a phone, or POST to the API):\n    {link}"
        )


#: Sign-ins listed per role after loading demo data.
DEMO_LOGINS_PER_ROLE = 4


def _demo_logins(database) -> list[str]:
    from sqlmodel import select

    from backend.users.models import User

    with database.reading() as session:
        users = session.exec(
            select(User).where(User.email.like("%@demo.rapport")).order_by(User.id)
        ).all()
    lines, shown = [], dict.fromkeys(("admin", "supervisor", "therapist"), 0)
    for u in users:
        shown[u.role] = shown.get(u.role, 0) + 1
        if shown[u.role] <= DEMO_LOGINS_PER_ROLE:
            lines.append(f"{u.role:<10} {u.email}")
    # The large demo has 500 therapists: name a few of each role and count the rest.
    lines += [
        f"{role:<10} ... and {count - DEMO_LOGINS_PER_ROLE} more"
        for role, count in shown.items()
        if count > DEMO_LOGINS_PER_ROLE
    ]
    return lines


@app.command()
def retention(
    dry_run: Annotated[bool, typer.Option(help="Only print whom it would erase")] = False,
) -> None:
    """Erase clients discharged more than RAPPORT_RETENTION_YEARS ago (daily via cron)."""
    from backend.clients.erasure import apply_retention

    years = get_settings().retention_years
    if years is None:
        typer.echo(
            "Retention is off: set RAPPORT_RETENTION_YEARS to erase discharged clients that "
            "many years after discharge. Nobody was erased."
        )
        return
    run = apply_retention(database=get_database(), years=years, dry_run=dry_run)
    verb = "Would erase" if dry_run else "Erased"
    for code, discharged_at in run.due:
        if dry_run or code in run.erased:
            typer.echo(f"{verb} {code} (discharged {discharged_at:%d %b %Y}).")
    if not run.due:
        typer.echo(f"Nobody to erase: no client was discharged more than {years} years ago.")
    if run.undated:
        typer.echo(f"{run.undated} discharged clients have no discharge date and are kept.")


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="New file to write the copy to")]) -> None:
    """Write a consistent copy of the live SQLite database (safe while the API runs)."""
    from backend.backup import backup as make_backup
    from backend.errors import RapportError

    try:
        make_backup(database_url=get_settings().database_url, target=path)
    except RapportError as error:
        _fail(error.detail)
    typer.echo(f"Backed up to {path}.")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A file written by 'rapport backup'")],
    force: Annotated[bool, typer.Option(help="Replace a database that holds data")] = False,
) -> None:
    """Restore the SQLite database from a backup (stop the API first)."""
    from backend.backup import restore as restore_backup
    from backend.errors import RapportError

    try:
        restore_backup(database_url=get_settings().database_url, source=path, force=force)
    except RapportError as error:
        _fail(error.detail)
    typer.echo(f"Restored from {path}.")


def main() -> None:
    """``rapport``: a configuration or database problem is one readable line, not a traceback."""
    try:
        app()
    except ConfigurationError as problem:
        typer.secho(f"Configuration error. {problem}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    except OperationalError as unreachable:
        reason = str(unreachable.orig).strip().splitlines()[0] if unreachable.orig else ""
        typer.secho(f"Cannot use the database: {reason}", fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
