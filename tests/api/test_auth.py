from datetime import timedelta

import pytest
from django.core.cache import cache
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
        ({"email": "a@example.com", "password": "short"}, "password", "min_length"),
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
    assert response.json()["errors"] == [
        {"code": "token_not_valid", "detail": "The token is invalid, expired or revoked.", "attr": None}
    ]


# --- Refresh-token rotation and sign-out ---------------------------------------------------------


def sign_in(client, email: str = "bob@example.com", password: str = "a-long-enough-pass", **extra):
    return client.post("/api/v1/auth/token/", {"email": email, "password": password}, **extra)


@pytest.fixture
def bob(db) -> User:
    return UserFactory.create(email="bob@example.com", password="a-long-enough-pass")


def refresh(client, token: str):
    return client.post("/api/v1/auth/token/refresh/", {"refresh": token})


def test_a_refresh_rotates_the_refresh_token_and_revokes_the_old_one(api_client, bob):
    first = sign_in(api_client).json()["refresh"]

    rotated = refresh(api_client, first)
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first

    reused = refresh(api_client, first)  # e.g. stolen and replayed
    assert reused.status_code == 401
    assert reused["WWW-Authenticate"] == 'Bearer realm="api"'
    assert reused.json()["errors"][0]["code"] == "token_not_valid"
    assert refresh(api_client, rotated.json()["refresh"]).status_code == 200


def test_logout_revokes_the_refresh_token(api_client, bob):
    token = sign_in(api_client).json()["refresh"]

    response = api_client.post("/api/v1/auth/logout/", {"refresh": token})

    assert response.status_code == 204
    assert response.content == b""
    assert refresh(api_client, token).json()["errors"][0]["code"] == "token_not_valid"
    again = api_client.post("/api/v1/auth/logout/", {"refresh": token})
    assert again.status_code == 401
    assert again.json()["errors"][0]["code"] == "token_not_valid"


def test_logout_refuses_a_garbage_token(api_client):
    response = api_client.post("/api/v1/auth/logout/", {"refresh": "not.a.jwt"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_the_refresh_token_of_a_deleted_account_is_401(api_client, bob):
    token = sign_in(api_client).json()["refresh"]
    bob.delete()
    response = refresh(api_client, token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "no_active_account"


def test_sign_in_ignores_the_case_of_the_email(api_client, bob):
    assert sign_in(api_client, email="Bob@Example.COM").status_code == 200


# --- Failed sign-ins --------------------------------------------------------------------------------


@pytest.fixture
def limits(settings):
    cache.clear()
    settings.LOGIN_FAILURES_PER_CLIENT = 3
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    yield settings
    cache.clear()


def from_address(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def test_one_client_failing_on_an_account_is_refused_for_it_even_with_the_right_password(
    api_client, bob, limits
):
    for _ in range(3):
        assert sign_in(api_client, password="wrong", **from_address("10.0.0.1")).status_code == 401

    refused = sign_in(api_client, **from_address("10.0.0.1"))

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60 + 1
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert sign_in(api_client, **from_address("10.0.0.2")).status_code == 200  # the owner elsewhere


def test_someone_elses_failures_behind_the_same_address_never_refuse_a_correct_password(
    api_client, bob, limits
):
    UserFactory.create(email="noisy@example.com")
    for _ in range(10):
        sign_in(api_client, email="noisy@example.com", password="wrong", **from_address("10.0.0.9"))
    for _ in range(10):
        sign_in(api_client, email=f"nobody{_}@example.com", password="wrong", **from_address("10.0.0.9"))

    assert sign_in(api_client, **from_address("10.0.0.9")).status_code == 200


def test_failures_on_one_account_from_many_addresses_lock_that_account_only(api_client, bob, limits):
    for n in range(5):
        sign_in(api_client, password="wrong", **from_address(f"10.0.1.{n}"))

    assert sign_in(api_client, **from_address("10.0.2.1")).status_code == 429
    UserFactory.create(email="carol@example.com", password="a-long-enough-pass")
    assert sign_in(api_client, email="carol@example.com", **from_address("10.0.2.1")).status_code == 200


def test_a_successful_sign_in_forgives_the_clients_own_failures(api_client, bob, limits):
    for _ in range(2):
        sign_in(api_client, password="wrong", **from_address("10.0.0.1"))
    assert sign_in(api_client, **from_address("10.0.0.1")).status_code == 200
    for _ in range(2):
        sign_in(api_client, password="wrong", **from_address("10.0.0.1"))
    assert sign_in(api_client, **from_address("10.0.0.1")).status_code == 200


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer  "])
def test_a_malformed_authorization_header_is_one_401_error(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json()["errors"] == [
        {
            "code": "bad_authorization_header",
            "detail": "Authorization header must contain two space-delimited values",
            "attr": None,
        }
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"refresh": "a\x00b"}, "null_characters_not_allowed"),
        ({"refresh": 5}, "invalid"),
        ({}, "required"),
    ],
)
def test_a_refresh_body_outside_the_schema_is_400(api_client, body, code):
    response = api_client.post("/api/v1/auth/token/refresh/", body)
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("refresh", code)]


@pytest.mark.parametrize("path", ["/api/v1/auth/token/refresh/", "/api/v1/auth/logout/"])
def test_a_blank_refresh_token_is_a_401_not_a_400(api_client, path):
    response = api_client.post(path, {"refresh": "\n"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"
