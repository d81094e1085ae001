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
from bib.people import one_form
from bib.project import fallback_record, locked_for
from bib.record import Person, Record
from bib.sources import Endpoints, arxiv, crossref, dblp, pypi, semanticscholar

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
    searched: bool = False  # a title search already ran
    known_to_s2: bool = False  # Semantic Scholar answered for this paper: no search needed
    pointed: set[Identifier] = field(default_factory=set)  # queued from an upstream's pointer
    looked: list[str] = field(default_factory=list)  # where a published version was looked for
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

    def __init__(
        self, client: HttpClient, endpoints: Endpoints, s2_key: str | None, today: dt.date
    ) -> None:
        self.client = client
        self.today = today
        self.endpoints = endpoints
        self.s2_key = s2_key
        self.arxiv: dict[str, arxiv.ArxivPaper] = {}
        self.crossref: dict[str, Record] = {}
        self.s2: dict[str, semanticscholar.S2Paper] = {}  # "ARXIV:..."/"DOI:..." -> paper
        self.dblp: dict[str, dblp.DblpEntry | None] = {}  # key -> record (None: DBLP has none)
        self.failures: dict[str, str] = {}  # kind -> message of a failed batch

    def prefetch(self, todo: list[Entry]) -> None:
        """Everything the run can ask in batches, before any entry is decided.

        Semantic Scholar first (one request for 500 papers): it says which
        preprints were published, under which DOI or DBLP key. The DBLP records
        it names are read by key, then all DOIs go to Crossref in batches, in
        arXiv's 3-second gaps: after each arXiv batch, the DOIs known so far
        (pins, pointers, and the DOIs that batch's preprints name) are asked.
        """
        ids = [i for e in todo for i in e.identifiers]
        self._ask_semantic_scholar(ids)
        keys = [i.value for i in ids if i.kind == "dblp"]
        keys += [p.published_dblp_key for p in self.s2.values() if not p.published_doi]
        self._fetch_dblp_records([k for k in keys if k])
        pending = [i.value for i in ids if i.kind == "doi"]
        pending += [p.published_doi for p in self.s2.values() if p.published_doi]
        pending += [e.record.doi for e in self.dblp.values() if e and e.record.doi]
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

    def _ask_semantic_scholar(self, ids: list[Identifier]) -> None:
        """Published versions of the run's papers; a failure only costs title searches."""
        questions = [
            q for i in ids if i.kind in ("arxiv", "doi") and (q := semanticscholar.paper_id(i))
        ]
        if not questions:
            return
        try:
            self.s2 = semanticscholar.fetch_papers(
                self.client, self.endpoints["semanticscholar"], questions, key=self.s2_key
            )
        except UpstreamError as exc:
            self.failures["semanticscholar"] = str(exc)

    def _fetch_dblp_records(self, keys: list[str]) -> None:
        """DBLP records by key (one request each, at DBLP's pace); a failure fails their entries."""
        for key in dict.fromkeys(keys):
            if "dblp" in self.failures:
                return
            try:
                self.dblp[key] = dblp.fetch_record(self.client, self.endpoints["dblp"], key)
            except UpstreamError as exc:
                self.failures["dblp"] = str(exc)

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

    def search_published(self, ctx: _Context) -> Record | None:
        """The peer-reviewed version, looked up by title: DBLP first, then Crossref.

        DBLP covers the venues without DOIs (USENIX, PMLR, NeurIPS, MLSys) and
        gives the DOI of those with one, which Crossref then completes. Each
        known title is tried in turn (the list's, the preprint's, the aliases)
        until one finds a match, so renamed papers are found too.
        """
        ctx.searched = True
        ctx.looked.append("a DBLP title search")
        first = [ctx.preprint.title] if ctx.preprint else []
        by_form = {normalize_title(t): t for t in reversed([*first, *ctx.titles])}
        queries = list(reversed(by_form.values()))
        for query in queries:
            for hit in dblp.search(self.client, self.endpoints["dblp"], query):
                if hit.type != "preprint" and (accepted := self.accept(hit, ctx)):
                    return self._complete_from_crossref(accepted, ctx)
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
        if entry.type == "software" and not any(i.kind == "pypi" for i in entry.identifiers):
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
            searchable = entry.type != "software" and not ctx.known_to_s2
            if published is None and not ctx.searched and searchable:
                published = self.search_published(ctx)
        except _Stop as stop:
            stop.outcome.warnings = ctx.warnings
            return None, stop.outcome
        except UpstreamError as exc:
            return None, Outcome("failed", str(exc), warnings=ctx.warnings)
        if published is not None:
            published = self._with_dblp_key(published, ctx)
            record, outcome = self._done(
                _merge_published(published, ctx.preprint), entry, ctx.preprint
            )
        elif ctx.preprint is not None:
            record, outcome = self._done(ctx.preprint, entry, None)
            if self._long_ago(ctx.preprint):
                where = ", ".join(dict.fromkeys(ctx.looked)) or "nowhere (no source could tell)"
                ctx.warnings.append(
                    f"a preprint of {'-'.join(map(str, ctx.preprint.issued[:2]))} with no "
                    f"published version found (looked in {where}); pin its DOI or DBLP key "
                    "if it was published"
                )
        else:
            record = None
            outcome = Outcome("unresolved", "no identifier and no source has a matching title")
        outcome.warnings = ctx.warnings
        return record, outcome

    def _with_dblp_key(self, published: Record, ctx: _Context) -> Record:
        """A record found by its DOI keeps the DBLP key Semantic Scholar knows for it."""
        if published.dblp_key:
            return published
        questions = [f"DOI:{published.doi}"] if published.doi else []
        if ctx.preprint is not None and ctx.preprint.arxiv_id:
            questions.append(f"ARXIV:{ctx.preprint.arxiv_id}")
        for question in questions:
            found = self.s2.get(question)
            if found is not None and found.published_dblp_key:
                return published.with_(dblp_key=found.published_dblp_key)
        return published

    def _long_ago(self, preprint: Record) -> bool:
        """Submitted over a year ago: old enough that a published version may exist."""
        year, month = (*preprint.issued, 1)[:2] if preprint.issued else (self.today.year, 1)
        return (self.today.year - year) * 12 + self.today.month - month > 12

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
    if paper.published_doi:
        _point(ctx, Identifier("doi", paper.published_doi))
    found = run.s2.get(f"ARXIV:{value}")
    if found is not None:
        ctx.known_to_s2 = True
        ctx.looked.append("Semantic Scholar")
        if found.published_doi:
            _point(ctx, Identifier("doi", found.published_doi))
        elif found.published_dblp_key:
            _point(ctx, Identifier("dblp", found.published_dblp_key))
    return None


