"""Catalog entries to records, from the best source there is.

Order of work: the lock first (entries whose identifiers did not change are
not fetched again), then batched fetches by identifier kind (all arXiv ids in
few requests, all DOIs in few requests), then each entry's identifiers go
through `HANDLERS`, one handler per identifier kind, as manubot's cite
handlers do. A preprint without a published record is then looked up by
title. Every candidate passes `bib.match` before it is accepted; an upstream
failure keeps the previously locked record.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from bib.catalog import Catalog, Entry
from bib.fields import clean_record
from bib.http import HttpClient, UpstreamError
from bib.ids import Identifier, Kind
from bib.keys import assign_keys
from bib.lock import LockedEntry
from bib.match import accepts, normalize_title, title_matches
from bib.project import fallback_record
from bib.record import Person, Record
from bib.sources import Endpoints, arxiv, crossref, dblp

STATUSES = (
    "kept", "resolved", "upgraded", "renamed", "skipped", "mismatched", "unresolved", "failed",
)  # fmt: skip


@dataclass
class Outcome:
    status: str
    message: str = ""
    renamed: bool = False  # found under a title other than the list's (an alias)
    warnings: list[str] = field(default_factory=list)  # values dropped from candidates


@dataclass
class ResolveReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    requests: int = 0

    def counts(self) -> Counter[str]:
        counts = Counter(o.status for o in self.outcomes.values())
        counts["renamed"] = sum(o.renamed for o in self.outcomes.values())
        return counts

    @property
    def ok(self) -> bool:
        return not any(
            o.status in ("unresolved", "failed", "mismatched") for o in self.outcomes.values()
        )  # "skipped" entries were not this run's to resolve


class _Stop(Exception):
    """A handler's verdict that ends an entry's resolution: mismatched, unresolved or failed."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.outcome = Outcome(status, message)


@dataclass
class _Context:
    """What the handlers have learned about one entry so far."""

    titles: list[str]  # the list's title, the aliases, then the preprint's title
    queue: list[Identifier]  # identifiers still to look at
    preprint: Record | None = None
    searched: bool = False  # a title search already ran (a DBLP pin is one)
    warnings: list[str] = field(default_factory=list)  # values dropped from candidates

    @property
    def authors(self) -> tuple[Person, ...]:
        return self.preprint.authors if self.preprint else ()


def _merge_published(published: Record, preprint: Record | None) -> Record:
    """The published record, keeping the preprint's arXiv id and class."""
    if preprint is None:
        return published
    return published.with_(
        arxiv_id=published.arxiv_id or preprint.arxiv_id,
        arxiv_class=published.arxiv_class or preprint.arxiv_class,
        authors=published.authors or preprint.authors,
    )


