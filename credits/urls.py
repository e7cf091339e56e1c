"""Service credit pages: the account manager's approval queue, the customer's credits,
and invoices with their credit lines for customers and staff."""

from django.urls import path

from credits import views

urlpatterns = [
    path("am/credits/", views.credit_queue, name="am-credits"),
    path("am/credits/<int:credit_id>/", views.credit_detail, name="am-credit"),
    path("am/credits/<int:credit_id>/approve/", views.credit_approve, name="am-credit-approve"),
    path("am/credits/<int:credit_id>/reject/", views.credit_reject, name="am-credit-reject"),
    path("am/credits/<int:credit_id>/direct/", views.credit_direct, name="am-credit-direct"),
    path("am/invoices/", views.staff_invoice_list, name="am-invoices"),
    path("am/invoices/<int:invoice_id>/", views.staff_invoice_detail, name="am-invoice"),
    path("portal/credits/", views.customer_credits, name="portal-credits"),
    path("portal/invoices/", views.customer_invoice_list, name="portal-invoices"),
    path("portal/invoices/<int:invoice_id>/", views.customer_invoice_detail, name="portal-invoice"),
]
