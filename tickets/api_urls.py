from rest_framework.routers import SimpleRouter

from tickets import api

# SimpleRouter: the API root view belongs to the contracts router already.
router = SimpleRouter()
router.register("tickets", api.TicketViewSet, basename="ticket")
urlpatterns = router.urls
