"""The OpenAPI document (/api/v1/openapi.json) and a readable reference page rendered from it (/api/v1/docs):
our own template, no CDN and no script."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, json, render_template
from markupsafe import Markup

from lms.accounts.access import public
from lms.markdown import render_markdown

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


def document() -> dict[str, Any]:
    return current_app.extensions["lms_api"].spec.to_dict()  # type: ignore[no-any-return]


@bp.route("/openapi.json", methods=["GET"])
@public
def openapi_json() -> Any:
    return Response(json.dumps(document()), mimetype="application/json")


@bp.route("/docs", methods=["GET"])
@public
def docs() -> Any:
    spec = document()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": op.get("operationId") or f"{method}-{path}",
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or [""])[0],
                    "parameters": op.get("parameters", []),
                    "body": _body_schema(op),
                    "responses": op.get("responses", {}),
                }
            )
    schemas = spec.get("components", {}).get("schemas", {})
    return render_template(
        "api/docs.html", spec=spec, operations=operations, schemas=schemas, pretty=_pretty, prose=_prose
    )


def _body_schema(op: dict[str, Any]) -> Any:
    content = op.get("requestBody", {}).get("content", {})
    return next(iter(content.values()), {}).get("schema") if content else None


def _prose(text: str | None) -> Markup:
    """A description of the document (CommonMark, as OpenAPI says), rendered and sanitized like every text."""
    return Markup(render_markdown(text or ""))  # noqa: S704 (render_markdown sanitizes: lms/markdown.py)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False)
