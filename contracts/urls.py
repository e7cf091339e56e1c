from django.urls import path

from contracts import views

urlpatterns = [
    path("portal/people/", views.people, name="portal-people"),
    path("portal/people/add/", views.person_add, name="portal-person-add"),
    path("portal/people/<int:user_id>/", views.person_detail, name="portal-person"),
    path("portal/people/<int:user_id>/role/", views.person_role, name="portal-person-role"),
    path(
        "portal/people/<int:user_id>/deactivate/",
        views.person_deactivate,
        name="portal-person-deactivate",
    ),
    path(
        "portal/people/<int:user_id>/reactivate/",
        views.person_reactivate,
        name="portal-person-reactivate",
    ),
    path("portal/people/<int:user_id>/invite/", views.person_invite, name="portal-person-invite"),
]
