# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pages the booking sites show when they refuse, fail or change: public builders, reused by the
adapters' adversarial tests, plus the aiohttp responses the server sends for each `EpisodeKind`.

Texts that matter to classifiers are exact: "Request forbidden by administrative rules", the
"Service surchargé" page (the real capture, byte for byte, typo "il n'y plus" included), "site
indisponible" / "maintenance", the challenge markers ("Vérification de sécurité", `cf-turnstile`,
"Incapsula incident ID").
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from aiohttp import web

from creneau.sim.model import EpisodeKind
from creneau.sim.sites.common import TEMPLATES, html
from creneau.types import System

FORBIDDEN_TEXT = "Request forbidden by administrative rules."


@cache
def service_surcharge_page() -> bytes:
    """The real Val-d'Oise overload page (414 bytes, served with HTTP 200), unchanged.

    Source: ahmed-hentati/prefecture-bot, `1.htm`, commit 85880ead (2022), blob f15e1e6f; it keeps the
    browser's `saved from url` comment, so the bytes equal the capture in shared/data/pages.
    """
    return (TEMPLATES / "failures" / "service_surcharge.html").read_bytes()


def bad_gateway_page() -> bytes:
    """nginx's own 502 page, CRLF line ends as nginx sends them."""
    return (
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def server_error_page(status: int = 500) -> bytes:
    titles = {500: "Internal Server Error", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {titles.get(status, 'Server Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def forbidden_page() -> bytes:
    """The 403 a blacklisted client IP gets (the text bots list as "blocked")."""
    return (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>403 Forbidden</title>\n'
        f"</head><body>\n<h1>Forbidden</h1>\n<p>{FORBIDDEN_TEXT}</p>\n</body></html>\n"
    ).encode()


def too_many_requests_page() -> bytes:
    return (
        b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
        b"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def maintenance_page() -> bytes:
    """Served with 503: says "site indisponible" and "maintenance", as the bots look for."""
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n<title>Site indisponible</title>\n'
        "<style>body{font-family:Marianne,Arial,sans-serif;margin:4rem auto;max-width:40rem;color:#161616}"
        "h1{color:#000091}</style>\n</head>\n<body>\n<main>\n<h1>Site indisponible</h1>\n"
        "<p>Le site est actuellement en maintenance. Une opération de maintenance est en cours&nbsp;: "
        "le service sera rétabli dans les meilleurs délais.</p>\n<p>Merci de votre compréhension.</p>\n"
        "</main>\n</body>\n</html>\n"
    ).encode()


def _incident(host: str, seed: str) -> str:
    digest = hashlib.sha256(f"{host}|{seed}".encode()).hexdigest()
    return f"{int(digest[:6], 16) % 900 + 100}000{int(digest[6:14], 16) % 10**9:09d}-{int(digest[14:20], 16)}"


def challenge_page(vendor: str, host: str, seed: str = "") -> tuple[int, dict[str, str], bytes]:
    """An edge challenge: (status, headers, body).

    `cloudflare`: a Turnstile interstitial ("Vérification de sécurité", `cf-turnstile`), served 403 with
    `cf-mitigated: challenge` as Cloudflare does today; `imperva`: the Incapsula iframe page, served 200.
    """
    incident = _incident(host, seed)
    if vendor == "imperva":
        body = (
            '<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW">'
            '<meta name="format-detection" content="telephone=no"><meta name="viewport" content="initial-scale=1.0">'
            '<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1"></head>'
            '<body style="margin:0px;height:100%"><iframe id="main-iframe" '
            f'src="/_Incapsula_Resource?CWUDNSAI=27&xinfo=9-{incident[:8]}-0%200NNN&incident_id={incident}&edet=15'
            '&cinfo=04000000&rpinfo=0&mth=GET" frameborder=0 width="100%" height="100%" marginheight="0px" '
            f'marginwidth="0px">Request unsuccessful. Incapsula incident ID: {incident}</iframe></body></html>'
        )
        return (
            200,
            {"X-Iinfo": f"9-{incident[:8]}-0 0NNN RT(0 0) q(0 -1 -1 -1) r(0 -1)", "X-CDN": "Imperva"},
            body.encode(),
        )
    ray = hashlib.sha256(f"ray|{host}|{seed}".encode()).hexdigest()[:16]
    body = (
        '<!DOCTYPE html><html lang="fr-FR"><head><title>Un instant…</title><meta charset="UTF-8">'
        '<meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head><body>'
        '<div class="main-wrapper" role="main"><div class="main-content">'
        f'<h1 class="zone-name-title h1">{host}</h1>'
        '<h2 id="challenge-body-text" class="h2">Vérification de sécurité en cours. '
        "Vérifiez que vous êtes un humain en cochant la case ci-dessous.</h2>"
        '<div id="challenge-stage"><div class="cf-turnstile" data-sitekey="0x4AAAAAAADnPIDROrmt1Wwj" '
        'data-callback="onTurnstileSuccess"></div></div>'
        f'<noscript><div class="h2"><span id="challenge-error-text">Activez JavaScript et les cookies pour continuer'
        "</span></div></noscript></div></div>"
        '<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>'
        f'<div class="footer" role="contentinfo"><div class="footer-inner"><div class="clearfix diagnostic-wrapper">'
        f'<div class="ray-id">Ray ID&nbsp;: <code>{ray}</code></div></div>'
        '<div class="text-center" id="footer-text">Performance et sécurité par Cloudflare</div></div></div>'
        "</body></html>"
    )
    return 403, {"Server": "cloudflare", "cf-mitigated": "challenge", "CF-RAY": f"{ray}-CDG"}, body.encode()


def truncate_html(body: bytes, fraction: float = 0.6) -> bytes:
    """Cut a page inside a tag (three bytes after the last `<` before `fraction` of its length); always a
    strict prefix."""
    if len(body) < 2:
        return b""
    limit = max(1, int(len(body) * fraction))
    tag = body.rfind(b"<", 0, limit)
    end = tag + 3 if tag > 0 else limit
    return body[: min(end, len(body) - 1)]


def changed_layout_page(system: System, *, times: tuple[str, ...] = ("09:30", "10:10")) -> bytes:
    """A redesigned slot page no adapter knows: other markup, no known no-slot sentence, no known data.

    It may still show times (in markup nobody parses yet); an adapter must call it `layout_unknown`.
    """
    if system is System.ANTS:
        payload = {"results": [{"lieu": "Mairie", "creneaux": [{"debut": t} for t in times]}], "version": 2}
        return json.dumps(payload).encode()
    buttons = "".join(f'<button type="button" class="slot-v2" data-heure="{t}">{t}</button>' for t in times)
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Réservation</title></head>\n'
        '<body><div id="app-v2"><main class="booking-v2"><h1>Réserver un rendez-vous</h1>\n'
        f'<section class="agenda-v2" data-version="2"><h2>Disponibilités</h2><div class="grid-v2">{buttons}</div>'
        "</section></main></div></body></html>\n"
    ).encode()


# --- responses --------------------------------------------------------------------------------------------

_SLOWAPI_TEXT = "Rate limit exceeded: {limit} per 1 minute"


def rate_limited_response(*, json_api: bool, retry_after_s: int, limit: int = 30) -> web.Response:
    headers = {"Retry-After": str(retry_after_s)}
    if json_api:  # slowapi's own handler body
        body = json.dumps({"error": _SLOWAPI_TEXT.format(limit=limit)})
        return web.Response(text=body, status=429, headers=headers, content_type="application/json")
    return html(too_many_requests_page(), status=429, headers=headers)


def failure_response(
    kind: EpisodeKind, *, host: str, json_api: bool, retry_after_s: int | None = None, seed: str = ""
) -> web.Response | None:
    """The response that replaces the page for a refusing kind; None for kinds that alter the page instead
    (slow, timeout, truncated, layout changed)."""
    if kind is EpisodeKind.FORBIDDEN:
        if json_api:
            return web.json_response({"detail": FORBIDDEN_TEXT}, status=403)
        return html(forbidden_page(), status=403)
    if kind is EpisodeKind.RATE_LIMITED:
        return rate_limited_response(json_api=json_api, retry_after_s=retry_after_s or 60)
    if kind is EpisodeKind.BAD_GATEWAY:
        return html(bad_gateway_page(), status=502, headers={"Server": "nginx"})
    if kind is EpisodeKind.OVERLOADED:
        return html(service_surcharge_page())
    if kind is EpisodeKind.MAINTENANCE:
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s else None
        return html(maintenance_page(), status=503, headers=headers)
    if kind is EpisodeKind.CHALLENGE:
        vendor = "cloudflare" if host.startswith("www.rdv-prefecture.") else "imperva"
        status, headers, body = challenge_page(vendor, host, seed)
        return html(body, status=status, headers=headers)
    return None
