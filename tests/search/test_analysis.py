"""The bilingual analyzer: normalisation before tokenising, careful prefixes, stemming, offsets."""

from helpdesk.search.analysis import bilingual_analyzer, normalise, normalise_text, words


def terms(text: str) -> list[str]:
    return [t.text for t in bilingual_analyzer()(text)]


def test_diacritics_and_tatweel_do_not_split_a_word():
    assert words("الطَّلَبُ") == ["الطلب"]
    assert words("كـــود") == ["كود"]


def test_alef_ta_marbuta_and_alef_maqsura_are_unified():
    assert normalise_text("أإآ ة ى") == "ااا ه ي"
    assert terms("الفاتورة الضريبية") == terms("الفاتوره الضريبيه")


def test_article_and_attached_prepositions_are_removed():
    assert terms("الطلب") == terms("طلب") == terms("بالطلب") == terms("للطلب")
    assert terms("وبالتقسيط") == terms("التقسيط")


def test_plurals_and_possessives_share_a_stem():
    assert terms("الطلبات")[0] == terms("طلبي")[0] == terms("طلباتي")[0] == "طلب"
    assert terms("البطاقات")[0] == terms("بطاقة")[0]


def test_a_word_that_starts_with_a_prefix_letter_keeps_its_own_reading():
    assert terms("بطاقة")[0] == "بطاق"
    assert terms("كود") == ["كود"]


def test_english_is_stemmed_and_stop_words_of_both_languages_dropped():
    assert terms("How are the refunds processed") == ["refund", "process"]
    assert terms("وين طلبي") == ["طلب"]


def test_character_offsets_point_into_the_original_text():
    text = "شحن الطَّلَبِ"
    token = [t for t in bilingual_analyzer()(text, chars=True)][-1]
    assert text[token.startchar : token.endchar] == "الطَّلَبِ"


def test_offsets_hold_with_and_without_diacritics_and_for_letters_that_grow_when_lowered():
    # Text with no diacritic takes a shortcut (each character stays where it was); the others are
    # mapped character by character. Both must point at the same words.
    for text in ["Refund of ORDER الطلب", "Refund of ORDER الطَّلَب", "İstanbul ORDER الطلب"]:
        found = [text[t.startchar : t.endchar] for t in bilingual_analyzer()(text, chars=True)]
        assert found[-2:] == ["ORDER", text.split()[-1]]
    assert normalise("Ab الطَّلَب") == ("ab الطلب", [0, 1, 2, 3, 4, 5, 8, 10])
    text, origins = normalise("Ab Cd")
    assert (text, list(origins)) == ("ab cd", [0, 1, 2, 3, 4])
