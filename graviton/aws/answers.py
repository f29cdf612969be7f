"""Only the API's own answer is believed: every client graviton makes looks at each raw answer
before botocore parses it.

botocore's XML parsers (EC2, Auto Scaling, STS...) read any well-formed page with status 200 (a
proxy's HTML sign-in page, an empty body, another API's XML) as an answer with empty lists, so
"no auto scaling groups" or "no alarms" could come from a captive portal: fail open. An answer
counts only when it is the protocol's own document: for the query and EC2 protocols an XML
document whose root is ``<OperationNameResponse>`` (``<ErrorResponse>`` / EC2's ``<Response>``
for errors), for the JSON protocols a JSON object, for CBOR a CBOR map. Anything else raises
:class:`NotTheApi`, one line that names the operation, the status and what came back (an HTML
page, an empty answer, XML that does not parse, a ``<X>`` document), never the body itself (a
sign-in or error page would become the user's line).

A 5xx that is not the API (a load balancer's 502 page) is still retried like any 5xx: its body
is dropped so botocore reads it as a generic server error, and :class:`NotTheApi` is raised
only if it is still the answer after the retries.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree

import botocore.exceptions

from graviton.errors import one_line

_ID = "graviton-not-the-api"
_DEFERRED = "GravitonNotTheApi"  # key of a retried 5xx's description in the parsed response
_ERROR_ROOTS = frozenset({"ErrorResponse", "Response", "Error"})  # query, EC2, rest-xml


class NotTheApi(botocore.exceptions.BotoCoreError):
    """An answer that is not the API's own document (a ``BotoCoreError``: every caller that
    fails closed on botocore's errors fails closed on it too)."""

    fmt = "{operation} answered something that is not the {api} API ({what})"


def believe_only_the_api(client: Any) -> Any:
    """Make ``client`` raise :class:`NotTheApi` for an answer that is not its API's."""
    client.meta.events.register("before-parse", _check_answer, unique_id=f"{_ID}-parse")
    client.meta.events.register("after-call", _raise_deferred, unique_id=f"{_ID}-call")
    return client


def _check_answer(
    operation_model: Any,
    response_dict: dict[str, Any],
    customized_response_dict: dict[str, Any],
    **_: Any,
) -> None:
    what = not_the_api(operation_model, response_dict)
    if what is None:
        return
    if int(response_dict.get("status_code") or 0) >= 500:
        # retried like any server error; raised after the retries if it is still the answer
        response_dict["body"] = b""
        customized_response_dict[_DEFERRED] = what
        return
    raise _error(operation_model, what)


def _raise_deferred(model: Any, parsed: Any, **_: Any) -> None:
    if isinstance(parsed, dict) and _DEFERRED in parsed:
        raise _error(model, str(parsed[_DEFERRED]))


def _error(operation_model: Any, what: str) -> NotTheApi:
    api = operation_model.service_model.service_id
    return NotTheApi(operation=operation_model.name, api=api, what=what)


def not_the_api(operation_model: Any, response: dict[str, Any]) -> str | None:
    """None when ``response`` is the API's own document, else what it is ("HTTP 200, an HTML
    page"), from its status, type and first element: never its body."""
    if operation_model.has_streaming_output or operation_model.has_event_stream_output:
        return None
    protocol = operation_model.service_model.resolved_protocol
    status = int(response.get("status_code") or 0)
    body = _body(response)
    empty_is_fine = status < 300 and (protocol.startswith("rest-") or _no_output(operation_model))
    if not body.strip() and empty_is_fine:
        return None
    if protocol in ("query", "ec2", "rest-xml"):
        root, parsed = _xml_root(body)
        if status >= 300:
            expected = root in _ERROR_ROOTS
        elif protocol == "rest-xml":  # its root is the output's payload: any XML but HTML
            expected = root is not None and root.lower() != "html"
        else:
            expected = root == f"{operation_model.name}Response"
        if parsed and expected:
            return None
        return _describe(response, "XML", parsed)
    if protocol in ("json", "rest-json"):
        try:
            value = json.loads(body)
        except ValueError:
            return _describe(response, "JSON", False)
        return None if isinstance(value, dict) else _describe(response, "JSON", True)
    if protocol == "smithy-rpc-v2-cbor":
        if body[:1] and body[0] >> 5 == 5:  # major type 5: a map
            return None
        return _describe(response, "CBOR", False)
    return None  # a protocol botocore added later: its own parser decides


def _no_output(operation_model: Any) -> bool:
    shape = operation_model.output_shape
    return shape is None or not getattr(shape, "members", None)


def _body(response: dict[str, Any]) -> bytes:
    body = response.get("body")
    return bytes(body) if isinstance(body, bytes | bytearray) else b""


def _xml_root(body: bytes) -> tuple[str | None, bool]:
    """The local name of the root element (namespace dropped) and whether the whole document
    parses (the way botocore parses it: UTF-8)."""
    try:
        parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(), encoding="utf-8")
        parser.feed(body)
        root = parser.close()
    except (ElementTree.ParseError, ValueError):
        return root_element(body), False
    return str(root.tag).rsplit("}", 1)[-1], True


# the first element of an XML document, after its declaration, comments and doctype
_ROOT = re.compile(
    rb"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!doctype[^>]*>\s*)*<(?:[a-z_][\w.\-]*:)?([a-z_][\w.\-]*)",
    re.IGNORECASE | re.DOTALL,
)


def _head(body: bytes) -> bytes:
    return body[:4096].lstrip(b"\xef\xbb\xbf")


def root_element(body: bytes) -> str | None:
    """The local name of the first element of a document that starts as XML (it may not
    parse), or None."""
    found = _ROOT.match(_head(body))
    return found.group(1).decode("ascii", "replace") if found else None


def _describe(response: dict[str, Any], language: str, parsed: bool) -> str:
    """What an answer is, from its status, type and first element (never its body).
    ``language``: the protocol's ("XML", "JSON", "CBOR"); ``parsed``: whether the body is a
    document of that language (the wrong one: another root, a JSON list)."""
    status = response.get("status_code")
    headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = _body(response)
    head = _head(body).strip().lower()
    root = root_element(body)
    if (
        content_type in ("text/html", "application/xhtml+xml")
        or head.startswith(b"<!doctype html")
        or (root or "").lower() == "html"
    ):
        kind = "an HTML page"
    elif not head:
        kind = "an empty answer"
    elif language == "XML" and not parsed and (root is not None or "xml" in content_type):
        kind = "XML that does not parse"
    elif root is not None:
        kind = f"a <{one_line(root, 60)}> document"
    elif language == "JSON" and parsed:
        kind = "JSON that is not an object"
    else:
        kind = f"a {one_line(content_type or 'untyped', 60)} answer that is not {language}"
    where = f"HTTP {status}, " if isinstance(status, int) else ""
    return f"{where}{kind}"
