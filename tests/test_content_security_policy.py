"""The Content-Security-Policy header, and guideline Markdown that cannot make a reader load another host."""

from __future__ import annotations

import pytest
from django.test import Client

from annotations.templatetags.workbench import markdown

POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/docs/", "/api/health/", "/no-such-page/"])
def test_every_response_carries_the_policy(client: Client, path: str) -> None:
    response = client.get(path)

    assert set(response["Content-Security-Policy"].split("; ")) == POLICY


@pytest.mark.django_db
def test_the_api_docs_start_from_a_script_file_not_an_inline_script(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()

    assert "<script>" not in page
    assert "<style>" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


@pytest.mark.parametrize(
    "source",
    [
        "![chart](https://images.example.org/chart.png)",
        "![chart](//images.example.org/chart.png)",
        '<img src="HTTPS://images.example.org/chart.png">',
        '<img src="/\\images.example.org/chart.png">',
        '<img src="ht&#9;tps://images.example.org/chart.png">',
        '<img src=" //images.example.org/chart.png">',
    ],
)
def test_guideline_images_from_other_hosts_are_dropped(source: str) -> None:
    html = markdown(source)

    assert "images.example.org" not in html
    assert "<img" in html  # the image itself stays, without a source (its alt text shows)


def test_guideline_images_of_this_site_and_links_stay() -> None:
    assert markdown("![chart](/static/chart.png)") == '<p><img alt="chart" src="/static/chart.png"></p>'
    assert 'href="https://example.org/"' in markdown("[the rules](https://example.org/)")
