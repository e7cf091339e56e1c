from django.urls import path

from tickets.views import desk, portal

urlpatterns = [
    path("portal/tickets/", portal.ticket_list, name="portal-tickets"),
    path("portal/tickets/new/", portal.ticket_new, name="portal-ticket-new"),
    path("portal/tickets/<int:ticket_id>/", portal.ticket_detail, name="portal-ticket"),
    path("portal/tickets/<int:ticket_id>/reply/", portal.ticket_reply, name="portal-ticket-reply"),
    path(
        "portal/tickets/<int:ticket_id>/status/", portal.ticket_status, name="portal-ticket-status"
    ),
    path(
        "portal/tickets/<int:ticket_id>/watchers/",
        portal.ticket_watchers,
        name="portal-ticket-watchers",
    ),
    path(
        "portal/tickets/<int:ticket_id>/files/<int:attachment_id>/",
        portal.attachment_download,
        name="portal-ticket-file",
    ),
    # The queue is the agent's home page (it replaces the placeholder of the same name).
    path("desk/", desk.queue, name="desk-home"),
    path("desk/tickets/new/", desk.ticket_log, name="desk-ticket-new"),
    path("desk/tickets/<int:ticket_id>/", desk.ticket_detail, name="desk-ticket"),
    path("desk/tickets/<int:ticket_id>/reply/", desk.ticket_reply, name="desk-ticket-reply"),
    path("desk/tickets/<int:ticket_id>/take/", desk.ticket_take, name="desk-ticket-take"),
    path("desk/tickets/<int:ticket_id>/assign/", desk.ticket_assign, name="desk-ticket-assign"),
    path("desk/tickets/<int:ticket_id>/status/", desk.ticket_status, name="desk-ticket-status"),
    path(
        "desk/tickets/<int:ticket_id>/reclassify/",
        desk.ticket_reclassify,
        name="desk-ticket-reclassify",
    ),
    path(
        "desk/tickets/<int:ticket_id>/files/<int:attachment_id>/",
        desk.attachment_download,
        name="desk-ticket-file",
    ),
]
