from rest_framework.routers import SimpleRouter

from outages import api

# SimpleRouter: the API root view belongs to the contracts router already.
router = SimpleRouter()
router.register("outages", api.OutageViewSet, basename="outage")
# The engine's figures for a contract: contracts/{id}/availability/ (URL name
# contract-availability); the contracts app's router serves the contract itself.
router.register("contracts", api.ContractAvailabilityViewSet, basename="contract")
urlpatterns = router.urls
