"""Revealing a confidential address: entitled users only, a stated reason, every reveal logged."""

from tests.test_accounts import PASSWORD, add_user, csrf_token, login

MARILLAC_STREET = "Northgate Avenue"


def marillac(app) -> str:
    from directory.db import get_db

    with app.app_context():
        return (
            get_db().execute("select id from service where name = 'Marillac Hills'").fetchone()[0]
        )


def reveals(app) -> list[tuple]:
    from directory.db import get_db

    with app.app_context():
        rows = get_db().execute(
            "select actor_email, target_id, detail from audit_log where action = 'reveal_address'"
        )
        return [tuple(r) for r in rows]


def test_a_partner_reveals_with_a_reason_and_it_is_logged(writable_app):
    add_user(writable_app, "partner@example.org", "partner", orgs=())
    client = writable_app.test_client()
    assert login(client, "partner@example.org", PASSWORD).status_code == 302
    sid = marillac(writable_app)
    page = client.get(f"/services/{sid}").get_data(as_text=True)
    assert MARILLAC_STREET not in page and 'name="reason"' in page
    token = csrf_token(page.split('class="reveal"', 1)[1])
    shown = client.post(f"/services/{sid}/reveal", data={"reason": "", "csrf_token": token})
    assert shown.status_code == 400 and MARILLAC_STREET not in shown.get_data(as_text=True)
    data = {"reason": "Referral of a 14-year-old, case 22", "csrf_token": token}
    shown = client.post(f"/services/{sid}/reveal", data=data)
    assert shown.status_code == 200 and MARILLAC_STREET in shown.get_data(as_text=True)
    assert "no-store" in shown.headers["Cache-Control"]
    [(email, target, detail)] = reveals(writable_app)
    assert (email, target) == ("partner@example.org", sid) and "case 22" in detail


def test_the_public_and_other_organisations_cannot_reveal(writable_app):
    sid = marillac(writable_app)
    anonymous = writable_app.test_client()
    page = anonymous.get(f"/services/{sid}").get_data(as_text=True)
    assert 'name="reason"' not in page
    assert anonymous.post(f"/services/{sid}/reveal", data={"reason": "x"}).status_code in (400, 403)
    from directory.db import get_db

    with writable_app.app_context():
        other_org = (
            get_db()
            .execute(
                "select id from organization where id != (select organization_id from service "
                "where name = 'Marillac Hills') limit 1"
            )
            .fetchone()[0]
        )
    add_user(writable_app, "other@example.org", "editor", orgs=(other_org,))
    other = writable_app.test_client()
    login(other, "other@example.org", PASSWORD)
    page = other.get(f"/services/{sid}").get_data(as_text=True)
    assert 'name="reason"' not in page
    token = csrf_token(other.get("/account/password").get_data(as_text=True))
    response = other.post(f"/services/{sid}/reveal", data={"reason": "x", "csrf_token": token})
    assert response.status_code == 403 and MARILLAC_STREET not in response.get_data(as_text=True)
    assert reveals(writable_app) == []
