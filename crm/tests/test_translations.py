"""The Turkish catalog is complete and safe, it compiles without GNU gettext, and no visible
text escapes translation."""
import gettext
import io
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from crm.translations import catalog_files, compile_catalog, placeholder_problems, placeholders

TURKISH = Path(settings.BASE_DIR) / "locale" / "tr" / "LC_MESSAGES" / "django.po"
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def read_catalog(path: Path = TURKISH):
    with path.open("rb") as source:
        return read_po(source, locale="tr", abort_invalid=True)


def messages(path: Path = TURKISH) -> list:
    return [message for message in read_catalog(path) if message.id]


# --- The catalog ----------------------------------------------------------------------------
def test_the_catalog_is_the_only_one_and_says_how_turkish_plurals_work():
    catalog = read_catalog()

    assert catalog_files(settings.LOCALE_PATHS) == [TURKISH]
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    assert not catalog.fuzzy


def test_every_message_is_translated_and_none_is_fuzzy():
    untranslated = [message.id for message in messages()
                    if not all(message.string if isinstance(message.string, tuple)
                               else (message.string,))]
    fuzzy = [message.id for message in messages() if message.fuzzy]

    assert (untranslated, fuzzy) == ([], [])


def test_plural_messages_have_both_forms():
    plurals = [message for message in messages() if message.pluralizable]

    assert plurals
    assert [m.id for m in plurals if len(m.string) != 2 or not all(m.string)] == []


def test_every_translation_keeps_the_placeholders_of_its_message():
    problems = [(message.id, problem) for message in messages()
                for problem in placeholder_problems(message.id, message.string)]

    assert problems == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Line %(line)d: %(error)s", {"%(line)d": 1, "%(error)s": 1}),
    ("%(pct)s%% of them", {"%(pct)s": 1}),
    ("Emailed, with 95% confidence intervals.", {}),
    ("60% or more", {}),
    ("%s and %d and %.2f", {"%s": 1, "%d": 1, "%.2f": 1}),
    ("Hello {name}, code {{ coupon.code }}", {"{name}": 1, "{{ coupon.code }}": 1}),
])
def test_placeholders_are_found_but_percent_signs_are_not(text, expected):
    assert dict(placeholders(text)) == expected


def test_a_renamed_or_lost_placeholder_is_a_problem():
    assert placeholder_problems("Test sent to %(email)s.", "%(mail)s adresine gönderildi.")
    assert placeholder_problems(("%(count)d purchase", "%(count)d purchases"),
                                ("%(count)d satın alma", "satın almalar"))
    assert placeholder_problems("Difference (95%% interval)", "Fark (%%95 aralık)") == []


def test_turkish_texts_are_really_turkish():
    translations = {message.id: message.string for message in messages()}

    assert translations["Contacts"] == "Kişiler"
    assert translations["One-time buyer"] == "Tek seferlik alıcı"
    assert translations["Repeat client"] == "Tekrar eden müşteri"
    assert translations["Prospect"] == "Potansiyel müşteri"
    assert translations["Unsubscribe"] == "Abonelikten çık"
    assert translations["follow-up task"] == "takip görevi"
    # Translations that are the same as the English are brand names and codes only.
    same = sorted(message.id for message in messages() if message.string == message.id)
    assert same == ["%(file)s: %(problem)s", "API", "AUC", "BG/NBD", "CRM", "HTML", "Message-ID", "Model", "Pareto/NBD",
                    "REST API", "SKU", "URL", "WhatsApp", "[Test] %(subject)s", "cron %(expression)s"]


# --- Compiling with Babel -------------------------------------------------------------------
@pytest.fixture
def locale_copy(tmp_path):
    target = tmp_path / "locale" / "tr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(TURKISH, target / "django.po")
    return tmp_path / "locale"


def test_compile_translations_writes_a_catalog_that_gettext_reads(locale_copy):
    with override_settings(LOCALE_PATHS=[locale_copy]):
        call_command("compile_translations", stdout=io.StringIO())

    with (locale_copy / "tr" / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    assert compiled.gettext("Purchase history") == "Satın alma geçmişi"
    assert compiled.ngettext("%(count)d purchase", "%(count)d purchases", 3) \
        == "%(count)d satın alma"
    assert compiled.info()["plural-forms"] == "nplurals=2; plural=(n != 1);"


def write_po(path: Path, entries: str) -> Path:
    path.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
                    '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n' + entries,
                    encoding="utf-8")
    return path


