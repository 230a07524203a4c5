"""HTML forms and links as a browser would submit and follow them, for the HTTP engine.

The HTTP engine has no DOM: to press a button it works out, from the HTML alone, the request
a browser would send. It follows the HTML standard's "constructing the entry list": the form's
successful controls in tree order (named inputs including hidden ones, checked checkboxes and
radios, selected options, textareas), plus the pressed button's own name and value, sent to
the button's ``formaction`` or the form's ``action`` resolved against the page.

Missing elements raise ``ProbeError(reason="unrecognized")``: on a monitored site a form that
lost its button or field means the layout changed. An invalid CSS selector is our own bug
(``MonitorFault(reason="internal")``). Addresses are the page's: a ``<base href>`` that is no
address is ignored and a link to one does nothing, as in a browser; a form whose action is no
address is ``ProbeError(reason="blocked")``, detail ``destination_refused``, naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.domain import Detail, Reason
from monitor.errors import MonitorFault, ProbeError
from monitor.probes.destinations import malformed

#: Input types that are buttons: never submitted unless they are the one pressed.
_BUTTON_TYPES = frozenset({"submit", "image", "reset", "button"})
_SUBMITTER_TYPES = frozenset({"submit", "image"})


@dataclass(frozen=True)
class FormSubmission:
    """The request a browser would send for one form submission."""

    method: Literal["GET", "POST"]
    url: str  #: absolute; for GET it already carries the entries as its query
    entries: tuple[tuple[str, str], ...]  #: name/value pairs in tree order
    multipart: bool = False  #: POST as multipart/form-data instead of urlencoded

    def urlencoded(self) -> bytes:
        """The entries as an application/x-www-form-urlencoded body."""
        return urlencode(self.entries).encode("ascii")


@dataclass(frozen=True)
class PendingValue:
    """A value set by fill/check/select, applied to the control of that name at submit."""

    name: str
    value: str  #: for a checkbox or radio: its own value, which picks the box among same-named


@dataclass(frozen=True)
class Link:
    """Clicking follows this URL."""

    url: str


@dataclass(frozen=True)
class SubmitButton:
    """Clicking submits this button's form."""

    node: LexborNode


@dataclass(frozen=True)
class Inert:
    """Clicking does nothing without JavaScript (a JS-only button, ``href="#"``...)."""

    why: str


ClickTarget = Link | SubmitButton | Inert


@dataclass
class _Control:
    """One form control while the entry list is being built."""

    node: LexborNode
    name: str
    kind: str  #: input type, or "select", "select-multiple", "textarea"
    own_value: str  #: a checkbox's, radio's or button's value attribute
    values: list[str]
    included: bool
    options: list[tuple[str, str]] = field(default_factory=list)  #: select: (value, label)


def _text(node: LexborNode) -> str:
    return " ".join(node.text(deep=True).split())


def _attr(node: LexborNode, name: str) -> str | None:
    """An attribute's value; "" for a bare boolean attribute, None when absent."""
    attributes = node.attributes
    if name not in attributes:
        return None
    return attributes[name] or ""


def _input_type(node: LexborNode) -> str:
    if node.tag == "button":
        kind = (_attr(node, "type") or "submit").lower()
        return kind if kind in _BUTTON_TYPES else "submit"
    return (_attr(node, "type") or "text").lower()


def _is_submitter(node: LexborNode) -> bool:
    return node.tag in {"button", "input"} and _input_type(node) in _SUBMITTER_TYPES


#: Where :class:`ParsedPage` takes its tree from, when set: the probe's parsed documents
#: (``monitor.platforms.page.parsing_scope`` sets it), so that a page the flow has read is
#: not parsed a second time, and a page nested too deep to parse is not parsed here either
#: (its tree is empty: a form looked for in it is not found). Read-only use: the tree is
#: shared with recognition.
TREES: ContextVar[Callable[[str], LexborHTMLParser] | None] = ContextVar("form_trees", default=None)


def _tree(html: str) -> LexborHTMLParser:
    """The parsed tree of ``html``: the probe's (:data:`TREES`), else a parse of its own."""
    trees = TREES.get()
    return trees(html) if trees is not None else LexborHTMLParser(html)