class _Run:
    """One resolve run: the client, the batches fetched up front, and what failed."""

    def __init__(self, client: HttpClient, endpoints: Endpoints) -> None:
        self.client = client
        self.endpoints = endpoints
        self.arxiv: dict[str, arxiv.ArxivPaper] = {}
        self.crossref: dict[str, Record] = {}
        self.failures: dict[str, str] = {}  # kind -> message of a failed batch

    def prefetch(self, todo: list[Entry]) -> None:
        """All identifiers of the run in batches; Crossref works in arXiv's 3-second gaps.

        After each arXiv batch, the DOIs known so far (pins, and the published
        DOIs the batch's preprints point to) go to Crossref while the client
        waits for arXiv's next slot, so the run costs little more than arXiv's floor.
        """
        ids = [i for e in todo for i in e.identifiers]
        pending = [i.value for i in ids if i.kind == "doi"]
        arxiv_ids = [i.value for i in ids if i.kind == "arxiv"]
        try:
            for found in arxiv.fetch_batches(self.client, self.endpoints["arxiv"], arxiv_ids):
                self.arxiv.update(found)
                pending += [p.published_doi for p in found.values() if p.published_doi]
                self._fetch_dois(pending)
                pending = []
        except UpstreamError as exc:
            self.failures["arxiv"] = str(exc)
        self._fetch_dois(pending)

    def _fetch_dois(self, dois: list[str]) -> None:
        """Fetch `dois` from Crossref; a failure marks every DOI entry of the run as failed."""
        if not dois or "doi" in self.failures:
            return
        try:
            self.crossref.update(crossref.fetch_dois(self.client, self.endpoints["crossref"], dois))
        except UpstreamError as exc:
            self.failures["doi"] = str(exc)

    def accept(self, candidate: Record, ctx: _Context) -> Record | None:
        """The one gate every candidate passes, from any source or completion step.

        Its values are cleaned first (what does not fit a field is dropped, with a
        warning), then it must carry the list's title or an alias and share
        authors with the preprint.
        """
        cleaned, warnings = clean_record(candidate)
        ctx.warnings.extend(warnings)
        if cleaned is None or not accepts(cleaned, ctx.titles, ctx.authors):
            return None
        return cleaned

    def search_published(self, ctx: _Context, dblp_key: str | None = None) -> Record | None:
        """The peer-reviewed version, looked up by title: DBLP first, then Crossref.

        DBLP covers the venues without DOIs (USENIX, PMLR, NeurIPS, MLSys) and
        gives the DOI of those with one, which Crossref then completes. Each
        known title is tried in turn (the list's, the preprint's, the aliases)
        until one finds a match, so renamed papers are found too.
        """
        ctx.searched = True
        first = [ctx.preprint.title] if ctx.preprint else []
        by_form = {normalize_title(t): t for t in reversed([*first, *ctx.titles])}
        queries = list(reversed(by_form.values()))
        for query in queries:
            for hit in dblp.search(self.client, self.endpoints["dblp"], query):
                if dblp_key and hit.dblp_key != dblp_key:
                    continue  # a pinned DBLP record is the only one accepted
                if hit.type != "preprint" and (accepted := self.accept(hit, ctx)):
                    return self._complete_from_crossref(accepted, ctx)
        if dblp_key:
            return None
        for query in queries[:1]:
            for hit in crossref.search_title(self.client, self.endpoints["crossref"], query):
                if hit.type in ("paper-conference", "article-journal") and (
                    accepted := self.accept(hit, ctx)
                ):
                    return accepted
        return None

    def _complete_from_crossref(self, hit: Record, ctx: _Context) -> Record:
        """DBLP abbreviates venues; where it knows a DOI, Crossref has the full record.

        Crossref's record passes the same gate: if it names another paper, the
        DBLP record stands on its own.
        """
        if not hit.doi:
            return hit
        if hit.doi not in self.crossref:
            self.crossref.update(
                crossref.fetch_dois(self.client, self.endpoints["crossref"], [hit.doi])
            )
        full = self.crossref.get(hit.doi)
        accepted = self.accept(full, ctx) if full else None
        return accepted.with_(dblp_key=hit.dblp_key) if accepted else hit

    def resolve(self, entry: Entry) -> tuple[Record | None, Outcome]:
        """The best record for `entry`, or None with why: mismatched, unresolved or failed.

        "failed" means an upstream needed to decide the entry did not answer; the
        caller then keeps whatever the lock held, since a half-checked answer
        (a preprint whose published version could not be looked for) is no better.
        """
        if entry.type == "software":
            return fallback_record(entry), Outcome("resolved", "software, as the list gives it")
        idents = sorted(entry.identifiers, key=lambda i: ORDER.index(i.kind))
        for kind in dict.fromkeys(i.kind for i in idents):
            if kind in self.failures:
                return None, Outcome("failed", self.failures[kind])
        ctx = _Context(titles=[entry.title, *entry.aliases], queue=idents)
        published = None
        try:
            while ctx.queue and published is None:
                ident = ctx.queue.pop(0)
                published = HANDLERS[ident.kind](self, ident.value, ctx)
            if published is None and not ctx.searched:
                published = self.search_published(ctx)
        except _Stop as stop:
            stop.outcome.warnings = ctx.warnings
            return None, stop.outcome
        except UpstreamError as exc:
            return None, Outcome("failed", str(exc), warnings=ctx.warnings)
        if published is not None:
            record, outcome = self._done(
                _merge_published(published, ctx.preprint), entry, ctx.preprint
            )
        elif ctx.preprint is not None:
            record, outcome = self._done(ctx.preprint, entry, None)
        else:
            record = None
            outcome = Outcome("unresolved", "no identifier and no source has a matching title")
        outcome.warnings = ctx.warnings
        return record, outcome

    def _done(
        self, record: Record, entry: Entry, preprint: Record | None
    ) -> tuple[Record, Outcome]:
        status = "upgraded" if preprint is not None and record.type != "preprint" else "resolved"
        renamed = not title_matches(record.title, [entry.title])
        return record, Outcome(status, f"found as {record.title!r}" if renamed else "", renamed)


def _arxiv(run: _Run, value: str, ctx: _Context) -> Record | None:
    """The preprint; where arXiv names its published DOI, that DOI is looked at next."""
    paper = run.arxiv.get(value)
    if paper is None:
        raise _Stop("failed", f"arXiv returned nothing for {value}")
    record, warnings = clean_record(paper.record)
    ctx.warnings.extend(warnings)
    if record is None or not title_matches(record.title, ctx.titles):
        title = record.title if record else paper.record.title
        raise _Stop("mismatched", f"arXiv {value} is {title!r}, not the list's")
    ctx.preprint = record
    ctx.titles.append(record.title)
    if paper.published_doi and not any(i.kind == "doi" for i in ctx.queue):
        ctx.queue.insert(0, Identifier("doi", paper.published_doi))
    return None


def _doi(run: _Run, value: str, ctx: _Context) -> Record | None:
    if "doi" in run.failures:  # a DOI arXiv pointed to, after Crossref failed
        raise _Stop("failed", run.failures["doi"])
    published = run.crossref.get(value)
    if published is None:
        raise _Stop("unresolved", f"Crossref does not know DOI {value}")
    accepted = run.accept(published, ctx)
    if accepted is None:
        raise _Stop("mismatched", f"DOI {value} is {published.title!r}, not the list's")
    return accepted


