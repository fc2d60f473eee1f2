"""Appointments are not registered in the Django admin on purpose.

An appointment belongs to a case and names the client's meetings: that is
case content, which only the case's own managers may see and every read of
which is logged (tests/accounts/test_admin_impersonation.py). The admin would
show it to staff users outside the case and without a read log, so the
appointments are read and changed only through their views and services.
"""
