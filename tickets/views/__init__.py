"""Ticket pages: the customer portal (``portal``) and the support desk (``desk``)."""
