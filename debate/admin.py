from django.contrib import admin

from debate.models import Article, Author, Comment, ReplyLink


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin[Author]):
    search_fields = ["name"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin[Article]):
    list_display = ["title", "author", "source", "imported_at"]
    list_select_related = ["author"]
    readonly_fields = ["source", "content_sha256", "imported_at"]


class ReplyLinkInline(admin.TabularInline[ReplyLink, Comment]):
    model = ReplyLink
    fk_name = "source"
    extra = 0
    readonly_fields = ["target", "method", "score", "evidence", "basis"]
    can_delete = False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    list_display = ["__str__", "article", "number", "author", "depth", "parent"]
    list_filter = ["article"]
    list_select_related = ["article", "author", "parent__author"]
    search_fields = ["body", "author__name"]
    readonly_fields = ["article", "number", "position", "author", "body", "parent", "depth", "thread_order"]
    inlines = [ReplyLinkInline]
