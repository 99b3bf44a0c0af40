"""Browser pages of the workspace (namespace `workspace`)."""

from django.urls import path

from annotations import dashboard_views, job_views, views
from annotations.assignment import views as assignment_views
from annotations.suggestions import views as suggestion_views

app_name = "workspace"

urlpatterns = [
    path("", views.article_list, name="articles"),
    path("articles/<int:article_id>/", views.thread, name="thread"),
    path("annotate/", views.queue, name="queue"),
    path("browse/", views.browse, name="browse"),
    path("guidelines/seen/", views.guidelines_seen, name="guidelines-seen"),
    path("articles/<int:article_id>/comments/", views.thread_chunk, name="thread-chunk"),
    path("comments/<int:comment_id>/labels/", views.label_write, name="label-write"),
    path("articles/<int:article_id>/labels/", views.label_write, name="article-label-write"),
    path("comments/<int:comment_id>/parent/", views.parent_write, name="parent-write"),
    path("adjudicate/", views.adjudicate, name="adjudicate"),
    path("adjudicate/<int:comment_id>/<slug:topic_slug>/", views.gold_write, name="gold-write"),
    path("adjudicate/articles/<int:article_id>/<slug:topic_slug>/", views.gold_write, name="article-gold-write"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("suggestions/train/", suggestion_views.train_now, name="suggestions-train"),
    path("assignment/", assignment_views.assignment_page, name="assignment"),
    path("imports/", job_views.imports_page, name="imports"),
    path("imports/<int:pk>/", job_views.import_job, name="import-job"),
    path("releases/", job_views.releases_page, name="releases"),
    path("releases/<int:pk>/", job_views.release_page, name="release"),
    path("assignment/annotators/<str:username>/", assignment_views.annotator_status, name="assignment-annotator"),
    path(
        "assignment/qualification/<int:comment_id>/",
        assignment_views.qualification_item,
        name="assignment-qualification",
    ),
]
