from rest_framework.routers import SimpleRouter

from statements import api

# SimpleRouter: the API root view belongs to the contracts router already.
router = SimpleRouter()
router.register("statements", api.StatementViewSet, basename="statement")
router.register("statement-runs", api.StatementRunViewSet, basename="statement-run")
urlpatterns = router.urls
