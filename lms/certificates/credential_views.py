"""Where machines find our Open Badges 3.0 credentials: each certificate's signed credential (also baked into its
badge, PNG and SVG), the issuer's DID document, and the signed status lists. Routes on the certificates blueprint;
`install_credentials` adds the rest.

The baked badges are public, at /verify/<code>/badge.png and .svg: they carry exactly the credential that
/verify/<code>/credential.json already serves to anyone (the holder named only by a salted hash), and the baking
rules exist so that a badge shown on any web page can be picked up and checked by software that knows Open Badges.
A revoked or suspended certificate gets none: its link must not hand out fresh copies of what no longer holds.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, current_app, jsonify, redirect, request, url_for

from lms.accounts.access import public
from lms.certificates import operations
from lms.certificates.baking import baked_badge_png, baked_badge_svg
from lms.certificates.codes import CodeError, parse_code
from lms.certificates.credential_models import StatusPurpose
from lms.certificates.credentials import MEDIA_TYPE, credential_json
from lms.certificates.credentials_did import address_path, did_document
from lms.certificates.models import Certificate
from lms.certificates.status_list import list_exists, status_list_json
from lms.certificates.views import bp
from lms.extensions import limiter
from lms.web import serve_as_anonymous

DID_MEDIA_TYPE = "application/did+ld+json"


def _verify_limit() -> str:
    return str(current_app.config["CERTIFICATE_VERIFY_LIMIT"])


def _not_found(message: str) -> Response:
    response = jsonify({"error": "Not found", "message": message, "status": 404})
    response.status_code = 404
    return response


def _document(text: str, mimetype: str) -> Response:
    """A stored document as it was stored, with an ETag so that a verifier may ask again cheaply."""
    response = Response(text, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


def _certificate_at(code: str, endpoint: str) -> Certificate | Response:
    """The certificate a code names, with its holder; or the answer to give instead: a 301 to the tidy code's
    address, or a 404."""
    try:
        parsed = parse_code(code)
    except CodeError:
        return _not_found("This is not a certificate code.")
    if code != parsed.display:
        return redirect(url_for(endpoint, code=parsed.display), 301)
    certificate = operations.find_certificate(parsed.canonical, with_holder=True)
    if certificate is None:
        return _not_found("No certificate has this code.")
    return certificate


def credential_wanted() -> bool:
    """Whether the request asks for the OB 3.0 credential (Accept: application/vc+ld+json) above a page or the
    OB 2.0 assertion."""
    offered = ["text/html", "application/ld+json", "application/json", MEDIA_TYPE]
    return request.accept_mimetypes.best_match(offered) == MEDIA_TYPE


def credential_response(code: str, endpoint: str) -> Response:
    """The certificate's current version as a signed Open Badges 3.0 credential (revoked ones too: their status
    list says so)."""
    serve_as_anonymous()
    found = _certificate_at(code, endpoint)
    if not isinstance(found, Certificate):
        return found
    return _document(credential_json(found), MEDIA_TYPE)


@bp.route("/verify/<code>/credential.json")
@public
@limiter.shared_limit(_verify_limit, scope="certificate-verify")
def verifiable_credential(code: str) -> Any:
    """The signed credential for machines and wallets (also at /verify/<code> for Accept: application/vc+ld+json)."""
    return credential_response(code, "certificates.verifiable_credential")


def _baked_badge(code: str, endpoint: str, suffix: str) -> Response:
    serve_as_anonymous()
    found = _certificate_at(code, endpoint)
    if not isinstance(found, Certificate):
        return found
    if found.is_revoked or found.is_suspended:
        response = jsonify(
            {"error": "Gone", "message": "This certificate has no badge to hand out.", "status": 410}
        )
        response.status_code = 410
        return response
    if suffix == "png":
        response = Response(baked_badge_png(found), mimetype="image/png")
    else:
        response = Response(baked_badge_svg(found), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = f'inline; filename="badge-{found.display_code}.{suffix}"'
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/verify/<code>/badge.png")
@public
@limiter.shared_limit(_verify_limit, scope="certificate-verify")
def baked_badge_png_image(code: str) -> Any:
    """The badge with the signed credential baked in (PNG): what a backpack imports, and the page's share image."""
    return _baked_badge(code, "certificates.baked_badge_png_image", "png")


@bp.route("/verify/<code>/badge.svg")
@public
@limiter.shared_limit(_verify_limit, scope="certificate-verify")
def baked_badge_svg_image(code: str) -> Any:
    """The badge with the signed credential baked in (SVG)."""
    return _baked_badge(code, "certificates.baked_badge_svg_image", "svg")


@bp.route("/.well-known/did.json")
@public
def issuer_did_document() -> Any:
    """The issuer's DID document (did:web) for an address without a path."""
    serve_as_anonymous()
    if address_path(str(current_app.config["BASE_URL"])):
        return _not_found("This issuer's DID document is at <path>/did.json.")
    return _document(json.dumps(did_document(), indent=2), DID_MEDIA_TYPE)


@bp.route("/did.json")
@public
def issuer_did_document_at_path() -> Any:
    """The issuer's DID document when the public address has a path (did:web:host:path resolves here)."""
    serve_as_anonymous()
    if not address_path(str(current_app.config["BASE_URL"])):
        return _not_found("This issuer's DID document is at /.well-known/did.json.")
    return _document(json.dumps(did_document(), indent=2), DID_MEDIA_TYPE)


@bp.route("/credentials/status/<purpose>/<int:number>")
@public
def credential_status_list(purpose: str, number: int) -> Any:
    """A signed BitstringStatusListCredential, as the certificates stand now."""
    serve_as_anonymous()
    if purpose not in {p.value for p in StatusPurpose} or not list_exists(StatusPurpose(purpose), number):
        return _not_found("No status list has this address.")
    return _document(status_list_json(StatusPurpose(purpose), number), MEDIA_TYPE)


def install_credentials(app: Flask) -> None:
    """Refuse to start without signing keys (made once in development), and add `lms rotate-signing-key`."""
    from lms.certificates.credentials_cli import rotate_signing_key_command
    from lms.certificates.keys import ensure_signing_keys
    from lms.cli import lms_cli

    ensure_signing_keys(app)
    lms_cli.add_command(rotate_signing_key_command)
