# SPDX-License-Identifier: AGPL-3.0-or-later
"""Jinja set-up: one environment for every page, with gettext, Paris-time filters and the common context.

Every page extends `base.html`, which already has: `lang` on <html>, a skip link, the header with the
language switch and the sign-in state, the CSRF header for htmx on <body>, and the footer. A page renders
with `render(request, "name.html", {...})`; an htmx request for a part of it renders one block with
`render(request, "name.html", {...}, block="rows")` (jinja2-fragments), so there is no duplicate partial
template. The context always holds `locale`, `user`, `csrf_token`, `path`, `now` and `languages`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from jinja2_fragments import render_block
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from creneau.web import i18n
from creneau.web.shared import CSRF_MARK, share

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _gettext(message: str) -> str:
    return i18n.translations(i18n.get_locale()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.get_locale()).ngettext(singular, plural, n)


@lru_cache(maxsize=8192)
def _translated(locale: str, message: str) -> tuple[str, Markup]:
    text = i18n.translations(locale).gettext(message)
    return text, Markup(text)  # noqa: S704 - translations are ours; variables are escaped when put in


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    """`_()` in templates: what Jinja's newstyle gettext does (the translation, safe, with its variables
    escaped into it), without its three context hops and with each translation looked up once: a page
    calls it dozens of times."""
    text, markup = _translated(i18n.get_locale(), message)
    found: str = markup if eval_ctx.autoescape else text
    # `found % variables` as Jinja does; without a "%" and variables it returns `found` unchanged.
    return found % variables if variables or "%" in found else found


@pass_eval_context
def _template_pgettext(eval_ctx: EvalContext, context: str, message: str, /) -> str:
    """`pgettext()` in templates, for a word whose French form depends on what it qualifies (a channel is
    "actif", a watch "active")."""
    text = i18n.translations(i18n.get_locale()).pgettext(context, message)
    return Markup(text) if eval_ctx.autoescape else text  # noqa: S704 - translations are ours


def build_environment(extra_dirs: tuple[Path, ...] = ()) -> Environment:
    env = Environment(
        loader=FileSystemLoader([TEMPLATES, *extra_dirs]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # shipped templates do not change while serving: no stat() per render
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update({"_": _template_gettext, "gettext": _template_gettext, "pgettext": _template_pgettext})
    env.filters.update(
        when=i18n.when,
        day=i18n.day,
        clock=i18n.clock,
        duration=i18n.duration,
        pick=i18n.pick,
    )
    from creneau.web.board import health_label

    env.globals.update(ago=i18n.ago, languages=i18n.LANGUAGE_NAMES, health_label=health_label)
    return env


def _common(request: Request) -> dict[str, Any]:
    web = request.app.state.web
    return {
        "locale": i18n.get_locale(),
        "user": getattr(request.state, "user", None),
        "csrf_token": web.csrf.token(request),
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "now": web.now(),
    }


def build_templates(extra_dirs: tuple[Path, ...] = ()) -> Jinja2Blocks:
    return Jinja2Blocks(env=build_environment(extra_dirs))


def _html(request: Request, name: str, context: dict[str, Any], block: str | None) -> str:
    templates: Jinja2Blocks = request.app.state.templates
    full = {"request": request, **_common(request), **context}
    if block is not None:
        return str(render_block(templates.env, name, block, full))
    return templates.env.get_template(name).render(full)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page (or one `block` of it) as an HTML response. `context` wins over the common context."""
    return HTMLResponse(_html(request, name, dict(context or {}), block), status_code=status_code, headers=headers)


def render_shared(
    request: Request,
    key: tuple[Any, ...],
    name: str,
    make_context: Callable[[], dict[str, Any]],
    *,
    block: str | None = None,
) -> Response:
    """A page everyone sees alike (the board): rendered once per `key` (include the snapshot generation)
    for visitors who are not signed in, with only the browser's CSRF token put in per request."""
    if getattr(request.state, "user", None) is not None:
        return render(request, name, make_context(), block=block)
    web = request.app.state.web
    cache_key = ("page", name, block, i18n.get_locale(), request.url.path, request.url.query, *key)
    html: str = web.board.cached(cache_key, lambda: html_for_everyone(request, name, make_context(), block=block))
    return with_csrf(request, html)


def html_for_everyone(request: Request, name: str, context: dict[str, Any], *, block: str | None = None) -> str:
    """A page's HTML for any visitor who is not signed in, to be cached: the CSRF token is left as a mark
    that `with_csrf` fills in per request."""
    return _html(request, name, {**context, "csrf_token": CSRF_MARK}, block)


def with_csrf(request: Request, html: str) -> Response:
    """The response for a page made by `html_for_everyone`, with this browser's CSRF token; the page is
    shared (`web.shared`): the next identical request is answered without the app."""
    share(request, html, "text/html; charset=utf-8")
    return HTMLResponse(html.replace(CSRF_MARK, request.app.state.web.csrf.token(request)))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