def _point(ctx: _Context, ident: Identifier) -> None:
    """Look at `ident` next, unless the entry already has an identifier of that kind."""
    if not any(i.kind == ident.kind for i in ctx.queue) and ident not in ctx.pointed:
        ctx.queue.insert(0, ident)
        ctx.pointed.add(ident)


def _doi(run: _Run, value: str, ctx: _Context) -> Record | None:
    """A DOI's Crossref record. A DOI an upstream pointed to that does not hold up
    is set aside with a warning; a pinned one that does not is the entry's verdict."""
    if "doi" in run.failures:
        raise _Stop("failed", run.failures["doi"])
    ctx.looked.append("Crossref")
    pointed = Identifier("doi", value) in ctx.pointed
    published = run.crossref.get(value)
    if published is None:
        if pointed:
            ctx.warnings.append(f"Crossref does not know DOI {value}, which an upstream named")
            return None
        raise _Stop("unresolved", f"Crossref does not know DOI {value}")
    accepted = run.accept(published, ctx)
    if accepted is None:
        message = f"DOI {value} is {published.title!r}, not the list's"
        if pointed:
            ctx.warnings.append(message)
            return None
        raise _Stop("mismatched", message)
    return accepted


def _dblp(run: _Run, value: str, ctx: _Context) -> Record | None:
    """A DBLP record by its key (a pin, or where Semantic Scholar points), completed
    from Crossref where it has a DOI."""
    if value not in run.dblp:
        run._fetch_dblp_records([value])
    if "dblp" in run.failures:
        raise _Stop("failed", run.failures["dblp"])
    ctx.looked.append("DBLP")
    pointed = Identifier("dblp", value) in ctx.pointed
    entry = run.dblp.get(value)
    accepted = run.accept(entry.record, ctx) if entry else None
    if accepted is None:
        message = (f"DBLP has no record {value}" if entry is None
                   else f"DBLP {value} is {entry.record.title!r}, not the list's")  # fmt: skip
        if pointed:
            ctx.warnings.append(message)
            return None
        raise _Stop("unresolved" if entry is None else "mismatched", message)
    if accepted.type == "preprint":  # DBLP's CoRR copy of the arXiv paper
        return None
    return run._complete_from_crossref(accepted, ctx)


def _pypi(run: _Run, value: str, ctx: _Context) -> Record | None:
    """A software project as PyPI records it, under the list's title."""
    ctx.looked.append("PyPI")
    found = pypi.fetch_project(run.client, run.endpoints["pypi"], value, ctx.titles[0])
    if found is None:
        raise _Stop("unresolved", f"PyPI has no project {value}")
    record, warnings = clean_record(found)
    ctx.warnings.extend(warnings)
    return record


def _url(run: _Run, value: str, ctx: _Context) -> Record | None:
    """No source reads landing pages yet; the title search after the handlers covers these."""
    return None


