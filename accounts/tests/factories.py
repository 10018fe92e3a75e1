import factory
from django.contrib.auth.models import Group, Permission

from accounts.models import User
from accounts.roles import MANAGERS, SALES_STAFF, sync_role_permissions


def role_group(name: str) -> Group:
    """The role's group; transactional tests flush what the data migration created."""
    if not Group.objects.filter(name=name).exists():
        sync_role_permissions(Group, Permission)
    return Group.objects.get(name=name)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")


class SalesStaffFactory(UserFactory):
    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(role_group(SALES_STAFF))


class ManagerFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(role_group(MANAGERS))
