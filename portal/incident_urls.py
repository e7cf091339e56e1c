"""Filled in by the incidents work (issue 18)."""

urlpatterns: list = []
