from rest_framework.routers import SimpleRouter

from outages import api

# SimpleRouter: the API root view belongs to the contracts router already.
router = SimpleRouter()
router.register("outages", api.OutageViewSet, basename="outage")
urlpatterns = router.urls
