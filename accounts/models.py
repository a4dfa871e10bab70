"""Accounts: people sign in with their e-mail address. There is no open sign-up."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from schools.dates import shown_datetime


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, email):
        # Addresses are stored lower-case; people type them any way.
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    username = None
    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    # The district whose admin switched the account off; empty when it is on, or when a site
    # superuser switched it off. Only that district's admins may switch it on again
    # (accounts.services.account_switch_refusal), so a role given to a switched-off account
    # by invitation is no way to revive it.
    switched_off_in = models.ForeignKey(
        "schools.District",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]


class UserSession(models.Model):
    """Which sessions belong to which user, so deactivating a user can end them all.

    Django's session table stores the user id only inside the encoded session data; this
    index is written at sign-in and removed at sign-out.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} · {shown_datetime(self.created_at)}"
