"""A distributor on a phone who forgot their password: asks for a link, follows it from the
mail, chooses a new password, then changes it again from Settings."""

from __future__ import annotations

import email
import re

from shop_support import make_shop

from storefront_sdk.messages import DevOutboxSender


def test_a_distributor_resets_and_changes_the_password_on_a_phone(
    app, live_server, phone, tmp_path
):
    outbox = tmp_path / "outbox"
    app.extensions["storefront"].messages = DevOutboxSender(outbox, "no-reply@example.com")
    make_shop(app, "ann@example.com", locale="en")
    page = phone

    # Forgot password? from the sign-in page
    page.goto(f"{live_server}/console/login?lang=en")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url(re.compile(r"/console/password/forgot"))
    page.shot("forgot")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("reset-sent").is_visible()
    page.shot("sent")

    # The link of the mail
    [file] = list(outbox.iterdir())
    body = email.message_from_bytes(file.read_bytes()).get_payload(decode=True).decode()
    link = re.search(r"http://\S+", body).group(0)
    page.goto(link)
    page.shot("reset")
    page.get_by_label("New password").fill("a-new-password-1")
    page.get_by_role("button", name="Save the new password").click()
    page.wait_for_url(re.compile(r"/console/(\?.*)?$"))

    # Change it again from Settings
    page.goto(f"{live_server}/console/settings")
    page.get_by_test_id("change-password").click()
    page.get_by_label("Current password").fill("a-new-password-1")
    page.get_by_label("New password").fill("a-newer-password-2")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("password-changed").is_visible()
    page.shot("changed")


def test_the_admins_forgot_password_page_on_a_phone(app, live_server, phone):
    page = phone
    page.goto(f"{live_server}/admin/login?lang=en")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url(re.compile(r"/admin/password/forgot"))
    page.shot("admin-forgot")
    assert page.get_by_role("button", name="Send me a link").is_visible()
