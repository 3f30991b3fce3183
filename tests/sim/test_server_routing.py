# SPDX-License-Identifier: AGPL-3.0-or-later
"""Host and path dispatch: unknown hosts and paths get a 404, never a forgiving 200."""

from __future__ import annotations

import aiohttp
import pytest

from .server_kit import ANTS, ESSONNE, RDV, legacy_target, rdv_target, world

WORLD = world(rdv_target(), legacy_target())


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/",
        "https://www.val-doise.gouv.fr/booking/create/23014/0",  # a legacy host with no target in this world
        f"https://{RDV}/",
        f"https://{RDV}/rdvpref/reservation/demarche/3762/inconnu/",
        f"https://{RDV}/rdvpref/static/js/absent.js",
        f"https://{ESSONNE}/",
        f"https://{ESSONNE}/booking/create/23014/9",
        f"https://{ANTS}/api/SlotsFromPositionStreaming",
        "https://api.piste.gouv.fr/piste/captcha/other-endpoint",
    ],
)
async def test_unknown_hosts_and_paths_get_a_404(serve, http_for, url) -> None:
    server = await serve(WORLD)
    page = await http_for(server).flow().get(url, follow=False)
    assert page.status == 404


async def test_known_path_with_the_wrong_method_gets_a_405(serve, http_for) -> None:
    server = await serve(WORLD)
    page = await http_for(server).flow().post(f"https://{RDV}/rdvpref/reservation/demarche/3762/creneau/", {})
    assert page.status == 405


async def test_host_header_is_matched_without_its_port_and_case(serve) -> None:
    server = await serve(WORLD)
    async with aiohttp.ClientSession() as session:
        for host in (f"{ESSONNE}:443", ESSONNE.upper()):
            url = f"{server.base_url}/booking/create/23014/0"
            async with session.get(url, headers={"Host": host}) as response:
                assert response.status == 200
        async with session.get(f"{server.base_url}/booking/create/23014/0") as response:
            assert response.status == 404  # Host 127.0.0.1:port is no booking site


async def test_test_hooks_are_404_unless_enabled(serve, http_for) -> None:
    server = await serve(WORLD, test_hooks=False)
    page = await http_for(server).flow().get(f"https://{RDV}/__sim__/now")
    assert page.status == 404


async def test_server_gives_route_overrides_for_every_host(serve) -> None:
    server = await serve(WORLD)
    assert server.route_overrides == {"*": server.base_url}
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.port > 0
