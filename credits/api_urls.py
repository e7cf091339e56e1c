from rest_framework.routers import SimpleRouter

from credits import api, note_api

# SimpleRouter: the API root view belongs to the contracts router already.
router = SimpleRouter()
router.register("credits", api.CreditViewSet, basename="credit")
router.register("ledger", api.LedgerViewSet, basename="ledger-entry")
router.register("credit-notes", note_api.CreditNoteViewSet, basename="credit-note")
urlpatterns = router.urls