class ParsedPage:
    """One HTML page, parsed once, answering the HTTP engine's questions about it."""

    def __init__(self, html: str, url: str) -> None:
        self.url = url
        self._tree = _tree(html)
        base = self._tree.css_first("base[href]")
        base_href = _attr(base, "href") if base is not None else None
        # A <base href> that is no address is ignored, as browsers do.
        self.base_url = (_join(url, base_href) if base_href else None) or url

    def first(self, selector: str) -> LexborNode | None:
        """The first element matching ``selector``, or None."""
        try:
            return self._tree.css_first(selector)
        except SelectolaxError as exc:
            raise MonitorFault(
                Reason.INTERNAL, f"invalid CSS selector {selector!r}: {exc}"
            ) from exc

    def require(self, selector: str, what: str = "element") -> LexborNode:
        """The first element matching ``selector``; ProbeError(unrecognized) when none does."""
        node = self.first(selector)
        if node is None:
            raise ProbeError(
                Reason.UNRECOGNIZED,
                Detail("no_element", {"what": what, "selector": selector, "url": self.url}),
            )
        return node

    def pending(self, selector: str, *, checking: bool = False, value: str = "") -> PendingValue:
        """What fill/check/select on ``selector`` will set at the next submit."""
        node = self.require(selector, "field")
        name = _attr(node, "name")
        if not name:
            raise ProbeError(
                Reason.UNRECOGNIZED,
                Detail("field_without_name", {"selector": selector, "url": self.url}),
            )
        if checking:
            value = _attr(node, "value") or "on"
        return PendingValue(name=name, value=value)

    def click_target(self, selector: str) -> ClickTarget:
        """What clicking ``selector`` would do without JavaScript."""
        node: LexborNode | None = self.require(selector)
        while node is not None:
            if node.tag in {"a", "area"} and _attr(node, "href") is not None:
                href = (_attr(node, "href") or "").strip()
                if not href or href.startswith("#") or href.lower().startswith("javascript:"):
                    return Inert(f"link {href!r} only runs JavaScript or scrolls")
                joined = _join(self.base_url, href)
                if joined is None:
                    return Inert(f"link {href!r} is not an address")
                url = urldefrag(joined).url
                if urlsplit(url).scheme not in {"http", "https"}:
                    return Inert(f"link {url!r} is not a web page")
                return Link(url)
            if _is_submitter(node):
                return SubmitButton(node)
            node = node.parent
        return Inert(f"{selector!r} is neither a link nor a submit button")

    def submission(
        self,
        *,
        button: str | LexborNode,
        form: str | None = None,
        fields: Mapping[str, str] | None = None,
        pending: Iterable[PendingValue] = (),
    ) -> FormSubmission:
        """The request pressing ``button`` sends: pending values applied, then ``fields``."""
        submitter = self.require(button, "button") if isinstance(button, str) else button
        form_node = self._form(form, submitter)
        controls = self._controls(form_node)
        for earlier in pending:
            _set(controls, earlier.name, earlier.value, self.url)
        for name, value in (fields or {}).items():
            if not _set(controls, name, value, self.url):
                raise ProbeError(
                    Reason.UNRECOGNIZED, Detail("no_field", {"name": name, "url": self.url})
                )
        entries: list[tuple[str, str]] = []
        for control in controls:
            if _same(control.node, submitter):
                entries.extend(_submitter_entries(control))
            elif control.kind not in _BUTTON_TYPES and control.included and control.name:
                entries.extend((control.name, value) for value in control.values)
        return self._request(form_node, submitter, tuple(entries))

    def _form(self, selector: str | None, submitter: LexborNode) -> LexborNode:
        if selector is not None:
            node = self.require(selector, "form")
            if node.tag == "form":
                return node
            found = _ancestor_form(node) or node.css_first("form")
            if found is None:
                raise ProbeError(
                    Reason.UNRECOGNIZED,
                    Detail("not_in_form", {"selector": selector, "url": self.url}),
                )
            return found
        owner = self._owner(submitter)
        if owner is None:
            raise ProbeError(Reason.UNRECOGNIZED, Detail("button_without_form", {"url": self.url}))
        return owner

    def _owner(self, node: LexborNode) -> LexborNode | None:
        """The form a control belongs to: its ``form`` attribute, else its ancestor form."""
        form_id = _attr(node, "form")
        if form_id:
            return next((f for f in self._tree.css("form") if _attr(f, "id") == form_id), None)
        return _ancestor_form(node)

    def _controls(self, form: LexborNode) -> list[_Control]:
        controls = []
        for node in self._tree.css("input, select, textarea, button"):
            owner = self._owner(node)
            if owner is not None and _same(owner, form):
                controls.append(_control(node))
        return controls

    def _request(
        self, form: LexborNode, submitter: LexborNode, entries: tuple[tuple[str, str], ...]
    ) -> FormSubmission:
        def pick(name: str) -> str | None:
            overriding = _attr(submitter, "form" + name)
            return overriding if overriding is not None else _attr(form, name)

        action = (pick("action") or "").strip()
        # An empty action means the document's own URL, not the <base> URL.
        joined = _join(self.base_url, action) if action else self.url
        if joined is None:
            raise ProbeError(Reason.BLOCKED, malformed(action))
        url = urldefrag(joined).url
        if (pick("method") or "get").strip().lower() == "post":
            multipart = (pick("enctype") or "").strip().lower() == "multipart/form-data"
            return FormSubmission("POST", url, entries, multipart=multipart)
        # GET replaces the action's query with the entries, as browsers do.
        parts = urlsplit(url)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(entries), ""))
        return FormSubmission("GET", url, entries)


