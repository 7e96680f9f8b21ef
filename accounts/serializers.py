from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from pro_platform.fields import StrictCharField, StrictEmailField, StrictRegexField

from .models import User

# What Django's password validators (AUTH_PASSWORD_VALIDATORS) answer with.
PASSWORD_POLICY_CODES = ["password_too_similar", "password_too_common", "password_entirely_numeric"]
MIN_PASSWORD_LENGTH = 8  # MinimumLengthValidator's, checked by the field so the schema says it


class RegisterInputSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    password = StrictCharField(
        write_only=True,
        min_length=MIN_PASSWORD_LENGTH,
        max_length=128,
        style={"input_type": "password"},
        help_text=" ".join(password_validation.password_validators_help_texts()),
    )

    def validate(self, attrs: dict) -> dict:
        try:
            password_validation.validate_password(attrs["password"], User(email=attrs["email"]))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                {
                    "password": [
                        serializers.ErrorDetail(e.message % (e.params or {}), code=e.code)
                        for e in exc.error_list
                    ]
                }
            ) from exc
        return attrs


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "email", "date_joined")


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    telegram_chat_id = StrictRegexField(
        r"^-?\d{1,20}$",
        allow_blank=True,
        max_length=21,
        help_text="Your Telegram chat id (a number; ask @userinfobot). Empty to unlink.",
    )


class SignInInputSerializer(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, style={"input_type": "password"})


class RefreshInputSerializer(serializers.Serializer):
    refresh = StrictCharField(help_text="A refresh token from signing in or the last refresh.")


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`; short-lived.")
    refresh = serializers.CharField(help_text="Trade it for new tokens once; it rotates on every use.")
