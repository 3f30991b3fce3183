# SPDX-License-Identifier: AGPL-3.0-or-later
"""The CaptchEtat-like endpoint: bearer token, markup, a real PNG and WAV, validation, expiry, determinism."""

from __future__ import annotations

import io
import wave

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from selectolax.lexbor import LexborHTMLParser

from creneau.sim.sites.captcha import CODE_ALPHABET, CODE_LENGTH, captcha_code

from .server_kit import PISTE, RDV, bearer, new_captcha, rdv_target, world

TARGET = rdv_target()


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"], ids=["missing", "unknown", "not-bearer"])
async def test_endpoint_answers_401_when_the_bearer_token_is_not_valid(serve, http_for, header) -> None:
    server = await serve(world(TARGET))
    headers = {"Authorization": header} if header else None
    page = await http_for(server).flow().get(f"{PISTE}?get=html&c=captchaFR", headers=headers)
    assert page.status == 401
    assert page.headers["WWW-Authenticate"].startswith("Bearer")


async def test_html_carries_the_image_the_sound_link_and_the_captcha_id(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    token, captcha_id = await new_captcha(flow, TARGET.demarche_id)
    page = await flow.get(f"{PISTE}?get=html&c=captchaFR", headers=bearer(token))
    tree = LexborHTMLParser(page.text)
    image = tree.css_first("img#captchaFR_CaptchaImage")
    assert image is not None
    assert "get=image" in (image.attributes["src"] or "")
    sound = tree.css_first("a#captchaFR_SoundLink")
    assert sound is not None
    assert sound.attributes["title"] == "Énoncer le code du captcha"
    assert tree.css_first("audio#BDC_CaptchaSoundAudio_captchaFR") is not None
    hidden = tree.css_first("input#BDC_VCID_captchaFR")
    assert hidden is not None
    assert hidden.attributes["value"] != captcha_id  # every get=html makes a new captcha
    assert len(hidden.attributes["value"] or "") == 32


async def test_image_is_a_real_png_showing_the_code(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    token, captcha_id = await new_captcha(flow, TARGET.demarche_id)
    page = await flow.get(f"{PISTE}?get=image&c=captchaFR&t={captcha_id}", headers=bearer(token))
    assert page.status == 200
    assert page.headers["Content-Type"] == "image/png"
    assert page.body.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(page.body))
    image.load()
    assert image.size == (250, 50)
    low, high = image.convert("L").getextrema()
    assert high - low > 100  # dark text on a light ground, not a blank


async def test_sound_is_a_valid_wav(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    token, captcha_id = await new_captcha(flow, TARGET.demarche_id)
    page = await flow.get(f"{PISTE}?get=sound&c=captchaFR&t={captcha_id}", headers=bearer(token))
    assert page.status == 200
    with wave.open(io.BytesIO(page.body)) as w:
        assert w.getnchannels() == 1
        assert w.getframerate() == 8000
        assert w.getnframes() > 8000 * 0.2 * CODE_LENGTH * 0.9


async def test_script_include_is_javascript(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    token, captcha_id = await new_captcha(flow, TARGET.demarche_id)
    page = await flow.get(f"{PISTE}?get=script-include&c=captchaFR&t={captcha_id}&cs=203", headers=bearer(token))
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("application/javascript")


async def test_validation_result_says_true_only_for_the_right_code(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    token, captcha_id = await new_captcha(flow, TARGET.demarche_id)
    code = (await flow.get(f"https://{RDV}/__sim__/captcha/{captcha_id}")).text
    base = f"{PISTE}?get=validation-result&c=captchaFR&t={captcha_id}&i="
    assert (await flow.get(base + code.lower(), headers=bearer(token))).text == "true"
    assert (await flow.get(base + "NOPE42", headers=bearer(token))).text == "false"


async def test_image_is_refused_when_the_captcha_has_expired(serve, http_for, clock) -> None:
    server = await serve(world(TARGET, captcha_ttl_s=120))
    flow = http_for(server).flow()
    token, captcha_id = await new_captcha(flow, TARGET.demarche_id)
    clock.advance(121)
    page = await flow.get(f"{PISTE}?get=image&c=captchaFR&t={captcha_id}", headers=bearer(token))
    assert page.status == 400


async def test_image_is_refused_with_the_token_of_another_session(serve, http_for) -> None:
    server = await serve(world(TARGET))
    _, captcha_id = await new_captcha(http_for(server).flow(), TARGET.demarche_id)
    other_token, _ = await new_captcha(http_for(server).flow(), TARGET.demarche_id)
    page = await http_for(server).flow().get(f"{PISTE}?get=image&t={captcha_id}", headers=bearer(other_token))
    assert page.status == 400


async def test_captcha_codes_repeat_for_the_same_seed_and_order(serve, http_for, clock) -> None:
    codes = []
    for _ in range(2):
        server = await serve(world(TARGET, seed=99))
        flow = http_for(server).flow()
        _, captcha_id = await new_captcha(flow, TARGET.demarche_id)
        codes.append((captcha_id, (await flow.get(f"https://{RDV}/__sim__/captcha/{captcha_id}")).text))
    assert codes[0] == codes[1]


async def test_answer_hook_is_absent_when_test_hooks_are_off(serve, http_for) -> None:
    server = await serve(world(TARGET), test_hooks=False)
    flow = http_for(server).flow()
    _, captcha_id = await new_captcha(flow, TARGET.demarche_id)
    page = await flow.get(f"https://{RDV}/__sim__/captcha/{captcha_id}")
    assert page.status == 404
    assert captcha_id not in page.text


@given(seed=st.integers(0, 2**32), captcha_id=st.text("0123456789abcdef", min_size=32, max_size=32))
def test_captcha_code_is_short_unambiguous_and_deterministic(seed: int, captcha_id: str) -> None:
    code = captcha_code(seed, captcha_id)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert captcha_code(seed, captcha_id) == code
