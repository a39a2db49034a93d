"""Each practice on its own host: subdomain, custom domain, unknown hosts, branding."""

from portal.clients import tiers


def test_unknown_host_gets_a_friendly_404(client, make):
    make.practice("demo")
    response = client.on("nobody.localhost").get("/office/login",
                                                 headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_bare_domain_shows_a_landing_page_naming_no_practice(client, make):
    make.practice("demo", name="Bakker & Visser")
    response = client.on("localhost").get("/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Bakker" not in body
    assert client.on("localhost").get("/office/login").status_code == 404


def test_custom_domain_serves_the_practice(client, make):
    demo = make.practice("demo", name="Bakker & Visser")
    make.domain(demo, "portaal.bakkervisser.nl")
    response = client.on("portaal.bakkervisser.nl").get("/office/login")
    assert response.status_code == 200
    assert "Bakker &amp; Visser" in response.get_data(as_text=True)


def test_pages_carry_the_practice_name_and_stylesheet(client, make):
    make.practice("demo", name="Bakker & Visser", brand_color="#123456")
    body = client.get("/login").get_data(as_text=True)
    assert "<title>Sign in · Bakker &amp; Visser</title>" in body or "Bakker &amp; Visser" in body
    css = client.get("/theme.css").get_data(as_text=True)
    assert "--brand: #123456;" in css


def test_stylesheet_is_cached_by_version_and_revalidated_by_etag(client, make):
    make.practice("demo", brand_color="#123456")
    first = client.get("/theme.css")
    etag = first.headers["ETag"].strip('"')
    assert first.headers["Cache-Control"] == "no-cache"
    versioned = client.get(f"/theme.css?v={etag}")
    assert "immutable" in versioned.headers["Cache-Control"]
    again = client.get("/theme.css", headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304


def test_each_practice_gets_its_own_colours(client, make):
    make.practice("demo", brand_color="#123456")
    make.practice("other", theme="harbour")
    assert "#123456" not in client.on("other.localhost").get("/theme.css").get_data(as_text=True)


def test_logo_is_served_for_the_practice_that_has_one(client, make):
    make.practice("demo", logo=b"\x89PNG fake", logo_type="image/png", logo_hash="ab" * 32)
    make.practice("other")
    response = client.get("/brand/logo")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert client.on("other.localhost").get("/brand/logo").status_code == 404


def test_client_portal_lists_only_the_users_companies_of_this_practice(client, make):
    demo = make.practice("demo")
    mine = make.client(demo, tiers.COLLABORATE_PLUS, name="Mijn Bedrijf")
    make.client(demo, tiers.COLLABORATE_PLUS, name="Ander Bedrijf")
    user = make.client_user(demo, mine)
    client.login_client(user.email)
    body = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Mijn Bedrijf" in body and "Ander Bedrijf" not in body


def test_health_check_answers_on_any_host(client, make):
    assert client.on("localhost").get("/healthz").get_json()["status"] == "ok"