def _dblp(run: _Run, value: str, ctx: _Context) -> Record | None:
    """A pinned DBLP record: the title search accepts that record and no other."""
    return run.search_published(ctx, dblp_key=value)


def _url(run: _Run, value: str, ctx: _Context) -> Record | None:
    """No source reads landing pages yet; the title search after the handlers covers these."""
    return None


# Identifier kind -> handler, in the order an entry's identifiers are looked at:
# the preprint first, since its title and authors help judge the published candidates.
HANDLERS: dict[Kind, Callable[[_Run, str, _Context], Record | None]] = {
    "arxiv": _arxiv,
    "doi": _doi,
    "dblp": _dblp,
    "url": _url,
}
ORDER: list[Kind] = list(HANDLERS)
# How good a record is, for the lock merge rule: a refresh never trades down.
RANK = {"paper-conference": 2, "article-journal": 2, "preprint": 1, "software": 1, "misc": 0}


def resolve(
    catalog: Catalog,
    locked: dict[str, LockedEntry],
    client: HttpClient,
    endpoints: Endpoints,
    *,
    refresh: bool = False,
    offline: bool = False,
    allow_downgrade: bool = False,
    only: Collection[str] | None = None,
    limit: int | None = None,
    today: dt.date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[dict[str, LockedEntry], ResolveReport]:
    """The new lock and a report.

    The merge rule: a locked record is replaced only by one at least as good
    (a peer-reviewed version over a preprint). An entry that fails, mismatches
    or is no longer found keeps its locked record byte for byte. Trading down
    takes `allow_downgrade` or a changed pin (the maintainer's decision).
    """
    retrieved = (today or dt.date.today()).isoformat()
    report = ResolveReport()
    idents = {e.id: e.identifier_texts for e in catalog.entries}
    todo = [] if offline else to_resolve(catalog, locked, refresh=refresh, only=only, limit=limit)
    todo_ids = {e.id for e in todo}
    run = _Run(client, endpoints)
    if todo:
        run.prefetch(todo)
    fresh: dict[str, Record] = {}
    for entry in catalog.entries:
        if entry.id not in todo_ids:
            if entry.id in locked:
                report.outcomes[entry.id] = Outcome("kept")
            elif offline:
                report.outcomes[entry.id] = Outcome("unresolved", "offline")
            else:  # left out by --only or --limit: not this run's business
                report.outcomes[entry.id] = Outcome("skipped", "not asked for in this run")
            continue
        if progress:
            progress(len(report.outcomes), len(catalog.entries), entry.id)
        record, outcome = run.resolve(entry)
        previous = locked.get(entry.id)
        if record is not None and previous is not None and not allow_downgrade:
            worse = RANK[record.type] < RANK[previous.record.type]
            if worse and previous.identifiers == idents[entry.id]:
                outcome = Outcome("kept", f"the upstreams now give a {record.type} record; kept "
                                  f"the locked {previous.record.type} one (--allow-downgrade "
                                  "takes it)", warnings=outcome.warnings)  # fmt: skip
                record = None
        if record is None and previous is not None and outcome.status != "kept":
            outcome.message += " (kept the previously locked record)"
        report.outcomes[entry.id] = outcome
        if record is not None:
            fresh[entry.id] = _dated(record.with_(id=entry.id), locked.get(entry.id), retrieved)
    present = [
        fresh[e.id] if e.id in fresh else locked[e.id].record
        for e in catalog.entries
        if e.id in fresh or e.id in locked
    ]
    keys = assign_keys(present, {i: item.key for i, item in locked.items()})
    new_lock = dict(locked)
    for entry_id, record in fresh.items():
        new_lock[entry_id] = LockedEntry(record.with_(key=keys[entry_id]), idents[entry_id])
    report.requests = client.stats.requests
    return new_lock, report


def to_resolve(
    catalog: Catalog,
    locked: dict[str, LockedEntry],
    *,
    refresh: bool = False,
    only: Collection[str] | None = None,
    limit: int | None = None,
) -> list[Entry]:
    """The entries a run asks upstreams about: new or changed ones (all with `refresh`),
    narrowed to `only` and to the first `limit`."""
    todo = [
        e
        for e in catalog.entries
        if (only is None or e.id in only)
        and (refresh or e.id not in locked or locked[e.id].identifiers != e.identifier_texts)
    ]
    return todo[:limit] if limit is not None else todo


def _dated(record: Record, previous: LockedEntry | None, today: str) -> Record:
    """Stamp today's date only on records that changed, so a refresh adds no noise to the lock."""
    if previous is not None:
        unchanged = previous.record.with_(retrieved=None, key="") == record.with_(retrieved=None)
        if unchanged:
            return record.with_(retrieved=previous.record.retrieved)
    return record.with_(retrieved=today)
