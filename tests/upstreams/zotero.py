"""A stateful loopback Zotero Web API v3: one group (or user) library, for pyzotero.

The behaviour follows the Zotero Web API v3 documentation (basics, write requests, syncing)
and, where the documentation is silent, the server that answers api.zotero.org,
zotero/dataserver: ApiController (authentication, write tokens, version preconditions,
error bodies), ItemsController/CollectionsController, Zotero_API (query parameters, the
`Link` header, `Total-Results`), Zotero_Items::validateJSONItem and Item::setField (the
exact 400 messages), Zotero_Results (the multi-object write report) and Zotero_Errors
(409 for missing collections or parent items). Field and creator-type lists are
zotero-schema's schema.json, version 22 (the Zotero 7 schema: `citationKey` exists only
on preprint, dataset and standard; `citation_key_everywhere=True` adds it to every
regular type, as later schemas do).

What a sync client meets here, as there:
- a key in `Zotero-API-Key`, `?key=` or `Authorization: Bearer` (pyzotero's); a wrong key
  is 403 "Invalid key", no key 403 "Forbidden" (reads) or "An API key is required for write
  requests.";
- one library version, bumped once per write request that changes something; every object
  changed by it takes that version; `Last-Modified-Version` on answers (a single object's
  own version on GET /items/{key} and on a single-object 412);
- POST of at most 50 objects (413 beyond) answering {successful, success, unchanged, failed};
  a stale `If-Unmodified-Since-Version` fails the whole request (412), a stale per-object
  `version` only that object; a `key` with neither fails with 428; POST updates are partial;
- `Zotero-Write-Token`: reusing one within 12 hours is 412 "Write token already used" (the
  documented and the real behaviour: the first answer is not replayed); a refused request
  does not spend its token;
- PUT/PATCH/DELETE of one object need a version (428), must match it (412), answer 204;
  DELETE moves objects to the delete log (GET /deleted?since=); `deleted: 1` is the trash.

Known, deliberate differences from the real server, each named in its own message:
only `format=json|keys|versions` is served, only API version 3, no tags/searches/files
endpoints, no annotations, no collection trash; more than 50 `itemKey`/`collectionKey`
values are refused (the documented limit; the real server quietly caps the page at 100).
"""

from __future__ import annotations

import copy
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from tests.upstreams.base import LoopbackServer, RecordedRequest, Response


def _words(text: str) -> list[str]:
    return text.split()


KEY_ALPHABET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
_KEY = re.compile(f"^[{KEY_ALPHABET}]{{8}}$")
SCHEMA_VERSION = 22
MAX_WRITE_OBJECTS = 50  # Zotero_API::$maxWriteItems / $maxWriteCollections
MAX_OBJECT_KEYS = 50  # "Up to 50 items can be specified in a single request" (basics)
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
WRITE_TOKEN_TTL = 12 * 3600  # ApiController::$writeTokenCacheTime
OTHER_USER = (2002, "alice", "Alice Example")  # "someone else" editing the group
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Changes that leave an item's dateModified alone (Zotero_Items::updateFromJSON).
_KEEP_DATE_MODIFIED = frozenset({"collections", "deleted", "relations", "inPublications"})
_UNSERVED_FORMATS = frozenset(
    _words(
        "atom bib citation csljson bibtex biblatex bookmarks coins mods refer rdf_bibliontology"
        " rdf_dc rdf_zotero ris tei wikipedia globalKeys"
    )
)

# -- schema (zotero-schema schema.json v22): fields in schema order | creator types, primary first

_TAIL = "archive archiveLocation libraryCatalog callNumber rights extra"
_TYPES_TEXT = f"""
artwork: title abstractNote artworkMedium artworkSize date language shortTitle archive archiveLocation libraryCatalog callNumber url accessDate rights extra | artist contributor
attachment: title accessDate url |
audioRecording: title abstractNote audioRecordingFormat seriesTitle volume numberOfVolumes place label date runningTime language ISBN shortTitle archive archiveLocation libraryCatalog callNumber url accessDate rights extra | performer contributor composer wordsBy
bill: title abstractNote billNumber code codeVolume section codePages legislativeBody session history date language url accessDate shortTitle rights extra | sponsor cosponsor contributor
blogPost: title abstractNote blogTitle websiteType date url accessDate language shortTitle rights extra | author commenter contributor
book: title abstractNote series seriesNumber volume numberOfVolumes edition place publisher date numPages language ISBN shortTitle url accessDate {_TAIL} | author contributor editor translator seriesEditor
bookSection: title abstractNote bookTitle series seriesNumber volume numberOfVolumes edition place publisher date pages language ISBN shortTitle url accessDate {_TAIL} | author contributor editor bookAuthor translator seriesEditor
case: caseName abstractNote court dateDecided docketNumber reporter reporterVolume firstPage history language shortTitle url accessDate rights extra | author counsel contributor
computerProgram: title abstractNote seriesTitle versionNumber date system place company programmingLanguage ISBN shortTitle url rights archive archiveLocation libraryCatalog callNumber accessDate extra | programmer contributor
conferencePaper: title abstractNote date proceedingsTitle conferenceName place publisher volume pages series language DOI ISBN shortTitle url accessDate {_TAIL} | author contributor editor translator seriesEditor
dataset: title abstractNote identifier type number versionNumber date repository repositoryLocation format DOI citationKey url accessDate archive archiveLocation shortTitle language libraryCatalog callNumber rights extra | author contributor
dictionaryEntry: title abstractNote dictionaryTitle series seriesNumber volume numberOfVolumes edition place publisher date pages language ISBN shortTitle url accessDate {_TAIL} | author contributor editor translator seriesEditor
document: title abstractNote publisher date language shortTitle url accessDate {_TAIL} | author contributor editor translator reviewedAuthor
email: subject abstractNote date shortTitle url accessDate language rights extra | author contributor recipient
encyclopediaArticle: title abstractNote encyclopediaTitle series seriesNumber volume numberOfVolumes edition place publisher date pages ISBN shortTitle url accessDate language {_TAIL} | author contributor editor translator seriesEditor
film: title abstractNote distributor date genre videoRecordingFormat runningTime language shortTitle url accessDate {_TAIL} | director contributor scriptwriter producer
forumPost: title abstractNote forumTitle postType date language shortTitle url accessDate rights extra | author contributor
hearing: title abstractNote committee place publisher numberOfVolumes documentNumber pages legislativeBody session history date language shortTitle url accessDate rights extra | contributor
instantMessage: title abstractNote date language shortTitle url accessDate rights extra | author contributor recipient
interview: title abstractNote date interviewMedium language shortTitle url accessDate {_TAIL} | interviewee contributor interviewer translator
journalArticle: title abstractNote publicationTitle volume issue pages date series seriesTitle seriesText journalAbbreviation language DOI ISSN shortTitle url accessDate {_TAIL} | author contributor editor translator reviewedAuthor
letter: title abstractNote letterType date language shortTitle url accessDate {_TAIL} | author contributor recipient
magazineArticle: title abstractNote publicationTitle volume issue date pages language ISSN shortTitle url accessDate {_TAIL} | author contributor translator reviewedAuthor
manuscript: title abstractNote manuscriptType place date numPages language shortTitle url accessDate {_TAIL} | author contributor translator
map: title abstractNote mapType scale seriesTitle edition place publisher date language ISBN shortTitle url accessDate {_TAIL} | cartographer contributor seriesEditor
newspaperArticle: title abstractNote publicationTitle place edition date section pages language shortTitle ISSN url accessDate {_TAIL} | author contributor translator reviewedAuthor
note: |
patent: title abstractNote place country assignee issuingAuthority patentNumber filingDate pages applicationNumber priorityNumbers issueDate references legalStatus language shortTitle url accessDate rights extra | inventor attorneyAgent contributor
podcast: title abstractNote seriesTitle episodeNumber audioFileType runningTime url accessDate language shortTitle rights extra | podcaster contributor guest
preprint: title abstractNote genre repository archiveID place date series seriesNumber DOI citationKey url accessDate archive archiveLocation shortTitle language libraryCatalog callNumber rights extra | author contributor editor translator reviewedAuthor
presentation: title abstractNote presentationType date place meetingName url accessDate language shortTitle rights extra | presenter contributor
radioBroadcast: title abstractNote programTitle episodeNumber audioRecordingFormat place network date runningTime language shortTitle url accessDate {_TAIL} | director scriptwriter producer castMember contributor guest
report: title abstractNote reportNumber reportType seriesTitle place institution date pages language shortTitle url accessDate {_TAIL} | author contributor translator seriesEditor
standard: title abstractNote organization committee type number versionNumber status date publisher place DOI citationKey url accessDate archive archiveLocation shortTitle numPages language libraryCatalog callNumber rights extra | author contributor
statute: nameOfAct abstractNote code codeNumber publicLawNumber dateEnacted pages section session history language shortTitle url accessDate rights extra | author contributor
thesis: title abstractNote thesisType university place date numPages language shortTitle url accessDate {_TAIL} | author contributor
tvBroadcast: title abstractNote programTitle episodeNumber videoRecordingFormat place network date runningTime language shortTitle url accessDate {_TAIL} | director scriptwriter producer castMember contributor guest
videoRecording: title abstractNote videoRecordingFormat seriesTitle volume numberOfVolumes place studio date runningTime language ISBN shortTitle url accessDate {_TAIL} | director scriptwriter producer castMember contributor
webpage: title abstractNote websiteTitle websiteType date shortTitle url accessDate language rights extra | author contributor translator
"""

# Type-specific field -> the base field it maps to (schema "baseField").
_BASE_FIELD = {
    **dict.fromkeys(["caseName", "subject", "nameOfAct"], "title"),
    **dict.fromkeys(["dateDecided", "dateEnacted", "issueDate"], "date"),
    **dict.fromkeys(
        _words(
            "blogTitle bookTitle proceedingsTitle dictionaryTitle encyclopediaTitle forumTitle"
            " programTitle websiteTitle"
        ),
        "publicationTitle",
    ),
    **dict.fromkeys(
        _words("label company distributor repository institution network studio university"),
        "publisher",
    ),
    **dict.fromkeys(
        _words(
            "billNumber docketNumber identifier documentNumber patentNumber episodeNumber archiveID"
            " reportNumber publicLawNumber"
        ),
        "number",
    ),
    **dict.fromkeys(
        _words(
            "artworkMedium audioRecordingFormat format videoRecordingFormat interviewMedium"
            " audioFileType"
        ),
        "medium",
    ),
    **dict.fromkeys(
        _words(
            "websiteType genre postType letterType manuscriptType mapType presentationType"
            " reportType thesisType"
        ),
        "type",
    ),
    **dict.fromkeys(["court", "legislativeBody", "issuingAuthority", "organization"], "authority"),
    "codeVolume": "volume",
    "reporterVolume": "volume",
    "codePages": "pages",
    "firstPage": "pages",
    "repositoryLocation": "place",
    "legalStatus": "status",
}

