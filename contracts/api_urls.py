from rest_framework.routers import DefaultRouter

from contracts import api

router = DefaultRouter()
router.register("customers", api.CustomerViewSet, basename="customer")
router.register("services", api.ServiceViewSet, basename="service")
router.register("calendars", api.CalendarViewSet, basename="calendar")
router.register("policies", api.PolicyViewSet, basename="policy")
router.register("contracts", api.ContractViewSet, basename="contract")
router.register("invoices", api.InvoiceViewSet, basename="invoice")
urlpatterns = router.urls