def test_a_renamed_placeholder_fails_loudly_and_writes_nothing(locale_copy):
    po = write_po(locale_copy / "tr" / "LC_MESSAGES" / "django.po",
                  '#, python-format\nmsgid "Test sent to %(email)s."\n'
                  'msgstr "%(eposta)s adresine gönderildi."\n')

    with override_settings(LOCALE_PATHS=[locale_copy]), \
            pytest.raises(CommandError, match=r"eposta"):
        call_command("compile_translations")
    assert not po.with_suffix(".mo").exists()


def test_a_po_file_left_with_a_merge_conflict_fails_loudly(locale_copy):
    write_po(locale_copy / "tr" / "LC_MESSAGES" / "django.po",
             '<<<<<<< HEAD\nmsgid "Contacts"\nmsgstr "Kişiler"\n=======\n>>>>>>> other\n')

    with override_settings(LOCALE_PATHS=[locale_copy]), pytest.raises(CommandError):
        call_command("compile_translations")


def test_no_catalog_at_all_fails_loudly(tmp_path):
    with override_settings(LOCALE_PATHS=[tmp_path]), pytest.raises(CommandError):
        call_command("compile_translations")


def test_fuzzy_entries_are_left_out_as_msgfmt_does(tmp_path):
    po = write_po(tmp_path / "django.po", '#, fuzzy\nmsgid "Contacts"\nmsgstr "Kontaklar"\n\n'
                                          'msgid "Today"\nmsgstr "Bugün"\n')

    with compile_catalog(po).open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    assert (compiled.gettext("Contacts"), compiled.gettext("Today")) == ("Contacts", "Bugün")


# --- Nothing escapes translation ------------------------------------------------------------
@pytest.mark.skipif(not shutil.which("xgettext"), reason="makemessages needs GNU gettext")
def test_makemessages_would_find_no_new_or_removed_strings(tmp_path, monkeypatch):
    # Run makemessages as written in the catalog's header, on a copy of the sources, so the
    # real catalog is never touched.
    base = Path(settings.BASE_DIR)
    skipped = {".venv", "node_modules", "var", "test-artifacts", "locale", ".git"}
    folders = [path for path in base.iterdir() if path.is_dir() and path.name not in skipped]
    sources = [*base.glob("*.py"), *(source for folder in folders
                                     for pattern in ("*.py", "*.html", "*.txt")
                                     for source in folder.rglob(pattern))]
    for source in sources:
        relative = source.relative_to(base)
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, tmp_path / relative)
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        (tmp_path / "locale").mkdir()
        call_command("makemessages", locale=["tr"], verbosity=0,
                     ignore_patterns=[".venv", "node_modules", "var", "test-artifacts"])

    fresh = {message.id for message in messages(tmp_path / "locale/tr/LC_MESSAGES/django.po")}
    ours = {message.id for message in messages()}
    assert (sorted(map(str, fresh - ours)), sorted(map(str, ours - fresh))) == ([], [])


# Visible text in a template: a text node, or a placeholder/title/aria-label/alt attribute,
# once tags, variables, comments and translated blocks are taken out.
DJANGO_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
BLOCK_TRANSLATE = re.compile(r"\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}",
                             re.S)
CODE = re.compile(r"<(script|style)\b.*?</\1>", re.S)
TEXT_NODE = re.compile(r">([^<>]*)<")
TEXT_ATTRIBUTE = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"')
LETTERS = re.compile(r"[^\W\d_]{2,}")
ALLOWED = {"&rsaquo;", "&lsaquo;", "&nbsp;", "&middot;", "&mdash;", "&times;"}


def untranslated_text(source: str) -> list[str]:
    visible = DJANGO_TAG.sub(" ", CODE.sub("", BLOCK_TRANSLATE.sub("", source)))
    texts = [*TEXT_NODE.findall(visible), *TEXT_ATTRIBUTE.findall(visible)]
    return [text.strip() for text in texts
            if text.strip() not in ALLOWED and LETTERS.search(text)]


def test_the_template_scanner_finds_plain_text():
    assert untranslated_text('<p class="x">Hello {{ name }}</p>') == ["Hello"]
    assert untranslated_text('<input placeholder="Name or email">') == ["Name or email"]
    assert untranslated_text('<p>{% translate "Hello" %}</p><a title="{% translate \'x\' %}">'
                             '{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}</a>') == []


def test_no_template_shows_untranslated_text():
    found = {str(path.relative_to(TEMPLATES)): untranslated_text(path.read_text("utf-8"))
             for path in sorted(TEMPLATES.rglob("*.html"))}

    assert {name: texts for name, texts in found.items() if texts} == {}
