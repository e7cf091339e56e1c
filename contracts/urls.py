from django.urls import path

from contracts import profile, two_factor, views

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
    # Anyone's own time zone and e-mail choices (contracts/profile.py).
    path("accounts/profile/", profile.profile, name="profile"),
    # A second factor for account managers and administrators (contracts/two_factor.py).
    path("accounts/two-factor/", two_factor.two_factor_manage, name="two-factor"),
    path("accounts/two-factor/setup/", two_factor.two_factor_setup, name="two-factor-setup"),
    path("accounts/two-factor/verify/", two_factor.two_factor_verify, name="two-factor-verify"),
    path(
        "accounts/two-factor/recovery-codes/",
        two_factor.two_factor_codes_renew,
        name="two-factor-codes-renew",
    ),
]