# Identifier kind -> handler, in the order an entry's identifiers are looked at:
# the preprint first, since its title and authors help judge the published candidates.
HANDLERS: dict[Kind, Callable[[_Run, str, _Context], Record | None]] = {
    "arxiv": _arxiv,
    "doi": _doi,
    "dblp": _dblp,
    "pypi": _pypi,
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
    s2_key: str | None = None,
    today: dt.date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[dict[str, LockedEntry], ResolveReport]:
    """The new lock and a report.

    The merge rule: a locked record is replaced only by one at least as good
    (a peer-reviewed version over a preprint). An entry that fails, mismatches
    or is no longer found keeps its locked record byte for byte. Trading down
    takes `allow_downgrade` or a changed pin (the maintainer's decision).
    """
    today = today or dt.date.today()
    retrieved = today.isoformat()
    report = ResolveReport()
    idents = {e.id: e.identifier_texts for e in catalog.entries}
    todo = [] if offline else to_resolve(catalog, locked, refresh=refresh, only=only, limit=limit)
    todo_ids = {e.id for e in todo}
    run = _Run(client, endpoints, s2_key, today)
    if todo:
        run.prefetch(todo)
    fresh: dict[str, Record] = {}
    for entry in catalog.entries:
        if entry.id not in todo_ids:
            previous = locked.get(entry.id)
            if previous is not None and previous.record.source != "catalog":
                report.outcomes[entry.id] = Outcome("kept")
            elif offline:
                report.outcomes[entry.id] = Outcome("unresolved", "offline")
                fresh[entry.id] = _dated(fallback_record(entry), previous, retrieved)
            else:  # left out by --only or --limit: not this run's business
                report.outcomes[entry.id] = Outcome("skipped", "not asked for in this run")
            continue
        if progress:
            progress(len(report.outcomes), len(catalog.entries), entry.id)
        record, outcome = run.resolve(entry)
        previous = locked.get(entry.id)
        if record is not None and previous is not None and not allow_downgrade:
            worse = _worse(record, previous.record)
            if worse and locked_for(entry, previous):
                outcome = Outcome("kept", f"the upstreams now give {worse}; kept the locked "
                                  "record (--allow-downgrade takes the new one)",
                                  warnings=outcome.warnings)  # fmt: skip
                record = None
        if record is None and previous is not None and outcome.status != "kept":
            outcome.message += " (kept the previously locked record)"
        report.outcomes[entry.id] = outcome
        if record is None and (previous is None or previous.record.source == "catalog"):
            # Nothing better yet: the list's own record, so that the key is frozen now
            # and the next run asks again.
            record = fallback_record(entry)
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
    _one_form_per_person(new_lock, [e.id for e in catalog.entries], report)
    report.requests = client.stats.requests
    return new_lock, report


def _one_form_per_person(
    lock: dict[str, LockedEntry], order: list[str], report: ResolveReport
) -> None:
    """Write each person one way in every record (`bib.people`), in place.

    An entry whose resolution failed keeps its locked record byte for byte.
    """
    held = {i for i, o in report.outcomes.items() if o.status in ("failed", "mismatched")}
    ids = [i for i in order if i in lock]
    for entry_id, record in zip(ids, one_form([lock[i].record for i in ids]), strict=True):
        if record is not lock[entry_id].record and entry_id not in held:
            lock[entry_id] = LockedEntry(record, lock[entry_id].identifiers)


# Facts a refreshed record may not lose: what identifies the paper and where it appeared.
KEPT_FIELDS = ("doi", "arxiv_id", "dblp_key", "container_title", "pages")


def _worse(new: Record, old: Record) -> str | None:
    """How `new` is worse than `old`, or None: a lower rank, or a fact it no longer has.

    A fact that changed is not a loss (a corrected DBLP key); one that is gone is,
    since it most often means an upstream that knew it did not answer this time.
    """
    if RANK[new.type] < RANK[old.type]:
        return f"a {new.type} record where the lock has a {old.type} one"
    lost = [name for name in KEPT_FIELDS if getattr(old, name) and not getattr(new, name)]
    return f"a record without its {', '.join(lost)}" if lost else None


def to_resolve(
    catalog: Catalog,
    locked: dict[str, LockedEntry],
    *,
    refresh: bool = False,
    only: Collection[str] | None = None,
    limit: int | None = None,
) -> list[Entry]:
    """The entries a run asks upstreams about: new, changed or not yet resolved ones (all
    with `refresh`), narrowed to `only` and to the first `limit`."""
    todo = [
        e
        for e in catalog.entries
        if (only is None or e.id in only)
        and (
            refresh
            or e.id not in locked
            or locked[e.id].record.source == "catalog"  # not resolved yet: ask again
            or not locked_for(e, locked[e.id])  # a new link, pin or title: another paper
        )
    ]
    return todo[:limit] if limit is not None else todo


def _dated(record: Record, previous: LockedEntry | None, today: str) -> Record:
    """Stamp today's date only on records that changed, so a refresh adds no noise to the lock."""
    if previous is not None:
        unchanged = previous.record.with_(retrieved=None, key="") == record.with_(retrieved=None)
        if unchanged:
            return record.with_(retrieved=previous.record.retrieved)
    return record.with_(retrieved=today)
