"""Operations back-office pages: outages and the staff availability view of contracts."""

from django.urls import path

from outages import availability_page, views

urlpatterns = [
    path("ops/", views.outage_list, name="ops-home"),
    path("ops/outages/new/", views.outage_new, name="ops-outage-new"),
    path("ops/outages/<int:outage_id>/", views.outage_detail, name="ops-outage"),
    path("ops/outages/<int:outage_id>/edit/", views.outage_edit, name="ops-outage-edit"),
    path("ops/outages/<int:outage_id>/updates/", views.outage_update, name="ops-outage-update"),
    path("ops/outages/<int:outage_id>/close/", views.outage_close, name="ops-outage-close"),
    path("ops/contracts/", views.contract_list, name="ops-contracts"),
    path(
        "ops/contracts/<int:contract_id>/availability/",
        availability_page.contract_availability_page,
        name="ops-contract-availability",
    ),
]
