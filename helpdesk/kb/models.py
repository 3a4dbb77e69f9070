"""Knowledge-base categories and articles (one row per language, linked as translations)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.sanitize import one_line_columns


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Category(db.Model):
    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    description_en: Mapped[str | None] = mapped_column(Text)
    description_ar: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    articles: Mapped[list[Article]] = relationship(back_populates="category")

    def name_for(self, locale: str) -> str:
        return self.name_ar if locale == "ar" else self.name_en

    def description_for(self, locale: str) -> str | None:
        return self.description_ar if locale == "ar" else self.description_en


class Article(db.Model):
    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_locale_status", "locale", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    locale: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(255))
    body_md: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ArticleStatus] = mapped_column(enum_type(ArticleStatus), default=ArticleStatus.DRAFT)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"), index=True)
    translation_of_id: Mapped[int | None] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    # "Other ways customers ask": short questions in the customer's words, one passage each for
    # search by meaning and a lower-weighted field for the words (see kb/search_index.py).
    phrasings: Mapped[list] = mapped_column(JSON, default=list)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship(back_populates="articles")
    translation_of: Mapped[Article | None] = relationship(remote_side=[id])

    _one_line = one_line_columns("title")


class SearchEvent(db.Model):
    """A knowledge-base search and how many results it found (zero-result queries are content gaps)."""

    __tablename__ = "kb_search_events"
    __table_args__ = (Index("ix_kb_search_events_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500))
    locale: Mapped[str | None] = mapped_column(String(5))
    source: Mapped[str] = mapped_column(String(20), default="portal")  # portal, case_form, agent, api
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleView(db.Model):
    """An article opened, and from where (the case form counts towards deflection figures)."""

    __tablename__ = "kb_article_views"
    __table_args__ = (Index("ix_kb_article_views_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="portal")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deflection(db.Model):
    """A customer said an article solved their problem, so no case was opened."""

    __tablename__ = "kb_deflections"
    __table_args__ = (Index("ix_kb_deflections_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    query: Mapped[str | None] = mapped_column(String(500))  # what they had typed
    # The query is offered to the article's editors as a phrasing until one accepts or dismisses
    # it (never added by itself: a customer's words can hold personal data).
    phrasing_reviewed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleFeedback(db.Model):
    """'Was this helpful?' answers, with an optional comment."""

    __tablename__ = "kb_article_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
