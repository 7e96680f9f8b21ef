from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import CustomerProfile, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_register_then_get_tokens_then_refresh(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "Ann@Example.com", "password": "a-long-enough-pass"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "ann@example.com"
    user = User.objects.get(email="ann@example.com")
    assert CustomerProfile.objects.filter(user=user).exists()
    assert "password" not in response.json()

    tokens = api_client.post(
        "/api/v1/auth/token/", {"email": "ann@example.com", "password": "a-long-enough-pass"}
    ).json()
    assert set(tokens) == {"access", "refresh"}
    assert AccessToken(tokens["access"])["user_id"] == str(user.pk)

    refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    assert "access" in refreshed.json()

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert api_client.get("/api/v1/orders/").status_code == 200


def test_register_twice_with_the_same_email_is_refused(api_client):
    UserFactory.create(email="taken@example.com")
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "TAKEN@example.com", "password": "x-long-pass-9"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "email_taken", "detail": "A user with this e-mail address already exists.", "attr": "email"}
    ]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"email": "not-an-email", "password": "a-long-enough-pass"}, "email", "invalid"),
        ({"email": "a@example.com", "password": "short"}, "password", "password_too_short"),
        ({"email": "a@example.com", "password": "password"}, "password", "password_too_common"),
        ({"password": "a-long-enough-pass"}, "email", "required"),
    ],
)
def test_register_validates_input(api_client, body, attr, code):
    response = api_client.post("/api/v1/auth/register/", body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert (errors[0]["attr"], errors[0]["code"]) == (attr, code)
    assert User.objects.count() == 0


def test_wrong_password_gets_no_token(api_client):
    UserFactory.create(email="bob@example.com")
    response = api_client.post("/api/v1/auth/token/", {"email": "bob@example.com", "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "no_active_account"


def test_missing_token_is_401(api_client):
    response = api_client.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "not_authenticated",
                "detail": "Authentication credentials were not provided.",
                "attr": None,
            }
        ],
    }


def test_expired_token_is_401(api_client, customer):
    token = AccessToken.for_user(customer)
    token.set_exp(lifetime=-timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_garbage_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    response = api_client.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"
