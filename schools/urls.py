from django.urls import path

from . import views

app_name = "schools"

urlpatterns = [
    path("schools/", views.school_list, name="school_list"),
    path("schools/<int:pk>/", views.school_detail, name="school_detail"),
    path("schools/<int:pk>/edit/", views.school_edit, name="school_edit"),
    path("schools/<int:pk>/staff/", views.staff_list, name="staff_list"),
    path("schools/<int:pk>/staff/add/", views.staff_add, name="staff_add"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("districts/<int:pk>/settings/", views.district_settings, name="district_settings"),
    path("search/", views.search, name="search"),
]
