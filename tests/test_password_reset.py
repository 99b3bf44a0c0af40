"""Password reset mails a link: served only where mail is set up (EMAIL_URL), otherwise not there at all."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db

RESET_PAGES = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/done/",
    "/accounts/reset/MQ/set-password/",
]


@pytest.mark.parametrize("path", RESET_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_without_mail_the_reset_pages_are_404(client: Client, settings: Any, path: str, method: str) -> None:
    settings.EMAIL_URL = ""

    response = getattr(client, method)(path, {"email": "ann@example.org"})

    assert response.status_code == 404


def test_with_mail_the_reset_sends_a_link(client: Client, settings: Any) -> None:
    settings.EMAIL_URL = "smtp://mail.example.org:25"  # the test run's outbox stands in for the server
    User.objects.create_user("ann", email="ann@example.org", password="an old passphrase")

    response = client.post("/accounts/password_reset/", {"email": "ann@example.org"})

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["ann@example.org"]
    assert "/accounts/reset/" in message.body
