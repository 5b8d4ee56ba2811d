"""A crawler for the test client: from the home page, follow every GET link an account is offered, a few levels
deep, and collect every page that crashes, shows a traceback, offers a dead link or loads anything from outside
the site."""
from __future__ import annotations

import re
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

# links that change state or end the session: never followed (POST-only actions are forms, not links, but some
# are drawn as links that a script turns into a POST)
STATE_CHANGING = re.compile(r"^/(logout|lang)/|^/lang/|/delete/|/transition/|/action/|/action_post|/reset\b"
                            r"|/toggle\b|/inbox/read")
# a row page reached from a list: the first few rows of each list are enough to prove the page works
# a row's own page: of a list's rows, the first few are visited (a register's show and edit, a log's entry)
ROW_PAGE = re.compile(r"^/(?:r/(?P<register>\w+)/(?P<kind>show|edit)|audit/(?P<log>changes))/[^/?]+$")
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File (\"|&#34;|&quot;)[^\"&]+(\"|&#34;|&quot;), line \d+")
# the elements whose URL the browser loads by itself (an <a> is only followed when clicked)
LOADED = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "embed": "src",
          "object": "data", "audio": "src", "video": "src", "track": "src", "form": "action", "input": "src"}
SITE = "localhost"


class _Page(HTMLParser):
    """The links and the loaded resources of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.loaded: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        attribute = LOADED.get(tag)
        if attribute and values.get(attribute):
            if tag == "link" and not {"stylesheet", "icon", "preload", "modulepreload", "manifest",
                                      "shortcut"} & set(values.get("rel", "").lower().split()):
                return
            self.loaded.append((tag, values[attribute]))
        for name in ("srcset", "poster", "background"):
            if values.get(name):
                self.loaded.append((tag, values[name]))


def is_foreign(url: str) -> bool:
    """A URL the browser would fetch from another host or protocol (a CDN, a font service, a tracker)."""
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    if parts.scheme in ("", "data", "blob", "javascript", "mailto", "tel"):
        return False
    return parts.scheme not in ("http", "https") or (parts.hostname or "") != SITE


def local_path(base: str, href: str) -> str | None:
    """The site path (with its query, without fragment) an <a href> leads to, or None for another site."""
    href = href.strip()
    if not href or href.startswith(("#", "//")):
        return None
    scheme = urlsplit(href).scheme
    if scheme and (scheme not in ("http", "https") or urlsplit(href).hostname != SITE):
        return None
    parts = urlsplit(urljoin("http://" + SITE + base, href))
    if parts.hostname != SITE:
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))


@dataclass
class Failure:
    account: str
    url: str
    via: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.account}] {self.url} (linked from {self.via}): {self.problem}"


@dataclass
class CrawlResult:
    account: str
    visited: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def crawl(client: Any, account: str, start: str = "/", depth: int = 2, rows_per_list: int = 3,
          variants_per_page: int = 3) -> CrawlResult:
    """Visit `start`, then every link of it, then theirs, up to `depth` clicks away; GET only, each URL once.
    Of a list's rows, the first `rows_per_list` show and edit pages are visited; of the links to one page with
    different queries (sort, page, filter), the first `variants_per_page`."""
    result = CrawlResult(account)
    frontier = [(start, "(start)")]
    queued = {start}
    variants: dict[str, int] = defaultdict(int)
    for level in range(depth + 1):
        following = []
        for url, via in frontier:
            links = _visit(client, account, url, via, result)
            if level == depth:
                continue
            taken: dict[tuple[str, str], set[str]] = defaultdict(set)
            for link in links:
                path = urlsplit(link).path
                if link in queued or STATE_CHANGING.search(path):
                    continue
                if link != path:
                    if variants[path] >= variants_per_page:
                        continue
                    variants[path] += 1
                row = ROW_PAGE.match(link)
                if row:
                    seen = taken[(row["register"] or row["log"], row["kind"] or "entry")]
                    if len(seen) >= rows_per_list:
                        continue
                    seen.add(link)
                queued.add(link)
                following.append((link, url))
        frontier = following
    return result


def _visit(client: Any, account: str, url: str, via: str, result: CrawlResult) -> list[str]:
    def fail(problem: str) -> None:
        result.failures.append(Failure(account, url, via, problem))

    try:
        response = client.get(url, follow_redirects=True)
    except Exception as exc:  # TESTING propagates exceptions: a user would have had a 500
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        fail(f"500: {type(exc).__name__}: {exc} ({frame.filename.split('/app/')[-1]}:{frame.lineno})")
        return []
    status = response.status_code
    result.visited[url] = status
    final = response.request.path
    if status >= 500:
        fail(f"{status}")
    elif status in (403, 404, 405):
        fail(f"{status} for a link the account is offered")
    if not response.mimetype or not response.mimetype.startswith("text/html"):
        return []
    html = response.get_data(as_text=True)
    if TRACEBACK.search(html):
        fail("traceback text in the page")
    if 'for="csrf_token"' in html:
        fail("a form shows its hidden csrf_token as a field (“CSRF Token”)")
    title = TITLE.search(html)
    if final not in ("/", "/login/") and title and " - " not in title.group(1):
        fail(f"the tab's title names no page, only “{title.group(1).strip()}” (page_crumb or PAGE_CRUMBS)")
    page = _Page()
    page.feed(html)
    for tag, src in page.loaded:
        for candidate in src.split(","):
            candidate = candidate.strip().split(" ")[0]
            if candidate and is_foreign(candidate):
                fail(f"<{tag}> loads {candidate} from outside the site")
    base = final + ("?" + response.request.query_string.decode() if response.request.query_string else "")
    return [path for href in page.links if (path := local_path(base, href)) is not None]
