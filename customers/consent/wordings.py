"""The first published consent wordings (version 1), shipped by migration privacy 0002.

Never edit these texts: people have agreed to them. A new text is a new version, added by a
manager in the admin. post_migrate re-creates them only where no wording exists at all for a
(purpose, language), which happens on a fresh or flushed database (tests), never over a
manager's versions.
"""
import datetime as dt

INITIAL_VERSION = "1"
INITIAL_PUBLISHED_AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

INITIAL_WORDINGS: dict[tuple[str, str], str] = {
    ("marketing_email", "en"): (
        "I give my explicit consent to receive commercial electronic messages by email "
        "(offers, discounts and news) and to the processing of my name and email address for "
        "this purpose. I know that I can withdraw this consent at any time, free of charge and "
        "without giving a reason, with the unsubscribe link in every email."
    ),
    ("marketing_email", "tr"): (
        "6698 sayılı Kişisel Verilerin Korunması Kanunu ve 6563 sayılı Elektronik Ticaretin "
        "Düzenlenmesi Hakkında Kanun kapsamında; kampanya, indirim ve yeniliklerle ilgili ticari "
        "elektronik iletilerin e-posta yoluyla tarafıma gönderilmesine ve bu amaçla adımın, "
        "soyadımın ve e-posta adresimin işlenmesine açık rıza veriyorum. Bu onayı dilediğim "
        "zaman, her e-postadaki abonelikten çıkma bağlantısıyla ücretsiz ve gerekçe "
        "göstermeksizin geri alabileceğimi biliyorum."
    ),
}


def seed_initial_wordings(ConsentWording) -> int:  # noqa: N803 - a (historical) model class
    """Create version 1 for each (purpose, language) that has no wording yet."""
    created = 0
    for (purpose, language), text in INITIAL_WORDINGS.items():
        if not ConsentWording.objects.filter(purpose=purpose, language=language).exists():
            ConsentWording.objects.create(purpose=purpose, language=language,
                                          version=INITIAL_VERSION, text=text,
                                          published_at=INITIAL_PUBLISHED_AT)
            created += 1
    return created
