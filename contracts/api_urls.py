from django.urls import path
from rest_framework.routers import DefaultRouter

from contracts import api, api_people
from slaportal.tokens import TokenView

router = DefaultRouter()
router.register("customers", api.CustomerViewSet, basename="customer")
router.register("services", api.ServiceViewSet, basename="service")
router.register("calendars", api.CalendarViewSet, basename="calendar")
router.register("policies", api.PolicyViewSet, basename="policy")
router.register("contracts", api.ContractViewSet, basename="contract")
router.register("invoices", api.InvoiceViewSet, basename="invoice")
router.register("people", api_people.PersonViewSet, basename="person")
urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    *router.urls,
]
