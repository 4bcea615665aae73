"""JSON-LD for our credentials, offline: bundled contexts only, a check that every term expands, RDF canonicalization.

pyld never fetches anything: its document loader serves the contexts shipped in `contexts/` (copied from the npm
packages the independent verifier uses, see contexts/README.md) and refuses every other URL. A document is signed
only once `expand_strictly` found that each of its properties and types maps to a defined IRI: nothing dropped,
and nothing left to the VC 2.0 context's catch-all `@vocab` (which would sign a misspelt term without complaint).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

from pyld import jsonld

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
BUNDLED_CONTEXTS = {
    VC_V2_CONTEXT: "credentials-v2.json",
    OB_V3_CONTEXT: "ob-v3p0-context-3.0.3.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.json",
    "https://w3id.org/security/multikey/v1": "multikey-v1.json",
    "https://www.w3.org/ns/did/v1": "did-v1.json",
}
# Where the VC 2.0 context's @vocab sends a term it does not define.
UNDEFINED_TERMS = "https://www.w3.org/ns/credentials/issuer-dependent#"
# RDFC-1.0 writes these as \uXXXX (or \b, \f); pyld's N-Quads writer does not: refuse them rather than differ.
_ESCAPED_DIFFERENTLY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class NotOffline(ValueError):
    """A document asked for a context that is not bundled: nothing is ever fetched from the network."""


class TermNotDefined(ValueError):
    """A property or type of a document does not expand to a defined IRI (it would be dropped or left vague)."""


@functools.cache
def _bundled(url: str) -> dict[str, Any]:
    return json.loads((CONTEXTS_DIR / BUNDLED_CONTEXTS[url]).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def load_document(url: str, options: Any = None) -> dict[str, Any]:
    """pyld's document loader: a bundled context, or NotOffline for any other URL (no request is made)."""
    if url not in BUNDLED_CONTEXTS:
        raise NotOffline(f"{url} is not a bundled JSON-LD context, and nothing is fetched from the network")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(_bundled(url)),
        "tag": "static",  # pyld keeps a context it is told never changes, instead of asking again each time
    }


def _options() -> dict[str, Any]:
    return {"documentLoader": load_document, "base": None}


def _check_iri(iri: Any, where: str) -> None:
    if not isinstance(iri, str) or iri.startswith(UNDEFINED_TERMS):
        raise TermNotDefined(f"{where} is not defined by the document's contexts")
    if not iri.startswith("_:") and not _ABSOLUTE_IRI.match(iri):
        raise TermNotDefined(f"{where} does not expand to an absolute IRI ({iri!r})")


def _check_expanded(node: Any, path: str) -> None:
    if isinstance(node, list):
        for position, item in enumerate(node):
            _check_expanded(item, f"{path}[{position}]")
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        value = node["@value"]
        if isinstance(value, str) and _ESCAPED_DIFFERENTLY.search(value):
            raise TermNotDefined(f"{path} holds a control character that canonical N-Quads cannot carry")
        if "@type" in node:
            _check_iri(node["@type"], f"the type of the value at {path}")
        return
    for key, value in node.items():
        if key == "@type":
            for item in value if isinstance(value, list) else [value]:
                _check_iri(item, f"the type {item!r} at {path or 'the top'}")
        elif key == "@id":
            _check_iri(value, f"the id at {path or 'the top'}")
        elif not key.startswith("@"):
            _check_iri(key, f"the property {key!r} at {path or 'the top'}")
            _check_expanded(value, f"{path}/{key}")
        else:
            _check_expanded(value, f"{path}/{key}")


def expand_strictly(document: dict[str, Any]) -> list[Any]:
    """The expanded form of a document, or TermNotDefined naming the first term that does not expand cleanly."""
    dropped: list[str] = []
    expanded = jsonld.expand(document, _options(), on_property_dropped=dropped.append)
    if dropped:
        raise TermNotDefined(f"the property {dropped[0]!r} is not defined by the document's contexts")
    _check_expanded(expanded, "")
    return expanded  # type: ignore[no-any-return]


def canonicalize(document: dict[str, Any]) -> str:
    """The RDF Dataset Canonicalization (RDFC-1.0, URDNA2015 in pyld) of a checked document, as N-Quads."""
    expanded = expand_strictly(document)
    options = {**_options(), "algorithm": "URDNA2015", "format": "application/n-quads"}
    return jsonld.normalize(expanded, options)  # type: ignore[no-any-return]
