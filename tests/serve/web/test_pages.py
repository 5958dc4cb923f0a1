"""The web pages called in-process: sign-in, roles, CSRF, allow-lists, escaping, agent actions."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.serve.web.conftest import csrf_of, sign_in
from tests.serve.web.seed import XSS_NAME


def test_pages_need_sign_in(web: TestClient) -> None:
    response = web.get("/customers?q=ann", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/customers"


def test_wrong_password_is_refused(web: TestClient) -> None:
    token = csrf_of(web.get("/login").text)
    response = web.post(
        "/login",
        data={
            "email": "admin@demo.clientbook.dev",
            "password": "wrong-password",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.text
    assert "cb_session" not in response.cookies


def test_session_cookie_is_http_only(web: TestClient) -> None:
    token = csrf_of(web.get("/login").text)
    response = web.post(
        "/login",
        data={
            "email": "agent@demo.clientbook.dev",
            "password": "demo-agent-pass",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert response.headers["location"] == "/customers"


def test_login_without_csrf_token_is_refused(web: TestClient) -> None:
    web.get("/login")
    response = web.post(
        "/login", data={"email": "admin@demo.clientbook.dev", "password": "demo-admin-pass"}
    )
    assert response.status_code == 403


def test_form_without_csrf_token_is_refused(web: TestClient) -> None:
    sign_in(web, "agent")
    ann = web.app.state.ids["ann"]
    response = web.post(f"/customers/{ann}/interactions", data={"kind": "call", "subject": "x"})
    assert response.status_code == 403
    assert "security token" in response.text
    wrong = web.post(
        f"/customers/{ann}/interactions",
        data={"kind": "call", "subject": "x", "csrf_token": "forged"},
    )
    assert wrong.status_code == 403


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("agent", "/admin/users", 403),
        ("agent", "/dashboard", 403),
        ("marketer", "/admin/keys", 403),
        ("marketer", "/dashboard", 200),
        ("admin", "/admin/settings", 200),
    ],
)
def test_roles(web: TestClient, role: str, path: str, status: int) -> None:
    sign_in(web, role)
    assert web.get(path).status_code == status


@pytest.mark.parametrize(
    "query",
    [
        "sort=password_hash",
        "sort=name;drop table customers",
        "direction=sideways",
        "stage=not_a_stage",
        "stage=<script>",
        "page=0",
        "filter=anything",
        "sort=name&sort=revenue",
    ],
)
def test_parameters_outside_the_allow_list_are_400(web: TestClient, query: str) -> None:
    sign_in(web, "agent")
    response = web.get(f"/customers?{query}")
    assert response.status_code == 400, query
    assert "<script>" not in response.text


def test_search_by_name_email_phone_and_card(web: TestClient) -> None:
    sign_in(web, "agent")
    ann = web.app.state.ids["ann"]
    for q in ("ann smi", "ann.smith0@example.com", "07700 900000", "LC-100000"):
        page = web.get("/customers", params={"q": q}).text
        assert f'href="/customers/{ann}"' in page, q
    sorted_page = web.get("/customers", params={"sort": "revenue", "direction": "desc"})
    assert sorted_page.status_code == 200


def test_search_partial_for_htmx(web: TestClient) -> None:
    sign_in(web, "agent")
    response = web.get("/customers?q=ann", headers={"HX-Request": "true", "HX-Target": "results"})
    assert response.status_code == 200
    assert "<html" not in response.text and "Ann Smith" in response.text


def test_customer_name_and_url_are_escaped_everywhere(web: TestClient) -> None:
    sign_in(web, "admin")
    xss = web.app.state.ids["xss"]
    for path in (
        f"/customers/{xss}",
        "/customers?q=mallory",
        "/customers?sort=created&direction=desc",
    ):
        html = web.get(path).text
        assert XSS_NAME not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path
        assert not re.search(r"href=[\"']?javascript:", html), path
    assert "default-src 'self'" in web.get(f"/customers/{xss}").headers["content-security-policy"]


def test_log_a_call_open_and_resolve_a_case(web: TestClient) -> None:
    csrf = sign_in(web, "agent")
    ann = web.app.state.ids["ann"]
    logged = web.post(
        f"/customers/{ann}/interactions",
        data={"kind": "call", "subject": "Asked about returns", "minutes": "4", "csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert logged.status_code == 200
    assert "Asked about returns" in logged.text and "agent@demo.clientbook.dev" in logged.text
    opened = web.post(
        f"/customers/{ann}/cases",
        data={"category": "error", "description": "Charged twice", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page = web.get(f"/customers/{ann}").text
    assert "Charged twice" in page
    case_pk = int(re.findall(r"/cases/(\d+)/resolve", page)[0])
    resolved = web.post(
        f"/customers/{ann}/cases/{case_pk}/resolve",
        data={"resolution": "Refunded", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert resolved.status_code == 303
    again = web.post(
        f"/customers/{ann}/cases/{case_pk}/resolve",
        data={"resolution": "Refunded", "csrf_token": csrf},
    )
    assert again.status_code == 409


def test_unknown_contact_kind_is_400(web: TestClient) -> None:
    csrf = sign_in(web, "agent")
    ann = web.app.state.ids["ann"]
    response = web.post(
        f"/customers/{ann}/interactions", data={"kind": "telepathy", "csrf_token": csrf}
    )
    assert response.status_code == 400


def test_dashboard_shows_the_base(web: TestClient) -> None:
    sign_in(web, "marketer")
    html = web.get("/dashboard").text
    assert "Cohort retention" in html and "Revenue by channel" in html
    assert "of revenue to date comes from the top 10%" in html
    assert "of lifetime value (CLV) lies with the top 10%" in html
    assert "Customers by RFM segment" in html and "Top customers by lifetime value" in html


def test_customer_360_shows_value(web: TestClient) -> None:
    sign_in(web, "agent")
    html = web.get(f"/customers/{web.app.state.ids['ann']}").text
    assert "Lifetime value (CLV)" in html and "P(alive) over time" in html
    assert "Lifecycle movements" in html
    by_clv = web.get("/customers", params={"sort": "clv", "direction": "desc"}).text
    assert re.search(r'<td class="num">€[\d,]+\.\d\d</td>', by_clv)  # the orders' currency


def test_money_is_shown_in_the_configured_currency(web: TestClient) -> None:
    sign_in(web, "marketer")
    settings = web.app.state.settings
    web.app.state.settings = settings.model_copy(update={"currency": "GBP"})
    try:
        listed = web.get("/customers", params={"sort": "clv", "direction": "desc"}).text
        dashboard = web.get("/dashboard").text
    finally:
        web.app.state.settings = settings
    assert re.search(r'<td class="num">£[\d,]+\.\d\d</td>', listed)
    assert "below £0" in dashboard and "€" not in dashboard


def test_admin_creates_a_user_and_a_key(web: TestClient) -> None:
    csrf = sign_in(web, "admin")
    made = web.post(
        "/admin/users",
        data={
            "email": "new@shop.example",
            "role": "agent",
            "password": "long-enough-1",
            "csrf_token": csrf,
        },
    )
    assert made.status_code == 200 and "new@shop.example" in made.text
    key = web.post("/admin/keys", data={"name": "crm-sync", "csrf_token": csrf})
    assert re.search(r"cbt_[\w-]{20,}", key.text)


def test_api_errors_stay_json(web: TestClient) -> None:
    response = web.get("/api/customers/1")
    assert response.status_code == 401 and response.json()["ok"] is False
    assert web.get("/no-such-thing").json()["status"] == 404


def test_open_redirect_is_refused(web: TestClient) -> None:
    token = csrf_of(web.get("/login").text)
    response = web.post(
        "/login",
        data={
            "email": "agent@demo.clientbook.dev",
            "password": "demo-agent-pass",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/customers"


def test_every_link_of_the_menu_opens(web: TestClient) -> None:
    sign_in(web, "admin")
    html = web.get("/customers").text
    links = set(re.findall(r'<li><a href="(/[a-z/]*)"', html))
    assert {"/dashboard", "/customers", "/segments", "/review", "/admin/users"} <= links
    for link in links | {"/admin/keys", "/admin/settings"}:
        assert web.get(link).status_code == 200, link


def test_agent_records_a_preference_and_a_consent(web: TestClient) -> None:
    csrf = sign_in(web, "agent")
    ann = web.app.state.ids["ann"]
    done = web.post(
        f"/customers/{ann}/preferences",
        data={"key": "contact_time", "value": "evenings <b>", "csrf_token": csrf},
    )
    assert done.status_code == 200
    assert "evenings &lt;b&gt;" in done.text and "via agent:agent@demo.clientbook.dev" in done.text
    withdrawn = web.post(
        f"/customers/{ann}/consents",
        data={
            "purpose": "marketing",
            "channel": "email",
            "status": "withdrawn",
            "csrf_token": csrf,
        },
    )
    assert withdrawn.status_code == 200
    assert re.search(r"Marketing by Email: <strong class=\"no\">withdrawn", withdrawn.text)
    bad = web.post(
        f"/customers/{ann}/consents",
        data={"purpose": "spam", "channel": "email", "status": "granted", "csrf_token": csrf},
    )
    assert bad.status_code == 400
