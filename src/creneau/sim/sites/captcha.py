# SPDX-License-Identifier: AGPL-3.0-or-later
"""A CaptchEtat-like captcha service on `api.piste.gouv.fr` (booking-systems.md §1.3b, §1.4).

The RDV Préfecture `/cgu/` page issues a bearer token tied to the visitor's session; with it the page's
`rdv-captchetat` component asks `simple-captcha-endpoint?get=html&c={style}` (which creates a captcha and
carries its id in the hidden input `BDC_VCID_{style}`), then `get=image` (a PNG), `get=sound` (a WAV),
`get=script-include` and `get=validation-result`. Codes are short, alphanumeric and deterministic from
the world seed and the captcha id; a captcha lives `world.captcha_ttl_s` and is used up by one
`_validerCaptcha` post. The simulator never answers captchas for anybody: only the test hook
(`/__sim__/captcha/{id}`, off unless enabled) reveals a code, so end-to-end tests can act as the human.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import wave
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web
from PIL import Image, ImageDraw, ImageFont

from creneau.sim.sites.common import Call, SimContext, Site, route

CAPTCHA_HOST = "api.piste.gouv.fr"
ENDPOINT_PATH = "/piste/captcha/simple-captcha-endpoint"
ENDPOINT_URL = f"https://{CAPTCHA_HOST}{ENDPOINT_PATH}"
STYLE = "captchaFR"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: a human must be able to read it
CODE_LENGTH = 6
_RDVPREF_ORIGIN = "https://www.rdv-prefecture.interieur.gouv.fr"


def captcha_code(seed: int, captcha_id: str) -> str:
    digest = hashlib.sha256(f"{seed}:{captcha_id}".encode()).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:CODE_LENGTH])


@dataclass
class BearerToken:
    value: str
    session_id: str
    demarche_id: int
    issued: datetime


@dataclass
class Captcha:
    id: str
    code: str
    session_id: str
    demarche_id: int
    created: datetime
    png: bytes | None = field(default=None, repr=False)
    wav: bytes | None = field(default=None, repr=False)


class CaptchaStore:
    """Tokens and live captchas of one server. Expired entries are pruned as new ones arrive."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self._tokens: dict[str, BearerToken] = {}
        self._captchas: dict[str, Captcha] = {}
        self._count = 0

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self.ctx.world.captcha_ttl_s)

    def issue_token(self, session_id: str, demarche_id: int, now: datetime) -> str:
        value = self.ctx.token(40, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        self._tokens[value] = BearerToken(value, session_id, demarche_id, now)
        if len(self._tokens) % 512 == 0:
            self._prune(now)
        return value

    def token(self, header: str | None, now: datetime) -> BearerToken | None:
        """The token of an `Authorization: Bearer …` header, if issued and not older than a session."""
        if not header or not header.startswith("Bearer "):
            return None
        token = self._tokens.get(header[7:].strip())
        lifetime = timedelta(seconds=self.ctx.world.session_lifetime_s)
        if token is None or now - token.issued > lifetime:
            return None
        return token

    def new_captcha(self, token: BearerToken, now: datetime) -> Captcha:
        self._count += 1
        captcha_id = hashlib.sha256(f"{self.ctx.world.seed}:captcha:{self._count}".encode()).hexdigest()[:32]
        captcha = Captcha(
            captcha_id, captcha_code(self.ctx.world.seed, captcha_id), token.session_id, token.demarche_id, now
        )
        self._captchas[captcha_id] = captcha
        return captcha

    def get(self, captcha_id: str, now: datetime) -> Captcha | None:
        captcha = self._captchas.get(captcha_id)
        if captcha is None or now - captcha.created > self.ttl:
            return None
        return captcha

    def consume(self, captcha_id: str, now: datetime) -> Captcha | None:
        """Use a captcha up (right or wrong answer alike); None when unknown or expired."""
        captcha = self.get(captcha_id, now)
        self._captchas.pop(captcha_id, None)
        return captcha

    def answer(self, captcha_id: str) -> str | None:
        """Test hook only: the code of a live captcha."""
        captcha = self._captchas.get(captcha_id)
        return captcha.code if captcha else None

    def _prune(self, now: datetime) -> None:
        lifetime = timedelta(seconds=self.ctx.world.session_lifetime_s)
        self._tokens = {k: v for k, v in self._tokens.items() if now - v.issued <= lifetime}
        self._captchas = {k: v for k, v in self._captchas.items() if now - v.created <= self.ttl}


# --- media ---------------------------------------------------------------------------------------------


def captcha_png(code: str, seed: str) -> bytes:
    """A 250×50 PNG showing `code` with jittered letters, dots and strike lines."""
    rng = random.Random(seed)
    image = Image.new("RGB", (250, 50), (238, 240, 246))
    draw = ImageDraw.Draw(image)
    for _ in range(260):
        x, y = rng.randrange(250), rng.randrange(50)
        draw.point((x, y), fill=(rng.randrange(120, 220), rng.randrange(120, 220), rng.randrange(120, 220)))
    font = ImageFont.load_default(size=30)
    for i, char in enumerate(code):
        colour = (rng.randrange(0, 90), rng.randrange(0, 60), rng.randrange(60, 140))
        draw.text((14 + i * 38 + rng.randrange(-3, 4), 6 + rng.randrange(-4, 5)), char, font=font, fill=colour)
    for _ in range(5):
        start = (rng.randrange(0, 120), rng.randrange(0, 50))
        end = (rng.randrange(130, 250), rng.randrange(0, 50))
        draw.line((start, end), fill=(rng.randrange(60, 160), 60, 90), width=1)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def captcha_wav(code: str) -> bytes:
    """A small valid WAV (8 kHz, 8-bit mono): one short tone per character, pitch by character."""
    rate = 8000
    frames = bytearray()
    for char in code:
        freq = 320 + 24 * CODE_ALPHABET.index(char) if char in CODE_ALPHABET else 440
        for n in range(int(rate * 0.16)):
            frames.append(128 + int(90 * math.sin(2 * math.pi * freq * n / rate)))
        frames.extend(b"\x80" * int(rate * 0.08))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


def captcha_html(captcha_id: str, style: str) -> str:
    """The fragment `get=html` returns (BotDetect markup, as the rdv-captchetat component expects)."""
    q = f"c={style}&amp;t={captcha_id}"
    return (
        f'<div class="BDC_CaptchaDiv " id="{style}_CaptchaDiv" style="width: 280px !important; height: 50px !important;">'
        f'<div class="BDC_CaptchaImageDiv" id="{style}_CaptchaImageDiv" style="width: 250px !important; height: 50px !important;">'
        f'<img class="BDC_CaptchaImage" id="{style}_CaptchaImage" src="{ENDPOINT_PATH}?get=image&amp;{q}" '
        'alt="Recopier le code de l\'image" style="display:block !important;visibility:visible !important;" /></div>'
        f'<div class="BDC_CaptchaIconsDiv" id="{style}_CaptchaIconsDiv" style="width: 24px !important;">'
        f'<a id="{style}_SoundLink" href="{ENDPOINT_PATH}?get=sound&amp;{q}" tabindex="0" '
        'title="Énoncer le code du captcha" class="BDC_SoundLink" onclick="return false;">'
        '<img class="BDC_SoundIcon" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Énoncer le code du captcha" /></a>'
        f'<audio id="BDC_CaptchaSoundAudio_{style}" preload="none"></audio></div>'
        f'<input type="hidden" name="BDC_VCID_{style}" id="BDC_VCID_{style}" value="{captcha_id}" />'
        f'<input type="hidden" name="BDC_BackWorkaround_{style}" id="BDC_BackWorkaround_{style}" value="0" />'
        f'<input type="hidden" name="BDC_Hs_{style}" id="BDC_Hs_{style}" value="{captcha_id[::-1]}" />'
        "</div>"
    )


SCRIPT_INCLUDE = (
    "(function(){var s=window.BotDetect=window.BotDetect||{};s.Init=function(style,id){"
    "var i=document.getElementById(style+'_CaptchaImage');if(i){i.setAttribute('data-captcha-id',id);}};"
    "s.ReloadImage=function(){return false;};})();\n"
)


# --- the endpoint ------------------------------------------------------------------------------------


class CaptchaSite(Site):
    name = "captcha"
    json_errors = True

    def __init__(self, ctx: SimContext, store: CaptchaStore) -> None:
        super().__init__(ctx)
        self.store = store
        self.routes = (route("GET OPTIONS", ENDPOINT_PATH, self.endpoint),)

    def _cors(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": _RDVPREF_ORIGIN,
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Allow-Methods": "GET, OPTIONS",
            "Cache-Control": "no-store",
        }

    async def endpoint(self, call: Call) -> web.StreamResponse:
        request, now = call.request, call.now
        cors = self._cors()
        if request.method == "OPTIONS":
            return web.Response(status=204, headers=cors)
        token = self.store.token(request.headers.get("Authorization"), now)
        if token is None:
            headers = {**cors, "WWW-Authenticate": 'Bearer error="invalid_token"'}
            body = {"error": "invalid_token", "error_description": "Access token is missing, invalid or expired"}
            return web.json_response(body, status=401, headers=headers)
        q = request.query
        what, style = q.get("get", ""), q.get("c", "") or STYLE
        if what == "html":
            captcha = self.store.new_captcha(token, now)
            return web.Response(text=captcha_html(captcha.id, style), content_type="text/html", headers=cors)
        if what == "script-include":
            return web.Response(text=SCRIPT_INCLUDE, content_type="application/javascript", headers=cors)
        live = self.store.get(q.get("t", ""), now)
        if live is None or live.session_id != token.session_id:
            return web.json_response({"error": "unknown or expired captcha"}, status=400, headers=cors)
        if what == "image":
            if live.png is None:
                live.png = captcha_png(live.code, live.id)
            return web.Response(body=live.png, content_type="image/png", headers=cors)
        if what == "sound":
            if live.wav is None:
                live.wav = captcha_wav(live.code)
            return web.Response(body=live.wav, content_type="audio/wav", headers=cors)
        if what == "validation-result":
            ok = q.get("i", "").strip().upper() == live.code
            return web.Response(text="true" if ok else "false", content_type="application/json", headers=cors)
        return web.json_response({"error": f"unsupported get={what!r}"}, status=400, headers=cors)
