"""Shop settings from the console: what the shop shows, what is refused, and the logo."""

from __future__ import annotations

import io

import pytest
from console_support import csrf_token, make_distributor, shop_row, signed_in_client

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
GOOD = {
    "name": "Ada's corner",
    "primary_color": "#123abc",
    "welcome_text": "Fresh every day",
    "locale": "en",
    "currency_display": "code",
    "host": "",
}


@pytest.fixture
def ada(app):
    return make_distributor(app, "ada@example.com", shop_name="Ada")


@pytest.fixture
def ada_client(app, ada):
    return signed_in_client(app, ada)


def _save(client, **fields):
    data = {**GOOD, **fields, "csrf_token": csrf_token(client, "/console/settings")}
    return client.post("/console/settings", data=data)


def _upload(client, data, filename="logo.png"):
    token = csrf_token(client, "/console/settings")
    return client.post(
        "/console/settings/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_the_settings_page_shows_the_shop_and_a_live_preview(ada_client):
    page = ada_client.get("/console/settings")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="preview"' in text
    assert "--preview-color:#e4393c" in text
    assert "/console/static/console.js" in text


def test_saved_settings_show_on_the_shop(app, ada, ada_client, client):
    # When Ada saves new settings
    response = _save(ada_client)

    # Then they are stored and the shop's page uses them
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/settings?saved=1"
    shop = shop_row(app, ada.shop_id)
    assert (shop.name, shop.primary_color, shop.locale, shop.currency_display) == (
        "Ada's corner",
        "#123abc",
        "en",
        "code",
    )
    home = client.get(f"/s/{ada.slug}/").get_data(as_text=True)
    assert "--sf-primary:#123abc" in home
    assert "Fresh every day" in home
    assert "Saved." in ada_client.get("/console/settings?saved=1").get_data(as_text=True)


def test_the_visitors_language_can_be_chosen(app, ada, ada_client):
    assert _save(ada_client, locale="").status_code == 303
    assert shop_row(app, ada.shop_id).locale == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("primary_color", "red", "The colour must look like #e4393c."),
        ("primary_color", "#12345", "The colour must look like #e4393c."),
        ("primary_color", "#123456;}body{", "The colour must look like #e4393c."),
        ("locale", "xx-Nope", "Not a valid choice"),
        ("currency_display", "emoji", "Not a valid choice"),
        ("name", "", "The shop name must be 1 to 100 characters."),
        ("name", "x" * 101, "The shop name must be 1 to 100 characters."),
        ("welcome_text", "x" * 2001, "2000 characters"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(
    app, ada, ada_client, field, value, message
):
    # Given Ada's shop as created
    before = shop_row(app, ada.shop_id)

    # When she saves with one bad field
    response = _save(ada_client, **{field: value})

    # Then the form comes back with 422 and the message, and nothing changed
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    after = shop_row(app, ada.shop_id)
    assert (after.name, after.primary_color, after.locale, after.host, after.welcome_text) == (
        before.name,
        before.primary_color,
        before.locale,
        before.host,
        before.welcome_text,
    )


@pytest.mark.parametrize(
    ("data", "suffix", "content_type"), [(PNG, ".png", "image/png"), (JPEG, ".jpg", "image/jpeg")]
)
def test_a_logo_is_stored_under_a_random_name_and_served(
    app, ada, ada_client, client, upload_folder, data, suffix, content_type
):
    # When Ada uploads an image (whatever its file name says)
    response = _upload(ada_client, data, filename="../../etc/passwd")

    # Then it is stored under a random name, served as an image, and the shop shows it
    assert response.status_code == 303
    url = shop_row(app, ada.shop_id).logo_url
    assert url.startswith("/sf-uploads/")
    assert url.endswith(suffix)
    assert [p.name for p in upload_folder.iterdir()] == [url.rsplit("/", 1)[1]]
    served = client.get(url)
    assert served.status_code == 200
    assert served.data == data
    assert served.mimetype == content_type
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert url in client.get(f"/s/{ada.slug}/").get_data(as_text=True)


def test_a_new_logo_replaces_the_old_file(app, ada, ada_client, upload_folder):
    _upload(ada_client, PNG)
    _upload(ada_client, JPEG)

    url = shop_row(app, ada.shop_id).logo_url
    assert [p.name for p in upload_folder.iterdir()] == [url.rsplit("/", 1)[1]]


@pytest.mark.parametrize(
    "data", [SVG, b"<html><script>alert(1)</script></html>", b"GIF89a" + b"\x00" * 20, b""]
)
def test_other_files_are_refused_as_logos(app, ada, ada_client, upload_folder, data):
    response = _upload(ada_client, data, filename="logo.png")

    assert response.status_code == 422
    assert shop_row(app, ada.shop_id).logo_url is None
    assert not upload_folder.exists() or not any(upload_folder.iterdir())


def test_an_svg_logo_gets_a_message_saying_so(ada_client):
    response = _upload(ada_client, SVG, filename="logo.svg")

    assert "PNG, JPEG or WebP" in response.get_data(as_text=True)


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024])
def test_a_logo_over_1_mb_is_refused(app, ada, ada_client, upload_folder, size):
    response = _upload(ada_client, PNG + b"\x00" * (size - len(PNG)))

    assert response.status_code == 413
    assert "at most 1 MB" in response.get_data(as_text=True)
    assert shop_row(app, ada.shop_id).logo_url is None
    assert not upload_folder.exists() or not any(upload_folder.iterdir())


def test_a_logo_of_exactly_1_mb_is_accepted(app, ada, ada_client):
    response = _upload(ada_client, PNG + b"\x00" * (1024 * 1024 - len(PNG)))

    assert response.status_code == 303


def test_the_logo_can_be_removed(app, ada, ada_client, client, upload_folder):
    _upload(ada_client, PNG)
    url = shop_row(app, ada.shop_id).logo_url

    token = csrf_token(ada_client, "/console/settings")
    response = ada_client.post("/console/settings/logo/remove", data={"csrf_token": token})

    assert response.status_code == 303
    assert shop_row(app, ada.shop_id).logo_url is None
    assert list(upload_folder.iterdir()) == []
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", ["../secret.png", "x.png", "abc.svg", "..%2Fconftest.py"])
def test_the_uploads_route_serves_only_stored_names(client, name):
    assert client.get(f"/sf-uploads/{name}").status_code == 404
