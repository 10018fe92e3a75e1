"""System checks of the shop connectors (registered from ShopsConfig.ready)."""
from django.core.checks import Error, Tags, register

from . import crypto


@register(Tags.security, deploy=True)
def encryption_keys_check(app_configs, **kwargs) -> list[Error]:
    """Production keeps stores' credentials under a key of its own (shops/crypto.py), not one
    derived from SECRET_KEY: the settings file alone must not give them away."""
    keys = crypto.configured_keys()
    hint = ('Set CRM_SHOPS_ENCRYPTION_KEYS to a Fernet key: python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"')
    if not keys:
        return [Error("CRM_SHOPS_ENCRYPTION_KEYS is not set: connected stores' credentials "
                      "would be encrypted with a key derived from SECRET_KEY.",
                      hint=hint, id="shops.E001")]
    try:
        crypto.encrypt({})
    except ValueError as error:
        return [Error(f"CRM_SHOPS_ENCRYPTION_KEYS holds a key that is not a Fernet key "
                      f"({error}).", hint=hint, id="shops.E001")]
    return []
