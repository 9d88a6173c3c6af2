"""The templates' ``t``: one language's texts with the Dutch ones behind them."""

from shared.content import Answer
from shared.web import Translator, catalogue, translate, translator


def test_each_language_reads_its_own_catalogue_and_names_what_it_lacks():
    assert translate("nl", "respond.comment_max", max=2000) == "Hoogstens 2000 tekens."
    assert translate("en", "respond.comment_max", max=2000) == "At most 2000 characters."
    assert translate("en", "no.such.key") == "no.such.key"


def test_a_text_missing_in_english_falls_back_to_dutch(monkeypatch):
    english = {k: v for k, v in catalogue("en").items() if k != "respond.save"}
    english["respond.submit"] = ""  # an empty text counts as missing
    monkeypatch.setattr("shared.web.catalogue",
                        lambda lang: english if lang == "en" else catalogue("nl"))
    t = Translator("en")
    assert t("respond.save") == catalogue("nl")["respond.save"]
    assert t("respond.submit") == catalogue("nl")["respond.submit"]
    assert t("respond.comment") == catalogue("en")["respond.comment"]


def test_labels_translate_every_choice_once_for_a_page():
    labels = translator("en").labels("answer.", list(Answer))
    assert labels[Answer.VOLLEDIG] == "Fully"
    assert labels["weet_niet"] == "Don't know"
    assert set(labels) == set(Answer)
