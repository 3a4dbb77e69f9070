"""Word lists for generated text: support-desk vocabulary in English and Arabic (written for the
benchmark; the sentences mean little, the words and their frequencies look like real tickets)."""

from __future__ import annotations

import random

EN_TOPICS = [
    "order",
    "delivery",
    "refund",
    "payment",
    "invoice",
    "return",
    "warranty",
    "shipment",
    "tracking",
    "courier",
    "package",
    "parcel",
    "card",
    "charge",
    "coupon",
    "discount",
    "exchange",
    "size",
    "colour",
    "account",
    "password",
    "address",
    "phone",
    "subscription",
    "cancellation",
    "damage",
    "replacement",
    "receipt",
    "installment",
    "wallet",
    "voucher",
    "stock",
    "gift",
    "battery",
    "screen",
    "charger",
]
EN_VERBS = [
    "arrived",
    "failed",
    "charged",
    "cancelled",
    "returned",
    "shipped",
    "delayed",
    "broke",
    "changed",
    "received",
    "ordered",
    "paid",
    "tracked",
    "opened",
    "updated",
    "confirmed",
    "refunded",
    "missed",
]
EN_FILLER = [
    "the",
    "my",
    "a",
    "was",
    "is",
    "not",
    "yet",
    "still",
    "please",
    "again",
    "today",
    "yesterday",
    "last",
    "week",
    "and",
    "but",
    "with",
    "from",
    "for",
    "to",
    "on",
    "in",
    "when",
    "why",
    "how",
    "can",
    "you",
    "I",
    "we",
    "it",
    "this",
    "that",
    "help",
    "check",
    "need",
    "want",
    "wrong",
    "late",
    "twice",
]
AR_TOPICS = [
    "الطلب",
    "التوصيل",
    "الاسترداد",
    "الدفع",
    "الفاتورة",
    "الإرجاع",
    "الضمان",
    "الشحنة",
    "التتبع",
    "المندوب",
    "الطرد",
    "البطاقة",
    "الخصم",
    "القسيمة",
    "الاستبدال",
    "المقاس",
    "اللون",
    "الحساب",
    "كلمة المرور",
    "العنوان",
    "الجوال",
    "الاشتراك",
    "الإلغاء",
    "التلف",
    "البديل",
    "الإيصال",
    "التقسيط",
    "المحفظة",
    "القسيمة الشرائية",
    "المخزون",
    "الهدية",
    "البطارية",
    "الشاشة",
    "الشاحن",
    "مدى",
    "تابي",
]
AR_VERBS = [
    "وصل",
    "فشل",
    "خصم",
    "ألغي",
    "أرجعت",
    "شحن",
    "تأخر",
    "انكسر",
    "تغير",
    "استلمت",
    "طلبت",
    "دفعت",
    "تتبعت",
    "فتحت",
    "حدثت",
    "أكدت",
    "استرددت",
    "فات",
]
AR_FILLER = [
    "في",
    "من",
    "إلى",
    "على",
    "لم",
    "ما",
    "زال",
    "مرة",
    "أخرى",
    "اليوم",
    "أمس",
    "الأسبوع",
    "الماضي",
    "و",
    "لكن",
    "مع",
    "عن",
    "متى",
    "لماذا",
    "كيف",
    "هل",
    "يمكن",
    "أنا",
    "نحن",
    "هذا",
    "ذلك",
    "مساعدة",
    "أرجو",
    "أحتاج",
    "أريد",
    "خطأ",
    "متأخر",
    "مرتين",
    "شكرا",
    "لو",
    "سمحت",
]
SUBJECTS = {
    "en": [
        "Where is my order {order}?",
        "Refund for order {order} not received",
        "Card charged twice",
        "Wrong size delivered",
        "Damaged package",
        "Cannot sign in to my account",
        "Change delivery address",
        "Warranty claim for {topic}",
        "Coupon code does not work",
        "Return request for {topic}",
        "Question about {topic}",
        "Tracking number not updating",
    ],
    "ar": [
        "أين طلبي {order}؟",
        "لم يصلني الاسترداد للطلب {order}",
        "تم خصم المبلغ مرتين",
        "وصلني مقاس خاطئ",
        "الطرد وصل تالفا",
        "لا أستطيع الدخول إلى حسابي",
        "تغيير عنوان التوصيل",
        "مطالبة ضمان بخصوص {topic}",
        "كود الخصم لا يعمل",
        "طلب إرجاع {topic}",
        "استفسار عن {topic}",
        "رقم التتبع لا يتحدث",
    ],
}
# What the benchmark searches for, in each language (words that appear in the generated articles).
SEARCH_TERMS = {
    "en": ["refund", "delivery", "warranty", "payment card", "tracking", "return order", "password"],
    "ar": ["الاسترداد", "التوصيل", "الضمان", "الدفع", "التتبع", "إرجاع الطلب", "كلمة المرور"],
}

_LISTS = {"en": (EN_TOPICS, EN_VERBS, EN_FILLER), "ar": (AR_TOPICS, AR_VERBS, AR_FILLER)}


def sentence(rng: random.Random, language: str, words: int = 12) -> str:
    topics, verbs, filler = _LISTS[language]
    chosen = rng.choices(filler, k=words)
    chosen[rng.randrange(words)] = rng.choice(topics)
    chosen[rng.randrange(words)] = rng.choice(verbs)
    chosen[rng.randrange(words)] = rng.choice(topics)
    text = " ".join(chosen)
    return (text[0].upper() + text[1:] + ".") if language == "en" else text + "."


def paragraph(rng: random.Random, language: str, sentences: int = 4) -> str:
    return " ".join(sentence(rng, language, rng.randrange(7, 16)) for _ in range(sentences))


def subject(rng: random.Random, language: str, order: str) -> str:
    return rng.choice(SUBJECTS[language]).format(order=order, topic=rng.choice(_LISTS[language][0]))


def title(rng: random.Random, language: str) -> str:
    topics, verbs, _filler = _LISTS[language]
    if language == "en":
        return f"How to handle {rng.choice(topics)} when it {rng.choice(verbs)}: {rng.choice(topics)}"
    return f"ماذا أفعل إذا {rng.choice(verbs)} {rng.choice(topics)} مع {rng.choice(topics)}"