_FIELD_LABELS_TEXT = """
abstractNote=Abstract accessDate=Accessed applicationNumber=Application_Number archive=Archive
archiveID=Archive_ID archiveLocation=Loc._in_Archive artworkMedium=Medium artworkSize=Artwork_Size
assignee=Assignee audioFileType=File_Type audioRecordingFormat=Format billNumber=Bill_Number
blogTitle=Blog_Title bookTitle=Book_Title callNumber=Call_Number caseName=Case_Name
citationKey=Citation_Key code=Code codeNumber=Code_Number codePages=Code_Pages
codeVolume=Code_Volume committee=Committee company=Company conferenceName=Conference_Name
country=Country court=Court date=Date dateDecided=Date_Decided dateEnacted=Date_Enacted
dictionaryTitle=Dictionary_Title distributor=Distributor docketNumber=Docket_Number
documentNumber=Document_Number DOI=DOI edition=Edition encyclopediaTitle=Encyclopedia_Title
episodeNumber=Episode_Number extra=Extra filingDate=Filing_Date firstPage=First_Page format=Format
forumTitle=Forum/Listserv_Title genre=Genre history=History identifier=Identifier
institution=Institution interviewMedium=Medium ISBN=ISBN ISSN=ISSN issue=Issue
issueDate=Issue_Date issuingAuthority=Issuing_Authority journalAbbreviation=Journal_Abbr
label=Label language=Language legalStatus=Legal_Status legislativeBody=Legislative_Body
letterType=Type libraryCatalog=Library_Catalog manuscriptType=Type mapType=Type
meetingName=Meeting_Name nameOfAct=Name_of_Act network=Network number=Number
numberOfVolumes=#_of_Volumes numPages=#_of_Pages organization=Organization pages=Pages
patentNumber=Patent_Number place=Place postType=Post_Type presentationType=Type
priorityNumbers=Priority_Numbers proceedingsTitle=Proceedings_Title
programmingLanguage=Prog._Language programTitle=Program_Title publicationTitle=Publication
publicLawNumber=Public_Law_Number publisher=Publisher references=References reporter=Reporter
reporterVolume=Reporter_Volume reportNumber=Report_Number reportType=Report_Type
repository=Repository repositoryLocation=Repo._Location rights=Rights runningTime=Running_Time
scale=Scale section=Section series=Series seriesNumber=Series_Number seriesText=Series_Text
seriesTitle=Series_Title session=Session shortTitle=Short_Title status=Status studio=Studio
subject=Subject system=System thesisType=Type title=Title type=Type university=University url=URL
versionNumber=Version videoRecordingFormat=Format volume=Volume websiteTitle=Website_Title
websiteType=Website_Type
"""
_TYPE_LABELS_TEXT = """
annotation=Annotation artwork=Artwork attachment=Attachment audioRecording=Audio_Recording
bill=Bill blogPost=Blog_Post book=Book bookSection=Book_Section case=Case computerProgram=Software
conferencePaper=Conference_Paper dataset=Dataset dictionaryEntry=Dictionary_Entry
document=Document email=E-mail encyclopediaArticle=Encyclopedia_Article film=Film
forumPost=Forum_Post hearing=Hearing instantMessage=Instant_Message interview=Interview
journalArticle=Journal_Article letter=Letter magazineArticle=Magazine_Article
manuscript=Manuscript map=Map newspaperArticle=Newspaper_Article note=Note patent=Patent
podcast=Podcast preprint=Preprint presentation=Presentation radioBroadcast=Radio_Broadcast
report=Report standard=Standard statute=Statute thesis=Thesis tvBroadcast=TV_Broadcast
videoRecording=Video_Recording webpage=Web_Page
"""
_CREATOR_LABELS_TEXT = """
artist=Artist attorneyAgent=Attorney/Agent author=Author bookAuthor=Book_Author
cartographer=Cartographer castMember=Cast_Member commenter=Commenter composer=Composer
contributor=Contributor cosponsor=Cosponsor counsel=Counsel director=Director editor=Editor
guest=Guest interviewee=Interview_With interviewer=Interviewer inventor=Inventor
performer=Performer podcaster=Podcaster presenter=Presenter producer=Producer
programmer=Programmer recipient=Recipient reviewedAuthor=Reviewed_Author
scriptwriter=Scriptwriter seriesEditor=Series_Editor sponsor=Sponsor translator=Translator
wordsBy=Words_By
"""


def _labels(text: str) -> dict[str, str]:
    pairs = (word.split("=", 1) for word in text.split())
    return {name: label.replace("_", " ") for name, label in pairs}


FIELD_LABELS = _labels(_FIELD_LABELS_TEXT)
TYPE_LABELS = _labels(_TYPE_LABELS_TEXT)
CREATOR_LABELS = _labels(_CREATOR_LABELS_TEXT)
_LINK_MODES = ("imported_file", "imported_url", "linked_file", "linked_url", "embedded_image")
_RELATION_PREDICATES = ("dc:relation", "dc:replaces", "owl:sameAs")
_EXTERNAL_PREDICATES = ("owl:sameAs",)
_ITEM_URI = re.compile(
    r"^http://zotero\.org/(users|groups)/[0-9]+/(publications/)?items/[A-Z0-9]{8}$"
)
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:Z|[+-]00:?00)?$")
_SQL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_NAMES = _words(
    "january february march april may june july august september october november december"
)
_MONTHS = {
    **{name: i + 1 for i, name in enumerate(_MONTH_NAMES)},
    **{name[:3]: i + 1 for i, name in enumerate(_MONTH_NAMES)},
    "sept": 9,
}


@dataclass(frozen=True)
class ItemType:
    """One item type of the schema: its fields in schema order and its creator types."""

    name: str
    fields: tuple[str, ...]
    creator_types: tuple[str, ...]  # the first one is the primary creator type

    @property
    def regular(self) -> bool:
        return self.name not in ("note", "attachment", "annotation")

    def field_for_base(self, base: str) -> str | None:
        """This type's field for a base field ("title" -> "caseName" for a case)."""
        for field in self.fields:
            if field == base or _BASE_FIELD.get(field) == base:
                return field
        return None


def build_schema(citation_key_everywhere: bool = False) -> dict[str, ItemType]:
    """item type name -> ItemType, as GET /itemTypeFields and /itemTypeCreatorTypes serve it."""
    schema = {"annotation": ItemType("annotation", (), ())}
    for line in _TYPES_TEXT.strip().splitlines():
        name, _, rest = line.partition(":")
        fields, _, creators = rest.partition("|")
        field_list = fields.split()
        wants_key = field_list and name != "attachment" and "citationKey" not in field_list
        if citation_key_everywhere and wants_key:
            at = field_list.index("url") if "url" in field_list else len(field_list)
            field_list.insert(at, "citationKey")
        schema[name] = ItemType(name, tuple(field_list), tuple(creators.split()))
    return dict(sorted(schema.items()))


# -- small helpers ----------------------------------------------------------------------------