def _join(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``; None when it is no address (``http://[::1``)."""
    try:
        joined = urljoin(base, href.strip())
        urlsplit(joined).port  # noqa: B018 - raises on a port that is not one
    except ValueError:
        return None
    return joined


def _same(one: LexborNode, other: LexborNode) -> bool:
    """Whether two nodes are the same element of the tree.

    Not ``==``: selectolax compares nodes by their serialised HTML, which takes two
    identical forms (or buttons) for one, and serialises the whole form once per control
    (quadratic in a form's size).
    """
    return one.mem_id == other.mem_id


def _ancestor_form(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    while parent is not None and parent.tag != "form":
        parent = parent.parent
    return parent


def _disabled(node: LexborNode) -> bool:
    if "disabled" in node.attributes:
        return True
    parent = node.parent
    while parent is not None:
        if parent.tag == "fieldset" and "disabled" in parent.attributes:
            return True
        parent = parent.parent
    return False


def _control(node: LexborNode) -> _Control:
    name = _attr(node, "name") or ""
    if node.tag == "select":
        option_nodes = node.css("option")
        # An option without a value attribute submits its text.
        options = [_option_value(option) for option in option_nodes]
        labels = [_text(option) for option in option_nodes]
        chosen = [
            value
            for value, option in zip(options, option_nodes, strict=True)
            if "selected" in option.attributes
        ]
        multiple = "multiple" in node.attributes
        if not multiple:
            # A drop-down shows one option: the last marked selected, else the first enabled.
            enabled = [
                value
                for value, option in zip(options, option_nodes, strict=True)
                if "disabled" not in option.attributes
            ]
            chosen = chosen[-1:] or enabled[:1]
        return _Control(
            node,
            name,
            "select-multiple" if multiple else "select",
            "",
            chosen,
            included=bool(chosen) and not _disabled(node),
            options=list(zip(options, labels, strict=True)),
        )
    if node.tag == "textarea":
        return _Control(node, name, "textarea", "", [node.text()], not _disabled(node))
    kind = _input_type(node)
    own = _attr(node, "value")
    if kind in {"checkbox", "radio"}:
        checked = "checked" in node.attributes and not _disabled(node)
        return _Control(node, name, kind, own or "on", [own or "on"], checked)
    if kind in _BUTTON_TYPES:
        return _Control(node, name, kind, own or "", [], included=False)
    # A file input with nothing chosen is sent with an empty value.
    value = "" if kind == "file" else own or ""
    return _Control(node, name, kind, "", [value], not _disabled(node))


def _option_value(option: LexborNode) -> str:
    value = _attr(option, "value")
    return _text(option) if value is None else value


def _submitter_entries(control: _Control) -> list[tuple[str, str]]:
    if control.kind == "image":
        prefix = f"{control.name}." if control.name else ""
        return [(prefix + "x", "0"), (prefix + "y", "0")]
    return [(control.name, control.own_value)] if control.name else []


def _set(controls: list[_Control], name: str, value: str, page_url: str) -> bool:
    """Give the control(s) named ``name`` this value; False when the form has none.

    A radio value or select option the page does not offer is ProbeError(unrecognized), as
    in the browser: the desk or choice the flow expects is gone. A disabled control given a
    value is sent anyway: pages enable such fields with JavaScript, which we do not run.
    """
    named = [c for c in controls if c.name == name and c.kind not in _BUTTON_TYPES]
    if not named:
        return False
    boxes = [c for c in named if c.kind in {"checkbox", "radio"}]
    if boxes:
        chosen = next((c for c in boxes if c.own_value == value), None)
        if named[0].kind == "radio":
            if chosen is None:
                raise ProbeError(
                    Reason.UNRECOGNIZED,
                    Detail("no_choice", {"value": value, "name": name, "url": page_url}),
                )
            for radio in boxes:
                radio.included = False
        # For a checkbox any value checks it; the value only picks among same-named boxes.
        (chosen or boxes[0]).included = True
        return True
    target = named[0]
    if target.kind.startswith("select"):
        option = next((v for v, label in target.options if value in {v, label}), None)
        if option is None:
            raise ProbeError(
                Reason.UNRECOGNIZED,
                Detail("no_option", {"value": value, "name": name, "url": page_url}),
            )
        value = option
    target.values = [value]
    target.included = True
    return True
