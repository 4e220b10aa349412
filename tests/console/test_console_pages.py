"""The console home, links and posters, the team, the script and the console's language."""

from __future__ import annotations

import pytest
from console_support import add_products, make_distributor, signed_in_client


@pytest.fixture
def ada(app):
    return make_distributor(app, "ada@example.com", name="Ada", shop_name="Ada's corner")


@pytest.fixture
def ada_client(app, ada):
    return signed_in_client(app, ada)


def test_home_shows_the_shop_link_and_the_sections(ada, ada_client):
    text = ada_client.get("/console/").get_data(as_text=True)

    assert f'value="http://localhost/s/{ada.slug}/"' in text
    for section in ("/console/products", "/console/settings", "/console/links", "/console/team"):
        assert f'href="{section}"' in text


def test_links_offer_every_link_with_a_copy_button_and_posters(supplier, ada, ada_client, client):
    [product] = add_products(supplier, "P1")

    text = ada_client.get("/console/links").get_data(as_text=True)

    for link in (
        f"http://localhost/s/{ada.slug}/",
        f"http://localhost/r/{ada.code}",
        f"http://localhost/console/join/{ada.code}",
        f"http://localhost/r/{ada.code}/{product}",
    ):
        assert f'value="{link}" readonly data-copy' in text
    assert text.count("data-copy-button") == 4
    assert f'src="/s/{ada.slug}/poster.svg?inline=1"' in text
    assert f'href="/s/{ada.slug}/p/{product}/poster.svg" download' in text
    assert client.get(f"/s/{ada.slug}/poster.svg?inline=1").status_code == 200


def test_the_team_shows_the_invite_link_and_recruits(app, ada, ada_client):
    make_distributor(app, "bo@example.com", name="Bo", shop_name="Bo's buys", parent_code=ada.code)

    text = ada_client.get("/console/team").get_data(as_text=True)

    assert f"http://localhost/console/join/{ada.code}" in text
    assert "Bo&#39;s buys" in text
    assert "Bo" in text
    assert "Joined" in text


def test_the_team_pages_through_many_recruits(app, ada, ada_client):
    for n in range(52):
        make_distributor(
            app, f"r{n}@example.com", shop_name=f"Recruit {n:02d}", parent_code=ada.code
        )

    first = ada_client.get("/console/team").get_data(as_text=True)

    assert first.count("Joined") == 50
    assert "Recruit 51" in first
    assert "Recruit 01" not in first
    assert "/console/team?after=" in first
    assert ada_client.get("/console/team?after=x").status_code == 400


def test_the_console_script_is_served_same_origin(client):
    response = client.get("/console/static/console.js")

    assert response.status_code == 200
    assert "data-copy-button" in response.get_data(as_text=True)


def test_the_chosen_language_is_kept_across_pages(ada, ada_client):
    assert '<html lang="zh-Hans">' in ada_client.get("/console/?lang=zh-Hans").get_data(
        as_text=True
    )
    assert '<html lang="zh-Hans">' in ada_client.get("/console/team").get_data(as_text=True)
    assert '<html lang="en">' in ada_client.get("/console/team?lang=en").get_data(as_text=True)
