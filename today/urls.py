from django.urls import path

from . import views

app_name = "today"

urlpatterns = [
    path("", views.home, name="home"),
    path("notices/settings/", views.notice_settings, name="settings"),
    path("notices/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
