from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views
from .forms import PasswordResetForm

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(
            success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordResetForm,
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("accounts:password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/two-factor/", views.two_factor_page, name="two_factor"),
    path("accounts/two-factor/set-up/", views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("districts/<int:pk>/members/", views.members, name="members"),
    path("districts/<int:pk>/members/invite/", views.invite, name="invite"),
    path("memberships/<int:pk>/remove/", views.membership_remove, name="membership_remove"),
    path("memberships/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("memberships/<int:pk>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("memberships/<int:pk>/resend/", views.membership_resend, name="membership_resend"),
]