class _HttpError(Exception):
    """A whole-request failure: status, plain-text message, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class _ObjectError(Exception):
    """One object of a write failed: code, message and optional data, as Zotero_Errors gives."""

    def __init__(self, code: int, message: str, data: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _htmlspecialchars(text: str) -> str:
    """PHP htmlspecialchars(ENT_COMPAT), which Zotero_Results applies to failure messages."""
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=4, ensure_ascii=False).encode("utf-8")


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value) is not None


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _normalize_datetime(value: str) -> str:
    match = _ISO_DATETIME.match(value.strip())
    return f"{match.group(1)}T{match.group(2)}Z" if match else value


def parsed_date(text: str) -> str | None:
    """meta.parsedDate: "YYYY", "YYYY-MM" or "YYYY-MM-DD", for the date forms this fake reads.

    Zotero's own parser (Zotero.Date.strToDate) knows more forms; here: ISO dates, US
    m/d/y, "Month [D,] YYYY", "D Month YYYY", and otherwise a lone four-digit year.
    """
    text = text.strip()
    if not text:
        return None
    iso = re.match(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ]|$)", text)
    if iso:
        return _join_date(iso.group(1), iso.group(2), iso.group(3))
    us = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", text)
    if us:
        return _join_date(us.group(3), us.group(1), us.group(2))
    year = re.search(r"(?<!\d)(\d{4})(?!\d)", text)
    if not year:
        return None
    words = re.findall(r"[A-Za-z]+", text)
    month = next((_MONTHS[w.lower()] for w in words if w.lower() in _MONTHS), None)
    rest = text[: year.start()] + " " + text[year.end() :]
    day = re.search(r"(?<!\d)(\d{1,2})(?!\d)", rest)
    return _join_date(year.group(1), month, day.group(1) if (day and month) else None)


def _join_date(year: str, month: Any, day: Any) -> str:
    out = year
    if month and 1 <= int(month) <= 12:
        out += f"-{int(month):02d}"
        if day and 1 <= int(day) <= 31:
            out += f"-{int(day):02d}"
    return out


def _creator_summary(creators: list[dict[str, str]], primary: str | None) -> str | None:
    """meta.creatorSummary: primary creators, else editors, else contributors (Item.inc.php)."""
    for creator_type in (primary, "editor", "contributor"):
        names = [
            c.get("lastName", c.get("name", ""))
            for c in creators
            if c["creatorType"] == creator_type
        ][:3]
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        if len(names) == 3:
            return f"{names[0]} et al."
    return None


# -- stored objects -----------------------------------------------------------------------------


@dataclass
class _Object:
    """An item or collection: key, version, sparse editable state, who made and changed it."""

    key: str
    version: int
    state: dict[str, Any]
    created_by: int
    modified_by: int
    seq: int


@dataclass
class _Query:
    """Parsed read parameters (Zotero_API::parseQueryParams) and the non-default ones for links."""

    format: str
    limit: int  # 0: unlimited (format=keys|versions)
    start: int
    since: int | None
    keys: list[str] | None
    include_trashed: bool
    sort: str
    direction: str
    item_type: list[str]
    q: str
    qmode: str
    tags: list[str]
    non_default: dict[str, str]


class _Tx:
    """One write request: the library version its changes get, taken on the first change."""

    def __init__(self, server: ZoteroServer) -> None:
        self.server = server
        self.version: int | None = None

    def bump(self) -> int:
        if self.version is None:
            self.version = self.server.library_version + 1
        return self.version


class ZoteroServer(LoopbackServer):
    """api.zotero.org for one library, kept in memory; see the module docstring.

    `items` and `collections` are snapshots ({key: data}) of the current state;
    `library_version` the library's version; `deleted_log` the delete log
    ({"items": {key: version}, "collections": {...}}); `writes` the number of write
    requests answered by the fake itself (injected faults excluded).
    """

    throttle_content_type: ClassVar[str] = "text/plain; charset=utf-8"
    throttle_body: ClassVar[bytes] = (
        b"Request rate limit exceeded"  # ApiController::initRequestLimiter
    )

    def __init__(
        self,
        *,
        library_type: str = "group",
        library_id: str = "123",
        api_key: str = "LoopbackZoteroKey0000001",
        library_name: str = "LLM Serving Papers",
        user_id: int = 1001,
        username: str = "bib-sync",
        write_access: bool = True,
        citation_key_everywhere: bool = False,
        seed: int = 0,
    ) -> None:
        if library_type not in ("group", "user"):
            raise ValueError("library_type is 'group' or 'user'")
        self.library_type = library_type
        self.library_id = str(library_id)
        self.api_key = api_key
        self.library_name = library_name
        self.user_id = user_id
        self.write_access = write_access
        self.schema = build_schema(citation_key_everywhere)
        self.all_fields = {f for t in self.schema.values() for f in t.fields}
        self.users = {user_id: (username, username), OTHER_USER[0]: OTHER_USER[1:]}
        self.library_version = 0
        self.deleted_log: dict[str, dict[str, int]] = {"items": {}, "collections": {}}
        self.writes = 0
        self._items: dict[str, _Object] = {}
        self._collections: dict[str, _Object] = {}
        self._tokens: dict[tuple[str, str], float] = {}
        self._clock_offset = 0.0
        self._backoff: float | None = None
        self._seq = 0
        self._random = random.Random(seed)
        self._state = threading.RLock()
        super().__init__()
        # base.py's handler has no do_PATCH, and pyzotero's update_item/addto_collection
        # send PATCH. TCP_NODELAY: headers and body leave in two writes, and on a keep-alive
        # connection Nagle's algorithm would hold the body for the client's delayed ACK
        # (~40 ms a request).
        handler = self._httpd.RequestHandlerClass
        self._httpd.RequestHandlerClass = type(
            "ZoteroHandler",
            (handler,),
            {"do_PATCH": handler.do_GET, "disable_nagle_algorithm": True},
        )

    # -- test controls -----------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return f"/{self.library_type}s/{self.library_id}"

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        """key -> the item's `data` as GET /items/{key} gives it (a copy), trash included."""
        with self._state:
            return {key: self._item_data(obj) for key, obj in self._items.items()}

    @property
    def collections(self) -> dict[str, dict[str, Any]]:
        with self._state:
            return {key: self._collection_data(obj) for key, obj in self._collections.items()}

    def item_json(self, key: str) -> dict[str, Any]:
        """The full JSON object (key, version, library, links, meta, data) of one item."""
        with self._state:
            return self._item_json(self._items[key])

    def collection_json(self, key: str) -> dict[str, Any]:
        with self._state:
            return self._collection_json(self._collections[key])

    def now(self) -> float:
        """The fake's clock: wall time plus `advance_clock` offsets."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock forward, e.g. past the 12-hour life of write tokens."""
        self._clock_offset += seconds

    def backoff_next(self, seconds: float) -> None:
        """Add `Backoff: seconds` to the next successful (2xx) answer, as an overloaded API does."""
        with self._state:
            self._backoff = seconds

    def add_item(
        self, data: dict[str, Any], *, key: str | None = None, by_other: bool = True
    ) -> str:
        """Create an item "by hand" (as a group member's Zotero would), validated like a POST;
        raises ValueError with the API's message if the API would refuse it."""
        data = {**data, **({"key": key, "version": 0} if key else {})}
        return self._by_hand(self._write_item, data, partial=False, by_other=by_other)

    def edit_item(self, key: str, **changes: Any) -> int:
        """Change an item as someone else would (a partial update: `deleted=1` trashes it);
        returns its new version."""
        self._by_hand(self._write_item, {**changes, "key": key}, partial=True, must_exist=True)
        return self._items[key].version

    def remove_item(self, key: str) -> None:
        """Delete an item (and its children) as someone else would: it goes to the delete log."""
        self._by_hand(self._delete_item, key)

    def add_collection(
        self, name: str, parent: str | None = None, *, key: str | None = None
    ) -> str:
        data: dict[str, Any] = {"name": name, "parentCollection": parent or False}
        data |= {"key": key, "version": 0} if key else {}
        return self._by_hand(self._write_collection, data, partial=False)

    def edit_collection(self, key: str, **changes: Any) -> int:
        self._by_hand(
            self._write_collection, {**changes, "key": key}, partial=True, must_exist=True
        )
        return self._collections[key].version

    def remove_collection(self, key: str) -> None:
        """Delete a collection and its subcollections as someone else would."""
        self._by_hand(self._delete_collection, key)

    def _by_hand(self, action: Callable[..., Any], target: Any, **options: Any) -> Any:
        """Run one write outside HTTP, in one library version, as OTHER_USER by default."""
        with self._state:
            tx = _Tx(self)
            if action in (self._delete_item, self._delete_collection):
                action(target, tx)
            else:
                user = OTHER_USER[0] if options.pop("by_other", True) else self.user_id
                try:
                    target, _ = action(target, tx=tx, require_version=0, user=user, **options)
                except _ObjectError as error:
                    raise ValueError(f"{error.code}: {error.message}") from None
            self._commit(tx)
            return target

    # -- the request cycle -------------------------------------------------------------------

    def common_headers(self, request: RecordedRequest) -> dict[str, str]:
        return {"zotero-api-version": "3", "zotero-schema-version": str(SCHEMA_VERSION)}

    def handle(self, request: RecordedRequest) -> Response:
        with self._state:
            if request.method in _WRITE_METHODS:
                self.writes += 1
            try:
                response = self._dispatch(request)
            except _HttpError as error:
                response = Response(
                    error.status,
                    error.message.encode("utf-8"),
                    {"content-type": "text/plain; charset=utf-8", **error.headers},
                )
            if 200 <= response.status < 300 and self._backoff is not None:
                response.headers["backoff"] = f"{self._backoff:g}"
                self._backoff = None
            return response

    def _dispatch(self, request: RecordedRequest) -> Response:
        method = request.method
        if method not in ("GET", "HEAD", *_WRITE_METHODS):
            raise _HttpError(501, "Method is not implemented")
        if method in ("POST", "PUT", "PATCH") and not request.body:
            raise _HttpError(400, f"{method} data not provided")
        api_key = self._authenticate(request)
        write = method in _WRITE_METHODS
        token = request.headers.get("zotero-write-token")
        if write and api_key and token:
            self._check_write_token(api_key, token)
        self._check_api_version(request)
        path = request.path.rstrip("/") or "/"

        if path in (
            "/itemTypes",
            "/itemFields",
            "/itemTypeFields",
            "/itemTypeCreatorTypes",
            "/creatorFields",
            "/items/new",
        ):
            self._allow(method, ("GET", "HEAD"))
            return self._mapping(path, request)
        if path.startswith("/keys/"):
            self._allow(method, ("GET", "HEAD"))
            return self._key_info(path.removeprefix("/keys/"), api_key)
        if not api_key:
            raise _HttpError(
                403, "An API key is required for write requests." if write else "Forbidden"
            )
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            raise _HttpError(404, "Not found")
        if write and not self.write_access:
            raise _HttpError(403, "Write access denied")
        parts = path[len(self.prefix) :].strip("/").split("/")
        context = _Context(self, request, api_key, token)
        if parts[0] == "items":
            return context.items(parts[1:])
        if parts[0] == "collections":
            return context.collections(parts[1:])
        if parts == ["deleted"]:
            self._allow(method, ("GET", "HEAD"))
            return context.deleted()
        raise _HttpError(404, "Not found")

    @staticmethod
    def _allow(method: str, methods: Iterable[str]) -> None:
        if method not in methods:
            raise _HttpError(405, "Method not allowed", {"allow": ", ".join(methods)})

    def _authenticate(self, request: RecordedRequest) -> str | None:
        """Zotero-API-Key header, ?key=, or "Authorization: Bearer" (ApiController::init)."""
        key = request.headers.get("zotero-api-key") or None
        param = request.param("key")
        if param is not None:
            if key is None:
                key = param
            elif param != key:
                raise _HttpError(400, "Zotero-API-Key header and 'key' parameter differ")
        authorization = request.headers.get("authorization", "")
        if key is None and re.match(r"(?i)^bearer", authorization):
            match = re.match(r"(?i)^bearer +([a-z0-9]+)$", authorization)
            if not match:
                raise _HttpError(400, "Invalid Authorization header format")
            key = match.group(1)
        if key and key != self.api_key:
            raise _HttpError(403, "Invalid key")
        return key or None

    def _check_write_token(self, api_key: str, token: str) -> None:
        if not 5 <= len(token) <= 32:
            raise _HttpError(400, "Write token must be 5-32 characters in length")
        stored = self._tokens.get((api_key, token))
        if stored is not None and self.now() - stored < WRITE_TOKEN_TTL:
            raise _HttpError(412, "Write token already used")

    def _store_write_token(self, api_key: str, token: str | None) -> None:
        if token:
            self._tokens[(api_key, token)] = self.now()

    @staticmethod
    def _check_api_version(request: RecordedRequest) -> None:
        header = request.headers.get("zotero-api-version")
        param = request.param("v")
        if header and param and header != param:
            raise _HttpError(400, "Zotero-API-Version header does not match 'v' query parameter")
        version = header or param or "3"
        if version not in ("1", "2", "3"):
            raise _HttpError(400, f"Invalid API version '{version}'")
        if version != "3":
            raise _HttpError(
                400, f"API version {version} is not served by this loopback server (only 3)"
            )

    def _commit(self, tx: _Tx) -> None:
        if tx.version is not None:
            self.library_version = tx.version

    def _new_key(self, taken: dict[str, _Object]) -> str:
        while True:
            key = "".join(self._random.choice(KEY_ALPHABET) for _ in range(8))
            if key not in taken:
                return key

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- mappings (schema) endpoints ---------------------------------------------------------

    def _mapping(self, path: str, request: RecordedRequest) -> Response:
        if path == "/itemTypes":
            rows = [
                {"itemType": name, "localized": TYPE_LABELS[name]}
                for name in self.schema
                if name not in ("attachment", "annotation")
            ]
            return _json_response(sorted(rows, key=lambda r: r["localized"]))
        if path == "/itemFields":
            order = {f: i for i, f in enumerate(f for t in self.schema.values() for f in t.fields)}
            rows = [{"field": f, "localized": FIELD_LABELS[f]} for f in self.all_fields]
            return _json_response(sorted(rows, key=lambda r: (r["localized"], order[r["field"]])))
        if path == "/creatorFields":
            return _json_response(
                [
                    {"field": "firstName", "localized": "First"},
                    {"field": "lastName", "localized": "Last"},
                    {"field": "name", "localized": "Name"},
                ]
            )
        item_type = request.param("itemType") or ""
        if not item_type:
            raise _HttpError(400, "'itemType' not provided")
        if path == "/items/new":
            return _json_response(self._template(item_type, request.param("linkMode") or ""))
        if item_type not in self.schema or item_type == "annotation":
            raise _HttpError(400, f"Invalid item type '{item_type}'")
        spec = self.schema[item_type]
        if path == "/itemTypeFields":
            return _json_response([{"field": f, "localized": FIELD_LABELS[f]} for f in spec.fields])
        return _json_response(
            [{"creatorType": c, "localized": CREATOR_LABELS[c]} for c in spec.creator_types]
        )

    def _template(self, item_type: str, link_mode: str) -> dict[str, Any]:
        """GET /items/new, as MappingsController::newItem builds it."""
        if item_type == "attachment":
            if not link_mode:
                raise _HttpError(400, "linkMode required for itemType=attachment")
            if link_mode not in _LINK_MODES:
                raise _HttpError(400, f"Invalid linkMode '{link_mode}'")
        if item_type == "annotation":
            raise _HttpError(400, "annotation items are not served by this loopback server")
        if item_type not in self.schema:
            raise _HttpError(400, f"Invalid item type '{item_type}'")
        spec = self.schema[item_type]
        out: dict[str, Any] = {"itemType": item_type}
        if item_type == "attachment":
            out["linkMode"] = link_mode
        for field in spec.fields:
            if item_type == "attachment" and field == "url" and not link_mode.endswith("_url"):
                continue
            out[field] = ""
            if "creators" not in out and spec.regular:
                out["creators"] = [
                    {"creatorType": spec.creator_types[0], "firstName": "", "lastName": ""}
                ]
        embedded = link_mode == "embedded_image"
        if embedded:
            out["parentItem"] = ""
        if not spec.regular:
            out["note"] = ""
        out |= {"tags": [], "collections": [], "relations": {}}
        if item_type == "attachment":
            out |= {"contentType": "", "charset": ""}
            if link_mode == "linked_file":
                out["path"] = ""
            if link_mode.startswith("imported_") or embedded:
                out |= {"filename": "", "md5": None, "mtime": None}
            if embedded:
                for prop in (
                    "title",
                    "url",
                    "accessDate",
                    "tags",
                    "collections",
                    "relations",
                    "note",
                    "charset",
                ):
                    out.pop(prop, None)
        return out

    def _key_info(self, key: str, api_key: str | None) -> Response:
        if key == "current":
            if not api_key:
                raise _HttpError(403, "Forbidden")
            key = api_key
        if key != self.api_key:
            raise _HttpError(404, "Key not found")
        access: dict[str, Any] = {}
        rights = {"library": True, "write": self.write_access}
        if self.library_type == "group":
            access["groups"] = {self.library_id: rights}
        else:
            access["user"] = {**rights, "files": True, "notes": True}
        username = self.users[self.user_id][0]
        return _json_response(
            {
                "key": key,
                "userID": self.user_id,
                "username": username,
                "displayName": username,
                "access": access,
            }
        )

    # -- JSON documents ----------------------------------------------------------------------

    def _library(self) -> dict[str, Any]:
        if self.library_type == "group":
            alternate = f"https://www.zotero.org/groups/{self.library_id}"
        else:
            alternate = f"https://www.zotero.org/{self.users[self.user_id][0]}"
        return {
            "type": self.library_type,
            "id": int(self.library_id),
            "name": self.library_name,
            "links": {"alternate": {"href": alternate, "type": "text/html"}},
        }

    def _links(self, kind: str, key: str, up: str | None, up_type: str) -> dict[str, Any]:
        www = self._library()["links"]["alternate"]["href"]
        links: dict[str, Any] = {
            "self": {
                "href": f"{self.base_url}{self.prefix}/{kind}/{key}",
                "type": "application/json",
            },
            "alternate": {"href": f"{www}/{kind}/{key}", "type": "text/html"},
        }
        if up:
            links["up"] = {"href": f"{self.base_url}{self.prefix}/{kind}/{up}", "type": up_type}
        return links

    def _user(self, user_id: int) -> dict[str, Any]:
        username, name = self.users[user_id]
        return {
            "id": user_id,
            "username": username,
            "name": name,
            "links": {
                "alternate": {"href": f"https://www.zotero.org/{username}", "type": "text/html"}
            },
        }

    def _item_data(self, obj: _Object) -> dict[str, Any]:
        state = obj.state
        spec = self.schema[state["itemType"]]
        out: dict[str, Any] = {"key": obj.key, "version": obj.version}
        if state.get("parentItem"):
            out["parentItem"] = state["parentItem"]
        out["itemType"] = spec.name
        attachment = state.get("attachment") or {}
        if spec.name == "attachment":
            out["linkMode"] = attachment.get("linkMode", "")
        fields = state["fields"]
        if spec.regular:
            title = spec.field_for_base("title") or "title"
            out[title] = fields.get(title, "")
            out["creators"] = copy.deepcopy(state["creators"])
        for field in spec.fields:
            if field in out:
                continue
            if (
                spec.name == "attachment"
                and field == "url"
                and not attachment.get("linkMode", "").endswith("_url")
            ):
                continue
            out[field] = fields.get(field, "")
        if not spec.regular:
            out["note"] = state.get("note") or ""
        if spec.name == "attachment":
            mode = attachment.get("linkMode", "")
            out["contentType"] = attachment.get("contentType", "")
            out["charset"] = attachment.get("charset", "")
            if mode.startswith("imported_") or mode == "embedded_image":
                out["filename"] = attachment.get("filename", "")
                out["md5"] = attachment.get("md5")
                out["mtime"] = attachment.get("mtime")
            if mode == "linked_file":
                out["path"] = attachment.get("path", "")
        if state.get("deleted"):
            out["deleted"] = 1
        if state.get("inPublications"):
            out["inPublications"] = True
        out["tags"] = copy.deepcopy(state["tags"])
        if not state.get("parentItem"):
            out["collections"] = list(state["collections"])
        out["relations"] = copy.deepcopy(state["relations"])
        out["dateAdded"] = state["dateAdded"]
        out["dateModified"] = state["dateModified"]
        return out

    def _item_json(self, obj: _Object) -> dict[str, Any]:
        state = obj.state
        spec = self.schema[state["itemType"]]
        meta: dict[str, Any] = {}
        if self.library_type == "group":
            meta["createdByUser"] = self._user(obj.created_by)
            if obj.modified_by != obj.created_by:
                meta["lastModifiedByUser"] = self._user(obj.modified_by)
        if spec.regular:
            summary = _creator_summary(
                state["creators"], spec.creator_types[0] if spec.creator_types else None
            )
            if summary:
                meta["creatorSummary"] = summary
            date_field = spec.field_for_base("date")
            parsed = parsed_date(state["fields"].get(date_field, "")) if date_field else None
            if parsed:
                meta["parsedDate"] = parsed
            meta["numChildren"] = sum(
                1
                for child in self._items.values()
                if child.state.get("parentItem") == obj.key and not child.state.get("deleted")
            )
        return {
            "key": obj.key,
            "version": obj.version,
            "library": self._library(),
            "links": self._links("items", obj.key, state.get("parentItem"), "application/json"),
            "meta": meta,
            "data": self._item_data(obj),
        }

    def _collection_data(self, obj: _Object) -> dict[str, Any]:
        state = obj.state
        return {
            "key": obj.key,
            "version": obj.version,
            "name": state["name"],
            "parentCollection": state["parentCollection"],
            "relations": copy.deepcopy(state["relations"]),
        }

    def _collection_json(self, obj: _Object) -> dict[str, Any]:
        parent = obj.state["parentCollection"] or None
        return {
            "key": obj.key,
            "version": obj.version,
            "library": self._library(),
            "links": self._links("collections", obj.key, parent, "application/atom+xml"),
            "meta": {
                "numCollections": sum(
                    1 for c in self._collections.values() if c.state["parentCollection"] == obj.key
                ),
                "numItems": sum(
                    1
                    for i in self._items.values()
                    if obj.key in i.state["collections"] and not i.state.get("deleted")
                ),
            },
            "data": self._collection_data(obj),
        }

    # -- writing objects ---------------------------------------------------------------------

    def _check_object_version(
        self, kind: str, data: dict[str, Any], obj: _Object | None, tx: _Tx, require_version: int
    ) -> None:
        """Zotero_API::checkJSONObjectVersion for one object of a write."""
        label = kind.capitalize()
        if f"{kind}Key" in data:
            raise _ObjectError(400, f"'{kind}Key' property is now 'key'")
        if f"{kind}Version" in data:
            raise _ObjectError(400, f"'{kind}Version' property is now 'version'")
        if "version" in data:
            version = data["version"]
            if not _is_numeric(version):
                raise _ObjectError(400, "'version' must be an integer")
            version = int(float(version))
            if "key" not in data:
                raise _ObjectError(400, f"'version' is valid only if {kind} key is provided")
            current = obj.version if obj else 0
            if current > version:
                if not (tx.version is not None and current == tx.version):
                    raise _ObjectError(
                        412,
                        f"{label} has been modified since specified version (expected {version}, found {current})",
                    )
            elif version > 0 and obj is None:
                raise _ObjectError(
                    404, f"{label} doesn't exist (expected version {version}; use 0 instead)"
                )
        elif require_version == 1 and "key" in data:
            raise _ObjectError(
                428,
                "Either If-Unmodified-Since-Version or 'version' property must be provided for 'key'-based writes",
            )

    def _object_key(self, kind: str, data: dict[str, Any], url_key: str | None) -> str | None:
        key = data.get("key")
        if key is None:
            return url_key
        if not isinstance(key, str):
            raise _ObjectError(400, "'key' must be a string")
        if not _KEY.match(key):
            raise _ObjectError(400, f"'{key}' is not a valid {kind} key")
        if url_key and key != url_key:
            raise _HttpError(409, f"'key' property in JSON does not match {kind} key of request")
        return key

    def _write_item(
        self,
        data: dict[str, Any],
        *,
        tx: _Tx,
        partial: bool,
        require_version: int,
        user: int,
        url_key: str | None = None,
        must_exist: bool = False,
    ) -> tuple[str, bool]:
        """Create or update one item from its editable JSON; (key, changed)."""
        key = self._object_key("item", data, url_key)
        obj = self._items.get(key) if key else None
        if must_exist and obj is None:
            raise KeyError(key)
        self._check_object_version("item", data, obj, tx, require_version)
        state = self._item_state(data, obj, partial=partial and obj is not None, key=key)
        if obj is not None and state == obj.state:
            return obj.key, False
        version = tx.bump()
        now = _iso(self.now())
        if obj is None:
            key = key or self._new_key(self._items)
            state["dateAdded"] = state.get("dateAdded") or now
            state["dateModified"] = state.get("dateModified") or now
            self._items[key] = _Object(key, version, state, user, user, self._next_seq())
            self.deleted_log["items"].pop(key, None)
            return key, True
        changed = {k for k in state.keys() | obj.state.keys() if state.get(k) != obj.state.get(k)}
        if "dateModified" not in changed and changed - _KEEP_DATE_MODIFIED:
            state["dateModified"] = now
        obj.state, obj.version, obj.modified_by = state, version, user
        return obj.key, True

    def _item_state(
        self, data: dict[str, Any], obj: _Object | None, *, partial: bool, key: str | None
    ) -> dict[str, Any]:
        """Validate editable JSON (Zotero_Items::validateJSONItem, Item::setField) into a state."""
        is_new = obj is None
        old = obj.state if obj else None
        is_child = bool(old and old.get("parentItem"))
        if is_child:
            parent = data.get("parentItem")
            if (partial and parent is False) or (not partial and not parent):
                is_child = False
        elif data.get("parentItem") not in (None, False):
            is_child = True
        item_type = data.get("itemType", old["itemType"] if (partial and old) else None)
        if partial:
            required: tuple[str, ...] = ()
        elif data.get("itemType") == "attachment":
            required = ("linkMode",)
        elif is_new:
            required = ("itemType",)
        else:
            required = ("itemType", "tags", "relations") + (() if is_child else ("collections",))
        for prop in required:
            if prop not in data:
                raise _ObjectError(400, f"'{prop}' property not provided")
        if not isinstance(item_type, str):
            raise _ObjectError(400, "'itemType' must be a string")
        if item_type not in self.schema:
            raise _ObjectError(400, f"'{item_type}' is not a valid itemType")
        if item_type == "annotation":
            raise _ObjectError(400, "annotation items are not served by this loopback server")
        spec = self.schema[item_type]
        if (is_child or data.get("parentItem")) and spec.regular:
            raise _ObjectError(400, "Child item must be note, attachment, or annotation")

        state: dict[str, Any] = {}
        if old is not None:  # PATCH and POST start from the item, PUT from its dates only
            dates = {"dateAdded": old["dateAdded"], "dateModified": old["dateModified"]}
            state = copy.deepcopy(old) if partial else dates
        state.setdefault("fields", {})
        state.setdefault("creators", [])
        state.setdefault("tags", [])
        state.setdefault("collections", [])
        state.setdefault("relations", {})
        state.setdefault("deleted", False)
        state["itemType"] = item_type
        if old and old["itemType"] != item_type:
            state["fields"] = self._convert_fields(state["fields"], spec)
        attachment = dict(state.get("attachment") or {}) if item_type == "attachment" else None

        # linkMode first: the other attachment properties are checked against it
        for prop, value in sorted(data.items(), key=lambda pv: pv[0] != "linkMode"):
            if prop in ("key", "version"):
                continue
            if prop == "parentItem":
                if value is not False and (not isinstance(value, str) or not _KEY.match(value)):
                    raise _ObjectError(400, "'parentItem' must be a valid item key or false")
                if value is not False and value == key:
                    raise _ObjectError(
                        400, f"Item {self.library_id}/{value} cannot be a child of itself"
                    )
                state["parentItem"] = value or None
            elif prop == "itemType":
                continue
            elif prop == "tags":
                state["tags"] = self._tags(value)
            elif prop == "collections":
                if not isinstance(value, list):
                    raise _ObjectError(400, "'collections' property must be an array")
                if is_child and value:
                    raise _ObjectError(400, "Child items cannot be assigned to collections")
                for collection in value:
                    if not isinstance(collection, str) or not _KEY.match(collection):
                        raise _ObjectError(400, f"'{collection}' is not a valid collection key")
                state["collections"] = list(dict.fromkeys(value))
            elif prop == "relations":
                state["relations"] = self._relations(value, item=True)
            elif prop == "creators":
                state["creators"] = self._creators(value, spec, is_new)
            elif prop == "note":
                if spec.regular:
                    raise _ObjectError(
                        400, "'note' property is valid only for note and attachment items"
                    )
                state["note"] = "" if value is None else str(value)
            elif prop == "deleted":
                if not isinstance(value, bool) and value not in (0, 1):
                    raise _ObjectError(400, "'deleted' must be a boolean")
                state["deleted"] = bool(value)
            elif prop == "inPublications":
                if value and self.library_type == "group":
                    raise _ObjectError(400, "Group items cannot be added to My Publications")
                state["inPublications"] = bool(value)
            elif prop in ("linkMode", "contentType", "charset", "filename", "md5", "mtime", "path"):
                self._attachment_prop(prop, value, item_type, attachment, old)
            elif prop in ("dateAdded", "dateModified"):
                if not isinstance(value, str) or not _ISO_DATETIME.match(value.strip()):
                    raise _ObjectError(
                        400,
                        f"'{prop}' must be in ISO 8601 or UTC 'YYYY-MM-DD hh:mm:ss' format ({value})",
                    )
                state[prop] = _normalize_datetime(value)
            elif prop.startswith("annotation"):
                raise _ObjectError(400, f"'{prop}' is valid only for annotation items")
            else:
                self._set_field(state["fields"], prop, value, spec)
        if not partial:  # PUT or creation: fields not sent are cleared
            sent = {p for p in data if p in self.all_fields}
            state["fields"] = {f: v for f, v in state["fields"].items() if f in sent}
            if "creators" not in data:
                state["creators"] = []
            if "parentItem" not in data:
                state.pop("parentItem", None)
        if item_type == "attachment":
            if not attachment or "linkMode" not in attachment:
                raise _ObjectError(400, "'linkMode' property not provided")
            state["attachment"] = attachment
        else:
            state.pop("attachment", None)
        if not spec.regular:
            state.setdefault("note", "")
            state["creators"] = []
        else:
            state.pop("note", None)
        if not state.get("parentItem"):
            state.pop("parentItem", None)
        self._check_references(state)
        return state

    def _convert_fields(self, fields: dict[str, str], spec: ItemType) -> dict[str, str]:
        """On an item type change keep valid fields and move base-mapped ones (client setType)."""
        out: dict[str, str] = {}
        for field, value in fields.items():
            if field in spec.fields:
                out[field] = value
            else:
                target = spec.field_for_base(_BASE_FIELD.get(field, field))
                if target and target not in fields:
                    out[target] = value
        return out

    def _set_field(self, fields: dict[str, str], prop: str, value: Any, spec: ItemType) -> None:
        if prop not in self.all_fields:
            raise _ObjectError(400, f"Invalid property '{prop}'")
        if isinstance(value, list | dict):
            raise _ObjectError(400, f"Unexpected array for property '{prop}'")
        text = (
            "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        )
        odd_date = not (_SQL_DATE.match(text) or _ISO_DATETIME.match(text))
        if prop == "accessDate" and text not in ("", "CURRENT_TIMESTAMP") and odd_date:
            raise _ObjectError(
                400,
                f"'accessDate' must be in ISO 8601 or UTC 'YYYY-MM-DD[ hh:mm:ss]' format or 'CURRENT_TIMESTAMP' ({text})",
            )
        if text == "":  # setField treats "" as "unset", valid or not for the type
            fields.pop(prop, None)
            return
        if prop not in spec.fields:
            raise _ObjectError(400, f"'{prop}' is not a valid field for type '{spec.name}'")
        if prop == "accessDate":
            text = _iso(self.now()) if text == "CURRENT_TIMESTAMP" else _normalize_datetime(text)
        fields[prop] = text

    def _creators(self, value: Any, spec: ItemType, is_new: bool) -> list[dict[str, str]]:
        if not isinstance(value, list):
            raise _ObjectError(400, "'creators' property must be an array")
        out: list[dict[str, str]] = []
        for creator in value:
            if not isinstance(creator, dict) or "creatorType" not in creator:
                raise _ObjectError(400, "creator object must contain 'creatorType'")
            names = [str(creator.get(k) or "").strip() for k in ("name", "firstName", "lastName")]
            if not any(names):
                if len(value) == 1 and is_new:
                    continue  # the template's single nameless creator
                raise _ObjectError(
                    400, "creator object must contain 'firstName'/'lastName' or 'name'"
                )
            for prop, val in creator.items():
                if prop == "creatorType":
                    if val not in CREATOR_LABELS:
                        raise _ObjectError(400, f"'{val}' is not a valid creator type")
                    if val not in spec.creator_types and val != "author":
                        raise _ObjectError(
                            400, f"'{val}' is not a valid creator type for item type '{spec.name}'"
                        )
                elif prop == "firstName":
                    if "lastName" not in creator:
                        raise _ObjectError(
                            400, "'lastName' creator field must be set if 'firstName' is set"
                        )
                    if "name" in creator:
                        raise _ObjectError(
                            400, "'firstName' and 'name' creator fields are mutually exclusive"
                        )
                elif prop == "lastName":
                    if "firstName" not in creator:
                        raise _ObjectError(
                            400, "'firstName' creator field must be set if 'lastName' is set"
                        )
                    if "name" in creator:
                        raise _ObjectError(
                            400, "'lastName' and 'name' creator fields are mutually exclusive"
                        )
                elif prop != "name":
                    raise _ObjectError(400, f"Invalid creator property '{prop}'")
            if "name" in creator:
                out.append(
                    {"creatorType": creator["creatorType"], "name": str(creator["name"]).strip()}
                )
            else:
                first, last = (str(creator[k]).strip() for k in ("firstName", "lastName"))
                if not first and not last:
                    break  # updateFromJSON stops at the first empty creator
                out.append(
                    {"creatorType": creator["creatorType"], "firstName": first, "lastName": last}
                )
        return out

    @staticmethod
    def _tags(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise _ObjectError(400, "'tags' property must be an array")
        out: list[dict[str, Any]] = []
        for tag in value:
            if not isinstance(tag, dict):
                raise _ObjectError(400, "Tag must be an object")
            if not tag:
                raise _ObjectError(400, "Tag object is empty")
            for prop, val in tag.items():
                if prop == "tag":
                    if isinstance(val, list | dict) or val is None:
                        raise _ObjectError(400, "Invalid tag name")
                elif prop == "type":
                    if not _is_numeric(val):
                        raise _ObjectError(400, f"Invalid tag type '{val}'")
                else:
                    raise _ObjectError(400, f"Invalid tag property '{prop}'")
            name = str(tag.get("tag", "")).strip()
            if not name:
                continue
            entry: dict[str, Any] = {"tag": name}
            if int(float(tag.get("type", 0))):
                entry["type"] = int(float(tag["type"]))
            if entry not in out:
                out.append(entry)
        return out

    @staticmethod
    def _relations(value: Any, *, item: bool) -> dict[str, Any]:
        if value == []:
            return {}
        if not isinstance(value, dict):
            raise _ObjectError(400, "'relations' property must be an object")
        out: dict[str, Any] = {}
        for predicate, objects in value.items():
            if predicate not in _RELATION_PREDICATES:
                raise _ObjectError(400, f"Unsupported predicate '{predicate}'")
            uris = [objects] if isinstance(objects, str) else list(objects)
            if item and predicate not in _EXTERNAL_PREDICATES:
                for uri in uris:
                    if not isinstance(uri, str) or not _ITEM_URI.match(uri):
                        raise _ObjectError(
                            400, "'relations' values currently must be Zotero item URIs"
                        )
            if uris:
                out[predicate] = uris[0] if len(uris) == 1 else uris
        return out

    @staticmethod
    def _attachment_prop(
        prop: str,
        value: Any,
        item_type: str,
        attachment: dict[str, Any] | None,
        old: dict[str, Any] | None,
    ) -> None:
        if item_type != "attachment" or attachment is None:
            if prop == "linkMode":
                raise _ObjectError(400, f"Invalid property '{prop}'")
            raise _ObjectError(400, f"'{prop}' is valid only for attachment items")
        if prop == "linkMode":
            if value not in _LINK_MODES:
                raise _ObjectError(400, f"'{value}' is not a valid linkMode")
            previous = (old or {}).get("attachment", {}).get("linkMode")
            if previous and previous != value:
                raise _ObjectError(400, "Cannot change attachment linkMode")
            attachment["linkMode"] = value
            return
        mode = attachment.get("linkMode", "")
        if prop in ("filename", "md5", "mtime") and not (
            mode.startswith("imported_") or mode == "embedded_image"
        ):
            raise _ObjectError(
                400, f"'{prop}' is valid only for imported and embedded-image attachments"
            )
        if prop == "path" and mode != "linked_file":
            raise _ObjectError(400, f"'{prop}' is valid only for linked file attachment items")
        if prop == "md5" and value and not re.fullmatch(r"[a-f0-9]{32}", str(value)):
            raise _ObjectError(400, f"'{value}' is not a valid MD5 hash")
        attachment[prop] = value

    def _check_references(self, state: dict[str, Any]) -> None:
        """Missing collections or parents fail the object with 409 (Zotero_Errors)."""
        for collection in state["collections"]:
            if collection not in self._collections:
                raise _ObjectError(
                    409, f"Collection {collection} not found", {"collection": collection}
                )
        parent = state.get("parentItem")
        if parent:
            parent_obj = self._items.get(parent)
            if parent_obj is None:
                raise _ObjectError(409, f"Parent item {parent} not found", {"parentItem": parent})
            if not self.schema[parent_obj.state["itemType"]].regular:
                raise _ObjectError(
                    409, "Parent item cannot be a note or attachment", {"parentItem": parent}
                )

    def _write_collection(
        self,
        data: dict[str, Any],
        *,
        tx: _Tx,
        partial: bool,
        require_version: int,
        user: int,
        url_key: str | None = None,
        must_exist: bool = False,
    ) -> tuple[str, bool]:
        key = self._object_key("collection", data, url_key)
        obj = self._collections.get(key) if key else None
        if must_exist and obj is None:
            raise KeyError(key)
        self._check_object_version("collection", data, obj, tx, require_version)
        partial = partial and obj is not None
        if not partial and "name" not in data:
            raise _ObjectError(400, "'name' property not provided")
        state = (
            copy.deepcopy(obj.state)
            if (obj and partial)
            else {"name": "", "parentCollection": False, "relations": {}}
        )
        for prop, value in data.items():
            if prop in ("key", "version"):
                continue
            if prop == "name":
                if not isinstance(value, str):
                    raise _ObjectError(400, "'name' must be a string")
                if value == "":
                    raise _ObjectError(400, "Collection name cannot be empty")
                if len(value) > 255:
                    raise _ObjectError(400, "Collection name cannot be longer than 255 characters")
                state["name"] = value
            elif prop == "parentCollection":
                if value in (False, None, ""):
                    state["parentCollection"] = False
                    continue
                if not isinstance(value, str) or not _KEY.match(value):
                    raise _ObjectError(400, f"'{value}' is not a valid collection key")
                if value not in self._collections:
                    raise _ObjectError(
                        409, f"Parent collection {value} not found", {"collection": value}
                    )
                if key and (value == key or key in self._ancestors(value)):
                    raise _ObjectError(
                        400, f"Collection {value} cannot be a parent of collection {key}"
                    )
                state["parentCollection"] = value
            elif prop == "relations":
                state["relations"] = self._relations(value, item=False)
            elif prop == "deleted":
                raise _ObjectError(
                    400, "collections in the trash are not served by this loopback server"
                )
            else:
                raise _ObjectError(400, f"Invalid property '{prop}'")
        if obj is not None and state == obj.state:
            return obj.key, False
        version = tx.bump()
        if obj is None:
            key = key or self._new_key(self._collections)
            self._collections[key] = _Object(key, version, state, user, user, self._next_seq())
            self.deleted_log["collections"].pop(key, None)
            return key, True
        obj.state, obj.version, obj.modified_by = state, version, user
        return obj.key, True

    def _ancestors(self, key: str) -> list[str]:
        out: list[str] = []
        while key in self._collections and self._collections[key].state["parentCollection"]:
            key = self._collections[key].state["parentCollection"]
            if key in out:
                break
            out.append(key)
        return out

    def _delete_item(self, key: str, tx: _Tx) -> bool:
        if key not in self._items:
            return False
        for child in [k for k, o in self._items.items() if o.state.get("parentItem") == key]:
            self._delete_item(child, tx)
        del self._items[key]
        self.deleted_log["items"][key] = tx.bump()
        return True

    def _delete_collection(self, key: str, tx: _Tx) -> bool:
        """Delete a collection and its subcollections; member items only lose the membership
        (the real server's cascade does not change their versions)."""
        if key not in self._collections:
            return False
        for child in [
            k for k, o in self._collections.items() if o.state["parentCollection"] == key
        ]:
            self._delete_collection(child, tx)
        del self._collections[key]
        self.deleted_log["collections"][key] = tx.bump()
        for item in self._items.values():
            if key in item.state["collections"]:
                item.state["collections"].remove(key)
        return True


def _json_response(
    value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        status, _json_bytes(value), {"content-type": "application/json", **(headers or {})}
    )


# -- one request against the library ---------------------------------------------------------


_ITEM_SORTS = frozenset(
    _words(
        "title creator itemType date publisher publicationTitle journalAbbreviation language"
        " accessDate libraryCatalog callNumber rights extra dateAdded dateModified addedBy"
        " serverDateModified itemKeyList"
    )
)
_COLLECTION_SORTS = frozenset(
    _words("title dateAdded dateModified serverDateModified collectionKeyList")
)


class _Context:
    """Routing and answers for one request under the library prefix."""

    def __init__(
        self, server: ZoteroServer, request: RecordedRequest, api_key: str, token: str | None
    ):
        self.server = server
        self.request = request
        self.method = request.method
        self.api_key = api_key
        self.token = token

    # -- items ------------------------------------------------------------------------------

    def items(self, parts: list[str]) -> Response:
        server = self.server
        if not parts:
            if self.method == "POST":
                return self._post("item")
            if self.method == "DELETE":
                return self._delete_many("item")
            ZoteroServer._allow(self.method, ("GET", "HEAD", "POST", "DELETE"))
            query = self._query("items", single=False)
            return self._list_items(query, self._visible(server._items.values(), query))
        if parts == ["top"] or parts == ["trash"]:
            ZoteroServer._allow(self.method, ("GET", "HEAD"))
            query = self._query("items", single=False)
            if parts == ["trash"]:
                objs = [o for o in server._items.values() if o.state.get("deleted")]
            else:
                objs = self._visible(
                    (o for o in server._items.values() if not o.state.get("parentItem")), query
                )
            return self._list_items(query, objs)
        key = parts[0]
        if len(parts) == 2 and parts[1] == "children":
            ZoteroServer._allow(self.method, ("GET", "HEAD"))
            query = self._query("items", single=False)
            if key not in server._items:
                raise _HttpError(404, "Item not found")
            children = (o for o in server._items.values() if o.state.get("parentItem") == key)
            return self._list_items(query, self._visible(children, query))
        if len(parts) != 1:
            raise _HttpError(404, "Not found")
        ZoteroServer._allow(self.method, ("GET", "HEAD", "PUT", "PATCH", "DELETE"))
        if not _KEY.match(key):
            raise _HttpError(404, "Not found")
        if self.method in _WRITE_METHODS:
            return self._write_single("item", key)
        self._query("items", single=True)
        obj = server._items.get(key)
        if obj is None:
            raise _HttpError(404, "Item does not exist")
        return _json_response(
            server._item_json(obj), headers={"last-modified-version": str(obj.version)}
        )

    @staticmethod
    def _visible(objs: Iterable[_Object], query: _Query) -> list[_Object]:
        """Items in the trash only with includeTrashed (a child of a trashed parent stays)."""
        return [o for o in objs if query.include_trashed or not o.state.get("deleted")]

    def _list_items(self, query: _Query, objs: list[_Object]) -> Response:
        objs = [o for o in objs if self._item_matches(o, query)]
        return self._list(query, objs, self.server._item_json)

    def _item_matches(self, obj: _Object, query: _Query) -> bool:
        state = obj.state
        if query.since is not None and obj.version <= query.since:
            return False
        if query.keys is not None and obj.key not in query.keys:
            return False
        for spec in query.item_type:
            negate = spec.startswith("-")
            wanted = {t.strip() for t in spec.lstrip("-").split(" || ")}
            if (state["itemType"] in wanted) == negate:
                return False
        names = {t["tag"] for t in state["tags"]}
        for spec in query.tags:
            negate = spec.startswith("-")
            spec = spec[1:] if negate else spec.removeprefix("\\")
            if bool(names & {t.strip() for t in spec.split(" || ")}) == negate:
                return False
        if query.q:
            spec_type = self.server.schema[state["itemType"]]
            title_field = spec_type.field_for_base("title") or "title"
            haystack = [
                state["fields"].get(title_field, ""),
                re.sub(r"<[^>]+>", " ", state.get("note") or ""),
            ]
            haystack += [
                " ".join(filter(None, (c.get("firstName"), c.get("lastName"), c.get("name"))))
                for c in state["creators"]
            ]
            if query.qmode == "everything":
                haystack += list(state["fields"].values())
            date_field = spec_type.field_for_base("date")
            year = (
                (parsed_date(state["fields"].get(date_field, "")) or "")[:4] if date_field else ""
            )
            for word in re.findall(r'"([^"]+)"|(\S+)', query.q):
                part = (word[0] or word[1]).lower()
                if part != year and not any(part in h.lower() for h in haystack):
                    return False
        return True

    # -- collections ------------------------------------------------------------------------

    def collections(self, parts: list[str]) -> Response:
        server = self.server
        if not parts:
            if self.method == "POST":
                return self._post("collection")
            if self.method == "DELETE":
                return self._delete_many("collection")
            ZoteroServer._allow(self.method, ("GET", "HEAD", "POST", "DELETE"))
            query = self._query("collections", single=False)
            return self._list_collections(query, list(server._collections.values()))
        if parts == ["top"]:
            ZoteroServer._allow(self.method, ("GET", "HEAD"))
            query = self._query("collections", single=False)
            top = [o for o in server._collections.values() if not o.state["parentCollection"]]
            return self._list_collections(query, top)
        key = parts[0]
        if len(parts) > 1:
            ZoteroServer._allow(self.method, ("GET", "HEAD"))
            if key not in server._collections:
                raise _HttpError(404, "Collection not found")
            if parts[1:] == ["collections"]:
                query = self._query("collections", single=False)
                subs = [
                    o for o in server._collections.values() if o.state["parentCollection"] == key
                ]
                return self._list_collections(query, subs)
            if parts[1:] in (["items"], ["items", "top"]):
                query = self._query("items", single=False)
                members = [o for o in server._items.values() if key in o.state["collections"]]
                if parts[1:] == ["items"]:
                    keys = {o.key for o in members}
                    members += [
                        o for o in server._items.values() if o.state.get("parentItem") in keys
                    ]
                return self._list_items(query, self._visible(members, query))
            raise _HttpError(404, "Not found")
        ZoteroServer._allow(self.method, ("GET", "HEAD", "PUT", "PATCH", "DELETE"))
        if not _KEY.match(key):
            raise _HttpError(404, "Not found")
        if self.method in _WRITE_METHODS:
            return self._write_single("collection", key)
        self._query("collections", single=True)
        obj = server._collections.get(key)
        if obj is None:
            raise _HttpError(404, "Collection not found")
        return _json_response(
            server._collection_json(obj), headers={"last-modified-version": str(obj.version)}
        )

    def _list_collections(self, query: _Query, objs: list[_Object]) -> Response:
        objs = [
            o
            for o in objs
            if (query.since is None or o.version > query.since)
            and (query.keys is None or o.key in query.keys)
        ]
        return self._list(query, objs, self.server._collection_json)

    # -- reading ------------------------------------------------------------------------------

    def deleted(self) -> Response:
        since = self.request.param("since")
        if since is None or since == "":
            raise _HttpError(400, "'since' parameter must be provided")
        if not _is_numeric(since):
            raise _HttpError(400, "Invalid value for 'since' parameter")
        log = self.server.deleted_log
        body = {
            "collections": [k for k, v in log["collections"].items() if v > int(float(since))],
            "items": [k for k, v in log["items"].items() if v > int(float(since))],
            "searches": [],
            "tags": [],
            "settings": [],
        }
        return _json_response(
            body, headers={"last-modified-version": str(self.server.library_version)}
        )

    def _query(self, action: str, *, single: bool) -> _Query:
        """Zotero_API::parseQueryParams for the parameters this fake serves."""
        request = self.request
        param = request.param
        fmt = param("format") or "json"
        if fmt in _UNSERVED_FORMATS or param("content") is not None:
            raise _HttpError(
                400, f"format={fmt} is not served by this loopback server (json, keys, versions)"
            )
        if fmt not in ("json", "keys", "versions") or (single and fmt != "json"):
            raise _HttpError(400, f"Invalid 'format' value '{fmt}'")
        include = param("include")
        if include not in (None, "data"):
            raise _HttpError(400, f"include={include} is not served by this loopback server")
        nd: dict[str, str] = {}
        if fmt != "json":
            nd["format"] = fmt
        default_limit = DEFAULT_LIMIT if fmt == "json" else 0
        limit = default_limit
        raw_limit = param("limit")
        if raw_limit is not None:
            value = _php_int(raw_limit)
            if fmt == "json" and value > MAX_LIMIT:
                limit = MAX_LIMIT
            elif value > 0:
                limit = value
        start = max(0, _php_int(param("start") or "0"))
        since_raw = param("since", param("newer"))
        since = None
        if since_raw is not None and since_raw != "":
            if not _is_numeric(since_raw):
                raise _HttpError(400, "Invalid value for 'since' parameter")
            since = int(float(since_raw))
            nd["since"] = str(since)
        key_param = "itemKey" if action == "items" else "collectionKey"
        keys = self._keys(key_param)
        if keys is not None:
            nd[key_param] = ",".join(keys)
            limit = 100  # Zotero_API forces the page size when explicit keys are given
        if limit != default_limit:
            nd["limit"] = str(limit)
        if start:
            nd["start"] = str(start)
        include_trashed = (param("includeTrashed") or "0") not in ("", "0", "false")
        if include_trashed:
            nd["includeTrashed"] = "1"
        sort = param("sort") or param("order") or "dateModified"
        direction = param("direction")
        if sort in ("asc", "desc"):
            direction, sort = sort, "dateModified"
        allowed = _ITEM_SORTS if action == "items" else _COLLECTION_SORTS
        if sort not in allowed:
            raise _HttpError(400, f"Invalid 'sort' value '{sort}'")
        if sort.endswith("KeyList") and keys is None:
            raise _HttpError(400, f"order={sort} requires the {key_param} parameter")
        default_direction = "desc" if sort.startswith("date") else "asc"
        direction = direction or default_direction
        if direction not in ("asc", "desc"):
            raise _HttpError(400, f"Invalid 'direction' value '{direction}'")
        if sort != "dateModified":
            nd["sort"] = sort
        if direction != default_direction:
            nd["direction"] = direction
        item_types = request.query.get("itemType", []) if action == "items" else []
        if len(item_types) > 1:
            raise _HttpError(400, "Cannot specify 'itemType' more than once")
        for spec in item_types:
            for name in spec.lstrip("-").split(" || "):
                if name.strip() not in self.server.schema:
                    raise _HttpError(400, f"Invalid itemType '{name.strip()}'")
            nd["itemType"] = spec
        q = param("q") or ""
        qmode = (param("qmode") or "titleCreatorYear").lower()
        if qmode not in ("titlecreatoryear", "everything"):
            raise _HttpError(400, f"Invalid 'qmode' value '{param('qmode')}'")
        if q:
            nd["q"] = q
            if qmode != "titlecreatoryear":
                nd["qmode"] = qmode
        tags = [t for t in request.query.get("tag", []) if t.strip()] if action == "items" else []
        if tags:
            nd["tag"] = ",".join(tags)
        locale = param("locale")
        if locale and locale != "en-US":
            nd["locale"] = locale
        self._check_if_modified_since_version(single)
        return _Query(
            fmt,
            limit,
            start,
            since,
            keys,
            include_trashed,
            sort,
            direction,
            item_types,
            q,
            qmode,
            tags,
            nd,
        )

    def _keys(self, name: str) -> list[str] | None:
        """itemKey=/collectionKey=: valid keys, at most the documented 50 (None if absent)."""
        raw = self.request.param(name)
        if raw is None or raw == "":
            return None
        keys = raw.strip(",").split(",")
        if any(not _KEY.match(k) for k in keys):
            raise _HttpError(400, f"Invalid '{name}' value '{raw}'")
        if len(keys) > MAX_OBJECT_KEYS:
            raise _HttpError(
                400,
                f"{len(keys)} {name} values: the API takes at most {MAX_OBJECT_KEYS} in one request",
            )
        return keys

    def _check_if_modified_since_version(self, single: bool) -> None:
        header = self.request.headers.get("if-modified-since-version")
        fresh = header is not None and _is_numeric(header)
        if not single and fresh and self.server.library_version <= int(float(header or 0)):
            raise _HttpError(304, "")

    def _list(
        self, query: _Query, objs: list[_Object], render: Callable[[_Object], dict[str, Any]]
    ) -> Response:
        server = self.server
        objs = sorted(
            objs, key=lambda o: self._sort_key(o, query), reverse=query.direction == "desc"
        )
        total = len(objs)
        page = objs[query.start : query.start + query.limit] if query.limit else objs[query.start :]
        headers = {
            "total-results": str(total),
            "last-modified-version": str(server.library_version),
            "link": self._link_header(query, total),
        }
        if query.format == "keys":
            body = ("\n".join(o.key for o in page) + "\n").encode("utf-8")
            return Response(200, body, {"content-type": "text/plain", **headers})
        if query.format == "versions":
            return _json_response({o.key: o.version for o in page}, headers=headers)
        return _json_response([render(o) for o in page], headers=headers)

    def _sort_key(self, obj: _Object, query: _Query) -> tuple[Any, ...]:
        server = self.server
        state = obj.state
        sort = query.sort
        if sort in ("itemKeyList", "collectionKeyList"):
            value: Any = (query.keys or []).index(obj.key)
        elif sort == "dateModified":
            value = state.get("dateModified", "")
        elif sort == "dateAdded":
            value = state.get("dateAdded", "")
        elif sort == "serverDateModified":
            value = obj.version
        elif "name" in state:  # a collection sorted by title
            value = state["name"].lower()
        elif sort == "title":
            spec = server.schema[state["itemType"]]
            value = (
                state["fields"].get(spec.field_for_base("title") or "title")
                or state.get("note")
                or ""
            ).lower()
        elif sort == "creator":
            spec = server.schema[state["itemType"]]
            value = (
                _creator_summary(state["creators"], (spec.creator_types or (None,))[0]) or ""
            ).lower()
        elif sort == "itemType":
            value = TYPE_LABELS[state["itemType"]]
        elif sort == "date":
            spec = server.schema[state["itemType"]]
            value = (
                parsed_date(state["fields"].get(spec.field_for_base("date") or "date", "")) or ""
            )
        elif sort == "addedBy":
            value = server.users[obj.created_by][0]
        else:
            value = state["fields"].get(sort, "").lower()
        return (value, obj.seq)

    def _link_header(self, query: _Query, total: int) -> str:
        """Zotero_API::buildLinks/buildLinkHeader: first/prev/next/last with full URLs."""
        server = self.server
        base = server.base_url + self.request.path.rstrip("/")

        def url(params: dict[str, str]) -> str:
            return base + ("?" + urlencode(sorted(params.items())) if params else "")

        nd = query.non_default
        limit, start = query.limit, query.start
        links = {"self": url(nd), "first": url({k: v for k, v in nd.items() if k != "start"})}
        parts = []
        if links["first"] != links["self"]:
            parts.append(f'<{links["first"]}>; rel="first"')
        if start:
            previous = {k: v for k, v in nd.items() if k != "start"}
            if start - limit > 0:
                previous["start"] = str(start - limit)
            parts.append(f'<{url(previous)}>; rel="prev"')
        if not (not start and limit >= total) and limit != 0:
            if start >= total:
                last_start = total - limit
            else:
                last_start = total - (total % limit)
                if last_start == total:
                    last_start = total - limit
            last = {k: v for k, v in nd.items() if k != "start"}
            if last_start > 0:
                last["start"] = str(last_start)
            if start + limit < total:
                parts.append(f'<{url({**nd, "start": str(start + limit)})}>; rel="next"')
            if url(last) != links["self"]:
                parts.append(f'<{url(last)}>; rel="last"')
        www = server._library()["links"]["alternate"]["href"]
        rest = self.request.path.rstrip("/")[len(server.prefix) :]
        parts.append(f'<{www}{rest}>; rel="alternate"')
        return ", ".join(parts)

    # -- writing ------------------------------------------------------------------------------

    def _library_precondition(self) -> bool:
        """checkLibraryIfUnmodifiedSinceVersion: 412 if stale; True if the header was checked."""
        header = self.request.headers.get("if-unmodified-since-version")
        if header is None:
            return False
        if not _is_numeric(header):
            raise _HttpError(400, "Invalid If-Unmodified-Since-Version value")
        if self.server.library_version > int(float(header)):
            raise _HttpError(
                412,
                f"Library has been modified since specified version (expected {header}, found {self.server.library_version})",
            )
        return True

    def _body(self) -> Any:
        try:
            return json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise _HttpError(400, "JSON Error: Syntax error, malformed JSON") from None

    def _post(self, kind: str) -> Response:
        """POST /items or /collections: up to 50 objects, a per-object report (Zotero_Results)."""
        server = self.server
        checked = self._library_precondition()
        body = self._body()
        if not isinstance(body, list):
            raise _HttpError(400, "Uploaded data must be a JSON array")
        if len(body) > MAX_WRITE_OBJECTS:
            raise _HttpError(413, f"Cannot add more than {MAX_WRITE_OBJECTS} {kind}s at a time")
        tx = _Tx(server)
        write = server._write_item if kind == "item" else server._write_collection
        render = server._item_json if kind == "item" else server._collection_json
        store = server._items if kind == "item" else server._collections
        report: dict[str, dict[str, Any]] = {
            "successful": {},
            "success": {},
            "unchanged": {},
            "failed": {},
        }
        for index, entry in enumerate(body):
            slot = str(index)
            data = entry.get("data", entry) if isinstance(entry, dict) else entry
            try:
                if not isinstance(data, dict):
                    raise _ObjectError(
                        400,
                        f"Invalid value for index {index} in uploaded data; expected JSON {kind} object",
                    )
                key, changed = write(
                    data,
                    tx=tx,
                    partial=True,
                    require_version=0 if checked else 1,
                    user=server.user_id,
                )
            except _ObjectError as error:
                failure: dict[str, Any] = {}
                if isinstance(data, dict) and isinstance(data.get("key"), str) and data["key"]:
                    failure["key"] = data["key"]
                failure |= {"code": error.code, "message": _htmlspecialchars(error.message)}
                if error.data:
                    failure["data"] = error.data
                report["failed"][slot] = failure
                continue
            if changed:
                report["successful"][slot] = render(store[key])
                report["success"][slot] = key
            else:
                report["unchanged"][slot] = key
        server._commit(tx)
        server._store_write_token(self.api_key, self.token)
        return _json_response(
            report, headers={"last-modified-version": str(server.library_version)}
        )

    def _write_single(self, kind: str, key: str) -> Response:
        """PUT/PATCH/DELETE /items/{key} (checkSingleObjectWriteVersion, handleObjectWrite)."""
        server = self.server
        store = server._items if kind == "item" else server._collections
        obj = store.get(key)
        label = kind.capitalize()
        header = self.request.headers.get("if-unmodified-since-version")
        body: Any = None
        if self.method != "DELETE":
            body = self._body()
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                body = body["data"]
            if not isinstance(body, dict):
                raise _HttpError(400, f"Invalid {kind} object (found {type(body).__name__})")
        if self.method == "DELETE" and header is None:
            raise _HttpError(
                428, "If-Unmodified-Since-Version must be provided for delete requests"
            )
        if header is not None and not _is_numeric(header):
            raise _HttpError(400, f"Invalid If-Unmodified-Since-Version value '{header}'")
        prop = body.get("version") if isinstance(body, dict) else None
        if prop is not None and not _is_numeric(prop):
            raise _HttpError(400, f"Invalid JSON 'version' property value '{prop}'")
        header_version = int(float(header)) if header is not None else None
        prop_version = int(float(prop)) if prop is not None else None
        if (
            header_version is not None
            and prop_version is not None
            and header_version != prop_version
        ):
            raise _HttpError(
                400,
                f"If-Unmodified-Since-Version value does not match JSON 'version' property ({header_version} != {prop_version})",
            )
        version = header_version if header_version is not None else prop_version
        if obj is None:
            if self.method == "PATCH" and version is None:
                raise _HttpError(
                    404,
                    f"{label} not found (to create, use If-Unmodified-Since-Version: 0, JSON 'version' 0, or PUT method)",
                )
            if version:
                raise _HttpError(404, f"{label} not found (expected version {version})")
        elif version is None:
            raise _HttpError(
                428,
                "Either If-Unmodified-Since-Version or object version property must be provided for key-based writes",
            )
        elif obj.version != version:
            raise _HttpError(
                412,
                f"{label} has been modified since specified version (expected {version}, found {obj.version})",
                {"last-modified-version": str(obj.version)},
            )
        tx = _Tx(server)
        if self.method == "DELETE":
            (server._delete_item if kind == "item" else server._delete_collection)(key, tx)
        else:
            write = server._write_item if kind == "item" else server._write_collection
            data = {k: v for k, v in body.items() if k != "version"}
            try:
                write(
                    data,
                    tx=tx,
                    partial=self.method == "PATCH",
                    require_version=0,
                    user=server.user_id,
                    url_key=key,
                )
            except _ObjectError as error:
                raise _HttpError(error.code, error.message) from None
            server._store_write_token(self.api_key, self.token)
        server._commit(tx)
        return Response(204, b"", {"last-modified-version": str(server.library_version)})

    def _delete_many(self, kind: str) -> Response:
        """DELETE /items?itemKey=A,B (collectionKey for collections); library precondition."""
        server = self.server
        self._library_precondition()
        keys = self._keys("itemKey" if kind == "item" else "collectionKey") or []
        tx = _Tx(server)
        delete = server._delete_item if kind == "item" else server._delete_collection
        for key in keys:
            delete(key, tx)
        server._commit(tx)
        return Response(204, b"", {"last-modified-version": str(server.library_version)})


def _php_int(text: str) -> int:
    """PHP's (int) cast of a query parameter: leading digits, else 0."""
    match = re.match(r"\s*(-?\d+)", text)
    return int(match.group(1)) if match else 0


__all__ = [
    "KEY_ALPHABET",
    "OTHER_USER",
    "SCHEMA_VERSION",
    "ItemType",
    "ZoteroServer",
    "build_schema",
    "parsed_date",
]
